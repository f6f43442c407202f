//===- ExprBuilder.h - ScalarExpr trees to Halide Exprs ---------*- C++ -*-===//
//
// Private to lowering/halide.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_EXPRBUILDER_H
#define ATTN_LOWERING_HALIDE_EXPRBUILDER_H

#include "lowering/ScalarExpr.h"

#include "Halide.h"

#include <functional>
#include <map>
#include <string>

namespace attn::halide {

/// What the variables and names of a ScalarExpr mean in one pipeline.
struct ExprEnv {
  std::map<std::string, Halide::Expr> vars;  // s, b, h, i, j
  std::map<std::string, Halide::Expr> dims;  // B, H, N, M, D, G
  /// Reads element `indices` (C order) of argument `name` as an Expr.
  std::function<Halide::Expr(const std::string &name,
                             const std::vector<Halide::Expr> &indices)>
      load;
};

/// Builds the Halide Expr of `e`: integers are Int(32), floats Float(32).
/// Throws Halide::CompileError on an unknown operator.
Halide::Expr buildExpr(const attn::ScalarExpr &e, const ExprEnv &env);

/// exp(x) for float32, vectorizable, within ~1 ulp for x >= -87.3 (measured
/// max 1.06 ulp over [-80, 0]), and 0 below (flushes what would be
/// denormal; exp(-inf) = 0).
Halide::Expr accurateExp(Halide::Expr x);

/// tanh(x) for float32, vectorizable, within a few ulp.
Halide::Expr accurateTanh(Halide::Expr x);

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_EXPRBUILDER_H
