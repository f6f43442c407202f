//===- EmaReferenceTest.cpp - The "ema" reference kind --------------------===//
//
// docs/LinearFamily.md §7: Mega's multi-dimensional damped EMA, evaluated
// by the runtime in float64 through its recurrence, checked against the
// direct O(L^2) Toeplitz sum written here from the formula (identity 3 of
// the spec: recurrence = direct Toeplitz), against silu(y + omega x) for
// compat = code, and against a small case computed by hand (n = 1, q = 0.5).
// Also: manifest errors, shape errors at evaluation, the float32 baseline,
// row sampling over time steps (and the check's row masking on axis 1),
// and the FLOP count.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtil.h"

#include <cmath>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

/// A "paper" ema reference over x, d, a, be, g (omega absent).
Json emaRef() {
  return Json::parse(R"J({
    "kind": "ema", "input": "x", "delta": "d", "alpha": "a", "beta": "be",
    "gamma": "g", "omega": null, "out": "out", "compat": "paper"})J");
}

/// A one-kernel manifest with x [B,L,C], d, a, be, g [C,n], w [C],
/// xi (i32) [B,L,C], q4 [B,L,C,C] and out [B,L,C]; every dim symbolic
/// unless `dims` fixes it; `shapes` overrides argument shapes by name.
Json emaManifest(const Json &ref, const Json &dims = Json::object(),
                 const Json &shapes = Json::object()) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "ema.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "ema", "entry": "ema",
    "dims": {"B": null, "L": null, "C": null, "n": null},
    "args": [
      {"name": "x", "role": "input", "dtype": "f32", "shape": ["B", "L", "C"]},
      {"name": "d", "role": "input", "dtype": "f32", "shape": ["C", "n"]},
      {"name": "a", "role": "input", "dtype": "f32", "shape": ["C", "n"]},
      {"name": "be", "role": "input", "dtype": "f32", "shape": ["C", "n"]},
      {"name": "g", "role": "input", "dtype": "f32", "shape": ["C", "n"]},
      {"name": "w", "role": "input", "dtype": "f32", "shape": ["C"]},
      {"name": "xi", "role": "input", "dtype": "i32", "shape": ["B", "L", "C"]},
      {"name": "q4", "role": "input", "dtype": "f32", "shape": ["B", "L", "C", "C"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "L", "C"]}
    ]}]})J");
  for (Json &arg : m["kernels"][0]["args"])
    if (shapes.contains(arg["name"].get<std::string>()))
      arg["shape"] = shapes[arg["name"].get<std::string>()];
  return withReference(std::move(m), ref, dims);
}

KernelSpec emaKernel(const Json &ref, const Json &dims = Json::object()) {
  return parseKernel(emaManifest(ref, dims), "ema.json");
}

/// Expects the manifest with `ref` to be rejected with a message containing
/// `needle`.
void expectManifestError(const Json &ref, const std::string &needle,
                         const Json &dims = Json::object(),
                         const Json &shapes = Json::object()) {
  expectManifestRejected(emaManifest(ref, dims, shapes), "ema.json", needle);
}

struct Shape {
  int64_t B, L, C, n;
};

/// Inputs with a spread of decays: delta and alpha in about [-4, 4], so
/// q = 1 - σ(delta)σ(alpha) ranges from about 0.0004 (fast decay) to
/// 0.9997 (long memory).
TensorMap makeInputs(const Shape &s) {
  TensorMap args;
  args.emplace("x", filled({s.B, s.L, s.C}, 1));
  args.emplace("d", filled({s.C, s.n}, 2, 3.0));
  args.emplace("a", filled({s.C, s.n}, 3, 3.0));
  args.emplace("be", filled({s.C, s.n}, 4));
  args.emplace("g", filled({s.C, s.n}, 5));
  args.emplace("w", filled({s.C}, 6));
  return args;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

double at(const Tensor &t, std::vector<int64_t> idx) {
  return t.getDouble(t.flatIndex(idx));
}

/// K[c][t], directly from the formula in double.
std::vector<std::vector<double>> kernelK(const TensorMap &args,
                                         const Shape &s) {
  std::vector<std::vector<double>> K(size_t(s.C),
                                     std::vector<double>(size_t(s.L), 0.0));
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t k = 0; k < s.n; ++k) {
      double p = sigmoid(at(args.at("d"), {c, k}));
      double a = sigmoid(at(args.at("a"), {c, k}));
      double q = 1 - p * a;
      double w = at(args.at("g"), {c, k}) / std::sqrt(double(s.n)) * p *
                 at(args.at("be"), {c, k});
      for (int64_t t = 0; t < s.L; ++t)
        K[size_t(c)][size_t(t)] += w * std::pow(q, double(t));
    }
  return K;
}

/// y[b, t, c] = Σ_{u ≤ t} K[c, t - u] x[b, u, c]: the direct Toeplitz sum,
/// O(L^2), as a flat [B, L, C] vector.
std::vector<double> directToeplitz(const TensorMap &args, const Shape &s) {
  std::vector<std::vector<double>> K = kernelK(args, s);
  std::vector<double> y(size_t(s.B * s.L * s.C), 0.0);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = 0; t < s.L; ++t)
      for (int64_t c = 0; c < s.C; ++c) {
        double acc = 0;
        for (int64_t u = 0; u <= t; ++u)
          acc += K[size_t(c)][size_t(t - u)] * at(args.at("x"), {b, u, c});
        y[size_t((b * s.L + t) * s.C + c)] = acc;
      }
  return y;
}

/// Expects `got` [B, L, C] to equal `want` (flat), relative to 1 + |want|.
void expectValues(const Tensor &got, const Shape &s,
                  const std::vector<double> &want, double tol) {
  ASSERT_EQ(got.shape(), (std::vector<int64_t>{s.B, s.L, s.C}));
  for (int64_t n = 0; n < got.numElements(); ++n)
    EXPECT_NEAR(got.getDouble(n), want[size_t(n)],
                tol * (1 + std::fabs(want[size_t(n)])))
        << "b " << n / (s.L * s.C) << " t " << (n / s.C) % s.L << " c "
        << n % s.C;
}

TEST(EmaReferenceTest, ManifestFields) {
  KernelSpec k = emaKernel(emaRef());
  ASSERT_TRUE(k.reference);
  const ReferenceSpec &r = *k.reference;
  EXPECT_TRUE(r.isEma());
  EXPECT_FALSE(r.isLinear());
  EXPECT_FALSE(r.isLuna());
  EXPECT_EQ(r.kind, "ema");
  EXPECT_EQ(r.input, "x");
  EXPECT_EQ(r.delta, "d");
  EXPECT_EQ(r.alpha, "a");
  EXPECT_EQ(r.beta, "be");
  EXPECT_EQ(r.gamma, "g");
  EXPECT_FALSE(r.omega);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.compat, "paper");
  EXPECT_FALSE(r.emaCodeCompat());
  EXPECT_TRUE(r.query.empty() && r.key.empty() && r.value.empty());

  // compat defaults to paper; code with omega; omega may be named with
  // paper (unused); causal may be true; the attention fields may be null.
  Json ref = emaRef();
  ref.erase("compat");
  ref.erase("omega");
  EXPECT_EQ(emaKernel(ref).reference->compat, "paper");
  ref["compat"] = "code";
  ref["omega"] = "w";
  k = emaKernel(ref);
  ASSERT_TRUE(k.reference);
  EXPECT_TRUE(k.reference->emaCodeCompat());
  EXPECT_EQ(*k.reference->omega, "w");
  ref["compat"] = "paper";
  EXPECT_EQ(*emaKernel(ref).reference->omega, "w");
  ref["causal"] = true;
  ref["query"] = nullptr;
  ref["kv_lengths"] = nullptr;
  ref["masks"] = Json::array();
  ref["key_bounds_exact"] = false;
  // Fixed extents that agree.
  k = emaKernel(ref, Json{{"B", 2}, {"L", 16}, {"C", 4}, {"n", 2}});
  ASSERT_TRUE(k.reference);
  EXPECT_EQ(k.reference->input, "x");
}

TEST(EmaReferenceTest, ManifestErrors) {
  const std::string f = "ema.json: kernels[0].reference";
  Json ref = emaRef();
  ref["kind"] = "emma";
  expectManifestError(ref, f + ".kind: unknown reference kind 'emma' "
                               "(expected attention, linear, luna, ema, block, "
                               "coupler or emha)");

  // Each argument field: missing, not a string, not an argument, wrong
  // rank, wrong dtype, wrong role.
  for (const char *key : {"input", "delta", "alpha", "beta", "gamma", "out"}) {
    ref = emaRef();
    ref.erase(key);
    expectManifestError(ref, f + "." + key + ": missing");
    ref[key] = 3;
    expectManifestError(ref,
                        f + "." + key + ": expected a string, found a number");
    ref[key] = "nope";
    expectManifestError(ref, f + "." + key +
                                 ": 'nope' is not an argument of the kernel "
                                 "(x, d, a, be, g, w, xi, q4, out)");
  }
  ref = emaRef();
  ref["input"] = "d";
  expectManifestError(ref, f + ".input: argument 'd' must have rank 3, found 2");
  ref["input"] = "xi";
  expectManifestError(ref, f + ".input: argument 'xi' must have a "
                               "floating-point dtype, found i32");
  ref["input"] = "out";
  expectManifestError(ref, f + ".input: argument 'out' must be an input");
  ref = emaRef();
  ref["delta"] = "w";
  expectManifestError(ref, f + ".delta: argument 'w' must have rank 2, found 1");
  ref = emaRef();
  ref["gamma"] = "x";
  expectManifestError(ref, f + ".gamma: argument 'x' must have rank 2, found 3");
  ref = emaRef();
  ref["out"] = "x";
  expectManifestError(ref, f + ".out: argument 'x' must be an output");

  // omega and compat.
  ref = emaRef();
  ref["omega"] = "d";
  expectManifestError(ref, f + ".omega: argument 'd' must have rank 1, found 2");
  ref["omega"] = 1.5;
  expectManifestError(ref, f + ".omega: expected a string, found a number");
  ref["omega"] = "nope";
  expectManifestError(ref, f + ".omega: 'nope' is not an argument");
  ref = emaRef();
  ref["compat"] = "torch";
  expectManifestError(ref, f + ".compat: unknown compat 'torch' (expected "
                               "paper or code)");
  ref["compat"] = true;
  expectManifestError(ref, f + ".compat: expected a string, found a boolean");
  ref["compat"] = "code";
  expectManifestError(ref, f + ".omega: missing (compat = code needs omega "
                               "[C]: out = silu(y + omega x))");
  ref.erase("omega");
  expectManifestError(ref, f + ".omega: missing");

  // Fields of the attention kinds.
  for (const char *key : {"query", "key", "value", "kv_lengths", "memory",
                          "scale", "normalize"}) {
    ref = emaRef();
    ref[key] = "x";
    expectManifestError(ref, f + "." + key +
                                 ": not allowed for kind ema (not an "
                                 "attention: its arguments are input, delta, "
                                 "alpha, beta, gamma, omega and out)");
  }
  for (const char *key : {"masks", "score_mods", "expand"}) {
    ref = emaRef();
    ref[key] = Json::array({"(lt j 3)"});
    expectManifestError(ref, f + "." + key + ": not allowed for kind ema");
  }
  ref = emaRef();
  ref["rows"] = 4;
  expectManifestError(ref, f + ".rows: not allowed for kind ema");
  ref = emaRef();
  ref["key_bounds_exact"] = true;
  expectManifestError(ref, f + ".key_bounds_exact: not allowed for kind ema");
  ref = emaRef();
  ref["causal"] = false;
  expectManifestError(ref, f + ".causal: kind ema is causal by construction "
                               "(omit causal or set it to true)");
  ref["causal"] = "yes";
  expectManifestError(ref, f + ".causal: expected a boolean, found a string");

  // Fixed extents that disagree.
  ref = emaRef();
  expectManifestError(ref,
                      f + ".out: argument 'out' is [B, 8, C] but the input "
                          "'x' is [B, L = 4, C] (expected the input's shape "
                          "[B, L, C])",
                      Json{{"L", 4}}, Json{{"out", {"B", 8, "C"}}});
  expectManifestError(ref,
                      f + ".delta: argument 'd' is [5, n] but the input 'x' "
                          "has C = C = 4 channels (expected [C, n])",
                      Json{{"C", 4}}, Json{{"d", {5, "n"}}});
  expectManifestError(ref,
                      f + ".alpha: argument 'a' is [C, 3] but delta 'd' is "
                          "[C, n = 2] (expected one order n: [C, n])",
                      Json{{"n", 2}}, Json{{"a", {"C", 3}}});
  ref["compat"] = "code";
  ref["omega"] = "w";
  expectManifestError(ref,
                      f + ".omega: argument 'w' is [3] but the input 'x' has "
                          "C = C = 4 channels (expected [C])",
                      Json{{"C", 4}}, Json{{"w", Json::array({3})}});
}

// Identity 3 of the spec: the float64 recurrence equals the direct Toeplitz
// sum, over decays from fast to long memory, with B = 2 and n = 4.
TEST(EmaReferenceTest, RecurrenceMatchesDirectToeplitz) {
  const Shape s{2, 41, 3, 4};
  TensorMap args = makeInputs(s);
  Result<ReferenceOutput> r = computeReference(emaKernel(emaRef()), args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->rowsEvaluated.empty());
  EXPECT_EQ(r->rowAxis, 1);
  EXPECT_EQ(r->ref64.dtype(), DType::F64);
  expectValues(r->ref64, s, directToeplitz(args, s), 1e-12);

  // The float32 baseline (float pow, O(L^2) float sums) is close to the
  // reference, yet not equal to it.
  EXPECT_EQ(r->baseline.dtype(), DType::F32);
  expectValues(r->baseline, s, directToeplitz(args, s), 1e-5);
  Result<double> baseErr = maxAbsDiff(r->baseline, r->ref64);
  ASSERT_TRUE(baseErr.ok());
  EXPECT_GT(*baseErr, 0.0);

  // The reference passes its own check; the baseline does too (err = tol/2).
  Result<CheckResult> c = checkAgainstReference(r->baseline, *r);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(c->pass);
}

// compat = code: out = silu(y + omega[c] x[b, t, c]), silu(z) = z σ(z).
TEST(EmaReferenceTest, CodeCompatAppliesTheGate) {
  const Shape s{2, 23, 5, 2};
  TensorMap args = makeInputs(s);
  Json ref = emaRef();
  ref["compat"] = "code";
  ref["omega"] = "w";
  Result<ReferenceOutput> r = computeReference(emaKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  std::vector<double> want = directToeplitz(args, s);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = 0; t < s.L; ++t)
      for (int64_t c = 0; c < s.C; ++c) {
        double &y = want[size_t((b * s.L + t) * s.C + c)];
        double z = y + at(args.at("w"), {c}) * at(args.at("x"), {b, t, c});
        y = z * sigmoid(z);
      }
  expectValues(r->ref64, s, want, 1e-12);
  expectValues(r->baseline, s, want, 1e-5);

  // Paper ignores a named omega.
  ref["compat"] = "paper";
  r = computeReference(emaKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectValues(r->ref64, s, directToeplitz(args, s), 1e-12);
}

// n = 1 with delta = alpha = ln(1 + √2), so p = a = 1/√2 and q = 0.5;
// beta = √2 (p·beta = 1), gamma = 1 (n^{-1/2} = 1): K[t] = 0.5^t.
// Channel 0: x = 1, 2, 3, 4 gives y = 1, 2.5, 4.25, 6.125;
// channel 1: x = 4, 0, 0, -2 gives y = 4, 2, 1, -1.5.
TEST(EmaReferenceTest, HandComputedHalfDecay) {
  const Shape s{1, 4, 2, 1};
  const double logit = std::log(1 + std::sqrt(2.0));
  TensorMap args;
  args.emplace("x", makeTensor(DType::F64, {1, 4, 2},
                               {1, 4, 2, 0, 3, 0, 4, -2}));
  args.emplace("d", makeTensor(DType::F64, {2, 1}, {logit, logit}));
  args.emplace("a", makeTensor(DType::F64, {2, 1}, {logit, logit}));
  args.emplace("be", makeTensor(DType::F64, {2, 1},
                                {std::sqrt(2.0), std::sqrt(2.0)}));
  args.emplace("g", makeTensor(DType::F64, {2, 1}, {1, 1}));
  args.emplace("w", makeTensor(DType::F64, {2}, {0.5, -1}));
  std::vector<double> y = {1, 4, 2.5, 2, 4.25, 1, 6.125, -1.5};
  Result<ReferenceOutput> r = computeReference(emaKernel(emaRef()), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectValues(r->ref64, s, y, 1e-14);
  expectValues(r->baseline, s, y, 1e-6);

  // compat = code: z = y + omega x: channel 0 (omega 0.5) 1.5, 3.5, 5.75,
  // 8.125; channel 1 (omega -1) 0, 2, 1, 0.5.
  Json ref = emaRef();
  ref["compat"] = "code";
  ref["omega"] = "w";
  r = computeReference(emaKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  std::vector<double> z = {1.5, 0, 3.5, 2, 5.75, 1, 8.125, 0.5}, want;
  for (double v : z)
    want.push_back(v / (1 + std::exp(-v)));
  EXPECT_EQ(want[1], 0.0);
  expectValues(r->ref64, s, want, 1e-14);
}

// Extreme parameters: p or a near 0 or 1 (q near 1 or 0) stay finite in
// both precisions, and match the direct sum.
TEST(EmaReferenceTest, ExtremeDecaysStayFinite) {
  const Shape s{1, 64, 4, 3};
  TensorMap args = makeInputs(s);
  args["d"] = makeTensor(DType::F32, {4, 3},
                         {-60, 0, 60, 30, -30, 2, 8, 8, -8, 0.5, 90, -90});
  args["a"] = makeTensor(DType::F32, {4, 3},
                         {60, -60, 60, 30, 30, -2, 8, -8, 8, 0.5, 90, 90});
  for (const char *compat : {"paper", "code"}) {
    Json ref = emaRef();
    ref["compat"] = compat;
    ref["omega"] = "w";
    Result<ReferenceOutput> r = computeReference(emaKernel(ref), args);
    ASSERT_TRUE(r.ok()) << r.message();
    for (int64_t n = 0; n < r->ref64.numElements(); ++n) {
      ASSERT_TRUE(std::isfinite(r->ref64.getDouble(n))) << n;
      ASSERT_TRUE(std::isfinite(r->baseline.getDouble(n))) << n;
    }
    if (std::string(compat) == "paper")
      expectValues(r->ref64, s, directToeplitz(args, s), 1e-12);
  }
}

// Rows are time steps (axis 1 of [B, L, C]); ref64 is always complete, the
// baseline holds only the sampled steps; the check masks axis 1.
TEST(EmaReferenceTest, SampledTimeSteps) {
  const Shape s{2, 10, 3, 2};
  TensorMap args = makeInputs(s);
  KernelSpec k = emaKernel(emaRef());
  Result<ReferenceOutput> full = computeReference(k, args);
  Result<ReferenceOutput> some = computeReference(k, args, /*maxRows=*/3);
  ASSERT_TRUE(full.ok() && some.ok()) << full.message() << some.message();
  std::vector<char> expected{1, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  EXPECT_EQ(some->rowsEvaluated, expected);
  EXPECT_EQ(some->rowAxis, 1);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = 0; t < s.L; ++t)
      for (int64_t c = 0; c < s.C; ++c) {
        int64_t n = (b * s.L + t) * s.C + c;
        EXPECT_EQ(some->ref64.getDouble(n), full->ref64.getDouble(n));
        EXPECT_EQ(some->baseline.getDouble(n),
                  expected[size_t(t)] ? full->baseline.getDouble(n) : 0.0);
      }
  // maxRows >= L: every step.
  Result<ReferenceOutput> all = computeReference(k, args, 10);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->rowsEvaluated.empty());

  Result<CheckResult> c = checkAgainstReference(full->ref64, *some);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(c->pass);
  // A wrong value at a skipped step is not seen; at a sampled one it is.
  Tensor wrong = full->ref64.clone();
  wrong.setDouble((1 * s.L + 2) * s.C + 1, 99.0);
  c = checkAgainstReference(wrong, *some);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_TRUE(c->pass);
  wrong.setDouble((1 * s.L + 8) * s.C + 1, 99.0);
  c = checkAgainstReference(wrong, *some);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_FALSE(c->pass);
  EXPECT_EQ(c->worstIndex, (1 * s.L + 8) * s.C + 1);
}

// 2*B*L*C*n*2; referenceFlops dispatches; attentionShape refuses ema.
TEST(EmaReferenceTest, Flops) {
  const Shape s{2, 12, 5, 3};
  TensorMap args = makeInputs(s);
  KernelSpec k = emaKernel(emaRef());
  Result<EmaShape> shape = emaShape(k, args);
  ASSERT_TRUE(shape.ok()) << shape.message();
  EXPECT_EQ(shape->B, 2);
  EXPECT_EQ(shape->L, 12);
  EXPECT_EQ(shape->C, 5);
  EXPECT_EQ(shape->n, 3);
  EXPECT_DOUBLE_EQ(emaFlops(*shape), 2.0 * 2 * 12 * 5 * 3 * 2);
  Result<double> flops = referenceFlops(k, args);
  ASSERT_TRUE(flops.ok()) << flops.message();
  EXPECT_DOUBLE_EQ(*flops, 1440.0);

  Result<AttentionShape> as = attentionShape(k, args);
  ASSERT_FALSE(as.ok());
  EXPECT_EQ(as.message(), "reference: kernel 'ema' has kind ema, which is "
                          "not an attention (no query, key or value)");
  KernelSpec none = k;
  none.reference.reset();
  EXPECT_FALSE(referenceFlops(none, args).ok());
  EXPECT_FALSE(computeReference(none, args).ok());
}

// What the manifest could not check with symbolic extents is checked when
// the reference is evaluated.
TEST(EmaReferenceTest, EvaluationErrors) {
  const Shape s{1, 5, 3, 2};
  KernelSpec k = emaKernel(emaRef());
  TensorMap args = makeInputs(s);
  args.erase("x");
  expectReferenceError(k, args, "reference: the input argument 'x' is missing");
  args = makeInputs(s);
  args.erase("be");
  expectReferenceError(k, args, "reference: the beta argument 'be' is missing");

  args = makeInputs(s);
  args["x"] = filled({5, 3}, 1);
  expectReferenceError(k, args,
                       "reference: the input 'x' must have rank 3 ([B, L, "
                       "C]), got f32[5, 3]");
  args = makeInputs(s);
  args["d"] = filled({4, 2}, 2);
  expectReferenceError(k, args,
                       "reference: the delta 'd' is f32[4, 2] but expected "
                       "[C, n] with C = 3 from the input 'x' f32[1, 5, 3]");
  args = makeInputs(s);
  args["g"] = filled({3, 3}, 5);
  expectReferenceError(k, args,
                       "reference: the gamma 'g' is f32[3, 3] but the input "
                       "and delta give [C, n] = [3, 2]");
  args = makeInputs(s);
  args.emplace("out", Tensor::create(DType::F32, {1, 6, 3}).take());
  expectReferenceError(k, args,
                       "reference: the output 'out' is f32[1, 6, 3] but the "
                       "input gives [1, 5, 3]");

  Json ref = emaRef();
  ref["compat"] = "code";
  ref["omega"] = "w";
  KernelSpec code = emaKernel(ref);
  args = makeInputs(s);
  args.erase("w");
  expectReferenceError(code, args,
                       "reference: the omega argument 'w' is missing");
  args = makeInputs(s);
  args["w"] = filled({4}, 6);
  expectReferenceError(code, args,
                       "reference: the omega 'w' is f32[4] but the input "
                       "gives [C] = [3]");
  // Paper: a named omega is unused, so its absence is fine.
  ref["compat"] = "paper";
  args = makeInputs(s);
  args.erase("w");
  Result<ReferenceOutput> r = computeReference(emaKernel(ref), args);
  EXPECT_TRUE(r.ok()) << r.message();
}

} // namespace
