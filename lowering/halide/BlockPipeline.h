//===- BlockPipeline.h - block kernels (architecture ops) in Halide -*- C++ -*-===//
//
// Private to lowering/halide (the unit tests include it too).  A block
// kernel (lowering/BlockDesc.h, docs/Architectures.md §2-3) becomes one
// Halide pipeline with one output Func per output argument:
//
// * Every op is one Func over Halide dims (C-order dims reversed).  Values
//   read once per element by a single consumer are inlined into it;
//   outputs, values with several consumers and the inputs of ops that read
//   a value many times (linear, norms, convolutions, pooling) are stored.
//   A merge_heads feeding a linear is folded into the GEMM's loads.
// * A `linear` is a GEMM y[r, f] = sum_k x[r, k] w[f, k] (or the adder /
//   shift variants) computed by the stage that stores its result after the
//   epilogue (bias, activations, residual add, split_heads, all inlined):
//   that stage is cut into column panels of gemm_col_vectors vectors and
//   blocks of gemm_rows rows; the accumulator block lives in registers while
//   the reduction runs innermost, and the weight panel is transposed into a
//   contiguous buffer once per panel.
// * The materialized-map ops of evolving attention (scores, blend,
//   map_conv, softmax, attend; BlockMaps.cpp) are computed in row tiles:
//   a stored map value loops over (batch, tile of map_rows query rows) in
//   parallel, and the intermediate maps its tile needs (every head, plus a
//   map_conv's halo rows) are computed in that tile, never stored whole;
//   only outputs reach memory.
// * Everything else is stored row by row: columns vectorized, rows cut into
//   parallel tasks; norm statistics are computed per row.
//
// The sources: BlockPipeline.cpp (driver), BlockGemm.cpp, BlockOps.cpp,
// BlockMaps.cpp, with the private BlockPipelineImpl.h.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_BLOCKPIPELINE_H
#define ATTN_LOWERING_HALIDE_BLOCKPIPELINE_H

#include "lowering/BlockDesc.h"
#include "lowering/halide/HalideBackend.h"

#include "Halide.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attn::halide {

/// erf(x) for float32, vectorizable (Halide 14 has none): max abs error
/// about 1.1e-7 (the gelu op's erf form).
Halide::Expr accurateErf(Halide::Expr x);

/// The default knobs for `desc` on `target`, overlaid by desc.schedule and
/// validated (ScheduleSpace::blockKnobSpecs() declares them).  Returns "" or why not.
std::string resolveBlockKnobs(const BlockKernelDesc &desc,
                              const TargetInfo &target,
                              std::map<std::string, int64_t> &knobs);

/// One block kernel's Halide algorithm and schedule.
class BlockPipeline {
public:
  BlockPipeline(const BlockKernelDesc &desc, const TargetInfo &target,
                std::map<std::string, int64_t> knobs);
  ~BlockPipeline();

  /// Checks the description, defines the Funcs and schedules them.  Throws
  /// Halide::CompileError when the description is malformed.
  void build();

  /// The pipeline computing every output argument, in ABI order.
  Halide::Pipeline pipeline() const;
  /// The input arguments in ABI order (Halide appends the outputs).
  std::vector<Halide::Argument> arguments() const;
  /// The input ImageParams in ABI order (index = argument index).
  const std::vector<Halide::ImageParam> &inputs() const;
  /// Generator-style text: the definitions, then the schedule directives.
  std::string describe() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// A block kernel JIT-compiled for this machine (tests and benchmarks).
class BlockKernelJit {
public:
  BlockKernelJit();
  ~BlockKernelJit();
  /// Resolves the knobs, builds and JIT-compiles `desc`.  "" or the error.
  std::string compile(const BlockKernelDesc &desc, const TargetInfo &target);
  /// Runs the kernel on one buffer per argument in ABI order (outputs
  /// allocated by the caller, Halide dim order).  "" or the error.
  std::string run(std::vector<Halide::Buffer<>> &buffers);
  /// The knobs compile() resolved.
  const std::map<std::string, int64_t> &knobs() const { return resolved; }

private:
  std::unique_ptr<BlockPipeline> built;
  Halide::Pipeline compiled;
  Halide::Target jitTarget;
  std::map<std::string, int64_t> resolved;
  int numInputs = 0;
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_BLOCKPIPELINE_H
