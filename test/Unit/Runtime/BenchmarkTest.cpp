//===- BenchmarkTest.cpp - Benchmark statistics and run counts ------------===//

#include "runtime/Benchmark.h"

#include "TestUtil.h"

using namespace attn::rt;

namespace {

TEST(BenchmarkTest, Median) {
  EXPECT_EQ(median({}), 0.0);
  EXPECT_EQ(median({4.0}), 4.0);
  EXPECT_EQ(median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(median({5.0, 100.0, 1.0, 2.0, 3.0}), 3.0); // Robust to an outlier.
}

TEST(BenchmarkTest, Summarize) {
  BenchmarkStats s = summarize({12.5, 12.1, 13.0, 12.3, 12.4});
  EXPECT_EQ(s.runs, 5);
  EXPECT_DOUBLE_EQ(s.medianMs, 12.4);
  EXPECT_DOUBLE_EQ(s.minMs, 12.1);
  EXPECT_DOUBLE_EQ(s.maxMs, 13.0);
  EXPECT_EQ(s.samplesMs.front(), 12.5); // Measurement order is kept.
  BenchmarkStats empty = summarize({});
  EXPECT_EQ(empty.runs, 0);
  EXPECT_EQ(empty.medianMs, 0.0);
}

TEST(BenchmarkTest, RunCountFillsTheTargetTime) {
  BenchmarkOptions o;                       // 0.5 s, at least 5, at most 10000.
  EXPECT_EQ(chooseRunCount(0.2, o), 5);     // Slow kernel: the minimum.
  EXPECT_EQ(chooseRunCount(0.001, o), 500); // 0.5 s / 1 ms.
  EXPECT_EQ(chooseRunCount(0.03, o), 17);   // ceil(16.7).
  EXPECT_EQ(chooseRunCount(1e-9, o), 10000); // Capped.
  EXPECT_EQ(chooseRunCount(0.0, o), 10000);
  o.minRuns = 9;
  EXPECT_EQ(chooseRunCount(1.0, o), 9);
}

TEST(BenchmarkTest, WarmsUpThenRepeats) {
  BenchmarkOptions o;
  o.warmupRuns = 3;
  o.minRuns = 7;
  o.maxRuns = 7;
  int calls = 0;
  Result<BenchmarkStats> s = benchmark(
      [&] {
        ++calls;
        return Status::success();
      },
      o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(calls, 3 + 7);
  EXPECT_EQ(s->runs, 7);
  EXPECT_LE(s->minMs, s->medianMs);
  EXPECT_LE(s->medianMs, s->maxMs);
}

TEST(BenchmarkTest, StopsAtTheFirstError) {
  int calls = 0;
  Result<BenchmarkStats> s = benchmark(
      [&] { return ++calls == 4 ? Status::error("boom") : Status::success(); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "boom");
  EXPECT_EQ(calls, 4);
}

TEST(BenchmarkTest, LineFormat) {
  BenchmarkStats s = summarize({12.345, 12.1, 13.0});
  EXPECT_EQ(
      formatBenchLine("mha", s, 1.2345e9),
      "mha: median 12.345 ms (min 12.100, max 13.000, n=3) 100.0 GFLOP/s");
  EXPECT_EQ(formatBenchLine("mha", s, 0),
            "mha: median 12.345 ms (min 12.100, max 13.000, n=3)");
}

} // namespace
