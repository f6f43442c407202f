//===- Benchmark.h - Timing kernels: warm-up, repeats, medians --*- C++ -*-===//
//
// Runs a callable a few times to warm up, then repeats it enough times to
// fill about `targetSeconds` (at least `minRuns`, at most `maxRuns`), and
// reports the median and the min/max spread.  Medians, not means: the
// machines this runs on are noisy (DESIGN.md §4).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_BENCHMARK_H
#define ATTN_RUNTIME_BENCHMARK_H

#include "runtime/Status.h"

#include <functional>
#include <string>
#include <vector>

namespace attn::rt {

struct BenchmarkOptions {
  int warmupRuns = 2;
  int minRuns = 5;
  int maxRuns = 10000;
  double targetSeconds = 0.5;
};

struct BenchmarkStats {
  double medianMs = 0;
  double minMs = 0;
  double maxMs = 0;
  int runs = 0;
  std::vector<double> samplesMs; ///< In the order measured.
};

/// Median of `samples` (mean of the two middle values for an even count);
/// 0 for an empty vector.
double median(std::vector<double> samples);

/// Statistics of a list of samples in milliseconds.
BenchmarkStats summarize(const std::vector<double> &samplesMs);

/// Number of timed runs for a callable that takes `estimateSeconds` per run.
int chooseRunCount(double estimateSeconds, const BenchmarkOptions &options);

/// Warms up, then times `fn`; stops at the first error it returns.
Result<BenchmarkStats> benchmark(const std::function<Status()> &fn,
                                 const BenchmarkOptions &options = {});

/// Formats "NAME: median 12.345 ms (min 12.1, max 13.0, n=9) 123.4 GFLOP/s";
/// the GFLOP/s part is left out when `flops` <= 0.
std::string formatBenchLine(const std::string &name,
                            const BenchmarkStats &stats, double flops);

} // namespace attn::rt

#endif // ATTN_RUNTIME_BENCHMARK_H
