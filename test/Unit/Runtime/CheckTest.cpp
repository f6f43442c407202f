//===- CheckTest.cpp - The tolerance rule ---------------------------------===//

#include "runtime/Check.h"

#include "TestUtil.h"

#include <cmath>
#include <limits>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

TEST(CheckTest, ToleranceIsTwiceBaselinePlusFloor) {
  CheckResult r = applyToleranceRule(1e-6, 3e-7);
  EXPECT_DOUBLE_EQ(r.tolerance, 2 * 3e-7 + 1e-6);
  EXPECT_TRUE(r.pass);
  // Exactly at the tolerance passes; just above fails.
  r = applyToleranceRule(2 * 3e-7 + 1e-6, 3e-7);
  EXPECT_TRUE(r.pass);
  r = applyToleranceRule(std::nextafter(2 * 3e-7 + 1e-6, 1.0), 3e-7);
  EXPECT_FALSE(r.pass);
  // A zero baseline still allows the absolute floor.
  EXPECT_TRUE(applyToleranceRule(9e-7, 0).pass);
  EXPECT_FALSE(applyToleranceRule(2e-6, 0).pass);
  EXPECT_FALSE(applyToleranceRule(std::nan(""), 1.0).pass);
  EXPECT_FALSE(
      applyToleranceRule(std::numeric_limits<double>::infinity(), 1.0).pass);
}

TEST(CheckTest, MaxAbsDiffHandlesNaNAndInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor a = makeTensor(DType::F64, {4}, {1.0, 2.0, std::nan(""), inf});
  Tensor b = makeTensor(DType::F64, {4}, {1.5, 2.0, std::nan(""), inf});
  int64_t worst = -1;
  Result<double> d = maxAbsDiff(a, b, &worst);
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(*d, 0.5);
  EXPECT_EQ(worst, 0);
  Tensor c =
      makeTensor(DType::F64, {4}, {1.0, std::nan(""), std::nan(""), inf});
  d = maxAbsDiff(c, b, &worst);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, inf);
  EXPECT_EQ(worst, 1);
  Tensor e = makeTensor(DType::F64, {4}, {1.5, 2.0, std::nan(""), -inf});
  EXPECT_EQ(*maxAbsDiff(e, b), inf);
  Tensor f = makeTensor(DType::F64, {2, 2}, {0, 0, 0, 0});
  Result<double> bad = maxAbsDiff(f, b);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(),
            "cannot compare f64[2, 2] with f64[4]: shapes differ");
}

TEST(CheckTest, AgainstReference) {
  ReferenceOutput ref;
  ref.ref64 = makeTensor(DType::F64, {3}, {1.0, 2.0, 3.0});
  ref.baseline = makeTensor(DType::F32, {3}, {1.0, 2.0 + 1e-6, 3.0});
  Tensor good = makeTensor(DType::F32, {3}, {1.0, 2.0, 3.0 + 2e-6});
  Result<CheckResult> r = checkAgainstReference(good, ref);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->pass);
  EXPECT_EQ(r->worstIndex, 2);
  Tensor bad = makeTensor(DType::F32, {3}, {1.0, 2.0, 3.1});
  r = checkAgainstReference(bad, ref);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->pass);
  EXPECT_NEAR(r->maxAbsErr, 0.1, 1e-6);
  Tensor nan = makeTensor(DType::F32, {3}, {1.0, std::nan(""), 3.0});
  r = checkAgainstReference(nan, ref);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->pass);
}

TEST(CheckTest, LineFormat) {
  CheckResult r = applyToleranceRule(1.2e-7, 3.1e-7);
  EXPECT_EQ(
      formatCheckLine("mha", r),
      "mha: max_abs_err=1.20e-07 baseline_err=3.10e-07 tol=1.62e-06 PASS");
  r = applyToleranceRule(1.0, 3.1e-7);
  EXPECT_EQ(
      formatCheckLine("mha", r),
      "mha: max_abs_err=1.00e+00 baseline_err=3.10e-07 tol=1.62e-06 FAIL");
}

} // namespace
