//===- Metrics.cpp - How well a latency model ranks and predicts ----------===//

#include "search/Metrics.h"

#include <cmath>
#include <cstdint>

using namespace attn::search;

double attn::search::kendallTau(const std::vector<double> &x,
                                const std::vector<double> &y) {
  if (x.size() != y.size())
    return NAN;
  std::vector<double> a, b;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      a.push_back(x[i]);
      b.push_back(y[i]);
    }
  size_t n = a.size();
  if (n < 2)
    return NAN;
  int64_t concordant = 0, discordant = 0, tiesX = 0, tiesY = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      bool tx = a[i] == a[j], ty = b[i] == b[j];
      if (tx)
        ++tiesX;
      if (ty)
        ++tiesY;
      if (tx || ty)
        continue;
      if ((a[i] < a[j]) == (b[i] < b[j]))
        ++concordant;
      else
        ++discordant;
    }
  double pairs = double(n) * double(n - 1) / 2;
  double denominator =
      std::sqrt((pairs - double(tiesX)) * (pairs - double(tiesY)));
  if (!(denominator > 0))
    return NAN;
  return double(concordant - discordant) / denominator;
}

double attn::search::meanAbsPercentError(const std::vector<double> &predicted,
                                         const std::vector<double> &actual) {
  if (predicted.size() != actual.size())
    return NAN;
  double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] == 0 || !std::isfinite(actual[i]) ||
        !std::isfinite(predicted[i]))
      continue;
    sum += std::fabs(predicted[i] - actual[i]) / std::fabs(actual[i]);
    ++count;
  }
  return count ? 100 * sum / double(count) : NAN;
}
