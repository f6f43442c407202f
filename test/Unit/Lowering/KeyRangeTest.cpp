//===- KeyRangeTest.cpp - key bounds derived from masks -------------------===//
//
// analyzeKeyBounds turns mask clauses into per-row key bounds: linear ones
// (causal, windows, padding) and block partitions (Mega-chunk's
// i / c == j / c).  Each test evaluates the derived bounds for every row and
// compares them with the mask evaluated key by key.
//
//===----------------------------------------------------------------------===//

#include "lowering/KeyRange.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace attn;

namespace {

ScalarExpr var(const char *n) { return ScalarExpr::var(n, ScalarType::Int); }
ScalarExpr lit(int64_t v) { return ScalarExpr::intLit(v); }
ScalarExpr op(const char *o, std::vector<ScalarExpr> a, ScalarType t) {
  return ScalarExpr::make(o, t, std::move(a));
}

/// Evaluates an integer expression over i (and literals).
int64_t evalInt(const ScalarExpr &e, int64_t i) {
  if (e.op == "int" && e.args.empty())
    return e.intValue;
  if (e.op == "var")
    return i;
  int64_t a = evalInt(e.args[0], i), b = evalInt(e.args[1], i);
  if (e.op == "add")
    return a + b;
  if (e.op == "sub")
    return a - b;
  if (e.op == "mul")
    return a * b;
  if (e.op == "div")
    return a / b;
  ADD_FAILURE() << "unexpected op " << e.op;
  return 0;
}

/// The visible key range [lo, hi) of row i by the bounds, clamped to [0, M).
std::pair<int64_t, int64_t> range(const KeyBounds &kb, int64_t i, int64_t M) {
  int64_t lo = 0, hi = M;
  for (const KeyBound &b : kb.lower)
    lo = std::max(lo, evalInt(boundExpr(b), i));
  for (const KeyBound &b : kb.upper)
    hi = std::min(hi, evalInt(boundExpr(b), i));
  return {lo, std::max(lo, hi)};
}

TEST(KeyRangeTest, BlockPartitionIsExact) {
  for (int64_t c : {1, 7, 48, 64}) {
    // i / c == j / c, both operand orders.
    for (int side = 0; side < 2; ++side) {
      ScalarExpr di = op("div", {var("i"), lit(c)}, ScalarType::Int);
      ScalarExpr dj = op("div", {var("j"), lit(c)}, ScalarType::Int);
      ScalarExpr mask = side ? op("eq", {dj, di}, ScalarType::Bool)
                             : op("eq", {di, dj}, ScalarType::Bool);
      KeyBounds kb = analyzeKeyBounds({mask});
      ASSERT_TRUE(kb.exact);
      ASSERT_EQ(kb.lower.size(), 1u);
      ASSERT_EQ(kb.upper.size(), 1u);
      EXPECT_EQ(kb.lower[0].block, c);
      const int64_t M = 200;
      for (int64_t i = 0; i < M; ++i) {
        auto [lo, hi] = range(kb, i, M);
        for (int64_t j = 0; j < M; ++j)
          EXPECT_EQ(j >= lo && j < hi, i / c == j / c)
              << "c=" << c << " i=" << i << " j=" << j;
      }
    }
  }
}

TEST(KeyRangeTest, BlockAndCausalCombine) {
  ScalarExpr block = op("eq",
                        {op("div", {var("i"), lit(10)}, ScalarType::Int),
                         op("div", {var("j"), lit(10)}, ScalarType::Int)},
                        ScalarType::Bool);
  ScalarExpr causal = op("le", {var("j"), var("i")}, ScalarType::Bool);
  KeyBounds kb = analyzeKeyBounds({block, causal});
  EXPECT_TRUE(kb.exact);
  for (int64_t i = 0; i < 45; ++i) {
    auto [lo, hi] = range(kb, i, 45);
    EXPECT_EQ(lo, (i / 10) * 10);
    EXPECT_EQ(hi, i + 1);
  }
}

TEST(KeyRangeTest, UnrecognizedDivisionStaysElementwise) {
  // Different block sizes, a non-literal divisor, or a cast: no bound, and
  // the bounds are not exact (the mask is still applied element-wise).
  ScalarExpr mixed = op("eq",
                        {op("div", {var("i"), lit(4)}, ScalarType::Int),
                         op("div", {var("j"), lit(8)}, ScalarType::Int)},
                        ScalarType::Bool);
  KeyBounds kb = analyzeKeyBounds({mixed});
  EXPECT_FALSE(kb.exact);
  EXPECT_TRUE(kb.lower.empty() && kb.upper.empty());
  ScalarExpr castDivisor =
      op("eq",
         {op("div", {var("i"), op("int", {lit(4)}, ScalarType::Int)},
             ScalarType::Int),
          op("div", {var("j"), op("int", {lit(4)}, ScalarType::Int)},
             ScalarType::Int)},
         ScalarType::Bool);
  EXPECT_FALSE(analyzeKeyBounds({castDivisor}).exact);
}

TEST(KeyRangeTest, ConversionsPrintAsConversions) {
  // "float"/"int" with one argument are casts, without arguments literals.
  ScalarExpr cast = op("float", {op("add", {var("h"), lit(1)}, ScalarType::Int)},
                       ScalarType::Float);
  EXPECT_EQ(cast.toString(), "(float (add h 1))");
  EXPECT_EQ(ScalarExpr::floatLit(2.5).toString(), "2.5");
  EXPECT_EQ(op("int", {var("i")}, ScalarType::Int).toString(), "(int i)");
  EXPECT_EQ(lit(3).toString(), "3");
}

} // namespace
