//===- Pareto.cpp - Pareto fronts and NSGA-II ranking ---------------------===//

#include "search/Pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace attn::search;

namespace {

/// True when `p` has a non-NaN value for every objective.
bool valid(const std::vector<double> &p,
           const std::vector<Objective> &objectives) {
  if (p.size() < objectives.size())
    return false;
  for (size_t k = 0; k < objectives.size(); ++k)
    if (std::isnan(p[k]))
      return false;
  return true;
}

/// The value of objective `k` of `p`, turned into one to minimize.
double cost(const std::vector<double> &p, const std::vector<Objective> &obj,
            size_t k) {
  return obj[k].maximize ? -p[k] : p[k];
}

/// Dominance of valid points, without the validity check.
bool dominatesValid(const std::vector<double> &a, const std::vector<double> &b,
                    const std::vector<Objective> &objectives) {
  bool better = false;
  for (size_t k = 0; k < objectives.size(); ++k) {
    double x = cost(a, objectives, k), y = cost(b, objectives, k);
    if (x > y)
      return false;
    if (x < y)
      better = true;
  }
  return better;
}

bool sameValues(const std::vector<double> &a, const std::vector<double> &b,
                const std::vector<Objective> &objectives) {
  for (size_t k = 0; k < objectives.size(); ++k)
    if (!(a[k] == b[k]))
      return false;
  return true;
}

/// Point i beats point j: dominates it, or is an earlier exact duplicate.
bool beats(const std::vector<std::vector<double>> &points, size_t i, size_t j,
           const std::vector<Objective> &objectives) {
  if (dominatesValid(points[i], points[j], objectives))
    return true;
  return i < j && sameValues(points[i], points[j], objectives);
}

} // namespace

bool attn::search::dominates(const std::vector<double> &a,
                             const std::vector<double> &b,
                             const std::vector<Objective> &objectives) {
  if (!valid(a, objectives) || !valid(b, objectives))
    return false;
  return dominatesValid(a, b, objectives);
}

std::vector<size_t>
attn::search::paretoFront(const std::vector<std::vector<double>> &points,
                          const std::vector<Objective> &objectives) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < points.size(); ++i)
    if (valid(points[i], objectives))
      candidates.push_back(i);
  std::vector<size_t> front;
  for (size_t i : candidates) {
    bool beaten = false;
    for (size_t j : candidates)
      if (j != i && beats(points, j, i, objectives)) {
        beaten = true;
        break;
      }
    if (!beaten)
      front.push_back(i);
  }
  size_t sortKeys = std::min<size_t>(2, objectives.size());
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    for (size_t k = 0; k < sortKeys; ++k) {
      if (points[a][k] < points[b][k])
        return true;
      if (points[b][k] < points[a][k])
        return false;
    }
    return a < b;
  });
  return front;
}

std::vector<size_t> attn::search::nonDominatedSortRanks(
    const std::vector<std::vector<double>> &points,
    const std::vector<Objective> &objectives) {
  size_t n = points.size();
  std::vector<size_t> rank(n, 0);
  std::vector<size_t> validPoints, invalidPoints;
  for (size_t i = 0; i < n; ++i)
    (valid(points[i], objectives) ? validPoints : invalidPoints).push_back(i);

  // Deb's fast non-dominated sort over the valid points.
  std::vector<std::vector<size_t>> beaten(n);
  std::vector<size_t> beatenBy(n, 0);
  for (size_t a = 0; a < validPoints.size(); ++a)
    for (size_t b = a + 1; b < validPoints.size(); ++b) {
      size_t i = validPoints[a], j = validPoints[b];
      if (beats(points, i, j, objectives)) {
        beaten[i].push_back(j);
        ++beatenBy[j];
      } else if (beats(points, j, i, objectives)) {
        beaten[j].push_back(i);
        ++beatenBy[i];
      }
    }
  std::vector<size_t> current;
  for (size_t i : validPoints)
    if (beatenBy[i] == 0)
      current.push_back(i);
  size_t level = 0;
  while (!current.empty()) {
    std::vector<size_t> next;
    for (size_t i : current) {
      rank[i] = level;
      for (size_t j : beaten[i])
        if (--beatenBy[j] == 0)
          next.push_back(j);
    }
    current = std::move(next);
    ++level;
  }
  for (size_t i : invalidPoints)
    rank[i] = level;
  return rank;
}

std::vector<double>
attn::search::crowdingDistance(const std::vector<std::vector<double>> &points,
                               const std::vector<size_t> &indices,
                               const std::vector<Objective> &objectives) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> distance(indices.size(), 0.0);
  // Positions (into `indices`) of the valid points.
  std::vector<size_t> order;
  for (size_t p = 0; p < indices.size(); ++p)
    if (indices[p] < points.size() && valid(points[indices[p]], objectives))
      order.push_back(p);
  if (order.size() <= 2) {
    for (size_t p : order)
      distance[p] = inf;
    return distance;
  }
  for (size_t k = 0; k < objectives.size(); ++k) {
    auto value = [&](size_t p) { return points[indices[p]][k]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return value(a) < value(b); });
    double lo = value(order.front()), hi = value(order.back());
    if (!(hi > lo))
      continue; // one value throughout
    distance[order.front()] = inf;
    distance[order.back()] = inf;
    double range = hi - lo;
    if (!std::isfinite(range))
      continue;
    for (size_t q = 1; q + 1 < order.size(); ++q)
      distance[order[q]] += (value(order[q + 1]) - value(order[q - 1])) / range;
  }
  return distance;
}
