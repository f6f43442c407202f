//===- LinearReferenceTest.cpp - The "linear" reference kind --------------===//
//
// docs/LinearFamily.md §1 and §4: the quadratic form evaluated by the
// runtime, checked against direct computations written here (the associative
// form, prefix scans, the momentum recurrence, FAVOR+ features built from
// support/RandomFeatures.h) and against the identities of the variants spec
// (§6: 1, 2, 6, 9, 13).
//
//===----------------------------------------------------------------------===//

#include "support/RandomFeatures.h"

#include "ReferenceTestUtil.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

const char *kElu1 = "(select (gt x 0.0) (add x 1.0) (exp x))";
const char *kRelu = "(max x 0.0)";

/// A "linear" reference: elu1 features, normalize sum(eps = 1e-6).
Json linearRef() {
  return Json::parse(R"J({
    "kind": "linear", "query": "q", "key": "k", "value": "v", "out": "out",
    "kv_lengths": null, "causal": false,
    "feature": {"pointwise": "(select (gt x 0.0) (add x 1.0) (exp x))",
                "random_features": 0, "seed": 0},
    "expand": [],
    "weight": null,
    "normalize": "sum", "eps": 1e-6, "clamp": false})J");
}

/// A one-kernel manifest with q [B,H,N,D], k [B,G,M,D], v [B,G,M,Dv],
/// kv_len [B], bias [H,R] and out [B,H,N,Dv]; every dim symbolic unless
/// `dims` fixes it.
Json linearManifest(const Json &ref, const Json &dims = Json::object()) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "linear.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "lin", "entry": "lin",
    "dims": {"B": null, "H": null, "G": null, "N": null, "M": null,
             "D": null, "Dv": null, "R": null},
    "args": [
      {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
      {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "Dv"]},
      {"name": "kv_len", "role": "input", "dtype": "i32", "shape": ["B"]},
      {"name": "bias", "role": "input", "dtype": "f32", "shape": ["H", "R"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "Dv"]}
    ]}]})J");
  return withReference(std::move(m), ref, dims);
}

KernelSpec linearKernel(const Json &ref) {
  return parseKernel(linearManifest(ref), "lin.json");
}

/// Expects the manifest with `ref` to be rejected with a message containing
/// `needle`.
void expectManifestError(const Json &ref, const std::string &needle,
                         const Json &dims = Json::object()) {
  expectManifestRejected(linearManifest(ref, dims), "lin.json", needle);
}

struct Shape {
  int64_t B, H, G, N, M, D, Dv;
};

TensorMap makeInputs(const Shape &s) {
  TensorMap args;
  args.emplace("q", filled({s.B, s.H, s.N, s.D}, 1));
  args.emplace("k", filled({s.B, s.G, s.M, s.D}, 2));
  args.emplace("v", filled({s.B, s.G, s.M, s.Dv}, 3));
  return args;
}

std::vector<double> pointwise(const std::vector<double> &x,
                              const std::function<double(double)> &f) {
  std::vector<double> out;
  for (double e : x)
    out.push_back(f(e));
  return out;
}

double elu1(double x) { return x > 0 ? x + 1 : std::exp(x); }
double relu(double x) { return std::max(x, 0.0); }

/// The quadratic form's row Σ_j κ_j v_j / den over the keys j < `count` of
/// the value v [B,G,M,Dv] at (b, g), with κ_j = kappa(j) and den = Σ_j κ_j +
/// 1e-6, or max(Σ_j κ_j, 1e-6) when `clamp`.
std::vector<double> weightedRow(const Tensor &v, int64_t b, int64_t g,
                                int64_t count,
                                const std::function<double(int64_t)> &kappa,
                                bool clamp = false) {
  std::vector<double> num(size_t(v.shape()[3]), 0.0);
  double den = 0;
  for (int64_t j = 0; j < count; ++j) {
    double kap = kappa(j);
    std::vector<double> vj = row(v, {b, g, j});
    for (size_t d = 0; d < num.size(); ++d)
      num[d] += kap * vj[d];
    den += kap;
  }
  for (double &x : num)
    x /= clamp ? std::max(den, 1e-6) : den + 1e-6;
  return num;
}

/// Expects `got` [B,H,N,Dv] to equal `want(b, h, i)` (a Dv row) to ~1e-12.
void expectRows(const Tensor &got, const Shape &s,
                const std::function<std::vector<double>(int64_t, int64_t,
                                                        int64_t)> &want,
                double tol = 1e-12) {
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.N; ++i) {
        std::vector<double> w = want(b, h, i);
        for (int64_t d = 0; d < s.Dv; ++d) {
          double g = got.getDouble(got.flatIndex({b, h, i, d}));
          EXPECT_NEAR(g, w[size_t(d)], tol * (1 + std::fabs(w[size_t(d)])))
              << "b " << b << " h " << h << " i " << i << " d " << d;
        }
      }
}

/// Expects two references to agree to ~1e-12 everywhere.
void expectSame(const Tensor &a, const Tensor &b, double tol = 1e-12) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t n = 0; n < a.numElements(); ++n)
    EXPECT_NEAR(a.getDouble(n), b.getDouble(n),
                tol * (1 + std::fabs(b.getDouble(n))))
        << "element " << n;
}

/// Expects the references `a` and `b` to agree on `args`: the float64
/// references to ~1e-12 and the baselines to ~1e-6.
void expectSameReference(const Json &a, const Json &b, const TensorMap &args) {
  Result<ReferenceOutput> ra = computeReference(linearKernel(a), args);
  Result<ReferenceOutput> rb = computeReference(linearKernel(b), args);
  ASSERT_TRUE(ra.ok() && rb.ok()) << ra.message() << rb.message();
  expectSame(rb->ref64, ra->ref64);
  expectSame(rb->baseline, ra->baseline, 1e-6);
}

TEST(LinearReferenceTest, ManifestFields) {
  Json ref = linearRef();
  ref["causal"] = true;
  ref["kv_lengths"] = "kv_len";
  ref["expand"] = Json::array({"(sin (float i))", "(cos (float i))"});
  ref["weight"] = Json::parse(R"({"kind": "momentum", "beta": 0.5, "gamma": 2.0})");
  ref["clamp"] = true;
  KernelSpec k = linearKernel(ref);
  ASSERT_TRUE(k.reference);
  const ReferenceSpec &r = *k.reference;
  EXPECT_TRUE(r.isLinear());
  EXPECT_EQ(r.feature.pointwiseText, kElu1);
  EXPECT_FALSE(r.feature.isRandom());
  EXPECT_EQ(r.expand.size(), 2u);
  EXPECT_EQ(r.expandTexts[1], "(cos (float i))");
  EXPECT_EQ(r.weight.kind, LinearWeightKind::Momentum);
  EXPECT_EQ(r.weight.beta, 0.5);
  EXPECT_EQ(r.weight.gamma, 2.0);
  EXPECT_EQ(r.normalize, "sum");
  EXPECT_EQ(r.eps, 1e-6);
  EXPECT_TRUE(r.clamp);
  EXPECT_EQ(*r.kvLengths, "kv_len");
  EXPECT_EQ(linearFeatureWidth(r, 16), 32);

  ref = linearRef();
  ref["feature"] = Json::parse(
      R"({"pointwise": null, "random_features": 24, "seed": 18446744073709551615})");
  ref["weight"] = Json::parse(R"({"kind": "rpe", "bias": "bias"})");
  ref["normalize"] = "none";
  ref.erase("eps");
  k = linearKernel(ref);
  ASSERT_TRUE(k.reference);
  EXPECT_TRUE(k.reference->feature.isRandom());
  EXPECT_EQ(k.reference->feature.randomFeatures, 24);
  EXPECT_EQ(k.reference->feature.seed, ~uint64_t(0));
  EXPECT_EQ(k.reference->weight.kind, LinearWeightKind::Rpe);
  EXPECT_EQ(k.reference->weight.bias, "bias");
  EXPECT_EQ(linearFeatureWidth(*k.reference, 16), 24);
  ref["feature"]["seed"] = -1; // Wraps modulo 2^64.
  EXPECT_EQ(linearKernel(ref).reference->feature.seed, ~uint64_t(0));
}

TEST(LinearReferenceTest, ManifestErrors) {
  const std::string f = "lin.json: kernels[0].reference";
  Json ref = linearRef();
  ref.erase("feature");
  expectManifestError(ref, f + ".feature: missing");
  ref = linearRef();
  ref.erase("normalize");
  expectManifestError(ref, f + ".normalize: missing");
  ref = linearRef();
  ref.erase("eps");
  expectManifestError(ref, f + ".eps: missing");
  ref = linearRef();
  ref["normalize"] = "softmax";
  expectManifestError(ref, f + ".normalize: unknown normalization 'softmax' "
                               "for kind linear (expected sum or none)");
  ref = linearRef();
  ref["eps"] = "small";
  expectManifestError(ref, f + ".eps: expected a number, found a string");
  ref = linearRef();
  ref["clamp"] = 1;
  expectManifestError(ref, f + ".clamp: expected a boolean, found a number");

  // Bad S-expressions.
  ref = linearRef();
  ref["feature"]["pointwise"] = "(add x";
  expectManifestError(ref, f + ".feature.pointwise: in expression \"(add x\"");
  ref["feature"]["pointwise"] = "(add s 1.0)";
  expectManifestError(ref, f + ".feature.pointwise: in expression \"(add s "
                               "1.0)\": column 6: unknown variable 's' "
                               "(expected x, true, false or a number)");
  ref = linearRef();
  ref["expand"] = Json::array({"(sin (float i))", "(cos x)"});
  expectManifestError(ref, f + ".expand[1]: in expression \"(cos x)\": column "
                               "6: unknown variable 'x' (expected i, true, "
                               "false or a number)");
  ref["expand"] = Json::array({3});
  expectManifestError(ref,
                      f + ".expand[0]: expected a string, found a number");

  // Feature maps: exactly one of pointwise and random features.
  ref = linearRef();
  ref["feature"]["random_features"] = 8;
  expectManifestError(ref, f + ".feature: has both a pointwise map and "
                               "random_features = 8 (give one)");
  // Neither: the identity map.
  ref["feature"]["pointwise"] = nullptr;
  ref["feature"]["random_features"] = 0;
  {
    Result<Manifest> manifest =
        parseManifest(linearManifest(ref).dump(), "lin.json");
    ASSERT_TRUE(manifest) << manifest.message();
    EXPECT_EQ(manifest->kernels[0].reference->feature.pointwiseText, "x");
  }
  ref["feature"]["random_features"] = -2;
  expectManifestError(ref, f + ".feature.random_features: must not be "
                               "negative, found -2");
  ref["feature"]["random_features"] = 2.5;
  expectManifestError(ref, f + ".feature.random_features: expected a "
                               "non-negative integer, found a number");
  ref["feature"]["random_features"] = 4;
  ref["feature"]["seed"] = "zero";
  expectManifestError(ref,
                      f + ".feature.seed: expected an integer, found a string");
  ref = linearRef();
  ref["feature"] = "elu1";
  expectManifestError(ref, f + ".feature: expected an object, found a string");

  // Weights.
  ref = linearRef();
  ref["weight"] = Json::parse(R"({"kind": "momentum", "beta": 0.9, "gamma": 1.0})");
  expectManifestError(ref, f + ".weight: the momentum weight needs causal = "
                               "true");
  ref["causal"] = true;
  ref["weight"].erase("gamma");
  expectManifestError(ref, f + ".weight.gamma: missing");
  ref["weight"] = Json::parse(R"({"kind": "decay"})");
  expectManifestError(ref, f + ".weight.kind: unknown weight kind 'decay' "
                               "(expected momentum or rpe)");
  ref["weight"] = Json::parse(R"({"kind": "rpe"})");
  expectManifestError(ref, f + ".weight.bias: missing");
  ref["weight"]["bias"] = "nope";
  expectManifestError(ref, f + ".weight.bias: 'nope' is not an argument");
  ref["weight"]["bias"] = "q";
  expectManifestError(ref,
                      f + ".weight.bias: argument 'q' must have rank 2, found 4");
  ref["weight"]["bias"] = "bias";
  expectManifestError(ref,
                      f + ".weight.bias: argument 'bias' is [H, R] with R = 4, "
                          "expected R = 2W + 1 odd",
                      Json{{"R", 4}});

  // Softmax-only fields.
  ref = linearRef();
  ref["masks"] = Json::array({"(lt j 3)"});
  expectManifestError(ref, f + ".masks: not allowed for kind linear");
  ref = linearRef();
  ref["scale"] = "0.5";
  expectManifestError(ref, f + ".scale: not allowed for kind linear");
}

// Identity 1: the quadratic form equals the associative form
// φQ (φKᵀ V) / (φQ · Σ φk + ε), here with GQA (H = 4, G = 2), N != M and
// key padding.
TEST(LinearReferenceTest, Elu1EqualsAssociativeForm) {
  const Shape s{2, 4, 2, 5, 7, 3, 2};
  for (bool padded : {false, true}) {
    Json ref = linearRef();
    TensorMap args = makeInputs(s);
    std::vector<int64_t> len = {s.M, s.M};
    if (padded) {
      ref["kv_lengths"] = "kv_len";
      len = {3, 0};
      args.emplace("kv_len", makeTensor(DType::I32, {2}, {3.0, 0.0}));
    }
    KernelSpec k = linearKernel(ref);
    Result<ReferenceOutput> r = computeReference(k, args);
    ASSERT_TRUE(r.ok()) << r.message();
    expectBaselineClose(*r);
    const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
    expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
      int64_t g = h / (s.H / s.G);
      std::vector<double> S(size_t(s.D * s.Dv), 0.0), z(size_t(s.D), 0.0);
      for (int64_t j = 0; j < len[size_t(b)]; ++j) {
        std::vector<double> fk = pointwise(row(kt, {b, g, j}), elu1);
        std::vector<double> vj = row(v, {b, g, j});
        for (int64_t f = 0; f < s.D; ++f) {
          z[size_t(f)] += fk[size_t(f)];
          for (int64_t d = 0; d < s.Dv; ++d)
            S[size_t(f * s.Dv + d)] += fk[size_t(f)] * vj[size_t(d)];
        }
      }
      std::vector<double> fq = pointwise(row(q, {b, h, i}), elu1);
      std::vector<double> o(size_t(s.Dv));
      double den = dotv(fq, z) + 1e-6;
      for (int64_t d = 0; d < s.Dv; ++d) {
        double num = 0;
        for (int64_t f = 0; f < s.D; ++f)
          num += fq[size_t(f)] * S[size_t(f * s.Dv + d)];
        o[size_t(d)] = num / den;
      }
      return o;
    });
  }
}

// Identity 2 (quadratic with tril = prefix scan), with bottom-right causal
// alignment when N < M.
TEST(LinearReferenceTest, CausalEqualsPrefixScan) {
  for (const Shape &s : {Shape{1, 2, 1, 6, 6, 4, 3}, Shape{1, 2, 2, 4, 6, 4, 3}}) {
    Json ref = linearRef();
    ref["causal"] = true;
    ref["normalize"] = "none";
    TensorMap args = makeInputs(s);
    Result<ReferenceOutput> r = computeReference(linearKernel(ref), args);
    ASSERT_TRUE(r.ok()) << r.message();
    expectBaselineClose(*r);
    const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
    expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
      int64_t g = h / (s.H / s.G);
      std::vector<double> S(size_t(s.D * s.Dv), 0.0);
      for (int64_t j = 0; j <= i + s.M - s.N; ++j) {
        std::vector<double> fk = pointwise(row(kt, {b, g, j}), elu1);
        std::vector<double> vj = row(v, {b, g, j});
        for (int64_t f = 0; f < s.D; ++f)
          for (int64_t d = 0; d < s.Dv; ++d)
            S[size_t(f * s.Dv + d)] += fk[size_t(f)] * vj[size_t(d)];
      }
      std::vector<double> fq = pointwise(row(q, {b, h, i}), elu1);
      std::vector<double> o(size_t(s.Dv), 0.0);
      for (int64_t d = 0; d < s.Dv; ++d)
        for (int64_t f = 0; f < s.D; ++f)
          o[size_t(d)] += fq[size_t(f)] * S[size_t(f * s.Dv + d)];
      return o;
    });
  }
}

// Identity 9: momentum(beta = 0, gamma = 1) is plain causal linear
// attention; a general (beta, gamma) follows the paper's recurrence
// P_i = beta P_{i-1} + φk_i v_iᵀ, S_i = S_{i-1} + gamma P_i, z_i = z_{i-1} +
// φk_i, O_i = φq_i S_i / (φq_i z_i + eps).
TEST(LinearReferenceTest, MomentumReducesToCausalAndFollowsTheRecurrence) {
  const Shape s{2, 2, 1, 6, 6, 3, 2};
  TensorMap args = makeInputs(s);
  Json plain = linearRef();
  plain["causal"] = true;
  Json mom = plain;
  mom["weight"] = Json::parse(R"({"kind": "momentum", "beta": 0.0, "gamma": 1.0})");
  expectSameReference(plain, mom, args);

  mom["weight"] = Json::parse(R"({"kind": "momentum", "beta": 0.6, "gamma": 0.7})");
  Result<ReferenceOutput> r = computeReference(linearKernel(mom), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
  expectRows(r->ref64, s, [&](int64_t bb, int64_t h, int64_t i) {
    std::vector<double> P(size_t(s.D * s.Dv), 0.0), S = P, z(size_t(s.D), 0.0);
    for (int64_t j = 0; j <= i; ++j) {
      std::vector<double> fk = pointwise(row(kt, {bb, 0, j}), elu1);
      std::vector<double> vj = row(v, {bb, 0, j});
      for (int64_t f = 0; f < s.D; ++f) {
        z[size_t(f)] += fk[size_t(f)];
        for (int64_t d = 0; d < s.Dv; ++d) {
          size_t n = size_t(f * s.Dv + d);
          P[n] = 0.6 * P[n] + fk[size_t(f)] * vj[size_t(d)];
          S[n] += 0.7 * P[n];
        }
      }
    }
    std::vector<double> fq = pointwise(row(q, {bb, h, i}), elu1);
    std::vector<double> o(size_t(s.Dv), 0.0);
    for (int64_t d = 0; d < s.Dv; ++d) {
      for (int64_t f = 0; f < s.D; ++f)
        o[size_t(d)] += fq[size_t(f)] * S[size_t(f * s.Dv + d)];
      o[size_t(d)] /= dotv(fq, z) + 1e-6;
    }
    return o;
  });
}

// Identity 13: an expansion whose positions are all equal ([sin θ, cos θ]
// with θ constant) multiplies every kernel value by sin²θ + cos²θ = 1.  A
// real cosFormer expansion matches relu(q)·relu(k)·cos(θ_i − θ_j).
TEST(LinearReferenceTest, CosformerExpansion) {
  const Shape s{1, 2, 2, 5, 7, 4, 3};
  TensorMap args = makeInputs(s);
  Json plain = linearRef();
  plain["feature"]["pointwise"] = kRelu;
  plain["clamp"] = true;
  Json same = plain;
  same["expand"] = Json::array(
      {"(sin (mul 0.25 (float (dim N))))", "(cos (mul 0.25 (float (dim N))))"});
  Result<ReferenceOutput> a = computeReference(linearKernel(plain), args);
  Result<ReferenceOutput> b = computeReference(linearKernel(same), args);
  ASSERT_TRUE(a.ok() && b.ok()) << a.message() << b.message();
  expectSame(b->ref64, a->ref64);
  expectBaselineClose(*b);

  const char *theta = "(div (mul 1.5707963267948966 (float (add i 1))) "
                      "(float (max (dim N) (dim M))))";
  Json cos = plain;
  cos["expand"] = Json::array({std::string("(sin ") + theta + ")",
                               std::string("(cos ") + theta + ")"});
  KernelSpec k = linearKernel(cos);
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
  auto th = [&](int64_t p) {
    return 1.5707963267948966 * double(p + 1) / double(std::max(s.N, s.M));
  };
  expectRows(r->ref64, s, [&](int64_t bb, int64_t h, int64_t i) {
    int64_t g = h / (s.H / s.G);
    std::vector<double> fq = pointwise(row(q, {bb, h, i}), relu);
    return weightedRow(
        v, bb, g, s.M,
        [&](int64_t j) {
          return dotv(fq, pointwise(row(kt, {bb, g, j}), relu)) *
                 std::cos(th(i) - th(j));
        },
        /*clamp=*/true);
  });
  // F = D * E for the FLOP count: 2 B H (N + M) F (Dv + 1).
  AttentionShape shape{1, 2, 2, 5, 7, 4, 3};
  EXPECT_DOUBLE_EQ(attentionFlops(k, shape), 2.0 * 1 * 2 * 12 * 8 * 4);
  Result<double> vf = visibleFlops(k, shape, args);
  ASSERT_TRUE(vf.ok());
  EXPECT_DOUBLE_EQ(*vf, attentionFlops(k, shape));
}

/// FAVOR+ features of `count` rows x (each D values) per docs/LinearFamily.md
/// §4: the shift is the max over all the rows given.
std::vector<std::vector<double>>
favorFeatures(const std::vector<std::vector<double>> &x,
              const std::vector<double> &omega, int64_t m) {
  int64_t D = int64_t(x[0].size());
  std::vector<std::vector<double>> u;
  double c = -INFINITY;
  for (const std::vector<double> &xr : x) {
    std::vector<double> xs = xr;
    for (double &e : xs)
      e *= std::pow(double(D), -0.25);
    double half = dotv(xs, xs) / 2;
    std::vector<double> ur;
    for (int64_t r = 0; r < m; ++r) {
      double dot = 0;
      for (int64_t d = 0; d < D; ++d)
        dot += omega[size_t(r * D + d)] * xs[size_t(d)];
      ur.push_back(dot - half);
      c = std::max(c, ur.back());
    }
    u.push_back(ur);
  }
  for (std::vector<double> &ur : u)
    for (double &e : ur)
      e = (std::exp(e - c) + attn::kFavorPlusEpsilon) / std::sqrt(double(m));
  return u;
}

// FAVOR+ against a direct computation; the key shift is over every key row of
// the (b, g) slice, padded ones included.
TEST(LinearReferenceTest, FavorPlusMatchesDirectComputation) {
  const Shape s{2, 2, 1, 4, 6, 5, 2};
  const int64_t m = 12;
  Json ref = linearRef();
  ref["feature"] = Json::parse(
      R"({"pointwise": null, "random_features": 12, "seed": 5})");
  ref["kv_lengths"] = "kv_len";
  TensorMap args = makeInputs(s);
  args.emplace("kv_len", makeTensor(DType::I32, {2}, {4.0, 9.0}));
  KernelSpec k = linearKernel(ref);
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  std::vector<double> omega = attn::favorPlusMatrix(m, s.D, 5);
  const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
  expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
    std::vector<std::vector<double>> keys;
    for (int64_t j = 0; j < s.M; ++j)
      keys.push_back(row(kt, {b, 0, j}));
    std::vector<std::vector<double>> fk = favorFeatures(keys, omega, m);
    std::vector<double> fq = favorFeatures({row(q, {b, h, i})}, omega, m)[0];
    int64_t len = b == 0 ? 4 : s.M; // 9 is clamped to M.
    return weightedRow(v, b, 0, len,
                       [&](int64_t j) { return dotv(fq, fk[size_t(j)]); });
  });
  AttentionShape shape{2, 2, 1, 4, 6, 5, 2};
  // The state build and readout, plus the projections on the 12 x 5 matrix.
  EXPECT_DOUBLE_EQ(attentionFlops(k, shape),
                   2.0 * 2 * 2 * 10 * 12 * 3 + 2.0 * 2 * 2 * 10 * 12 * 5);
  // A different seed gives a different reference.
  ref["feature"]["seed"] = 6;
  Result<ReferenceOutput> other = computeReference(linearKernel(ref), args);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->ref64.getDouble(0), r->ref64.getDouble(0));
}

// Identity 6: rpe with bias ≡ 0 is plain (FAVOR+) linear attention, causal
// or not; a nonzero bias matches the direct Toeplitz-weighted sum.
TEST(LinearReferenceTest, RpeWeights) {
  const Shape s{1, 2, 1, 6, 6, 3, 2};
  TensorMap args = makeInputs(s);
  args.emplace("bias", makeTensor(DType::F32, {2, 5},
                                  std::vector<double>(10, 0.0)));
  for (bool causal : {false, true}) {
    Json plain = linearRef();
    plain["feature"] = Json::parse(
        R"({"pointwise": null, "random_features": 8, "seed": 3})");
    plain["causal"] = causal;
    Json rpe = plain;
    rpe["weight"] = Json::parse(R"({"kind": "rpe", "bias": "bias"})");
    expectSameReference(plain, rpe, args);
  }

  // bias [H, 3] (W = 1): offsets beyond ±1 share the edge weights.
  std::vector<double> bias = {0.3, -0.2, 0.5, -0.4, 0.1, 0.8};
  args["bias"] = makeTensor(DType::F32, {2, 3}, bias);
  Json ref = linearRef();
  ref["feature"]["pointwise"] = kRelu;
  ref["causal"] = true;
  ref["weight"] = Json::parse(R"({"kind": "rpe", "bias": "bias"})");
  Result<ReferenceOutput> r = computeReference(linearKernel(ref), args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const Tensor &q = args.at("q"), &kt = args.at("k"), &v = args.at("v");
  expectRows(r->ref64, s, [&](int64_t b, int64_t h, int64_t i) {
    std::vector<double> fq = pointwise(row(q, {b, h, i}), relu);
    return weightedRow(v, b, 0, i + 1, [&](int64_t j) {
      int64_t off = std::clamp<int64_t>(j - i, -1, 1) + 1;
      double w = std::exp(double(float(bias[size_t(h * 3 + off)])));
      return w * dotv(fq, pointwise(row(kt, {b, 0, j}), relu));
    });
  });
}

TEST(LinearReferenceTest, SampledRowsMatchTheFullReference) {
  const Shape s{1, 2, 1, 10, 10, 3, 2};
  Json ref = linearRef();
  ref["causal"] = true;
  expectSampledRowsMatch(linearKernel(ref), makeInputs(s), s.H, s.Dv,
                         /*compareBaseline=*/false);
}

TEST(LinearReferenceTest, EvaluationErrors) {
  const Shape s{1, 2, 1, 3, 3, 2, 2};
  TensorMap args = makeInputs(s);
  Json ref = linearRef();
  ref["weight"] = Json::parse(R"({"kind": "rpe", "bias": "bias"})");
  KernelSpec k = linearKernel(ref); // R symbolic: checked at evaluation.
  expectReferenceError(k, args,
                       "reference: the rpe bias argument 'bias' is missing");
  args.emplace("bias", makeTensor(DType::F32, {2, 4}, std::vector<double>(8)));
  expectReferenceError(k, args,
                       "reference: the rpe bias 'bias' is f32[2, 4] but "
                       "expected [H = 2, R] with R = 2W + 1 odd");
  args["bias"] = makeTensor(DType::F32, {3, 3}, std::vector<double>(9));
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("expected [H = 2, R]"), std::string::npos)
      << r.message();

  ref = linearRef();
  ref["feature"]["pointwise"] = "(gt x 0.0)";
  expectReferenceError(linearKernel(ref), args,
                       "reference.feature.pointwise: (gt x 0.0) gives a "
                       "boolean, expected a number");
  ref = linearRef();
  ref["expand"] = Json::array({"(div 1 (sub i 1))"});
  r = computeReference(linearKernel(ref), args);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("reference.expand[0]: evaluating (div 1 (sub i "
                             "1)): integer division by zero"),
            std::string::npos)
      << r.message();
}

} // namespace
