//===- ReferenceTest.cpp - The float64 attention reference ----------------===//

#include "runtime/Check.h"
#include "runtime/Reference.h"

#include "FakeManifest.h"
#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace attn::rt;
using namespace attn::rt::test;
using Json = nlohmann::ordered_json;

namespace {

/// The fake library's "attn" kernel (q [B,H,N,D], k/v [B,G,M,D], D = 8),
/// with its reference fields replaced by `changes`.
KernelSpec attnKernel(const Json &changes = Json::object(), int dimD = 8) {
  Json j = Json::parse(fakeManifest());
  Json &k = j["kernels"][2];
  EXPECT_EQ(k["name"], "attn");
  k["dims"]["D"] = dimD;
  for (auto it = changes.begin(); it != changes.end(); ++it)
    k["reference"][it.key()] = it.value();
  Result<Manifest> m = parseManifest(j.dump(), "ref.manifest.json");
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? m->kernels[2] : KernelSpec();
}

/// Builds the inputs: q [B,H,N,D], k and v [B,G,M,D] from value functions.
template <typename QF, typename KF, typename VF>
TensorMap makeInputs(int64_t B, int64_t H, int64_t G, int64_t N, int64_t M,
                     int64_t D, QF qf, KF kf, VF vf) {
  TensorMap args;
  auto fill = [](std::vector<int64_t> shape, auto f) {
    Tensor t = Tensor::create(DType::F32, shape).take();
    for (int64_t a = 0; a < shape[0]; ++a)
      for (int64_t b = 0; b < shape[1]; ++b)
        for (int64_t c = 0; c < shape[2]; ++c)
          for (int64_t d = 0; d < shape[3]; ++d)
            t.setDouble(t.flatIndex({a, b, c, d}), f(a, b, c, d));
    return t;
  };
  args.emplace("q", fill({B, H, N, D}, qf));
  args.emplace("k", fill({B, G, M, D}, kf));
  args.emplace("v", fill({B, G, M, D}, vf));
  return args;
}

double at(const Tensor &t, std::vector<int64_t> idx) {
  return t.getDouble(t.flatIndex(idx));
}

auto randomish = [](int64_t a, int64_t b, int64_t c, int64_t d) {
  return std::sin(double(a * 1000 + b * 100 + c * 10 + d) * 0.37);
};

TEST(ReferenceTest, OneKeyGivesItsValue) {
  KernelSpec k = attnKernel();
  TensorMap args =
      makeInputs(1, 2, 2, 3, 1, 8, randomish, randomish,
                 [](auto, auto g, auto, auto d) { return double(g * 10 + d); });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->ref64.shape(), (std::vector<int64_t>{1, 2, 3, 8}));
  EXPECT_EQ(r->ref64.dtype(), DType::F64);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t d = 0; d < 8; ++d) {
        EXPECT_DOUBLE_EQ(at(r->ref64, {0, h, i, d}), double(h * 10 + d));
        EXPECT_FLOAT_EQ(float(at(r->baseline, {0, h, i, d})),
                        float(h * 10 + d));
      }
}

TEST(ReferenceTest, SampledRowsAreEvaluatedAndCheckedAlone) {
  KernelSpec k = attnKernel();
  TensorMap args = makeInputs(1, 2, 2, 10, 10, 8, randomish, randomish,
                              randomish);
  Result<ReferenceOutput> full = computeReference(k, args);
  Result<ReferenceOutput> some = computeReference(k, args, /*maxRows=*/3);
  ASSERT_TRUE(full.ok() && some.ok());
  // Rows 0, 4, 8 (stride ceil(10 / 3) = 4) and the last, 9.
  std::vector<char> expected{1, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  EXPECT_EQ(some->rowsEvaluated, expected);
  EXPECT_TRUE(full->rowsEvaluated.empty());
  for (int64_t i : {0, 4, 8, 9})
    EXPECT_DOUBLE_EQ(at(some->ref64, {0, 1, i, 3}), at(full->ref64, {0, 1, i, 3}));
  // An output that is right on the evaluated rows passes even though the
  // other rows are garbage; one wrong evaluated row fails.
  Tensor out = full->ref64.clone();
  for (int64_t i : {1, 2, 3, 5, 6, 7})
    for (int64_t d = 0; d < 8; ++d)
      out.setDouble(out.flatIndex({0, 0, i, d}), 1e9);
  Result<CheckResult> pass = checkAgainstReference(out, *some);
  ASSERT_TRUE(pass.ok()) << pass.message();
  EXPECT_TRUE(pass->pass);
  out.setDouble(out.flatIndex({0, 1, 8, 2}), 5.0);
  Result<CheckResult> fail = checkAgainstReference(out, *some);
  ASSERT_TRUE(fail.ok());
  EXPECT_FALSE(fail->pass);
}

TEST(ReferenceTest, UniformScoresGiveTheMeanOfV) {
  KernelSpec k = attnKernel();
  TensorMap args = makeInputs(
      2, 1, 1, 2, 4, 8, [](auto...) { return 0.0; }, randomish,
      [](auto b, auto, auto j, auto d) { return double(b + j * (d + 1)); });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t d = 0; d < 8;
         ++d) // mean over j of b + j*(d+1) = b + 1.5*(d+1)
      EXPECT_NEAR(at(r->ref64, {b, 0, 1, d}), double(b) + 1.5 * double(d + 1),
                  1e-12);
}

TEST(ReferenceTest, TwoKeysHandComputed) {
  // D = 1, scale 1: scores are q*k = 0 and log(3), so weights 1/4 and 3/4.
  KernelSpec k = attnKernel({{"scale", "1.0"}}, 1);
  TensorMap args = makeInputs(
      1, 1, 1, 1, 2, 1, [](auto...) { return 1.0; },
      [](auto, auto, auto j, auto) { return j == 0 ? 0.0 : std::log(3.0); },
      [](auto, auto, auto j, auto) { return j == 0 ? 4.0 : 8.0; });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  double logf3 = double(float(std::log(3.0))); // k is stored as f32.
  double w1 = std::exp(logf3) / (1 + std::exp(logf3));
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 0}), 4.0 * (1 - w1) + 8.0 * w1, 1e-14);
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 0}), 7.0, 1e-6);
}

TEST(ReferenceTest, FullyMaskedRowIsZero) {
  // Query row 0 keeps no key; row 1 keeps every key.
  KernelSpec k = attnKernel({{"masks", Json::array({"(gt i 0)"})}});
  TensorMap args = makeInputs(1, 1, 1, 2, 3, 8, randomish, randomish,
                              [](auto...) { return 5.0; });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  for (int64_t d = 0; d < 8; ++d) {
    EXPECT_EQ(at(r->ref64, {0, 0, 0, d}), 0.0);
    EXPECT_EQ(at(r->baseline, {0, 0, 0, d}), 0.0);
    EXPECT_NEAR(at(r->ref64, {0, 0, 1, d}), 5.0, 1e-12);
  }
}

TEST(ReferenceTest, CausalFirstRowEqualsFirstValue) {
  KernelSpec k = attnKernel(
      {{"causal", true},
       {"masks", Json::array({"(le j (add i (sub (dim M) (dim N))))"})}});
  TensorMap args =
      makeInputs(1, 2, 2, 5, 5, 8, randomish, randomish, randomish);
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  const Tensor &v = args.at("v");
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t d = 0; d < 8; ++d)
      EXPECT_DOUBLE_EQ(at(r->ref64, {0, h, 0, d}), at(v, {0, h, 0, d}));
  // Bottom-right alignment with N < M: query row 0 sees keys 0..M-N.
  args = makeInputs(
      1, 1, 1, 2, 4, 8, [](auto...) { return 0.0; }, randomish,
      [](auto, auto, auto j, auto) { return double(j); });
  r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 0}), (0 + 1 + 2) / 3.0, 1e-12);
  EXPECT_NEAR(at(r->ref64, {0, 0, 1, 0}), (0 + 1 + 2 + 3) / 4.0, 1e-12);
}

TEST(ReferenceTest, GroupedQueryHeadMapping) {
  // H = 4, G = 2: heads 0,1 read kv head 0 and heads 2,3 read kv head 1.
  KernelSpec k = attnKernel();
  TensorMap args =
      makeInputs(1, 4, 2, 1, 3, 8, randomish, randomish,
                 [](auto, auto g, auto, auto) { return g == 0 ? 1.0 : 2.0; });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 3}), 1.0, 1e-12);
  EXPECT_NEAR(at(r->ref64, {0, 1, 0, 3}), 1.0, 1e-12);
  EXPECT_NEAR(at(r->ref64, {0, 2, 0, 3}), 2.0, 1e-12);
  EXPECT_NEAR(at(r->ref64, {0, 3, 0, 3}), 2.0, 1e-12);

  TensorMap bad = makeInputs(1, 3, 2, 1, 3, 8, randomish, randomish, randomish);
  Result<ReferenceOutput> e = computeReference(k, bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find(
                "the query heads H = 3 are not a multiple of the key/value "
                "heads G = 2"),
            std::string::npos)
      << e.message();
}

TEST(ReferenceTest, ScoreModsApplyInOrder) {
  // (mul s 0.0) then (add s (float j)): scores become j, whatever q and k are.
  KernelSpec k = attnKernel(
      {{"score_mods", Json::array({"(mul s 0.0)", "(add s (float j))"})}});
  TensorMap args =
      makeInputs(1, 1, 1, 1, 2, 8, randomish, randomish,
                 [](auto, auto, auto j, auto) { return double(j); });
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  double w1 = std::exp(1.0) / (1 + std::exp(1.0));
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 0}), w1, 1e-12);
  // Reversed order: the scores are all zero, so the weights are uniform.
  k = attnKernel(
      {{"score_mods", Json::array({"(add s (float j))", "(mul s 0.0)"})}});
  r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_NEAR(at(r->ref64, {0, 0, 0, 0}), 0.5, 1e-12);
}

TEST(ReferenceTest, LogitsTimes200StayFinite) {
  KernelSpec k = attnKernel({{"scale", "200.0"}});
  TensorMap args =
      makeInputs(1, 1, 1, 4, 7, 8, randomish, randomish, randomish);
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  for (int64_t e = 0; e < r->ref64.numElements(); ++e) {
    EXPECT_TRUE(std::isfinite(r->ref64.getDouble(e)));
    EXPECT_LE(std::fabs(r->ref64.getDouble(e)), 1.0 + 1e-12);
  }
}

TEST(ReferenceTest, KvLengthsThroughLoad) {
  Json j = Json::parse(fakeManifest());
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  const KernelSpec &k = *m->findKernel("attn_kv");
  TensorMap args = makeInputs(
      2, 1, 1, 1, 4, 8, [](auto...) { return 0.0; }, randomish,
      [](auto, auto, auto j, auto) { return double(j); });
  args.emplace("kv_len", makeTensor(DType::I32, {2}, {0, 2}));
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(at(r->ref64, {0, 0, 0, 0}), 0.0); // Length 0: fully masked.
  EXPECT_NEAR(at(r->ref64, {1, 0, 0, 0}), 0.5, 1e-12); // Keys 0 and 1.
  args.erase("kv_len");
  Result<ReferenceOutput> e = computeReference(k, args);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.message(),
            "reference: the kv_lengths argument 'kv_len' is missing");
}

TEST(ReferenceTest, BaselineIsInTheOutputDType) {
  Json j = Json::parse(fakeManifest());
  Json &k = j["kernels"][2];
  for (Json &a : k["args"])
    a["dtype"] = "f16";
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  TensorMap args =
      makeInputs(1, 1, 1, 3, 5, 8, randomish, randomish, randomish);
  Result<ReferenceOutput> r = computeReference(m->kernels[2], args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->baseline.dtype(), DType::F16);
}

TEST(ReferenceTest, Errors) {
  KernelSpec k = attnKernel({{"masks", Json::array({"(add i j)"})}});
  TensorMap args =
      makeInputs(1, 1, 1, 1, 1, 8, randomish, randomish, randomish);
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "reference.masks[0]: (add i j) gives a number, expected a boolean");

  k = attnKernel({{"score_mods", Json::array({"(lt s 0.0)"})}});
  r = computeReference(k, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "reference.score_mods[0]: (lt s 0.0) gives a boolean, expected a "
            "number");

  k = attnKernel({{"masks", Json::array({"(lt j (load nope b))"})}});
  r = computeReference(k, args);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("no argument named 'nope'"), std::string::npos);

  k = attnKernel({{"normalize", "sum"}});
  r = computeReference(k, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "reference: normalize 'sum' is not supported (the "
                         "reference evaluates softmax)");

  KernelSpec none;
  none.name = "plain";
  r = computeReference(none, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "kernel 'plain' has no reference description");

  args.erase("k");
  r = computeReference(attnKernel(), args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "reference: the key argument 'k' is missing");
}

TEST(ReferenceTest, Flops) {
  AttentionShape s;
  s.B = 1;
  s.H = 8;
  s.N = 2048;
  s.M = 2048;
  s.D = 64;
  s.Dv = 64;
  KernelSpec k = attnKernel();
  EXPECT_DOUBLE_EQ(attentionFlops(k, s), 4.0 * 8 * 2048 * 2048 * 64);
  KernelSpec c = attnKernel({{"causal", true}});
  EXPECT_DOUBLE_EQ(attentionFlops(c, s), 2.0 * 8 * 2048 * 2048 * 64);
}

TEST(ReferenceTest, VisibleFlopsFromExactKeyBounds) {
  AttentionShape s;
  s.B = 1;
  s.H = 2;
  s.N = 10;
  s.M = 10;
  s.D = 4;
  s.Dv = 4;
  TensorMap none;
  // Without bounds: the conventional count.
  KernelSpec plain = attnKernel();
  Result<double> f = visibleFlops(plain, s, none);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_DOUBLE_EQ(*f, 4.0 * 2 * 10 * 10 * 4);
  // Causal: j < i + 1, so 1 + 2 + ... + 10 = 55 pairs per head.
  KernelSpec causal = attnKernel({{"key_upper", Json::array({"(add i 1)"})},
                                  {"key_bounds_exact", true}});
  f = visibleFlops(causal, s, none);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_DOUBLE_EQ(*f, 4.0 * 4 * 2 * 55);
  // A window of 3 keys ending at i: 1 + 2 + 3 * 8 = 27 pairs per head.
  KernelSpec window = attnKernel({{"key_lower", Json::array({"(sub i 2)"})},
                                  {"key_upper", Json::array({"(add i 1)"})},
                                  {"key_bounds_exact", true}});
  f = visibleFlops(window, s, none);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_DOUBLE_EQ(*f, 4.0 * 4 * 2 * 27);
  // Bounds that are not exact fall back to the conventional count.
  KernelSpec inexact = attnKernel({{"key_upper", Json::array({"(add i 1)"})},
                                   {"key_bounds_exact", false}});
  f = visibleFlops(inexact, s, none);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_DOUBLE_EQ(*f, 4.0 * 2 * 10 * 10 * 4);
}

} // namespace
