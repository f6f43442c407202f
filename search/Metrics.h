//===- Metrics.h - How well a latency model ranks and predicts --*- C++ -*-===//
//
// The latency model's quality on held-out points (docs/Search.md §4):
// Kendall's tau-b between predicted and measured latency (does the model
// order candidates correctly?) and the mean absolute percentage error.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_METRICS_H
#define ATTN_SEARCH_METRICS_H

#include <vector>

namespace attn::search {

/// Kendall's tau-b of the pairs (x[i], y[i]), ties counted:
/// (concordant − discordant) / sqrt((n0 − tiesX)(n0 − tiesY)) with n0 the
/// number of pairs.  Pairs with a non-finite value are left out.  NaN when
/// the sizes differ, fewer than 2 pairs remain, or a side is constant.
double kendallTau(const std::vector<double> &x, const std::vector<double> &y);

/// Mean of |predicted − actual| / |actual|, in percent, over the entries
/// whose actual value is non-zero and both values finite; NaN when the
/// sizes differ or no entry counts.
double meanAbsPercentError(const std::vector<double> &predicted,
                           const std::vector<double> &actual);

} // namespace attn::search

#endif // ATTN_SEARCH_METRICS_H
