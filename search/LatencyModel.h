//===- LatencyModel.h - Predicting a candidate's latency --------*- C++ -*-===//
//
// The search ranks candidates before measuring them with a model built from
// per-kernel measurements (docs/Search.md §4):
//
//  * lookup: a kernel whose key was measured costs its measured time;
//  * composition: a candidate's raw prediction is the sum of its calls'
//    kernel times; a kernel never measured costs FLOPs / throughput, the
//    median GFLOP/s of the measured kernels of its form (of all measured
//    kernels when its form has none; 100 GFLOP/s when nothing is measured);
//  * calibration: measured = a·raw + b·calls + c, by least squares on the
//    measured end-to-end points.
//
// crossValidate reports the model's quality on held-out points.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_LATENCYMODEL_H
#define ATTN_SEARCH_LATENCYMODEL_H

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attn::search {

/// One distinct kernel of a candidate and how often one forward pass calls
/// it.
struct KernelCall {
  std::string key;
  std::string form;
  /// FLOPs of one call.
  double flops = 0;
  int64_t calls = 1;
};

/// A candidate as the model sees it: one entry per distinct kernel.
struct Candidate {
  std::vector<KernelCall> kernels;
};

/// One measured kernel time (the arguments of addKernelTime).
struct KernelTimeSample {
  std::string key, form;
  double flops = 0;
  /// Time of one call (ms).
  double ms = 0;
};

/// The fitted measured = a·raw + b·calls + c.
struct Calibration {
  double a = 1, b = 0, c = 0;
  /// Points the fit used.
  int64_t points = 0;
  /// How it was fitted: "identity" (fewer than 4 points), "full" (a, b, c),
  /// "no-calls" (a, c: the call counts were collinear with the constant,
  /// e.g. all equal), "ratio" (a = Σmeasured / Σraw: the fit was degenerate
  /// or gave a <= 0).
  std::string method = "identity";
};

class LatencyModel {
public:
  /// Measured time of one call of kernel `key` (ms); the newest/most
  /// trusted wins (later calls override).  A negative or non-finite time is
  /// ignored.
  void addKernelTime(const std::string &key, const std::string &form,
                     double flops, double ms);
  void addKernelTime(const KernelTimeSample &sample) {
    addKernelTime(sample.key, sample.form, sample.flops, sample.ms);
  }

  /// True when `key` has a measured time.
  bool hasKernel(const std::string &key) const { return table.count(key); }
  size_t kernelCount() const { return table.size(); }

  /// The GFLOP/s an unmeasured kernel of `form` is assumed to run at.
  double throughputGflops(const std::string &form) const;

  /// Raw prediction (ms): Σ calls·t(key), unknown keys FLOPs /
  /// throughput(form); `unknown` counts kernels not in the table.
  double raw(const Candidate &c, int *unknown = nullptr) const;

  /// Fits measured = a·raw + b·calls + c by least squares over the points
  /// with a finite, positive measured time (>= 4 points, else a = 1,
  /// b = c = 0; see Calibration::method for the fallbacks).
  void calibrate(const std::vector<Candidate> &candidates,
                 const std::vector<double> &measuredMs);

  /// The calibrated prediction (ms), never negative.
  double predict(const Candidate &c) const;

  const Calibration &calibration() const { return fit; }

  /// Σ calls of a candidate.
  static int64_t totalCalls(const Candidate &c);

private:
  struct Entry {
    std::string form;
    double flops = 0, ms = 0;
  };
  std::map<std::string, Entry> table;
  Calibration fit;
};

struct ModelQuality {
  double kendallTau = NAN;
  double mape = NAN;
  /// Held-out predictions the metrics are over.
  int64_t points = 0;
  /// Folds that held out at least one point.
  int folds = 0;
};

/// k-fold cross validation over the measured points (those with a finite,
/// positive `measuredMs`; the j-th of them is in fold j % k, k = min(folds,
/// points), at least 2).  For each fold, a model built from `baseTimes`
/// (kernel times that do not come from any of the points, e.g. the tuning
/// database), then the other folds' per-kernel times (`kernelTimes[i]`: the
/// kernels measured inside candidate i, later points overriding earlier
/// ones), and calibrated on the other folds' end-to-end times, predicts
/// the held-out fold; tau and MAPE are over all held-out predictions.
ModelQuality
crossValidate(const std::vector<Candidate> &candidates,
              const std::vector<std::vector<KernelTimeSample>> &kernelTimes,
              const std::vector<double> &measuredMs,
              const std::vector<KernelTimeSample> &baseTimes, int folds = 5);

} // namespace attn::search

#endif // ATTN_SEARCH_LATENCYMODEL_H
