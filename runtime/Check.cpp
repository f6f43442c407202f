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

/// max |a - b| over the rows `rows` marks along axis `rowAxis` (2: the
/// queries of a [B,H,N,Dv] tensor; 1: the time steps of an "ema" [B,L,C]);
/// the flat index of the worst element in `*worst`.
static Result<double> rowMaskedMaxAbsDiff(const Tensor &a, const Tensor &b,
                                          const std::vector<char> &rows,
                                          int rowAxis,
                                          int64_t *worst = nullptr) {
  if (a.shape() != b.shape() || rowAxis < 0 || rowAxis >= a.rank())
    return Status::error("cannot compare " + a.describe() + " with " +
                         b.describe() + " row by row");
  const int64_t n = a.shape()[size_t(rowAxis)];
  int64_t inner = 1; // Elements per row: the product of the later extents.
  for (int64_t d = rowAxis + 1; d < a.rank(); ++d)
    inner *= a.shape()[size_t(d)];
  if (int64_t(rows.size()) != n)
    return Status::error("row mask has " + std::to_string(rows.size()) +
                         " rows, the output " + std::to_string(n));
  double maxErr = 0;
  for (int64_t f = 0; f < a.numElements(); ++f) {
    if (!rows[size_t((f / inner) % n)])
      continue;
    double d = std::fabs(a.getDouble(f) - b.getDouble(f));
    if (std::isnan(d))
      d = std::numeric_limits<double>::infinity();
    if (d > maxErr) {
      maxErr = d;
      if (worst)
        *worst = f;
    }
  }
  return maxErr;
}

Result<CheckResult> checkAgainstReference(const Tensor &kernelOut,
                                          const ReferenceOutput &ref) {
  if (!ref.rowsEvaluated.empty()) {
    int64_t worst = -1;
    Result<double> err =
        rowMaskedMaxAbsDiff(kernelOut, ref.ref64, ref.rowsEvaluated,
                            ref.rowAxis, &worst);
    if (!err)
      return err.status();
    Result<double> base = rowMaskedMaxAbsDiff(
        ref.baseline, ref.ref64, ref.rowsEvaluated, ref.rowAxis);
    if (!base)
      return base.status();
    CheckResult r = applyToleranceRule(*err, *base);
    r.worstIndex = worst;
    return r;
  }
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
