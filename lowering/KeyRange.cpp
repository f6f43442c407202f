//===- KeyRange.cpp - keys a query tile can see, from its masks -----------===//

#include "lowering/KeyRange.h"

#include <optional>

using namespace attn;

namespace {

/// `coefJ * j + coefI * i + rest` with integer coefficients.
struct Linear {
  int64_t coefJ = 0, coefI = 0;
  /// Terms free of i and j, summed; empty means zero.
  std::vector<ScalarExpr> terms;
};

static ScalarExpr sumTerms(const std::vector<ScalarExpr> &terms) {
  if (terms.empty())
    return ScalarExpr::intLit(0);
  ScalarExpr acc = terms.front();
  for (size_t n = 1; n < terms.size(); ++n)
    acc = ScalarExpr::make("add", ScalarType::Int, {acc, terms[n]});
  return acc;
}

static Linear negate(Linear l) {
  l.coefJ = -l.coefJ;
  l.coefI = -l.coefI;
  for (ScalarExpr &t : l.terms)
    t = ScalarExpr::make("neg", ScalarType::Int, {t});
  return l;
}

static Linear addLinear(Linear a, const Linear &b) {
  a.coefJ += b.coefJ;
  a.coefI += b.coefI;
  a.terms.insert(a.terms.end(), b.terms.begin(), b.terms.end());
  return a;
}

/// Decomposes an integer expression into a Linear form, if it is one.
static std::optional<Linear> linearize(const ScalarExpr &e) {
  if (e.type != ScalarType::Int)
    return std::nullopt;
  if (e.op == "var" && e.name == "j")
    return Linear{1, 0, {}};
  if (e.op == "var" && e.name == "i")
    return Linear{0, 1, {}};
  if (!e.mentions("i") && !e.mentions("j"))
    return Linear{0, 0, {e}};
  if (e.op == "add" || e.op == "sub") {
    auto a = linearize(e.args[0]), b = linearize(e.args[1]);
    if (!a || !b)
      return std::nullopt;
    return addLinear(*a, e.op == "add" ? *b : negate(*b));
  }
  if (e.op == "neg") {
    auto a = linearize(e.args[0]);
    if (!a)
      return std::nullopt;
    return negate(*a);
  }
  if (e.op == "mul") {
    // Only multiplication by an integer literal stays linear.
    for (int side = 0; side < 2; ++side) {
      const ScalarExpr &c = e.args[side];
      if (c.op != "int" || !c.args.empty()) // an int literal, not a cast
        continue;
      auto a = linearize(e.args[1 - side]);
      if (!a)
        return std::nullopt;
      Linear r;
      r.coefJ = a->coefJ * c.intValue;
      r.coefI = a->coefI * c.intValue;
      for (const ScalarExpr &t : a->terms)
        r.terms.push_back(ScalarExpr::make("mul", ScalarType::Int, {t, c}));
      return r;
    }
  }
  return std::nullopt;
}

/// Adds the bound a clause implies, if it is linear with j coefficient +-1.
/// Returns true when the clause is exactly that bound (or `true`).
static bool addClause(const ScalarExpr &clause, KeyBounds &out) {
  if (clause.op == "and") {
    bool first = addClause(clause.args[0], out);
    bool second = addClause(clause.args[1], out);
    return first && second;
  }
  if (clause.op == "bool")
    return clause.intValue != 0; // `true` excludes nothing
  if (clause.op == "eq") {
    // i / c == j / c (either order), c a positive int literal: j lies in
    // i's block [c*(i/c), c*(i/c) + c).
    auto blockOf = [](const ScalarExpr &e, const std::string &var) -> int64_t {
      if (e.op != "div" || e.args.size() != 2)
        return 0;
      const ScalarExpr &v = e.args[0], &c = e.args[1];
      if (v.op != "var" || v.name != var || c.op != "int" || !c.args.empty() ||
          c.intValue <= 0)
        return 0;
      return c.intValue;
    };
    for (int side = 0; side < 2; ++side) {
      int64_t ci = blockOf(clause.args[side], "i");
      int64_t cj = blockOf(clause.args[1 - side], "j");
      if (ci > 0 && ci == cj) {
        out.lower.push_back(KeyBound{1, ScalarExpr::intLit(0), ci});
        out.upper.push_back(KeyBound{1, ScalarExpr::intLit(ci), ci});
        return true;
      }
    }
    return false;
  }
  const std::string &op = clause.op;
  if (op != "lt" && op != "le" && op != "gt" && op != "ge")
    return false;
  // Normalize to `lhs - rhs < 0` or `<= 0`.
  bool swap = (op == "gt" || op == "ge");
  bool strict = (op == "lt" || op == "gt");
  auto l = linearize(clause.args[swap ? 1 : 0]);
  auto r = linearize(clause.args[swap ? 0 : 1]);
  if (!l || !r)
    return false;
  Linear d = addLinear(*l, negate(*r)); // d < 0  (or d <= 0)
  if (d.coefJ == 1) {
    // j + cI*i + rest < 0  =>  j < -cI*i - rest   (exclusive upper bound)
    Linear bound = negate(Linear{0, d.coefI, d.terms});
    KeyBound kb{bound.coefI, sumTerms(bound.terms)};
    if (!strict)
      kb.rest = ScalarExpr::make("add", ScalarType::Int,
                                 {kb.rest, ScalarExpr::intLit(1)});
    out.upper.push_back(kb);
    return true;
  }
  if (d.coefJ == -1) {
    // -j + cI*i + rest < 0  =>  j > cI*i + rest  (inclusive lower bound +1)
    KeyBound kb{d.coefI, sumTerms(d.terms)};
    if (strict)
      kb.rest = ScalarExpr::make("add", ScalarType::Int,
                                 {kb.rest, ScalarExpr::intLit(1)});
    out.lower.push_back(kb);
    return true;
  }
  return false;
}

} // namespace

KeyBounds attn::analyzeKeyBounds(const std::vector<ScalarExpr> &masks) {
  KeyBounds bounds;
  for (const ScalarExpr &m : masks)
    if (!addClause(m, bounds))
      bounds.exact = false;
  return bounds;
}

ScalarExpr attn::boundExpr(const KeyBound &bound) {
  ScalarExpr i = ScalarExpr::var("i", ScalarType::Int);
  if (bound.block > 0) {
    ScalarExpr c = ScalarExpr::intLit(bound.block);
    ScalarExpr start = ScalarExpr::make(
        "mul", ScalarType::Int,
        {ScalarExpr::make("div", ScalarType::Int, {i, c}), c});
    return ScalarExpr::make("add", ScalarType::Int, {start, bound.rest});
  }
  ScalarExpr scaled =
      bound.coefI == 1
          ? i
          : ScalarExpr::make("mul", ScalarType::Int,
                             {ScalarExpr::intLit(bound.coefI), i});
  if (bound.coefI == 0)
    return bound.rest;
  return ScalarExpr::make("add", ScalarType::Int, {scaled, bound.rest});
}
