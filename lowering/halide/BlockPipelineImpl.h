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
  };

  /// A norm's row statistics.
  struct NormStats {
    int result = -1;
    /// Vector partial sums over the row (update definitions).
    std::vector<Func> partial;
    /// Per-row scalars (mean, reciprocal std).
    std::vector<Func> perRow;
  };

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
  void defineNorm(int n);
  void defineConv1d(int n);
  void defineGrid(int n);
  /// The op's defining expression over vars (every op but linear/norms).
  Expr defineSimple(int n, std::vector<int64_t> &shape);

  void scheduleGemmStage(int id);
  void scheduleRowStage(int id, Func stage, const std::vector<int64_t> &shape);
  std::string opLabel(int n) const {
    return "op " + std::to_string(n) + " (" + desc.ops[n].op + ")";
  }
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_BLOCKPIPELINEIMPL_H
