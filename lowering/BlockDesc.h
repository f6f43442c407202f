//===- BlockDesc.h - what code generation needs of a block kernel -*- C++ -*-===//
//
// A block kernel is a small DAG of architecture ops (projections, norms,
// activations, residual adds, layout changes, convolutions, pooling) fused
// into one entry point (docs/Architectures.md §2-3).  Like KernelDesc.h it
// holds no MLIR or Halide types: BlockDescBuilder.cpp fills it from an
// outlined `attn.block_kernel` function; the Halide backend and the manifest
// writer read it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_BLOCKDESC_H
#define ATTN_LOWERING_BLOCKDESC_H

#include "lowering/KernelDesc.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attn {

/// On a block kernel function: its schedule, a dictionary of knob -> i64
/// (`{gemm_rows = 4 : i64, parallel = 0 : i64}`; docs/Tuning.md lists the
/// knobs), and where it came from ("attribute", "tuned"; attnc sets it).
constexpr const char kBlockScheduleAttr[] = "attn.schedule";
constexpr const char kBlockScheduleSourceAttr[] = "attn.schedule_source";

/// One op of a block kernel.  Value ids: 0 .. args.size()-1 are the kernel's
/// arguments (inputs and outputs, in ABI order); an op writing an output has
/// that output's id as `result`; other results are temporaries with ids
/// >= args.size().
struct BlockOpDesc {
  /// "linear", "layernorm", "rmsnorm", "gelu", "relu", "silu", "add",
  /// "split_heads", "merge_heads", "slice", "concat", "conv1d", "conv2d",
  /// "pool", and the materialized-map ops "scores", "blend", "map_conv",
  /// "softmax", "attend" (docs/Architectures.md §2 gives the semantics).
  std::string op;
  std::vector<int> inputs;
  int result = -1;
  /// The result's C-order shape (static).
  std::vector<int64_t> shape;
  /// linear / conv1d: "mul", "adder" or "shift" (linear only); pool: "avg"
  /// or "max".
  std::string mode;
  /// conv1d: "same" or "causal".
  std::string padding;
  double eps = 0.0;
  /// split_heads: H.
  int64_t heads = 0;
  /// slice: the range [offset, offset + size) of the last axis.
  int64_t offset = 0, size = 0;
  /// conv2d / pool: the token grid [Hh, Ww], window k (conv2d: the weight's
  /// kernel size) and stride s.
  std::vector<int64_t> grid;
  int64_t window = 0, stride = 1;
  /// scores: the scale; blend: the weight of the second operand.
  double scale = 0.0;
  /// map_conv: "none" or "leaky_relu" (slope 0.01).
  std::string act;
  /// softmax: exclude j > i + M - N.
  bool causal = false;
};

/// One fused block kernel entry point.
/// True for the ops of materialized attention maps (evolving attention):
/// "scores", "blend", "map_conv", "softmax", "attend".
inline bool isBlockMapOp(const std::string &op) {
  return op == "scores" || op == "blend" || op == "map_conv" ||
         op == "softmax" || op == "attend";
}

struct BlockKernelDesc {
  /// Entry point (a C identifier).
  std::string name;
  /// Inputs, then outputs (TensorArg::isOutput).
  std::vector<TensorArg> args;
  /// Ops in dependence order.
  std::vector<BlockOpDesc> ops;
  /// Schedule knobs from the function's `attn.schedule` attribute (may be
  /// empty: the default heuristic).
  std::map<std::string, int64_t> schedule;
  /// Where `schedule` came from: "heuristic" (none), "attribute" (written
  /// in the IR), "tuned" (pinned from the tuning database by attnc), or
  /// what the function's `attn.schedule_source` attribute says.
  std::string scheduleSource = "heuristic";

  int numArgs() const { return static_cast<int>(args.size()); }
  bool isArg(int value) const { return value >= 0 && value < numArgs(); }
  /// True when some op is a `linear` (the GEMM schedule knobs apply).
  bool hasGemm() const {
    for (const BlockOpDesc &op : ops)
      if (op.op == "linear")
        return true;
    return false;
  }
  /// True when some op is a materialized-map op (the map knobs apply).
  bool hasMaps() const {
    for (const BlockOpDesc &op : ops)
      if (isBlockMapOp(op.op))
        return true;
    return false;
  }
};

} // namespace attn

#endif // ATTN_LOWERING_BLOCKDESC_H
