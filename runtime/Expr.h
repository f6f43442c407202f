//===- Expr.h - The manifest's S-expression language ------------*- C++ -*-===//
//
// Parser and evaluator for the expressions that describe a kernel's scale,
// score modifiers and masks in the manifest (docs/Manifest.md, "Expression
// language").  Integers are int64, floats double, comparisons give booleans.
// Arithmetic on two integers is integer arithmetic (div/rem truncate toward
// zero; overflow and division by zero are errors); anything involving a float
// is float arithmetic.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_EXPR_H
#define ATTN_RUNTIME_EXPR_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attn::rt {

/// Operators of compound forms `(op arg ...)`.
enum class ExprOp {
  Add,
  Sub,
  Mul,
  Div,
  Rem,
  Min,
  Max,
  Neg,
  Abs,
  Exp,
  Exp2,
  Log,
  Log1p,
  Tanh,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Floor,
  Pow,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or,
  Not,
  Select,
  ToFloat,
  ToInt,
  Dim,
  Load
};

/// The variables an expression may read: the score `s`, the indices `b`,
/// `h`, `i`, `j`, and the feature-map input `x` (only in the expressions
/// parsed with it allowed, see parseExpr).
enum class ExprVar { S, B, H, I, J, X };

/// Problem extents that `(dim R)` may read.
enum class DimRole { B, H, N, M, D, G };
constexpr int kNumDimRoles = 6;

/// A parsed expression tree.
struct Expr {
  enum class Kind { Int, Float, Bool, Var, Call } kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  ExprVar var = ExprVar::S;
  ExprOp op = ExprOp::Add;
  DimRole role = DimRole::B; ///< For ExprOp::Dim.
  std::string name;          ///< For ExprOp::Load: the argument name.
  std::vector<Expr> operands;

  /// Prints the expression back in canonical S-expression syntax.
  std::string str() const;
  /// True when the expression reads no variable and no argument, so that it
  /// evaluates to the same value everywhere.
  bool isConstant() const;
};

/// Parses `text`; errors say what was expected and at which column.  The
/// variables s, b, h, i and j are allowed.
Result<Expr> parseExpr(const std::string &text);

/// Parses `text` allowing only the variables in `vars` (e.g. {X} for a
/// feature map, {I} for a positional expansion); any other variable is an
/// error naming the allowed ones.
Result<Expr> parseExpr(const std::string &text,
                       const std::vector<ExprVar> &vars);

/// A value: integer, float or boolean.
struct Value {
  enum class Type { Int, Float, Bool } type = Type::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;

  static Value ofInt(int64_t v) { return {Type::Int, v, 0, false}; }
  static Value ofFloat(double v) { return {Type::Float, 0, v, false}; }
  static Value ofBool(bool v) { return {Type::Bool, 0, 0, v}; }
  bool isNumber() const { return type != Type::Bool; }
  /// The numeric value as a double (booleans give 0 or 1).
  double asDouble() const {
    return type == Type::Float ? f : type == Type::Int ? double(i) : double(b);
  }
};

/// What an expression can read while it is evaluated.
struct EvalContext {
  double s = 0;
  double x = 0; ///< The feature-map input.
  int64_t b = 0, h = 0, i = 0, j = 0;
  /// Extents by DimRole.
  int64_t dims[kNumDimRoles] = {0, 0, 0, 0, 0, 0};
  /// Arguments that `load` may read; may be null.
  const TensorMap *tensors = nullptr;
};

/// Evaluates `expr`; errors (type errors, integer overflow, division by zero,
/// out-of-range loads) carry the offending sub-expression.
Result<Value> evaluate(const Expr &expr, const EvalContext &ctx);

/// Returns the manifest spelling of a dim role ("B", "H", ...).
const char *dimRoleName(DimRole role);

} // namespace attn::rt

#endif // ATTN_RUNTIME_EXPR_H
