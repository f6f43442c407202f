//===- Pareto.h - Pareto fronts and NSGA-II ranking -------------*- C++ -*-===//
//
// The search's output is the Pareto front of its points (latency against
// an objective, docs/Search.md §3), and the evolutionary strategy chooses
// parents by non-dominated rank, then crowding distance (NSGA-II).
//
// A point is one value per objective; objectives are minimized unless
// `maximize`.  Point a dominates b when a is no worse than b in every
// objective and better in at least one.  Points with a NaN value (or with
// fewer values than objectives) are never on a front.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_PARETO_H
#define ATTN_SEARCH_PARETO_H

#include <cstddef>
#include <string>
#include <vector>

namespace attn::search {

struct Objective {
  std::string name;
  bool maximize = false;
};

/// True when `a` dominates `b` under `objectives` (false when either has a
/// NaN value).
bool dominates(const std::vector<double> &a, const std::vector<double> &b,
               const std::vector<Objective> &objectives);

/// Indices of the non-dominated points.  Of exact duplicates only the first
/// is kept; NaN points are excluded.  Sorted by the first objective's value
/// (ascending), then the second's, then index.
std::vector<size_t> paretoFront(const std::vector<std::vector<double>> &points,
                                const std::vector<Objective> &objectives);

/// The non-dominated rank of every point: 0 for the front, 1 for the front
/// of what remains, and so on.  A later exact duplicate of a point counts as
/// dominated by it (so rank 0 is exactly paretoFront).  Points with a NaN
/// value get one rank past the last.
std::vector<size_t>
nonDominatedSortRanks(const std::vector<std::vector<double>> &points,
                      const std::vector<Objective> &objectives);

/// NSGA-II crowding distance of each of `indices` (in that order) within
/// the set `indices`: the boundary points of every objective get infinity,
/// the others the sum over objectives of the normalized gap between their
/// neighbours.  An objective with one value throughout adds nothing; NaN
/// points get 0.  Larger is more isolated (preferred).
std::vector<double>
crowdingDistance(const std::vector<std::vector<double>> &points,
                 const std::vector<size_t> &indices,
                 const std::vector<Objective> &objectives);

} // namespace attn::search

#endif // ATTN_SEARCH_PARETO_H
