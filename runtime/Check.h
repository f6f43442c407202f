//===- Check.h - The numerics contract (tolerance rule) ---------*- C++ -*-===//
//
// DESIGN.md §3: a kernel passes when its max absolute error against the
// float64 reference is at most twice the error of a naive evaluation in the
// same precision, plus a tiny absolute floor:
//
//   PASS  iff  max|kernel - ref64| <= 2 * max|naive - ref64| + 1e-6
//
// NaN or infinity where the reference is finite counts as an infinite error.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CHECK_H
#define ATTN_RUNTIME_CHECK_H

#include "runtime/Reference.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

namespace attn::rt {

/// The absolute floor of the tolerance rule.
constexpr double kToleranceFloor = 1e-6;
/// The factor applied to the baseline error.
constexpr double kToleranceFactor = 2.0;

/// Outcome of the tolerance rule.
struct CheckResult {
  double maxAbsErr = 0;   ///< max |kernel - ref64|.
  double baselineErr = 0; ///< max |naive - ref64|.
  double tolerance = 0;   ///< 2 * baselineErr + floor.
  bool pass = false;
  int64_t worstIndex = -1; ///< Flat index of maxAbsErr (-1 if no elements).
};

/// Applies the rule to two error values.
CheckResult applyToleranceRule(double maxAbsErr, double baselineErr,
                               double floor = kToleranceFloor);

/// max |a - b| over all elements (shapes must be equal).  Positions where
/// exactly one side is NaN, or the sides are different infinities, count as
/// +inf; positions where both are NaN, or equal infinities, count as 0.
/// `worst` receives the flat index of the maximum when non-null.
Result<double> maxAbsDiff(const Tensor &a, const Tensor &b,
                          int64_t *worst = nullptr);

/// Compares a kernel output with the reference under the tolerance rule.
Result<CheckResult> checkAgainstReference(const Tensor &kernelOut,
                                          const ReferenceOutput &ref);

/// Formats "NAME: max_abs_err=1.2e-07 baseline_err=3.1e-07 tol=7.2e-07 PASS".
std::string formatCheckLine(const std::string &name, const CheckResult &r);

} // namespace attn::rt

#endif // ATTN_RUNTIME_CHECK_H
