//===- ExprBuilder.cpp - ScalarExpr trees to Halide Exprs -----------------===//

#include "lowering/halide/ExprBuilder.h"

using namespace Halide;
using attn::ScalarExpr;
using attn::ScalarType;

Expr attn::halide::accurateExp(Expr x) {
  // exp(x) = 2^k * exp(r), k = round(x / ln2), |r| <= ln2 / 2, with the
  // reduction split in two constants (Cody-Waite) and exp(r) by its degree-7
  // Taylor polynomial (truncation error < 6e-9 relative).
  // strict_float keeps Halide's simplifier from folding the two-constant
  // reduction back into one (which costs ~4 ulp near |x| = 80).
  Expr xc = clamp(x, -87.5f, 88.5f);
  Expr k = round(xc * 1.44269504088896341f);
  Expr r = strict_float((xc - k * 0.693145751953125f) -
                        k * 1.42860682030941723212e-6f);
  Expr p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  Expr twoK = reinterpret<float>((cast<int>(k) + 127) << 23);
  return select(x < -87.336544f, 0.0f, p * twoK);
}

Expr attn::halide::accurateTanh(Expr x) {
  // |x| < 0.25: odd Taylor polynomial to x^9 (truncation < 2e-8 relative).
  // Otherwise (1 - e) / (1 + e) with e = exp(-2|x|) <= 0.61, which has no
  // cancellation.  Both vectorize; Halide's tanh calls the scalar libm.
  Expr ax = abs(x);
  Expr x2 = x * x;
  Expr p = 62.0f / 2835.0f;
  p = p * x2 - 17.0f / 315.0f;
  p = p * x2 + 2.0f / 15.0f;
  p = p * x2 - 1.0f / 3.0f;
  Expr small = x + x * x2 * p;
  Expr e = accurateExp(-2.0f * ax);
  Expr large = (1.0f - e) / (1.0f + e);
  return select(ax < 0.25f, small, select(x < 0.0f, -large, large));
}

static bool isInt(const Expr &e) { return e.type().is_int(); }

/// Promotes an int operand to float when the other side is float.
static void unify(Expr &a, Expr &b) {
  if (a.type().is_float() && !b.type().is_float())
    b = cast<float>(b);
  else if (b.type().is_float() && !a.type().is_float())
    a = cast<float>(a);
}

/// C's truncating integer division from Halide's Euclidean one (the
/// remainder r = a - q*b is in [0, |b|)): they differ by one toward zero when
/// a < 0 and r != 0.  Halide 14's own div_round_to_zero gives wrong results
/// for vectors divided by a constant that is not a power of two (measured:
/// a Mega-chunk mask i / 48 == j / 48 kept the wrong keys).
static Expr truncatingDiv(Expr a, Expr b) {
  Expr q = a / b;
  Expr r = a - q * b;
  return select(a < 0 && r != 0, q + select(b > 0, 1, -1), q);
}

Expr attn::halide::buildExpr(const ScalarExpr &e, const ExprEnv &env) {
  const std::string &op = e.op;
  // "int" and "float" with no arguments are literals, with one conversions.
  if (op == "int" && e.args.empty())
    return Expr(int32_t(e.intValue));
  if (op == "float" && e.args.empty())
    return Expr(float(e.floatValue));
  if (op == "bool")
    return e.intValue ? Internal::const_true() : Internal::const_false();
  if (op == "var") {
    auto it = env.vars.find(e.name);
    if (it == env.vars.end())
      throw CompileError("unknown variable '" + e.name + "'");
    return it->second;
  }
  if (op == "dim") {
    auto it = env.dims.find(e.name);
    if (it == env.dims.end())
      throw CompileError("unknown dimension role '" + e.name + "'");
    return it->second;
  }
  std::vector<Expr> a;
  for (const ScalarExpr &arg : e.args)
    a.push_back(buildExpr(arg, env));
  if (op == "load") {
    Expr value = env.load(e.name, a);
    return e.type == ScalarType::Float ? cast<float>(value)
                                       : cast<int32_t>(value);
  }
  if (a.size() == 2 && op != "pow")
    unify(a[0], a[1]);
  if (op == "add")
    return a[0] + a[1];
  if (op == "sub")
    return a[0] - a[1];
  if (op == "mul")
    return a[0] * a[1];
  if (op == "div")
    return isInt(a[0]) ? truncatingDiv(a[0], a[1]) : a[0] / a[1];
  if (op == "rem")
    return isInt(a[0]) ? a[0] - truncatingDiv(a[0], a[1]) * a[1]
                       : a[0] - a[1] * trunc(a[0] / a[1]);
  if (op == "min")
    return min(a[0], a[1]);
  if (op == "max")
    return max(a[0], a[1]);
  if (op == "neg")
    return -a[0];
  if (op == "abs")
    return isInt(a[0]) ? cast<int32_t>(abs(a[0])) : abs(a[0]);
  if (op == "exp")
    return accurateExp(cast<float>(a[0]));
  if (op == "exp2")
    return accurateExp(cast<float>(a[0]) * 0.693147180559945309f);
  if (op == "log")
    return log(cast<float>(a[0]));
  if (op == "log1p") {
    // log(1 + y) * y / ((1 + y) - 1): exact to rounding where 1 + y loses
    // the low bits of y (Goldberg's log1p).
    Expr y = cast<float>(a[0]), u = 1.0f + y;
    return select(u == 1.0f, y, log(u) * y / (u - 1.0f));
  }
  if (op == "tanh")
    return accurateTanh(cast<float>(a[0]));
  if (op == "sqrt")
    return sqrt(cast<float>(a[0]));
  if (op == "rsqrt")
    return 1.0f / sqrt(cast<float>(a[0]));
  if (op == "sin")
    return sin(cast<float>(a[0]));
  if (op == "cos")
    return cos(cast<float>(a[0]));
  if (op == "floor")
    return floor(cast<float>(a[0]));
  if (op == "pow")
    return pow(cast<float>(a[0]), cast<float>(a[1]));
  if (op == "float")
    return cast<float>(a[0]);
  if (op == "int")
    return cast<int32_t>(a[0]);
  if (op == "lt")
    return a[0] < a[1];
  if (op == "le")
    return a[0] <= a[1];
  if (op == "gt")
    return a[0] > a[1];
  if (op == "ge")
    return a[0] >= a[1];
  if (op == "eq")
    return a[0] == a[1];
  if (op == "ne")
    return a[0] != a[1];
  if (op == "and")
    return a[0] && a[1];
  if (op == "or")
    return a[0] || a[1];
  if (op == "not")
    return !a[0];
  if (op == "select") {
    unify(a[1], a[2]);
    return select(a[0], a[1], a[2]);
  }
  throw CompileError("operator '" + op + "' has no Halide lowering");
}
