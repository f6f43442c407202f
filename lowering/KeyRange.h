//===- KeyRange.h - keys a query tile can see, from its masks ---*- C++ -*-===//
//
// Masks are arbitrary predicates, but most are conjunctions of linear bounds
// on the key index j: causal (j <= i + M - N), sliding windows
// (i - j < w), key padding (j < len[b]), and block partitions
// (i / c == j / c, Mega-chunk).  From those clauses we derive, for
// a query tile [i0, i1], a key range [lo, hi) outside which every key is
// excluded.  The backend iterates only over that range, so masked key tiles
// cost nothing.  Clauses of any other shape are still applied element-wise;
// they just do not narrow the range.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_KEYRANGE_H
#define ATTN_LOWERING_KEYRANGE_H

#include "lowering/ScalarExpr.h"

#include <vector>

namespace attn {

/// A bound on j as `coefI * i + rest`, where `rest` mentions neither i nor
/// j; or, when `block` > 0, `block * (i / block) + rest` (the start of i's
/// block of a partition into blocks of `block` rows: Mega-chunk's
/// `i / c == j / c`), which is non-decreasing in i like `coefI = 1`.
struct KeyBound {
  int64_t coefI = 0;
  ScalarExpr rest;
  int64_t block = 0;

  /// The i-dependent part for row `i` (an expression in any algebra with
  /// `*`, `/` and integer literals: Halide Exprs, integers).
  template <typename T> T scaledRow(const T &i) const {
    if (block > 0)
      return (i / T(int(block))) * T(int(block));
    return T(int(coefI)) * i;
  }
};

/// Lower bounds (inclusive) and upper bounds (exclusive) on j.
struct KeyBounds {
  std::vector<KeyBound> lower;
  std::vector<KeyBound> upper;
  /// True when every clause of every mask is one of the bounds, so the
  /// bounds describe the visible keys exactly (not just a superset).
  bool exact = true;
};

/// The bound as an expression of i: `coefI * i + rest` (or the block form).
ScalarExpr boundExpr(const KeyBound &bound);

/// Collects the linear bounds on j implied by the conjunction of `masks`.
KeyBounds analyzeKeyBounds(const std::vector<ScalarExpr> &masks);

} // namespace attn

#endif // ATTN_LOWERING_KEYRANGE_H
