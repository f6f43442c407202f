//===- TensorTest.cpp - Tensors and 16-bit float conversions --------------===//

#include "runtime/Tensor.h"
#include "runtime/Half.h"

#include "TestUtil.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

TEST(HalfTest, ExactValuesRoundTrip) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff); // Largest finite half.
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // Smallest subnormal.
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14)); // Smallest normal.
  // Every half survives half -> float -> half.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float f = halfToFloat(uint16_t(bits));
    if (std::isnan(f))
      EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(f))));
    else
      EXPECT_EQ(floatToHalf(f), bits) << "bits " << bits;
  }
}

TEST(HalfTest, RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even 1.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9: goes up.
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // Rounds up to infinity.
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // Tie to even zero.
  EXPECT_EQ(floatToHalf(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::nanf("")))));
}

TEST(HalfTest, Bfloat16) {
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc000), -2.0f);
  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: goes to the even 1.
  EXPECT_EQ(floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(std::nanf("")))));
}

TEST(TensorTest, CreateIsZeroedAndAligned) {
  Result<Tensor> t = Tensor::create(DType::F32, {2, 3, 4});
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->numElements(), 24);
  EXPECT_EQ(t->sizeInBytes(), 96u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data()) % 64, 0u);
  for (int64_t i = 0; i < 24; ++i)
    EXPECT_EQ(t->getDouble(i), 0.0);
  EXPECT_EQ(t->strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(t->flatIndex({1, 2, 3}), 23);
  EXPECT_EQ(t->describe(), "f32[2, 3, 4]");
}

TEST(TensorTest, ScalarAndEmpty) {
  Result<Tensor> scalar = Tensor::create(DType::F64, {});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->numElements(), 1);
  Result<Tensor> empty = Tensor::create(DType::I32, {3, 0});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->numElements(), 0);
  EXPECT_NE(empty->data(), nullptr);
}

TEST(TensorTest, OverflowingShapeIsAnError) {
  Result<Tensor> t =
      Tensor::create(DType::F32, {int64_t(1) << 40, int64_t(1) << 40});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("more elements than fit in 64 bits"),
            std::string::npos)
      << t.message();
  Result<Tensor> neg = Tensor::create(DType::F32, {2, -1});
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.message().find("negative extent"), std::string::npos);
}

TEST(TensorTest, SetDoubleRoundsPerDType) {
  Tensor h = makeTensor(DType::F16, {1}, {1.0 + std::ldexp(1.0, -11)});
  EXPECT_EQ(h.getDouble(0), 1.0);
  Tensor i = makeTensor(DType::I32, {4}, {2.9, -2.9, 1e12, std::nan("")});
  EXPECT_EQ(i.getDouble(0), 2);
  EXPECT_EQ(i.getDouble(1), -2);
  EXPECT_EQ(i.getDouble(2), 2147483647);
  EXPECT_EQ(i.getDouble(3), 0);
  Tensor b = makeTensor(DType::BF16, {1}, {3.0});
  EXPECT_EQ(b.getDouble(0), 3.0);
}

TEST(TensorTest, CloneIsDeep) {
  Tensor a = makeTensor(DType::F32, {2}, {1, 2});
  Tensor c = a.clone();
  a.setDouble(0, 5);
  EXPECT_EQ(c.getDouble(0), 1);
  EXPECT_EQ(c.shape(), a.shape());
}

} // namespace

namespace {

TEST(TensorViewTest, ViewSharesCallerMemoryAndCloneOwns) {
  std::vector<float> data = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  {
    attn::rt::Tensor view =
        attn::rt::Tensor::view(attn::rt::DType::F32, {2, 3}, data.data());
    EXPECT_EQ(view.data(), data.data());
    EXPECT_EQ(view.numElements(), 6);
    EXPECT_EQ(view.describe(), "f32[2, 3]");
    view.setDouble(4, 50.0);
    attn::rt::Tensor copy = view.clone();
    EXPECT_NE(copy.data(), data.data());
    EXPECT_EQ(copy.getDouble(4), 50.0);
  } // the view's destruction must not free `data`
  EXPECT_EQ(data[4], 50.f);
  data.push_back(7.f); // the vector's memory is still its own
  EXPECT_EQ(data.size(), 7u);
}

} // namespace
