//===- LunaReferenceTest.cpp - The "luna" reference kind ------------------===//
//
// docs/LinearFamily.md §6: Luna's two softmax attentions through a memory
// P [H, p, D], evaluated by the runtime (the causal form with a p x D prefix
// state), checked against direct computations written here from the
// formulas (the causal one quadratic in N) and against two identities:
// p = 1 makes the unpack softmax 1, and a zero memory makes π = 1.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtil.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

/// A non-causal "luna" reference with p = 3 memory rows and scale 0.7.
Json lunaRef() {
  return Json::parse(R"J({
    "kind": "luna", "query": "q", "key": "k", "value": "v", "out": "out",
    "kv_lengths": null, "memory": "P", "rows": 3, "scale": "0.7",
    "causal": false})J");
}

/// A one-kernel manifest with q [B,H,N,D], k [B,G,M,D], v [B,G,M,Dv],
/// kv_len [B], P [H,L,D], P2 [H,L] and out [B,H,N,Dv]; every dim symbolic
/// unless `dims` fixes it.
Json lunaManifest(const Json &ref, const Json &dims = Json::object(),
                  const Json &memoryShape = nullptr) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "luna.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "luna", "entry": "luna",
    "dims": {"B": null, "H": null, "G": null, "N": null, "M": null,
             "D": null, "Dv": null, "L": null},
    "args": [
      {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
      {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "Dv"]},
      {"name": "kv_len", "role": "input", "dtype": "i32", "shape": ["B"]},
      {"name": "P", "role": "input", "dtype": "f32", "shape": ["H", "L", "D"]},
      {"name": "Pi", "role": "input", "dtype": "i32", "shape": ["H", "L", "D"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "Dv"]}
    ]}]})J");
  if (!memoryShape.is_null())
    m["kernels"][0]["args"][4]["shape"] = memoryShape;
  return withReference(std::move(m), ref, dims);
}

KernelSpec lunaKernel(const Json &ref, const Json &dims = Json::object()) {
  return parseKernel(lunaManifest(ref, dims), "luna.json");
}

/// Expects the manifest with `ref` to be rejected with a message containing
/// `needle`.
void expectManifestError(const Json &ref, const std::string &needle,
                         const Json &dims = Json::object(),
                         const Json &memoryShape = nullptr) {
  expectManifestRejected(lunaManifest(ref, dims, memoryShape), "luna.json",
                         needle);
}

struct Shape {
  int64_t B, H, G, N, M, D, p;
};

TensorMap makeInputs(const Shape &s, double memoryFactor = 1) {
  TensorMap args;
  args.emplace("q", filled({s.B, s.H, s.N, s.D}, 1));
  args.emplace("k", filled({s.B, s.G, s.M, s.D}, 2));
  args.emplace("v", filled({s.B, s.G, s.M, s.D}, 3));
  args.emplace("P", filled({s.H, s.p, s.D}, 4, memoryFactor));
  return args;
}

using Vec = std::vector<double>;

/// softmax(x), max subtracted.
Vec softmax(Vec x) {
  double mx = *std::max_element(x.begin(), x.end()), sum = 0;
  for (double &e : x)
    sum += (e = std::exp(e - mx));
  for (double &e : x)
    e /= sum;
  return x;
}

/// log2(1 + 2^x), directly for moderate x, stably for large ones.
double softplus2(double x) {
  if (x > 30)
    return x + std::log2(1 + std::exp2(-x));
  return std::log2(1 + std::exp2(x));
}

/// The packed sequence Ps [p][D] of (b, h): Ps[l] = Σ_{j < len}
/// softmax_j(τ P[h,l]·k_j) v_j, zeros when len = 0.
std::vector<Vec> packed(const TensorMap &args, const Shape &s, double tau,
                        int64_t b, int64_t h, int64_t len) {
  const Tensor &kt = args.at("k"), &v = args.at("v"), &mem = args.at("P");
  int64_t g = h / (s.H / s.G);
  std::vector<Vec> ps(size_t(s.p), Vec(size_t(s.D), 0.0));
  if (len == 0)
    return ps;
  for (int64_t l = 0; l < s.p; ++l) {
    Vec sc;
    for (int64_t j = 0; j < len; ++j)
      sc.push_back(tau * dotv(row(mem, {h, l}), row(kt, {b, g, j})));
    Vec w = softmax(sc);
    for (int64_t j = 0; j < len; ++j) {
      Vec vj = row(v, {b, g, j});
      for (int64_t d = 0; d < s.D; ++d)
        ps[size_t(l)][size_t(d)] += w[size_t(j)] * vj[size_t(d)];
    }
  }
  return ps;
}

/// Non-causal Luna's row O_i of (b, h), from the formula.
Vec nonCausalRow(const TensorMap &args, const Shape &s, double tau, int64_t b,
                 int64_t h, int64_t i, int64_t len) {
  std::vector<Vec> ps = packed(args, s, tau, b, h, len);
  Vec qi = row(args.at("q"), {b, h, i}), sc;
  for (const Vec &pl : ps)
    sc.push_back(tau * dotv(qi, pl));
  Vec a = softmax(sc), o(size_t(s.D), 0.0);
  for (int64_t l = 0; l < s.p; ++l)
    for (int64_t d = 0; d < s.D; ++d)
      o[size_t(d)] += a[size_t(l)] * ps[size_t(l)][size_t(d)];
  return o;
}

/// Causal Luna's row O_i of (b, h), directly from the formula: quadratic in
/// N (every π_j and q_i·v_j recomputed for each i).
Vec causalRow(const TensorMap &args, const Shape &s, double tau, int64_t b,
              int64_t h, int64_t i, int64_t len) {
  const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v"),
               &mem = args.at("P");
  int64_t g = h / (s.H / s.G);
  double t = double(i + 1);
  Vec qi = row(q, {b, h, i});
  std::vector<Vec> pi;
  Vec sc(size_t(s.p), 0.0);
  for (int64_t j = 0; j <= i && j < len; ++j) {
    Vec pj;
    for (int64_t l = 0; l < s.p; ++l)
      pj.push_back(
          softplus2(tau * dotv(row(mem, {h, l}), row(kt, {b, g, j}))));
    double qv = dotv(qi, row(v, {b, g, j}));
    for (int64_t l = 0; l < s.p; ++l)
      sc[size_t(l)] += tau / t * pj[size_t(l)] * qv;
    pi.push_back(pj);
  }
  Vec alpha = softmax(sc), o(size_t(s.D), 0.0);
  for (size_t j = 0; j < pi.size(); ++j) {
    double w = dotv(alpha, pi[j]) / t;
    Vec vj = row(v, {b, g, int64_t(j)});
    for (int64_t d = 0; d < s.D; ++d)
      o[size_t(d)] += w * vj[size_t(d)];
  }
  return o;
}

/// Expects `got` [B,H,N,D] to equal `want(b, h, i)` (a D row).
void expectRows(const Tensor &got, const Shape &s,
                const std::function<Vec(int64_t, int64_t, int64_t)> &want,
                double tol = 1e-12) {
  ASSERT_EQ(got.shape(), (std::vector<int64_t>{s.B, s.H, s.N, s.D}));
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.N; ++i) {
        Vec w = want(b, h, i);
        for (int64_t d = 0; d < s.D; ++d) {
          double g = got.getDouble(got.flatIndex({b, h, i, d}));
          EXPECT_NEAR(g, w[size_t(d)], tol * (1 + std::fabs(w[size_t(d)])))
              << "b " << b << " h " << h << " i " << i << " d " << d;
        }
      }
}

TEST(LunaReferenceTest, ManifestFields) {
  Json ref = lunaRef();
  ref["causal"] = true;
  ref["kv_lengths"] = "kv_len";
  KernelSpec k = lunaKernel(ref);
  ASSERT_TRUE(k.reference);
  const ReferenceSpec &r = *k.reference;
  EXPECT_TRUE(r.isLuna());
  EXPECT_FALSE(r.isLinear());
  EXPECT_EQ(r.kind, "luna");
  EXPECT_EQ(r.memory, "P");
  EXPECT_EQ(r.rows, 3);
  EXPECT_EQ(r.scaleText, "0.7");
  EXPECT_TRUE(r.scale.isConstant());
  EXPECT_TRUE(r.causal);
  EXPECT_EQ(*r.kvLengths, "kv_len");
  EXPECT_EQ(r.normalize, "softmax");

  // The scale defaults to rsqrt(D) and may be a number or use dims.
  ref = lunaRef();
  ref.erase("scale");
  EXPECT_EQ(lunaKernel(ref).reference->scaleText, "(rsqrt (float (dim D)))");
  ref["scale"] = 0.25;
  EXPECT_EQ(lunaKernel(ref).reference->scaleText, "0.25");
  ref["scale"] = "(div 1.0 (float (dim D)))";
  EXPECT_EQ(lunaKernel(ref).reference->scaleText, "(div 1.0 (float (dim D)))");
  // Fixed extents that agree; empty fields of the other kinds; softmax.
  ref["normalize"] = "softmax";
  ref["masks"] = Json::array();
  ref["score_mods"] = Json::array();
  ref["key_bounds_exact"] = false;
  ref["causal"] = true;
  k = lunaKernel(ref, Json{{"L", 3}, {"H", 4}, {"D", 8}, {"Dv", 8},
                           {"N", 16}, {"M", 16}});
  ASSERT_TRUE(k.reference);
  EXPECT_EQ(k.reference->rows, 3);
}

TEST(LunaReferenceTest, ManifestErrors) {
  const std::string f = "luna.json: kernels[0].reference";
  Json ref = lunaRef();
  ref.erase("memory");
  expectManifestError(ref, f + ".memory: missing");
  ref["memory"] = 3;
  expectManifestError(ref, f + ".memory: expected a string, found a number");
  ref["memory"] = "nope";
  expectManifestError(ref, f + ".memory: 'nope' is not an argument of the "
                               "kernel (q, k, v, kv_len, P, Pi, out)");
  ref["memory"] = "q";
  expectManifestError(ref,
                      f + ".memory: argument 'q' must have rank 3, found 4");
  ref["memory"] = "Pi";
  expectManifestError(ref, f + ".memory: argument 'Pi' must have a "
                               "floating-point dtype, found i32");

  ref = lunaRef();
  ref.erase("rows");
  expectManifestError(ref, f + ".rows: missing");
  ref["rows"] = nullptr;
  expectManifestError(ref, f + ".rows: missing");
  ref["rows"] = 0;
  expectManifestError(ref, f + ".rows: must be positive, found 0");
  ref["rows"] = -4;
  expectManifestError(ref, f + ".rows: must be positive, found -4");
  ref["rows"] = 2.5;
  expectManifestError(ref,
                      f + ".rows: expected a positive integer, found a number");
  ref["rows"] = "3";
  expectManifestError(ref,
                      f + ".rows: expected a positive integer, found a string");
  ref["rows"] = 18446744073709551615ull;
  expectManifestError(ref,
                      f + ".rows: expected a positive integer, found a number");

  // Fixed extents that disagree.
  ref = lunaRef();
  expectManifestError(ref,
                      f + ".memory: argument 'P' has L = 4 rows but rows = 3",
                      Json{{"L", 4}});
  expectManifestError(ref,
                      f + ".memory: argument 'P' has 5 rows but rows = 3",
                      Json::object(), Json::array({"H", 5, "D"}));
  expectManifestError(ref,
                      f + ".memory: argument 'P' is [2, ...] but the query "
                          "has H = H = 4 heads (expected [H, rows, D])",
                      Json{{"H", 4}}, Json::array({2, "L", "D"}));
  expectManifestError(ref,
                      f + ".memory: argument 'P' is [..., Dv = 6] but the "
                          "query has D = D = 8 (expected [H, rows, D])",
                      Json{{"D", 8}, {"Dv", 6}},
                      Json::array({"H", "L", "Dv"}));
  expectManifestError(ref,
                      f + ".value: luna needs Dv == D (the packed sequence is "
                          "both keys and values), but the value has Dv = Dv "
                          "= 6 and the query D = D = 8",
                      Json{{"D", 8}, {"Dv", 6}});
  ref["causal"] = true;
  expectManifestError(ref,
                      f + ".causal: causal luna needs N == M, but the query "
                          "has N = N = 4 and the key M = M = 5",
                      Json{{"N", 4}, {"M", 5}});
  ref["causal"] = false; // Cross attention is fine without causal.
  EXPECT_TRUE(parseManifest(
                  lunaManifest(ref, Json{{"N", 4}, {"M", 5}}).dump(), "x")
                  .ok());

  // The scale.
  ref = lunaRef();
  ref["scale"] = Json::array({1});
  expectManifestError(ref, f + ".scale: expected a string, found an array");
  ref["scale"] = "(mul 0.5";
  expectManifestError(ref, f + ".scale: in expression \"(mul 0.5\"");
  ref["scale"] = "(mul 0.5 (float i))";
  expectManifestError(ref, f + ".scale: in expression \"(mul 0.5 (float "
                               "i))\": column 17: unknown variable 'i' "
                               "(expected true, false or a number)");

  // Fields of the other kinds.
  ref = lunaRef();
  ref["normalize"] = "sum";
  expectManifestError(ref, f + ".normalize: unknown normalization 'sum' for "
                               "kind luna (expected softmax)");
  for (const char *key : {"masks", "score_mods", "expand"}) {
    ref = lunaRef();
    ref[key] = Json::array({"(lt j 3)"});
    expectManifestError(ref, f + "." + key + ": not allowed for kind luna");
  }
  ref = lunaRef();
  ref["feature"] = Json::parse(R"({"pointwise": "x"})");
  expectManifestError(ref, f + ".feature: not allowed for kind luna");
  ref = lunaRef();
  ref["eps"] = 1e-6;
  expectManifestError(ref, f + ".eps: not allowed for kind luna");
  ref = lunaRef();
  ref["key_bounds_exact"] = true;
  expectManifestError(ref, f + ".key_bounds_exact: not allowed for kind luna");

  // The common fields are checked as for the other kinds.
  ref = lunaRef();
  ref["causal"] = "yes";
  expectManifestError(ref, f + ".causal: expected a boolean, found a string");
  ref = lunaRef();
  ref["kv_lengths"] = "q";
  expectManifestError(ref,
                      f + ".kv_lengths: argument 'q' must have rank 1, found 4");
  ref = lunaRef();
  ref["kind"] = "lunar";
  expectManifestError(ref, f + ".kind: unknown reference kind 'lunar' "
                               "(expected attention, linear, luna, ema, block, "
                               "coupler or emha)");
}

// Non-causal Luna against the formula, with GQA (H = 4, G = 2), N != M, and
// key padding (one batch keeps 3 keys, the other none: Ps = 0, O = 0).
TEST(LunaReferenceTest, NonCausalMatchesDirectComputation) {
  const Shape s{2, 4, 2, 5, 7, 3, 3};
  for (bool padded : {false, true}) {
    Json ref = lunaRef();
    TensorMap args = makeInputs(s);
    std::vector<int64_t> len = {s.M, s.M};
    if (padded) {
      ref["kv_lengths"] = "kv_len";
      len = {3, 0};
      args.emplace("kv_len", makeTensor(DType::I32, {2}, {3.0, 0.0}));
    }
    Result<ReferenceOutput> r = computeReference(lunaKernel(ref), args);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_TRUE(r->rowsEvaluated.empty());
    expectBaselineClose(*r);
    expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
      return nonCausalRow(args, s, 0.7, b, h, i, len[size_t(b)]);
    });
    if (padded) {
      for (int64_t n = s.H * s.N * s.D; n < r->ref64.numElements(); ++n)
        EXPECT_EQ(r->ref64.getDouble(n), 0.0);
    }
  }
}

// Causal Luna (prefix state in the runtime) against the direct quadratic
// formula, with GQA, the default scale rsqrt(D) and key padding: padded keys
// contribute nothing while the count t stays i + 1.
TEST(LunaReferenceTest, CausalMatchesDirectComputation) {
  const Shape s{2, 4, 2, 6, 6, 4, 3};
  for (bool padded : {false, true}) {
    Json ref = lunaRef();
    ref.erase("scale");
    ref["causal"] = true;
    TensorMap args = makeInputs(s);
    std::vector<int64_t> len = {s.M, s.M};
    if (padded) {
      ref["kv_lengths"] = "kv_len";
      len = {4, 0};
      args.emplace("kv_len", makeTensor(DType::I32, {2}, {4.0, -1.0}));
    }
    Result<ReferenceOutput> r = computeReference(lunaKernel(ref), args);
    ASSERT_TRUE(r.ok()) << r.message();
    expectBaselineClose(*r);
    expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
      return causalRow(args, s, 0.5, b, h, i, len[size_t(b)]);
    });
  }
}

// Large memory-key scores (|τ P·k| in the hundreds): both softmaxes subtract
// their max and π uses x + log2(1 + 2^-x), so nothing overflows, in float64
// or float32.
TEST(LunaReferenceTest, LargeScoresStayFinite) {
  const Shape s{1, 2, 1, 5, 5, 4, 2};
  TensorMap args = makeInputs(s, /*memoryFactor=*/60);
  for (bool causal : {false, true}) {
    Json ref = lunaRef();
    ref["rows"] = 2;
    ref["scale"] = "2.0";
    ref["causal"] = causal;
    Result<ReferenceOutput> r = computeReference(lunaKernel(ref), args);
    ASSERT_TRUE(r.ok()) << r.message();
    for (int64_t n = 0; n < r->baseline.numElements(); ++n)
      ASSERT_TRUE(std::isfinite(r->baseline.getDouble(n))) << n;
    expectBaselineClose(*r, 1e-3);
    expectRows(
        r->ref64, s,
        [&](int64_t b, int64_t h, int64_t i) {
          return causal ? causalRow(args, s, 2.0, b, h, i, s.M)
                        : nonCausalRow(args, s, 2.0, b, h, i, s.M);
        },
        1e-10);
  }
}

// Identity: with p = 1 the unpack softmax is 1, so every non-causal row of
// (b, h) is Ps[0], whatever the query.
TEST(LunaReferenceTest, OneMemoryRowGivesThePackedRow) {
  const Shape s{2, 2, 1, 6, 5, 3, 1};
  Json ref = lunaRef();
  ref["rows"] = 1;
  TensorMap args = makeInputs(s);
  Result<ReferenceOutput> r = computeReference(lunaKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t) {
    return packed(args, s, 0.7, b, h, s.M)[0];
  });
}

// Identity: a zero memory gives π = log2(1 + 2^0) = 1 for every row l, so
// s_i is the same for every l, α_i·π_j = 1 and O_i = (1 / t) Σ_{j ≤ i, kept}
// v_j: a count-normalized causal sum (t = i + 1 even past the padding).
TEST(LunaReferenceTest, ZeroMemoryGivesCountNormalizedCausalSums) {
  const Shape s{2, 4, 2, 7, 7, 3, 3};
  Json ref = lunaRef();
  ref["causal"] = true;
  ref["kv_lengths"] = "kv_len";
  TensorMap args = makeInputs(s);
  args["P"] = makeTensor(DType::F32, {s.H, s.p, s.D},
                         std::vector<double>(size_t(s.H * s.p * s.D), 0.0));
  args.emplace("kv_len", makeTensor(DType::I32, {2}, {7.0, 3.0}));
  Result<ReferenceOutput> r = computeReference(lunaKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const Tensor &v = args.at("v");
  expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
    int64_t g = h / (s.H / s.G), len = b == 0 ? 7 : 3;
    Vec o(size_t(s.D), 0.0);
    for (int64_t j = 0; j <= i && j < len; ++j)
      for (int64_t d = 0; d < s.D; ++d)
        o[size_t(d)] += v.getDouble(v.flatIndex({b, g, j, d}));
    for (double &x : o)
      x /= double(i + 1);
    return o;
  });
}

TEST(LunaReferenceTest, SampledRowsMatchTheFullReference) {
  const Shape s{1, 2, 1, 10, 10, 3, 2};
  TensorMap args = makeInputs(s);
  for (bool causal : {false, true}) {
    Json ref = lunaRef();
    ref["rows"] = 2;
    ref["causal"] = causal;
    expectSampledRowsMatch(lunaKernel(ref), args, s.H, s.D,
                           /*compareBaseline=*/true);
  }
}

// 4*B*H*p*(N+M)*D, causal or not; visibleFlops is the same.
TEST(LunaReferenceTest, Flops) {
  const Shape s{2, 4, 2, 6, 6, 8, 3};
  TensorMap args = makeInputs(s);
  AttentionShape shape{2, 4, 2, 6, 6, 8, 8};
  for (bool causal : {false, true}) {
    Json ref = lunaRef();
    ref["causal"] = causal;
    KernelSpec k = lunaKernel(ref);
    EXPECT_DOUBLE_EQ(attentionFlops(k, shape), 4.0 * 2 * 4 * 3 * 12 * 8);
    Result<double> vf = visibleFlops(k, shape, args);
    ASSERT_TRUE(vf.ok()) << vf.message();
    EXPECT_DOUBLE_EQ(*vf, attentionFlops(k, shape));
  }
  AttentionShape cross{1, 2, 2, 5, 9, 4, 4};
  EXPECT_DOUBLE_EQ(attentionFlops(lunaKernel(lunaRef()), cross),
                   4.0 * 1 * 2 * 3 * 14 * 4);
}

// What the manifest could not check with symbolic extents is checked when
// the reference is evaluated.
TEST(LunaReferenceTest, EvaluationErrors) {
  const Shape s{1, 2, 1, 4, 4, 3, 3};
  TensorMap args = makeInputs(s);
  KernelSpec k = lunaKernel(lunaRef());
  TensorMap noMemory = makeInputs(s);
  noMemory.erase("P");
  expectReferenceError(k, noMemory,
                       "reference: the memory argument 'P' is missing");

  TensorMap bad = makeInputs(s);
  bad["P"] = filled({2, 4, 3}, 4); // 4 rows, the reference says 3.
  expectReferenceError(k, bad,
                       "reference: the memory 'P' is f32[2, 4, 3] but "
                       "expected [H, rows, D] = [2, 3, 3]");
  bad["P"] = filled({3, 3, 3}, 4);
  Result<ReferenceOutput> r = computeReference(k, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("expected [H, rows, D] = [2, 3, 3]"),
            std::string::npos)
      << r.message();

  bad = makeInputs(s);
  bad["v"] = filled({1, 1, 4, 2}, 3);
  bad.emplace("out", Tensor::create(DType::F32, {1, 2, 4, 2}).take());
  expectReferenceError(k, bad,
                       "reference: luna needs Dv == D (the packed sequence "
                       "is both keys and values), but v has Dv = 2 and q "
                       "D = 3");

  Json causal = lunaRef();
  causal["causal"] = true;
  bad = makeInputs(s);
  bad["k"] = filled({1, 1, 5, 3}, 2);
  bad["v"] = filled({1, 1, 5, 3}, 3);
  expectReferenceError(lunaKernel(causal), bad,
                       "reference: causal luna needs N == M, but q has "
                       "N = 4 and k M = 5");
  // Not causal: cross attention is fine.
  r = computeReference(k, bad);
  EXPECT_TRUE(r.ok()) << r.message();

  Json ref = lunaRef();
  ref["scale"] = "(gt (dim D) 1)";
  expectReferenceError(lunaKernel(ref), args,
                       "reference.scale: (gt (dim D) 1) gives a boolean, "
                       "expected a number");
  ref["scale"] = "(div 1.0 (float (sub (dim D) 3)))";
  r = computeReference(lunaKernel(ref), args);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("expected a finite number"), std::string::npos)
      << r.message();
}

} // namespace
