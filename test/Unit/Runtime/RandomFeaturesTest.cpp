//===- RandomFeaturesTest.cpp - The shared FAVOR+ matrix generator --------===//

#include "support/RandomFeatures.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

double dot(const std::vector<double> &a, int64_t ra, int64_t rb, int64_t dim) {
  double s = 0;
  for (int64_t c = 0; c < dim; ++c)
    s += a[size_t(ra * dim + c)] * a[size_t(rb * dim + c)];
  return s;
}

TEST(RandomFeaturesTest, Shape) {
  EXPECT_EQ(attn::favorPlusMatrix(10, 4, 1).size(), 40u);
  EXPECT_EQ(attn::favorPlusMatrix(3, 8, 1).size(), 24u); // One partial block.
  EXPECT_EQ(attn::favorPlusMatrix(8, 8, 1).size(), 64u); // Exactly one block.
  EXPECT_TRUE(attn::favorPlusMatrix(0, 4, 1).empty());
  EXPECT_TRUE(attn::favorPlusMatrix(4, 0, 1).empty());
  EXPECT_TRUE(attn::favorPlusMatrix(-1, 4, 1).empty());
  for (double w : attn::favorPlusMatrix(37, 5, 9))
    EXPECT_TRUE(std::isfinite(w));
}

TEST(RandomFeaturesTest, DeterministicInTheSeed) {
  std::vector<double> a = attn::favorPlusMatrix(20, 6, 42);
  std::vector<double> b = attn::favorPlusMatrix(20, 6, 42);
  EXPECT_EQ(a, b); // Bit-identical.
  std::vector<double> c = attn::favorPlusMatrix(20, 6, 43);
  ASSERT_EQ(a.size(), c.size());
  int same = 0;
  for (size_t n = 0; n < a.size(); ++n)
    same += a[n] == c[n];
  EXPECT_EQ(same, 0);
  EXPECT_NE(attn::favorPlusMatrix(20, 6, 0), a);
  // A pinned value guards against silent changes of the stream (the
  // compiler embeds float(Ω) and the reference recomputes Ω: both must
  // agree, and old manifests must keep their meaning).
  attn::FavorPlusRng rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFull); // SplitMix64(0), first output.
}

TEST(RandomFeaturesTest, RowsWithinABlockAreOrthogonal) {
  for (auto [m, d] : {std::pair<int64_t, int64_t>{10, 4},
                      {200, 64},
                      {130, 128},
                      {7, 1}}) {
    std::vector<double> w = attn::favorPlusMatrix(m, d, 7);
    for (int64_t first = 0; first < m; first += d) {
      int64_t last = std::min(m, first + d);
      for (int64_t a = first; a < last; ++a) {
        double na = std::sqrt(dot(w, a, a, d));
        EXPECT_GT(na, 0);
        for (int64_t b = a + 1; b < last; ++b) {
          double nb = std::sqrt(dot(w, b, b, d));
          EXPECT_LT(std::fabs(dot(w, a, b, d)) / (na * nb), 1e-12)
              << "m " << m << " d " << d << " rows " << a << ", " << b;
        }
      }
    }
  }
}

TEST(RandomFeaturesTest, RowNormsAreChiDistributed) {
  // Squared row norms are chi-squared with `dim` degrees of freedom: mean
  // dim, variance 2 dim.  Over 4000 rows the sample mean is within 0.5 of 16
  // with overwhelming probability (its standard deviation is 0.09).
  const int64_t m = 4000, d = 16;
  std::vector<double> w = attn::favorPlusMatrix(m, d, 11);
  double mean = 0;
  for (int64_t r = 0; r < m; ++r)
    mean += dot(w, r, r, d);
  mean /= double(m);
  EXPECT_NEAR(mean, double(d), 0.5);
  // Not all the same norm (unlike the sqrt(D) rescaling).
  EXPECT_NE(dot(w, 0, 0, d), dot(w, 1, 1, d));
}

TEST(RandomFeaturesTest, NormalsHaveUnitVariance) {
  attn::FavorPlusRng rng(123);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int k = 0; k < n; ++k) {
    double x = rng.normal();
    sum += x;
    sq += x * x;
  }
  double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.02);
  for (int k = 0; k < 1000; ++k) {
    double u = rng.uniform();
    EXPECT_GT(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

} // namespace
