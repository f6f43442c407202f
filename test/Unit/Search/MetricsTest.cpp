//===- MetricsTest.cpp - Kendall tau-b and MAPE ---------------------------===//

#include "search/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace attn::search;

namespace {

TEST(MetricsTest, KendallTauWithoutTies) {
  EXPECT_DOUBLE_EQ(kendallTau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(kendallTau({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // One swapped pair of six: (5 - 1) / 6.
  EXPECT_DOUBLE_EQ(kendallTau({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6);
}

TEST(MetricsTest, KendallTauBCountsTies) {
  // x = 1 1 2 3, y = 1 2 2 3: 6 pairs; (0,1) tied in x, (1,2) tied in y,
  // the other 4 concordant: 4 / sqrt((6 - 1)(6 - 1)).
  EXPECT_NEAR(kendallTau({1, 1, 2, 3}, {1, 2, 2, 3}), 0.8, 1e-12);
  // x = 1 2 2 3 3 3, y = 2 1 3 3 4 4: 15 pairs, 9 concordant, 1 discordant
  // ((0,1)), 4 tied in x ((1,2) (3,4) (3,5) (4,5)), 2 tied in y ((2,3)
  // (4,5)): 8 / sqrt(11 * 13).
  EXPECT_NEAR(kendallTau({1, 2, 2, 3, 3, 3}, {2, 1, 3, 3, 4, 4}),
              8 / std::sqrt(143.0), 1e-12);
  // Tau-b is symmetric in its arguments.
  EXPECT_NEAR(kendallTau({2, 1, 3, 3, 4, 4}, {1, 2, 2, 3, 3, 3}),
              8 / std::sqrt(143.0), 1e-12);
}

TEST(MetricsTest, KendallTauUndefinedCases) {
  EXPECT_TRUE(std::isnan(kendallTau({}, {})));
  EXPECT_TRUE(std::isnan(kendallTau({1}, {2})));
  EXPECT_TRUE(std::isnan(kendallTau({1, 2}, {3})));
  EXPECT_TRUE(std::isnan(kendallTau({5, 5, 5}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(kendallTau({1, 2, 3}, {7, 7, 7})));
  // Non-finite pairs are left out.
  EXPECT_DOUBLE_EQ(kendallTau({1, NAN, 2, 3}, {1, 5, 2, 3}), 1.0);
  EXPECT_TRUE(std::isnan(kendallTau({1, NAN}, {1, 2})));
}

TEST(MetricsTest, MeanAbsPercentError) {
  EXPECT_DOUBLE_EQ(meanAbsPercentError({11, 18}, {10, 20}), 10.0);
  EXPECT_DOUBLE_EQ(meanAbsPercentError({-1, 3}, {1, 3}), 100.0);
  // actual == 0 is skipped.
  EXPECT_DOUBLE_EQ(meanAbsPercentError({5, 12}, {0, 10}), 20.0);
  EXPECT_TRUE(std::isnan(meanAbsPercentError({5}, {0})));
  EXPECT_TRUE(std::isnan(meanAbsPercentError({1, 2}, {1})));
  EXPECT_TRUE(std::isnan(meanAbsPercentError({}, {})));
}

} // namespace
