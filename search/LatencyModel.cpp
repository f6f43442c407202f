//===- LatencyModel.cpp - Predicting a candidate's latency ----------------===//

#include "search/LatencyModel.h"

#include "search/Metrics.h"

#include <algorithm>
#include <optional>

using namespace attn::search;

namespace {

/// The GFLOP/s assumed when nothing is measured.
constexpr double defaultGflops = 100;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Least squares y ≈ X·β (rows of X are the points).  The columns are
/// scaled to unit RMS and the normal equations solved with partial
/// pivoting; nullopt when a column is zero or the columns are (nearly)
/// collinear.
std::optional<std::vector<double>>
leastSquares(const std::vector<std::vector<double>> &x,
             const std::vector<double> &y) {
  size_t n = x.size(), p = n ? x[0].size() : 0;
  if (n < p || p == 0)
    return std::nullopt;
  std::vector<double> scale(p, 0);
  for (size_t j = 0; j < p; ++j) {
    for (size_t i = 0; i < n; ++i)
      scale[j] += x[i][j] * x[i][j];
    scale[j] = std::sqrt(scale[j] / double(n));
    if (!(scale[j] > 0) || !std::isfinite(scale[j]))
      return std::nullopt;
  }
  // [XᵀX | Xᵀy] of the scaled columns.
  std::vector<std::vector<double>> m(p, std::vector<double>(p + 1, 0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < p; ++j) {
      double xj = x[i][j] / scale[j];
      for (size_t k = 0; k < p; ++k)
        m[j][k] += xj * x[i][k] / scale[k];
      m[j][p] += xj * y[i];
    }
  for (size_t col = 0; col < p; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < p; ++r)
      if (std::fabs(m[r][col]) > std::fabs(m[pivot][col]))
        pivot = r;
    // The diagonal of the scaled XᵀX is n; a pivot this small relative to
    // it means the columns are collinear.
    if (!(std::fabs(m[pivot][col]) > 1e-9 * double(n)))
      return std::nullopt;
    std::swap(m[col], m[pivot]);
    for (size_t r = 0; r < p; ++r) {
      if (r == col)
        continue;
      double f = m[r][col] / m[col][col];
      for (size_t k = col; k <= p; ++k)
        m[r][k] -= f * m[col][k];
    }
  }
  std::vector<double> beta(p);
  for (size_t j = 0; j < p; ++j) {
    beta[j] = m[j][p] / m[j][j] / scale[j];
    if (!std::isfinite(beta[j]))
      return std::nullopt;
  }
  return beta;
}

} // namespace

void LatencyModel::addKernelTime(const std::string &key,
                                 const std::string &form, double flops,
                                 double ms) {
  if (!std::isfinite(ms) || ms < 0)
    return;
  table[key] = Entry{form, std::isfinite(flops) ? flops : 0, ms};
}

double LatencyModel::throughputGflops(const std::string &form) const {
  std::vector<double> ofForm, all;
  for (const auto &[key, e] : table) {
    if (!(e.flops > 0) || !(e.ms > 0))
      continue;
    double gflops = e.flops / (e.ms * 1e6);
    all.push_back(gflops);
    if (e.form == form)
      ofForm.push_back(gflops);
  }
  if (!ofForm.empty())
    return median(std::move(ofForm));
  if (!all.empty())
    return median(std::move(all));
  return defaultGflops;
}

int64_t LatencyModel::totalCalls(const Candidate &c) {
  int64_t calls = 0;
  for (const KernelCall &k : c.kernels)
    calls += k.calls;
  return calls;
}

double LatencyModel::raw(const Candidate &c, int *unknown) const {
  double total = 0;
  int missing = 0;
  for (const KernelCall &k : c.kernels) {
    double ms;
    auto it = table.find(k.key);
    if (it != table.end()) {
      ms = it->second.ms;
    } else {
      ++missing;
      double flops = std::isfinite(k.flops) && k.flops > 0 ? k.flops : 0;
      ms = flops / (throughputGflops(k.form) * 1e6);
    }
    total += double(k.calls) * ms;
  }
  if (unknown)
    *unknown = missing;
  return total;
}

void LatencyModel::calibrate(const std::vector<Candidate> &candidates,
                             const std::vector<double> &measuredMs) {
  std::vector<double> raws, calls, measured;
  size_t n = std::min(candidates.size(), measuredMs.size());
  for (size_t i = 0; i < n; ++i) {
    double r = raw(candidates[i]);
    if (!std::isfinite(measuredMs[i]) || !(measuredMs[i] > 0) ||
        !std::isfinite(r))
      continue;
    raws.push_back(r);
    calls.push_back(double(totalCalls(candidates[i])));
    measured.push_back(measuredMs[i]);
  }
  fit = Calibration();
  fit.points = int64_t(measured.size());
  if (measured.size() < 4)
    return;

  std::vector<std::vector<double>> full, noCalls;
  for (size_t i = 0; i < measured.size(); ++i) {
    full.push_back({raws[i], calls[i], 1});
    noCalls.push_back({raws[i], 1});
  }
  std::optional<std::vector<double>> beta = leastSquares(full, measured);
  if (beta && (*beta)[0] > 0) {
    fit.a = (*beta)[0];
    fit.b = (*beta)[1];
    fit.c = (*beta)[2];
    fit.method = "full";
    return;
  }
  if (!beta) {
    // Often the call counts are all equal (a fixed depth): b·calls + c is
    // one constant, and fitting a·raw + c is the same model.
    std::optional<std::vector<double>> beta2 = leastSquares(noCalls, measured);
    if (beta2 && (*beta2)[0] > 0) {
      fit.a = (*beta2)[0];
      fit.c = (*beta2)[1];
      fit.method = "no-calls";
      return;
    }
  }
  double sumRaw = 0, sumMeasured = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    sumRaw += raws[i];
    sumMeasured += measured[i];
  }
  fit.method = "ratio";
  fit.a = sumRaw > 0 ? sumMeasured / sumRaw : 1;
}

double LatencyModel::predict(const Candidate &c) const {
  double p = fit.a * raw(c) + fit.b * double(totalCalls(c)) + fit.c;
  return std::max(0.0, p);
}

ModelQuality attn::search::crossValidate(
    const std::vector<Candidate> &candidates,
    const std::vector<std::vector<KernelTimeSample>> &kernelTimes,
    const std::vector<double> &measuredMs,
    const std::vector<KernelTimeSample> &baseTimes, int folds) {
  ModelQuality quality;
  std::vector<size_t> points;
  size_t n = std::min(candidates.size(), measuredMs.size());
  for (size_t i = 0; i < n; ++i)
    if (std::isfinite(measuredMs[i]) && measuredMs[i] > 0)
      points.push_back(i);
  if (points.size() < 2)
    return quality;
  size_t k = std::min(points.size(), size_t(std::max(folds, 2)));

  std::vector<double> predicted, actual;
  for (size_t fold = 0; fold < k; ++fold) {
    LatencyModel model;
    for (const KernelTimeSample &s : baseTimes)
      model.addKernelTime(s);
    std::vector<Candidate> train;
    std::vector<double> trainMs;
    std::vector<size_t> held;
    for (size_t j = 0; j < points.size(); ++j) {
      size_t i = points[j];
      if (j % k == fold) {
        held.push_back(i);
        continue;
      }
      if (i < kernelTimes.size())
        for (const KernelTimeSample &s : kernelTimes[i])
          model.addKernelTime(s);
      train.push_back(candidates[i]);
      trainMs.push_back(measuredMs[i]);
    }
    if (held.empty())
      continue;
    model.calibrate(train, trainMs);
    for (size_t i : held) {
      predicted.push_back(model.predict(candidates[i]));
      actual.push_back(measuredMs[i]);
    }
    ++quality.folds;
  }
  quality.points = int64_t(predicted.size());
  quality.kendallTau = kendallTau(predicted, actual);
  quality.mape = meanAbsPercentError(predicted, actual);
  return quality;
}
