//===- Check.cpp - The numerics contract (tolerance rule) -----------------===//

#include "runtime/Check.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace attn::rt {

CheckResult applyToleranceRule(double maxAbsErr, double baselineErr,
                               double floor) {
  CheckResult r;
  r.maxAbsErr = maxAbsErr;
  r.baselineErr = baselineErr;
  r.tolerance = kToleranceFactor * baselineErr + floor;
  // Written so that a NaN error fails.
  r.pass = maxAbsErr <= r.tolerance;
  return r;
}

Result<double> maxAbsDiff(const Tensor &a, const Tensor &b, int64_t *worst) {
  if (a.shape() != b.shape())
    return Status::error("cannot compare " + a.describe() + " with " +
                         b.describe() + ": shapes differ");
  double best = 0;
  int64_t at = a.numElements() ? 0 : -1;
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < a.numElements(); ++i) {
    double x = a.getDouble(i), y = b.getDouble(i);
    double d;
    if (std::isnan(x) || std::isnan(y))
      d = std::isnan(x) && std::isnan(y) ? 0 : inf;
    else if (std::isinf(x) || std::isinf(y))
      d = x == y ? 0 : inf;
    else
      d = std::fabs(x - y);
    if (d > best) {
      best = d;
      at = i;
    }
  }
  if (worst)
    *worst = at;
  return best;
}

Result<CheckResult> checkAgainstReference(const Tensor &kernelOut,
                                          const ReferenceOutput &ref) {
  int64_t worst = -1;
  Result<double> err = maxAbsDiff(kernelOut, ref.ref64, &worst);
  if (!err)
    return err.status();
  Result<double> base = maxAbsDiff(ref.baseline, ref.ref64);
  if (!base)
    return base.status();
  CheckResult r = applyToleranceRule(*err, *base);
  r.worstIndex = worst;
  return r;
}

std::string formatCheckLine(const std::string &name, const CheckResult &r) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%s: max_abs_err=%.2e baseline_err=%.2e tol=%.2e %s",
                name.c_str(), r.maxAbsErr, r.baselineErr, r.tolerance,
                r.pass ? "PASS" : "FAIL");
  return buf;
}

} // namespace attn::rt
