//===- BlockPipelineImpl.h - the block pipeline's state -----*- C++ -*-===//
//
// Private to the BlockPipeline sources: BlockPipeline.cpp (the driver:
// analysis, one Func per op, outputs, the common schedule), BlockGemm.cpp
// (linear: GEMM definitions and schedules), BlockOps.cpp (norms,
// elementwise and layout ops, convolutions, pooling) and BlockMaps.cpp (the
// materialized-map ops of evolving attention).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_BLOCKPIPELINEIMPL_H
#define ATTN_LOWERING_HALIDE_BLOCKPIPELINEIMPL_H

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/BlockPipeline.h"

#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attn::halide {

using Halide::Expr;
using Halide::Func;
using Halide::ImageParam;
using Halide::RDom;
using Halide::Var;

namespace blockdetail {

[[noreturn]] inline void fail(const std::string &message) {
  throw Halide::CompileError(message);
}

inline std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t n = 0; n < shape.size(); ++n)
    s += (n ? ", " : "") + std::to_string(shape[n]);
  return s + "]";
}

/// A C identifier made of `name` (Func and parameter names).
inline std::string identifier(const std::string &name) {
  std::string s;
  for (char c : name)
    s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "_" + s;
  return s;
}

/// A float64 constant.
inline Expr f64(double v) {
  return Halide::Internal::make_const(Halide::Float(64), v);
}

inline int64_t product(const std::vector<int64_t> &v, size_t from,
                       size_t to) {
  int64_t p = 1;
  for (size_t n = from; n < to; ++n)
    p *= v[n];
  return p;
}

/// The most terms a convolution or pooling window may have (its sum is
/// unrolled into one expression).
constexpr int64_t kMaxWindowTerms = 64;

} // namespace blockdetail

struct BlockPipeline::Impl {
  Impl(const BlockKernelDesc &desc, const TargetInfo &target,
       std::map<std::string, int64_t> knobs)
      : desc(desc), target(target), knobs(std::move(knobs)) {}

  /// One value of the kernel: an argument or an op's result.
  struct Value {
    std::vector<int64_t> shape;
    bool isInt = false;
    /// The op producing it (-1: an input argument).
    int producer = -1;
    std::vector<int> consumers;
    /// Inputs: the parameter; others: the Func.
    bool isParam = false;
    ImageParam param;
    Func func;
    /// Stored (an output, or computed at the root); else inlined.
    bool stored = false;
    /// A linear's result is inlined into it (or it is one).
    bool hasGemm = false;
    /// A split_heads result is inlined into it (or it is one).
    bool hasSplitHeads = false;
    /// For an inlined value: the stored value it is inlined into.
    int owner = -1;
    /// Map ops (BlockMaps.cpp): a stored value computed at the row-tile
    /// loop of the root map stage `anchor` instead of at the root.
    bool tiled = false;
    int anchor = -1;
    /// Defined as 0 outside its map [0, N) x [0, M) (a map_conv reads it
    /// with its halo).
    bool padded = false;
    /// A map_conv result is inlined into it (or it is one).
    bool hasConv = false;
  };

  /// A linear op's reduction.
  struct Gemm {
    int op = -1, result = -1;
    std::string mode;
    Func acc;
    RDom rk;
    /// Transposed weight panels: w (mul, adder) or shift and sign.
    std::vector<Func> packed;
    /// Per packed panel: its rows as read from the weight (the staging
    /// tile of the transposition).
    std::vector<Func> packRows;
    /// Shift mode: the fixed-point activations (stored).
    Func xq;
    /// GPU targets (docs/gpu/block-kernels.md): the reduction in slices of
    /// kTile; `staged` are the slices of the input rows and of the weight
    /// rows (xs(k, rows...), then ws(k, f) or the shift and sign slices),
    /// zero beyond K, staged in shared memory; part(f, rows..., ko) is one
    /// slice's sum (a thread's register tile) and acc sums the slices over
    /// rko (the block's tile of running sums, in shared memory).
    Func part;
    RDom rko, rki;
    std::vector<Func> staged;
    int64_t kTile = 0;
  };

  /// A norm's row statistics.
  struct NormStats {
    int result = -1;
    /// Vector partial sums over the row (update definitions).
    std::vector<Func> partial;
    /// Per-row scalars (mean, reciprocal std).
    std::vector<Func> perRow;
  };

  /// The parts of a materialized-map op (BlockMaps.cpp).
  struct MapOp {
    int op = -1, result = -1;
    std::string kind;
    /// scores, map_conv, attend: the reduction (scores over D, map_conv
    /// over input heads with the k x k taps unrolled, attend over M).
    Func acc;
    RDom r;
    /// scores: the keys transposed, kT(j, d, g, b), at the root.
    Func keysT;
    /// map_conv: the weights with the output head innermost, at the root.
    Func weightsT;
    /// map_conv: its input with zero padding, when the input is not padded
    /// in place (an argument or a value stored at the root).
    Func pad;
    /// softmax: lane partials and row values of the max and the sum, and
    /// the exponentials.
    Func partMax, rowMax, exps, partSum, rowSum;
    /// softmax: 1 / rowSum (0 for a row that keeps nothing).
    Expr rowScale;
    /// attend: the softmax op whose result it reads inlined (-1: none).
    int softmax = -1;
  };

  /// How a stored map value is scheduled (BlockMaps.cpp).
  enum class MapStage { None, Scores, Attend, Softmax, Conv, Elementwise };

  const BlockKernelDesc &desc;
  TargetInfo target;
  std::map<std::string, int64_t> knobs;
  int vw = 16;
  std::map<int, Value> values;
  std::vector<Var> vars;
  std::vector<ImageParam> params;
  std::vector<Func> outputs;
  std::vector<Gemm> gemms;
  std::vector<NormStats> norms;
  /// Small transposed copies (convolution weights), computed at the root.
  std::vector<Func> smallRoots;
  /// Stored values whose row loop norms' statistics are computed at.
  std::map<int, Var> rowLoop;
  std::vector<MapOp> maps;
  /// Root map stages: their row-tile loop, where tiled values are computed.
  std::map<int, Var> tileLoop;
  std::vector<Func> algorithmOrder;
  std::vector<std::string> scheduleLog;

  void analyze();
  void define();
  void schedule();

  /// Element `idx` (Halide order) of value `id`, as float (or int32).
  Expr at(int id, std::vector<Expr> idx) const;
  const std::vector<int64_t> &shapeOf(int id) const {
    return values.at(id).shape;
  }
  std::string nameOf(int id) const;
  std::vector<Expr> pureArgs(size_t rank, size_t from = 0) const {
    return std::vector<Expr>(vars.begin() + from, vars.begin() + rank);
  }

  void defineLinear(int n);
  /// The [B, H, N, D] input of the merge_heads that op `n`'s GEMM folds
  /// into its reduction (k = h * D + d), or -1 when the activation `x` is
  /// not such an unstored merge_heads (or the linear is a shift linear).
  int foldedMergeHeadsInput(int n, int x, bool shift) const;
  void defineNorm(int n);
  void defineConv1d(int n);
  void defineGrid(int n);
  /// The op's defining expression over vars (every op but linear/norms).
  Expr defineSimple(int n, std::vector<int64_t> &shape);

  /// Map ops (BlockMaps.cpp).  Whether input `p` of op `n` must be stored
  /// because of a map op; the tiled and padded values (after the owners).
  bool mapInputStored(int n, size_t p) const;
  void analyzeMaps();
  MapStage mapStage(int id) const;
  void defineMap(int n);
  /// Schedules the stored map value `id` (at the root or tiled) and the
  /// parts of the map ops computed in its stage.
  void scheduleMapStage(int id);
  MapOp *mapOfResult(int id);
  /// The rows a map_conv reading `id` needs beyond each side of a tile.
  int64_t haloOf(int id) const;

  void scheduleGemmStage(int id);
  void scheduleRowStage(int id, Func stage, const std::vector<int64_t> &shape);

  /// GPU targets (docs/gpu/block-kernels.md): the whole schedule, with the
  /// same stages as schedule() (every one in GPU blocks and threads).
  void scheduleGpu();
  /// linear (BlockGemm.cpp): the GPU definition of op `n`'s GEMM.
  void defineLinearGpu(int n, Gemm &g, Expr biasAt, int x, int w, int sign,
                       int64_t K);
  /// The tiled GPU GEMM of the stage storing `id` (BlockGemm.cpp).
  void scheduleGemmStageGpu(int id);
  /// Rows across blocks, columns across threads; sets rowLoop[id] to the
  /// block's row loop (norm statistics per block) when `id` >= 0.
  void scheduleRowStageGpu(int id, Func stage,
                           const std::vector<int64_t> &shape);
  /// A stored map value (BlockMaps.cpp): one output per thread, 32 columns
  /// x map_rows rows per block; its own reductions per thread.
  void scheduleMapStageGpu(int id);
  /// `f` at the root, one element per thread (32 of its innermost dim per
  /// block, the next dim and the rest fused across blocks), every stage.
  void gpuRoot(Func f);
  std::string opLabel(int n) const {
    return "op " + std::to_string(n) + " (" + desc.ops[n].op + ")";
  }
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_BLOCKPIPELINEIMPL_H
