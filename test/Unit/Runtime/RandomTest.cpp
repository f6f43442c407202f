//===- RandomTest.cpp - Seeded input data ---------------------------------===//

#include "runtime/Random.h"

#include "FakeManifest.h"
#include "TestUtil.h"

#include <set>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

Tensor filled(DType t, std::vector<int64_t> shape, uint64_t seed) {
  Tensor x = Tensor::create(t, std::move(shape)).take();
  fillUniform(x, seed);
  return x;
}

TEST(RandomTest, DeterministicPerSeed) {
  Tensor a = filled(DType::F32, {64}, 1), b = filled(DType::F32, {64}, 1),
         c = filled(DType::F32, {64}, 2);
  bool differs = false;
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_EQ(a.getDouble(i), b.getDouble(i));
    differs = differs || a.getDouble(i) != c.getDouble(i);
  }
  EXPECT_TRUE(differs);
  // The stream is fixed: these values must never change between platforms.
  Rng rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ull);
}

TEST(RandomTest, FloatRangeAndIntRange) {
  for (DType t : {DType::F16, DType::BF16, DType::F32, DType::F64}) {
    Tensor x = filled(t, {4096}, 3);
    double lo = 1, hi = -1;
    for (int64_t i = 0; i < x.numElements(); ++i) {
      lo = std::min(lo, x.getDouble(i));
      hi = std::max(hi, x.getDouble(i));
    }
    EXPECT_GE(lo, -1.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_LT(lo, -0.9); // Covers the range.
    EXPECT_GT(hi, 0.9);
  }
  Tensor ints = filled(DType::I32, {1000}, 3);
  std::set<double> seen;
  for (int64_t i = 0; i < 1000; ++i)
    seen.insert(ints.getDouble(i));
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(*seen.begin(), 0.0);
  EXPECT_EQ(*seen.rbegin(), 15.0);
}

TEST(RandomTest, UniformIntStaysInRange) {
  Rng rng(5);
  for (int r = 0; r < 1000; ++r) {
    int64_t v = rng.uniformInt(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
  EXPECT_EQ(rng.uniformInt(7, 7), 7);
}

TEST(RandomTest, LengthsPolicy) {
  Tensor one = Tensor::create(DType::I32, {1}).take();
  for (uint64_t seed = 0; seed < 20; ++seed) {
    fillLengths(one, 10, seed);
    EXPECT_GE(one.getDouble(0), 1.0); // Never trivially all masked.
    EXPECT_LE(one.getDouble(0), 10.0);
  }
  Tensor two = Tensor::create(DType::I32, {2}).take();
  fillLengths(two, 10, 0);
  EXPECT_EQ(two.getDouble(0), 0.0);  // A fully masked batch.
  EXPECT_EQ(two.getDouble(1), 10.0); // A full batch.
  Tensor many = Tensor::create(DType::I32, {50}).take();
  fillLengths(many, 17, 4);
  EXPECT_EQ(many.getDouble(0), 0.0);
  EXPECT_EQ(many.getDouble(49), 17.0);
  for (int64_t b = 1; b < 49; ++b) {
    EXPECT_GE(many.getDouble(b), 0.0);
    EXPECT_LE(many.getDouble(b), 17.0);
  }
}

TEST(RandomTest, ArgumentsHaveIndependentStreams) {
  EXPECT_NE(argumentSeed(0, "q"), argumentSeed(0, "k"));
  EXPECT_EQ(argumentSeed(9, "q"), argumentSeed(9, "q"));
  EXPECT_NE(argumentSeed(9, "q"), argumentSeed(10, "q"));
}

TEST(RandomTest, MakeRandomInputUsesKeyLengthForKvLengths) {
  Result<Manifest> m = parseManifest(fakeManifest(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  const KernelSpec &k = *m->findKernel("attn_kv");
  Result<DimBindings> b =
      bindDims(k, {}, {{"B", 3}, {"H", 2}, {"G", 1}, {"N", 4}, {"M", 9}});
  ASSERT_TRUE(b.ok()) << b.message();
  Result<Tensor> len = makeRandomInput(k, *k.findArg("kv_len"), *b, 0);
  ASSERT_TRUE(len.ok()) << len.message();
  EXPECT_EQ(len->describe(), "i32[3]");
  EXPECT_EQ(len->getDouble(0), 0.0);
  EXPECT_EQ(len->getDouble(2), 9.0);
  Result<Tensor> q = makeRandomInput(k, *k.findArg("q"), *b, 0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->describe(), "f32[3, 2, 4, 8]");
  Result<DimBindings> partial = bindDims(k, {}, {{"B", 3}});
  ASSERT_TRUE(partial.ok());
  Result<Tensor> missing = makeRandomInput(k, *k.findArg("q"), *partial, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), "argument 'q': dims H, N are not bound");
}

} // namespace
