//===- GpuSpaceBlock.cpp - GPU schedule space of block kernels ------------===//
//
// The knobs of the GPU lowering of architecture block kernels
// (lowering/halide/BlockPipeline*.cpp, docs/gpu/block-kernels.md):
//
// * GEMM stages (a `linear` with its epilogue): a thread block computes a
//   tile_rows x tile_cols tile of outputs, each thread a thread_rows x
//   thread_cols register tile; the reduction runs in slices of k_tile,
//   each slice of the input rows and of the weight rows staged in shared
//   memory by all the block's threads.  The running sums of the tile stay
//   in shared memory between slices (4 bytes per output).
// * Row stages (norms, activations, residuals, layouts, convolutions,
//   pooling): row_threads threads per block, columns across threads, as
//   many rows per block as fit; norm statistics per row in the block.
// * Materialized-map stages: 32 map columns x map_rows query rows per
//   block, one output per thread.
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuSpaces.h"

#include <algorithm>

using namespace attn;

namespace {

/// Floats of norm statistics per row-stage thread (lane partial sums and
/// per-row scalars of one norm, shared memory; BlockPipeline.cpp).
constexpr int64_t kRowStatBytesPerThread = 16;

} // namespace

GpuSpaceDef gpu::blockSpace(bool hasGemm, bool hasMaps) {
  GpuSpaceDef def;
  def.form = "block";
  // Knobs a kernel does not read keep their default as their only
  // candidate (as ScheduleSpace::blockKernel does on CPUs).
  auto tried = [](bool used, std::vector<int64_t> values, int64_t dflt) {
    return used ? values : std::vector<int64_t>{dflt};
  };
  def.knobs = {
      {"tile_rows", 1, 256, tried(hasGemm, {16, 32, 64}, 32),
       "GEMM output rows per thread block"},
      {"tile_cols", 1, 256, tried(hasGemm, {32, 64, 128}, 64),
       "GEMM output columns per thread block"},
      {"thread_rows", 1, 16, tried(hasGemm, {1, 2, 4, 8}, 4),
       "GEMM output rows per thread (its register tile)"},
      {"thread_cols", 1, 16, tried(hasGemm, {1, 2, 4, 8}, 4),
       "GEMM output columns per thread (its register tile)"},
      {"k_tile", 1, 128, tried(hasGemm, {8, 16, 32}, 16),
       "reduction slice of a GEMM staged in shared memory (input and "
       "weight rows)"},
      {"row_threads", 1, 1024, {64, 128, 256, 512},
       "threads per block of row stages (norms, element-wise, layout, "
       "convolution and pooling stages): columns across threads, several "
       "rows per block when a row is narrower"},
      {"map_rows", 1, 64, tried(hasMaps, {1, 2, 4, 8, 16}, 4),
       "query rows per thread block of a materialized-map stage (32 map "
       "columns per row, one output per thread)"},
  };
  def.defaultPoint = {{"tile_rows", 32},  {"tile_cols", 64},
                      {"thread_rows", 4}, {"thread_cols", 4},
                      {"k_tile", 16},     {"row_threads", 128},
                      {"map_rows", 4}};
  def.rules = {
      "tile_rows is a multiple of thread_rows",
      "tile_cols is a multiple of thread_cols",
      "thread_rows * thread_cols <= 64 (register accumulators per thread)",
  };
  def.check = [](const SchedulePoint &p) -> std::string {
    auto str = [](int64_t v) { return std::to_string(v); };
    if (p.at("tile_rows") % p.at("thread_rows") != 0)
      return "schedule knob 'tile_rows' (" + str(p.at("tile_rows")) +
             ") must be a multiple of 'thread_rows' (" +
             str(p.at("thread_rows")) + ")";
    if (p.at("tile_cols") % p.at("thread_cols") != 0)
      return "schedule knob 'tile_cols' (" + str(p.at("tile_cols")) +
             ") must be a multiple of 'thread_cols' (" +
             str(p.at("thread_cols")) + ")";
    if (p.at("thread_rows") * p.at("thread_cols") > 64)
      return "thread_rows * thread_cols = " +
             str(p.at("thread_rows") * p.at("thread_cols")) +
             " exceeds the 64 register accumulators a GPU thread may keep";
    return "";
  };
  def.footprint = [hasGemm, hasMaps](const SchedulePoint &p) {
    GpuFootprint f;
    int64_t rowThreads = p.at("row_threads");
    f.threads = rowThreads;
    f.sharedBytes = kRowStatBytesPerThread * rowThreads;
    if (hasGemm) {
      int64_t tr = p.at("tile_rows"), tc = p.at("tile_cols");
      int64_t threads = (tr / p.at("thread_rows")) * (tc / p.at("thread_cols"));
      // The tile's running sums, the input slice and the weight slice.
      int64_t bytes = 4 * (tr * tc + p.at("k_tile") * (tr + tc));
      f.threads = std::max(f.threads, threads);
      f.sharedBytes = std::max(f.sharedBytes, bytes);
    }
    if (hasMaps)
      f.threads = std::max(f.threads, 32 * p.at("map_rows"));
    return f;
  };
  return def;
}
