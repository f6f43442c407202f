//===- KeyRange.h - keys a query tile can see, from its masks ---*- C++ -*-===//
//
// Masks are arbitrary predicates, but most are conjunctions of linear bounds
// on the key index j: causal (j <= i + M - N), sliding windows
// (i - j < w), key padding (j < len[b]).  From those clauses we derive, for
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

/// A bound on j as `coefI * i + rest`, where `rest` mentions neither i nor j.
struct KeyBound {
  int64_t coefI = 0;
  ScalarExpr rest;
};

/// Lower bounds (inclusive) and upper bounds (exclusive) on j.
struct KeyBounds {
  std::vector<KeyBound> lower;
  std::vector<KeyBound> upper;
  /// True when every clause of every mask is one of the bounds, so the
  /// bounds describe the visible keys exactly (not just a superset).
  bool exact = true;
};

/// The bound as an expression of i: `coefI * i + rest`.
ScalarExpr boundExpr(const KeyBound &bound);

/// Collects the linear bounds on j implied by the conjunction of `masks`.
KeyBounds analyzeKeyBounds(const std::vector<ScalarExpr> &masks);

} // namespace attn

#endif // ATTN_LOWERING_KEYRANGE_H
