//===- ScalarExpr.h - neutral scalar expression trees -----------*- C++ -*-===//
//
// The body of an attn.score_mod or attn.mask region as a small tree with no
// MLIR or Halide types.  The Halide emitter builds Halide Exprs from it, the
// manifest writer prints it as the S-expression language of
// docs/Manifest.md, and KeyRange.h derives key bounds from masks.  One walk
// of the MLIR region (ScalarExprBuilder.cpp) feeds all three.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_SCALAREXPR_H
#define ATTN_LOWERING_SCALAREXPR_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attn {

/// The value type of a scalar expression.
enum class ScalarType { Int, Float, Bool };

/// One node: an operator from docs/Manifest.md ("add", "lt", "exp", "load",
/// ...) applied to `args`, or an atom ("int", "float", "bool" literals;
/// "var" for s/b/h/i/j; "dim" for a role B/H/N/M/D/G).
struct ScalarExpr {
  std::string op;
  ScalarType type = ScalarType::Float;
  /// For "int"/"bool" literals.
  int64_t intValue = 0;
  /// For "float" literals.
  double floatValue = 0.0;
  /// For "var" (s, b, h, i, j), "dim" (role letter) and "load" (argument).
  std::string name;
  std::vector<ScalarExpr> args;

  static ScalarExpr intLit(int64_t v);
  static ScalarExpr floatLit(double v);
  static ScalarExpr var(const std::string &name, ScalarType type);
  static ScalarExpr dim(const std::string &role);
  static ScalarExpr make(const std::string &op, ScalarType type,
                         std::vector<ScalarExpr> args);

  /// Prints the S-expression form of docs/Manifest.md.
  std::string toString() const;
  /// True when the tree mentions variable `v`.
  bool mentions(const std::string &v) const;
};

} // namespace attn

#endif // ATTN_LOWERING_SCALAREXPR_H
