//===- ParetoTest.cpp - Pareto fronts, ranks and crowding -----------------===//

#include "search/Pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

using namespace attn::search;

namespace {

const std::vector<Objective> minMin = {{"latency", false}, {"params", false}};
const std::vector<Objective> minMax = {{"latency", false}, {"score", true}};

TEST(ParetoTest, TwoObjectivesMinimized) {
  std::vector<std::vector<double>> pts = {
      {3, 3},   // 0: dominated by 4
      {1, 9},   // 1: front
      {5, 1},   // 2: front
      {1.5, 8}, // 3: front
      {2, 2},   // 4: front
      {6, 1},   // 5: dominated by 2 (equal params, slower)
  };
  EXPECT_EQ(paretoFront(pts, minMin), (std::vector<size_t>{1, 3, 4, 2}));
}

TEST(ParetoTest, MaximizedObjective) {
  // latency (min) against score (max).
  std::vector<std::vector<double>> pts = {
      {1, 0.5}, // 0: front (fastest)
      {2, 0.4}, // 1: dominated by 0
      {3, 0.9}, // 2: front (best score)
      {2, 0.7}, // 3: front
      {4, 0.9}, // 4: dominated by 2
  };
  EXPECT_EQ(paretoFront(pts, minMax), (std::vector<size_t>{0, 3, 2}));
  // Minimizing both instead changes the front.
  EXPECT_EQ(paretoFront(pts, minMin), (std::vector<size_t>{0, 1}));
}

TEST(ParetoTest, DuplicatesKeepTheFirst) {
  std::vector<std::vector<double>> pts = {{2, 2}, {1, 3}, {2, 2}, {1, 3}};
  EXPECT_EQ(paretoFront(pts, minMin), (std::vector<size_t>{1, 0}));
}

TEST(ParetoTest, NaNAndShortPointsAreExcluded) {
  std::vector<std::vector<double>> pts = {
      {NAN, 0}, {0, NAN}, {0}, {5, 5}, {-INFINITY, 7}};
  EXPECT_EQ(paretoFront(pts, minMin), (std::vector<size_t>{4, 3}));
  EXPECT_FALSE(dominates({NAN, 0}, {5, 5}, minMin));
  EXPECT_FALSE(dominates({0, 0}, {NAN, 5}, minMin));
  EXPECT_TRUE(dominates({0, 0}, {0, 5}, minMin));
  EXPECT_FALSE(dominates({0, 5}, {0, 5}, minMin));
}

TEST(ParetoTest, OneObjectiveAndEmptyInputs) {
  std::vector<Objective> one = {{"latency", false}};
  std::vector<std::vector<double>> pts = {{3}, {1}, {2}, {1}};
  EXPECT_EQ(paretoFront(pts, one), (std::vector<size_t>{1}));
  EXPECT_TRUE(paretoFront({}, one).empty());
  std::vector<std::vector<double>> allNaN = {{NAN}, {NAN}};
  EXPECT_TRUE(paretoFront(allNaN, one).empty());
}

/// A small deterministic generator (values with many ties).
struct Lcg {
  uint64_t state;
  int next(int bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return int((state >> 33) % uint64_t(bound));
  }
};

/// Dominance as the definition says it, for the cross-checks.
bool definitelyDominates(const std::vector<double> &a,
                         const std::vector<double> &b,
                         const std::vector<Objective> &obj) {
  bool strictly = false;
  for (size_t k = 0; k < obj.size(); ++k) {
    double x = obj[k].maximize ? -a[k] : a[k];
    double y = obj[k].maximize ? -b[k] : b[k];
    if (x > y)
      return false;
    strictly |= x < y;
  }
  return strictly;
}

TEST(ParetoTest, FrontAndRanksAgreeWithTheDefinition) {
  std::vector<Objective> three = {{"a", false}, {"b", true}, {"c", false}};
  Lcg rng{42};
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<std::vector<double>> pts;
    int n = 1 + rng.next(40);
    for (int i = 0; i < n; ++i)
      pts.push_back({double(rng.next(6)), double(rng.next(6)),
                     rng.next(10) == 0 ? NAN : double(rng.next(6))});
    std::vector<size_t> front = paretoFront(pts, three);
    std::set<size_t> onFront(front.begin(), front.end());
    EXPECT_EQ(onFront.size(), front.size());
    for (size_t i = 0; i < pts.size(); ++i) {
      if (std::isnan(pts[i][2])) {
        EXPECT_FALSE(onFront.count(i));
        continue;
      }
      bool beaten = false;
      for (size_t j = 0; j < pts.size(); ++j)
        if (!std::isnan(pts[j][2]) &&
            (definitelyDominates(pts[j], pts[i], three) ||
             (j < i && pts[j] == pts[i])))
          beaten = true;
      EXPECT_EQ(onFront.count(i) == 1, !beaten) << "trial " << trial;
    }
    for (size_t f = 1; f < front.size(); ++f)
      EXPECT_LE(pts[front[f - 1]][0], pts[front[f]][0]);

    std::vector<size_t> rank = nonDominatedSortRanks(pts, three);
    ASSERT_EQ(rank.size(), pts.size());
    size_t maxValid = 0;
    bool anyValid = false;
    for (size_t i = 0; i < pts.size(); ++i)
      if (!std::isnan(pts[i][2])) {
        EXPECT_EQ(rank[i] == 0, onFront.count(i) == 1);
        maxValid = std::max(maxValid, rank[i]);
        anyValid = true;
      }
    for (size_t i = 0; i < pts.size(); ++i) {
      if (std::isnan(pts[i][2])) {
        EXPECT_EQ(rank[i], anyValid ? maxValid + 1 : 0);
        continue;
      }
      bool hasParentRank = rank[i] == 0;
      for (size_t j = 0; j < pts.size(); ++j) {
        if (std::isnan(pts[j][2]))
          continue;
        bool jBeatsI = definitelyDominates(pts[j], pts[i], three) ||
                       (j < i && pts[j] == pts[i]);
        if (jBeatsI) {
          EXPECT_LT(rank[j], rank[i]);
          hasParentRank |= rank[j] + 1 == rank[i];
        }
      }
      EXPECT_TRUE(hasParentRank) << "rank " << rank[i] << " of point " << i;
    }
  }
}

TEST(ParetoTest, RanksOfLayeredFronts) {
  std::vector<std::vector<double>> pts = {{3, 3}, {1, 1},   {2, 2}, {1, 3},
                                          {3, 1}, {NAN, 0}, {1, 1}};
  std::vector<size_t> rank = nonDominatedSortRanks(pts, minMin);
  EXPECT_EQ(rank, (std::vector<size_t>{3, 0, 2, 2, 2, 4, 1}));
}

TEST(ParetoTest, CrowdingDistance) {
  std::vector<std::vector<double>> pts = {
      {0, 10}, {1, 6}, {5, 5}, {10, 0}, {100, 100}};
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> d = crowdingDistance(pts, {2, 0, 3, 1}, minMin);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_NEAR(d[0], 0.9 + 0.6, 1e-12); // (5,5)
  EXPECT_EQ(d[1], inf);                // (0,10)
  EXPECT_EQ(d[2], inf);                // (10,0)
  EXPECT_NEAR(d[3], 0.5 + 0.5, 1e-12); // (1,6)

  // Two points or fewer: all boundaries.
  d = crowdingDistance(pts, {1, 2}, minMin);
  EXPECT_EQ(d, (std::vector<double>{inf, inf}));
  // An objective with one value adds nothing; a NaN point gets 0.
  std::vector<std::vector<double>> flat = {
      {1, 7}, {2, 7}, {4, 7}, {8, 7}, {NAN, 7}};
  d = crowdingDistance(flat, {0, 1, 2, 3, 4}, minMin);
  EXPECT_EQ(d[0], inf);
  EXPECT_NEAR(d[1], 3.0 / 7, 1e-12);
  EXPECT_NEAR(d[2], 6.0 / 7, 1e-12);
  EXPECT_EQ(d[3], inf);
  EXPECT_EQ(d[4], 0);
  std::vector<std::vector<double>> same = {{1, 1}, {1, 1}, {1, 1}};
  d = crowdingDistance(same, {0, 1, 2}, minMin);
  EXPECT_EQ(d, (std::vector<double>{0, 0, 0}));
}

} // namespace
