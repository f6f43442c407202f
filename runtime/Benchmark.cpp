//===- Benchmark.cpp - Timing kernels: warm-up, repeats, medians ----------===//

#include "runtime/Benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace attn::rt {

double median(std::vector<double> samples) {
  if (samples.empty())
    return 0;
  size_t n = samples.size();
  std::sort(samples.begin(), samples.end());
  if (n % 2)
    return samples[n / 2];
  return 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

BenchmarkStats summarize(const std::vector<double> &samplesMs) {
  BenchmarkStats s;
  s.samplesMs = samplesMs;
  s.runs = int(samplesMs.size());
  if (samplesMs.empty())
    return s;
  s.medianMs = median(samplesMs);
  auto [mn, mx] = std::minmax_element(samplesMs.begin(), samplesMs.end());
  s.minMs = *mn;
  s.maxMs = *mx;
  return s;
}

int chooseRunCount(double estimateSeconds, const BenchmarkOptions &options) {
  int lo = std::max(1, options.minRuns);
  int hi = std::max(lo, options.maxRuns);
  if (!(estimateSeconds > 0))
    return hi;
  double want = std::ceil(options.targetSeconds / estimateSeconds);
  if (want < lo)
    return lo;
  if (want > hi)
    return hi;
  return int(want);
}

Result<BenchmarkStats> benchmark(const std::function<Status()> &fn,
                                 const BenchmarkOptions &options) {
  using Clock = std::chrono::steady_clock;
  auto timeOnce = [&](double &seconds) -> Status {
    auto start = Clock::now();
    Status st = fn();
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return st;
  };
  // Warm-up; the fastest warm-up run estimates the cost of one run.
  double estimate = 0;
  for (int r = 0; r < std::max(1, options.warmupRuns); ++r) {
    double t;
    if (Status st = timeOnce(t); !st)
      return st;
    estimate = r == 0 ? t : std::min(estimate, t);
  }
  int runs = chooseRunCount(estimate, options);
  std::vector<double> samples;
  samples.reserve(size_t(runs));
  for (int r = 0; r < runs; ++r) {
    double t;
    if (Status st = timeOnce(t); !st)
      return st;
    samples.push_back(t * 1e3);
  }
  return summarize(samples);
}

std::string formatBenchLine(const std::string &name,
                            const BenchmarkStats &stats, double flops) {
  char buf[256];
  int n = std::snprintf(
      buf, sizeof(buf), "%s: median %.3f ms (min %.3f, max %.3f, n=%d)",
      name.c_str(), stats.medianMs, stats.minMs, stats.maxMs, stats.runs);
  std::string line(buf, size_t(std::max(0, std::min(n, int(sizeof(buf)) - 1))));
  if (flops > 0 && stats.medianMs > 0) {
    std::snprintf(buf, sizeof(buf), " %.1f GFLOP/s",
                  flops / (stats.medianMs * 1e6));
    line += buf;
  }
  return line;
}

} // namespace attn::rt
