//===- LatencyModelTest.cpp - The latency model on a synthetic database ---===//
//
// Candidates are composed from eight kernels with known per-call times;
// their "measured" end-to-end time adds a per-call overhead, a constant and
// noise.  The model must rank and predict held-out candidates, fall back to
// form throughput for unmeasured kernels, recover a known overhead, and
// never see a held-out point's own kernel times.
//
//===----------------------------------------------------------------------===//

#include "search/LatencyModel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

using namespace attn::search;

namespace {

/// A small deterministic generator (the same numbers on every platform).
struct Lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return uint32_t(state >> 33);
  }
  /// Uniform in [lo, hi].
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * double(next()) / double(0x7fffffffU);
  }
  int below(int bound) { return int(next() % uint32_t(bound)); }
};

struct SyntheticKernel {
  const char *key, *form;
  double flops, ms;
};

const SyntheticKernel kernels[8] = {
    {"k0", "softmax", 4e7, 0.30}, {"k1", "softmax", 9e7, 0.45},
    {"k2", "softmax", 2e8, 0.80}, {"k3", "linear", 2e7, 0.20},
    {"k4", "linear", 5e7, 0.35},  {"k5", "block", 1e7, 0.10},
    {"k6", "block", 3e7, 0.25},   {"k7", "block", 9e7, 0.60}};

constexpr double overheadPerCallMs = 0.02;
constexpr double constantMs = 0.15;
/// Relative noise of end-to-end and of in-candidate kernel measurements.
constexpr double noise = 0.02;

struct Database {
  std::vector<Candidate> candidates;
  std::vector<std::vector<KernelTimeSample>> kernelTimes;
  std::vector<double> measuredMs;
};

/// `count` candidates: each uses each kernel 0..4 times (at least one
/// kernel), scaled by a depth of 1..6 so that latencies spread widely.
Database makeDatabase(int count, uint64_t seed) {
  Lcg rng{seed};
  Database db;
  for (int i = 0; i < count; ++i) {
    Candidate c;
    std::vector<KernelTimeSample> times;
    int depth = 1 + rng.below(6);
    double exact = constantMs;
    for (const SyntheticKernel &k : kernels) {
      int calls = rng.below(5) * depth;
      if (calls == 0)
        continue;
      c.kernels.push_back({k.key, k.form, k.flops, calls});
      times.push_back(
          {k.key, k.form, k.flops, k.ms * (1 + rng.uniform(-noise, noise))});
      exact += calls * (k.ms + overheadPerCallMs);
    }
    if (c.kernels.empty()) {
      const SyntheticKernel &k = kernels[i % 8];
      c.kernels.push_back({k.key, k.form, k.flops, 1});
      times.push_back({k.key, k.form, k.flops, k.ms});
      exact += k.ms + overheadPerCallMs;
    }
    db.candidates.push_back(c);
    db.kernelTimes.push_back(times);
    db.measuredMs.push_back(exact * (1 + rng.uniform(-noise, noise)));
  }
  return db;
}

TEST(LatencyModelTest, LookupAndNewestWins) {
  LatencyModel m;
  m.addKernelTime("a", "softmax", 1e8, 2.0);
  m.addKernelTime("b", "block", 1e7, 0.5);
  Candidate c{{{"a", "softmax", 1e8, 3}, {"b", "block", 1e7, 2}}};
  int unknown = -1;
  EXPECT_DOUBLE_EQ(m.raw(c, &unknown), 3 * 2.0 + 2 * 0.5);
  EXPECT_EQ(unknown, 0);
  m.addKernelTime("a", "softmax", 1e8, 1.0); // a newer measurement
  EXPECT_DOUBLE_EQ(m.raw(c), 3 * 1.0 + 2 * 0.5);
  m.addKernelTime("a", "softmax", 1e8, NAN); // ignored
  m.addKernelTime("a", "softmax", 1e8, -1);  // ignored
  EXPECT_DOUBLE_EQ(m.raw(c), 3 * 1.0 + 2 * 0.5);
  EXPECT_EQ(m.kernelCount(), 2u);
  // Uncalibrated: the prediction is the raw sum.
  EXPECT_DOUBLE_EQ(m.predict(c), m.raw(c));
  EXPECT_EQ(m.calibration().method, "identity");
}

TEST(LatencyModelTest, UnknownKernelsFallBackToFormThroughput) {
  LatencyModel empty;
  int unknown = 0;
  // Nothing measured: 100 GFLOP/s, 1e9 FLOPs -> 10 ms.
  EXPECT_NEAR(empty.raw({{{"x", "softmax", 1e9, 1}}}, &unknown), 10, 1e-9);
  EXPECT_EQ(unknown, 1);

  LatencyModel m;
  // softmax at 100, 300 and 200 GFLOP/s (median 200), one block at 50.
  m.addKernelTime("s1", "softmax", 1e8, 1.0);
  m.addKernelTime("s2", "softmax", 3e8, 1.0);
  m.addKernelTime("s3", "softmax", 4e8, 2.0);
  m.addKernelTime("b1", "block", 5e7, 1.0);
  EXPECT_NEAR(m.throughputGflops("softmax"), 200, 1e-9);
  EXPECT_NEAR(m.throughputGflops("block"), 50, 1e-9);
  // No "linear" measured: the median of all four (100 200 300 50) = 150.
  EXPECT_NEAR(m.throughputGflops("linear"), 150, 1e-9);

  Candidate c{{{"s1", "softmax", 1e8, 2},   // known: 2 x 1 ms
               {"new", "softmax", 2e9, 1},  // 2e9 / 200e9 s = 10 ms
               {"lin", "linear", 3e9, 2}}}; // 2 x 3e9 / 150e9 s = 40 ms
  EXPECT_NEAR(m.raw(c, &unknown), 2 + 10 + 40, 1e-9);
  EXPECT_EQ(unknown, 2);
}

TEST(LatencyModelTest, CalibrationRecoversOverhead) {
  LatencyModel m;
  for (const SyntheticKernel &k : kernels)
    m.addKernelTime(k.key, k.form, k.flops, k.ms);
  Database db = makeDatabase(12, 7);
  // Exact end-to-end times: raw + 0.05 ms per call + 0.3 ms.
  std::vector<double> measured;
  for (const Candidate &c : db.candidates)
    measured.push_back(m.raw(c) + 0.05 * LatencyModel::totalCalls(c) + 0.3);
  m.calibrate(db.candidates, measured);
  EXPECT_EQ(m.calibration().method, "full");
  EXPECT_EQ(m.calibration().points, 12);
  EXPECT_NEAR(m.calibration().a, 1.0, 1e-9);
  EXPECT_NEAR(m.calibration().b, 0.05, 1e-9);
  EXPECT_NEAR(m.calibration().c, 0.3, 1e-9);
  for (size_t i = 0; i < db.candidates.size(); ++i)
    EXPECT_NEAR(m.predict(db.candidates[i]), measured[i], 1e-9);
}

TEST(LatencyModelTest, CalibrationFallbacks) {
  LatencyModel m;
  m.addKernelTime("a", "softmax", 1e8, 1.0);
  m.addKernelTime("b", "block", 1e7, 0.5);
  auto cand = [](int64_t a, int64_t b) {
    return Candidate{{{"a", "softmax", 1e8, a}, {"b", "block", 1e7, b}}};
  };
  // Fewer than 4 points: a = 1, b = c = 0.
  m.calibrate({cand(1, 1), cand(2, 1), cand(1, 3)}, {9, 9, 9});
  EXPECT_EQ(m.calibration().method, "identity");
  EXPECT_DOUBLE_EQ(m.predict(cand(2, 2)), 3.0);

  // Equal call counts: b·calls + c is one constant, fitted as such.
  std::vector<Candidate> same = {cand(1, 3), cand(2, 2), cand(3, 1),
                                 cand(4, 0)};
  std::vector<double> measured;
  for (const Candidate &c : same)
    measured.push_back(2 * m.raw(c) + 1);
  m.calibrate(same, measured);
  EXPECT_EQ(m.calibration().method, "no-calls");
  EXPECT_NEAR(m.calibration().a, 2, 1e-9);
  EXPECT_NEAR(m.predict(cand(0, 4)), 2 * 2.0 + 1, 1e-9);

  // Measured times falling as raw grows: a <= 0, so a = Σm / Σraw.
  std::vector<Candidate> falling = {cand(1, 0), cand(2, 1), cand(3, 0),
                                    cand(4, 2), cand(5, 1)};
  std::vector<double> fallingMs = {10, 9, 8, 7, 6};
  m.calibrate(falling, fallingMs);
  EXPECT_EQ(m.calibration().method, "ratio");
  double sumRaw = 0;
  for (const Candidate &c : falling)
    sumRaw += m.raw(c);
  EXPECT_NEAR(m.calibration().a, 40 / sumRaw, 1e-12);
  EXPECT_EQ(m.calibration().b, 0);
  EXPECT_EQ(m.calibration().c, 0);

  // Failed points (NaN, 0) are left out of the fit.
  m.calibrate({cand(1, 0), cand(2, 0), cand(3, 0), cand(4, 0)}, {NAN, 0, 3, 4});
  EXPECT_EQ(m.calibration().method, "identity");
  EXPECT_EQ(m.calibration().points, 2);
}

TEST(LatencyModelTest, CrossValidationOnSyntheticDatabase) {
  Database db = makeDatabase(30, 2024);
  ModelQuality q =
      crossValidate(db.candidates, db.kernelTimes, db.measuredMs, {}, 5);
  EXPECT_EQ(q.points, 30);
  EXPECT_EQ(q.folds, 5);
  EXPECT_GE(q.kendallTau, 0.9);
  // Bound: the fitted model is the true one (a = 1, b = overhead,
  // c = constant) up to estimation error; a prediction then differs from
  // the measurement by at most the kernel-time noise (<= 2% of raw) plus
  // the end-to-end noise (<= 2% of the noiseless time), i.e. at most
  // 0.04 / 0.98 ~ 4.1% of the measurement; the mean is below that.
  EXPECT_LT(q.mape, 4.1) << "tau " << q.kendallTau;
  EXPECT_GT(q.mape, 0); // the noise is real
}

TEST(LatencyModelTest, HeldOutPointsOwnKernelsAreExcluded) {
  // Each candidate is one kernel used by no other candidate, measured at
  // exactly its end-to-end time.  Seeing a held-out point's own kernel time
  // would predict it perfectly (tau 1, MAPE 0).  Without it, the kernel
  // falls back to its form's throughput, and its FLOPs are chosen to fall
  // as the time grows, so the predicted order is reversed.
  std::vector<Candidate> candidates;
  std::vector<std::vector<KernelTimeSample>> kernelTimes;
  std::vector<double> measured;
  std::vector<KernelTimeSample> base;
  for (int i = 0; i < 20; ++i) {
    std::string key = "only" + std::to_string(i);
    double ms = 1.0 + 0.25 * i, flops = 1e9 * (40 - i);
    candidates.push_back({{{key, "softmax", flops, 1}}});
    kernelTimes.push_back({{key, "softmax", flops, ms}});
    measured.push_back(ms);
    base.push_back({key, "softmax", flops, ms});
  }
  ModelQuality q = crossValidate(candidates, kernelTimes, measured, {}, 5);
  EXPECT_EQ(q.points, 20);
  EXPECT_LT(q.kendallTau, 0);
  EXPECT_GT(q.mape, 20);

  // The same times as base times (say, from the tuning database) are not
  // the points' own and stay in: then the prediction is exact.
  ModelQuality withBase =
      crossValidate(candidates, kernelTimes, measured, base, 5);
  EXPECT_NEAR(withBase.kendallTau, 1.0, 1e-12);
  EXPECT_NEAR(withBase.mape, 0, 1e-9);
}

TEST(LatencyModelTest, CrossValidationEdgeCases) {
  Database db = makeDatabase(6, 3);
  // Fewer points than folds: one point per fold.
  ModelQuality q =
      crossValidate(db.candidates, db.kernelTimes, db.measuredMs, {}, 10);
  EXPECT_EQ(q.folds, 6);
  EXPECT_EQ(q.points, 6);
  // Failed points are not held out or trained on.
  std::vector<double> withFailures = db.measuredMs;
  withFailures[1] = NAN;
  withFailures[4] = 0;
  q = crossValidate(db.candidates, db.kernelTimes, withFailures, {}, 5);
  EXPECT_EQ(q.points, 4);
  EXPECT_EQ(q.folds, 4);
  // One point: nothing to validate.
  q = crossValidate({db.candidates[0]}, {db.kernelTimes[0]}, {db.measuredMs[0]},
                    {}, 5);
  EXPECT_EQ(q.points, 0);
  EXPECT_TRUE(std::isnan(q.kendallTau));
  EXPECT_TRUE(std::isnan(q.mape));
}

} // namespace
