//===- SearchPropose.cpp - the points a search measures next -------------===//
//
// docs/Search.md §3-4: random points, parents by non-dominated rank and
// crowding, children by mutation and crossover, ranked by the latency model
// (per-kernel lookup in the tuning database and the measured profiles,
// composition, calibration) before they are measured.
//
//===----------------------------------------------------------------------===//

#include "tools/attnc/SearchDriver.h"

#include "search/Pareto.h"

#include <algorithm>
#include <cmath>

using namespace attn;
using namespace attn::driver;
using attn::frontend::SpacePoint;
using search::EvalRecord;

void SearchDriver::addDbTimes(const std::vector<search::KernelTime> &kernels) {
  if (!db)
    return;
  for (const search::KernelTime &k : kernels) {
    std::string modelKey = k.key + "@" + k.schedule;
    if (dbTimes.count(modelKey))
      continue;
    double ms = NAN;
    if (auto entries = db->entries(k.key); entries)
      for (const rt::TuningRecord &e : *entries)
        if (e.status == "ok" && e.config == k.schedule)
          ms = e.medianSeconds * 1e3;
    dbTimes[modelKey] = ms;
  }
}

void SearchDriver::addDbTimes(const CandidatePlan &plan) {
  std::vector<search::KernelTime> kernels;
  for (const PlannedKernel &k : plan.kernels) {
    search::KernelTime t;
    t.key = k.tuningKey;
    t.schedule = k.schedule;
    kernels.push_back(t);
  }
  addDbTimes(kernels);
}

/// The model key and sample of a record's kernel.
search::KernelTimeSample attn::driver::sampleOf(const search::KernelTime &k) {
  return {k.key + "@" + k.schedule, k.form, k.flops, k.ms};
}

search::Candidate attn::driver::candidateOf(const EvalRecord &r) {
  search::Candidate c;
  for (const search::KernelTime &k : r.kernels)
    c.kernels.push_back({k.key + "@" + k.schedule, k.form, k.flops, k.calls});
  return c;
}

search::LatencyModel SearchDriver::buildModel() const {
  search::LatencyModel model;
  // Tuner measurements first; the search's own profiles (measured in
  // context) override them.
  for (const auto &[key, ms] : dbTimes)
    if (std::isfinite(ms))
      model.addKernelTime(key, "", 0, ms);
  std::vector<search::Candidate> candidates;
  std::vector<double> measured;
  for (const EvalRecord &r : records) {
    if (r.status != "ok" || !r.latencyMs)
      continue;
    for (const search::KernelTime &k : r.kernels)
      model.addKernelTime(sampleOf(k));
    candidates.push_back(candidateOf(r));
    measured.push_back(*r.latencyMs);
  }
  model.calibrate(candidates, measured);
  return model;
}

std::vector<SpacePoint>
SearchDriver::randomPoints(std::mt19937_64 &rng, size_t count,
                           const std::set<std::string> &taken) {
  std::vector<SpacePoint> out;
  std::set<std::string> seen = taken;
  for (size_t tries = 0; out.size() < count && tries < 50 * count + 100;
       ++tries) {
    SpacePoint p = space->sample(rng);
    std::string config = space->toConfig(p);
    if (!seen.insert(config).second || !space->validate(p))
      continue;
    out.push_back(p);
  }
  return out;
}

std::vector<size_t> SearchDriver::parents() const {
  // Feasible measured points by non-dominated rank, then crowding; then
  // the infeasible ones by latency (closest to the budget first).
  std::vector<size_t> feasible, infeasible;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].status != "ok" || !records[i].latencyMs)
      continue;
    (isFeasible(o, records[i]) ? feasible : infeasible).push_back(i);
  }
  std::vector<search::Objective> objectives = frontObjectives(o);
  if (o.objective == "latency")
    objectives.resize(1);
  std::vector<std::vector<double>> values;
  for (size_t i : feasible) {
    std::vector<double> v = objectiveValues(o, records[i]);
    v.resize(objectives.size());
    values.push_back(v);
  }
  std::vector<size_t> ranks = search::nonDominatedSortRanks(values, objectives);
  std::vector<size_t> order(feasible.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::vector<double> crowd(order.size(), 0);
  std::map<size_t, std::vector<size_t>> byRank;
  for (size_t i = 0; i < order.size(); ++i)
    byRank[ranks[i]].push_back(i);
  for (auto &[rank, members] : byRank) {
    std::vector<double> d =
        search::crowdingDistance(values, members, objectives);
    for (size_t m = 0; m < members.size(); ++m)
      crowd[members[m]] = d[m];
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (ranks[a] != ranks[b])
      return ranks[a] < ranks[b];
    return crowd[a] > crowd[b];
  });
  std::vector<size_t> out;
  for (size_t i : order)
    out.push_back(feasible[i]);
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](size_t a, size_t b) {
                     return *records[a].latencyMs < *records[b].latencyMs;
                   });
  out.insert(out.end(), infeasible.begin(), infeasible.end());
  size_t keep = std::max<size_t>(2, size_t(o.population) / 2);
  if (out.size() > keep)
    out.resize(keep);
  return out;
}

std::optional<double> SearchDriver::predict(const SpacePoint &p,
                                            CandidatePlan &plan) {
  if (!planCandidate(dir + "/attnc", compileArgs(space->toConfig(p)), o.arch,
                     o.candidateTimeout, plan)
           .empty())
    return std::nullopt;
  addDbTimes(plan);
  return buildModel().predict(plan.candidate());
}

std::vector<SpacePoint>
SearchDriver::propose(std::mt19937_64 &rng,
                      std::map<std::string, double> &predicted) {
  size_t want = size_t(o.population);
  bool useModel = buildModel().calibration().points >= 4;
  std::vector<SpacePoint> children;
  std::vector<size_t> chosen = o.strategy == "evolutionary" && generation > 0
                                   ? parents()
                                   : std::vector<size_t>{};
  if (chosen.size() < 2) {
    // The first generation, random search, or too few measured parents.
    // Random search measures what it draws; the first generation of an
    // evolutionary one draws 2P for the model to rank when it can.
    bool rank = useModel && o.strategy == "evolutionary";
    children = randomPoints(rng, rank ? 2 * want : want, evaluated);
  } else {
    std::vector<SpacePoint> pool;
    for (size_t i : chosen) {
      std::string error;
      auto p = space->fromConfig(records[i].config, error);
      if (mlir::succeeded(p))
        pool.push_back(*p);
    }
    std::set<std::string> seen = evaluated;
    size_t target = useModel ? 2 * want : want;
    for (size_t tries = 0;
         children.size() < target && tries < 50 * target + 100; ++tries) {
      std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
      SpacePoint child;
      // Half mutation, half crossover (then a light mutation), as HAT.
      if (tries % 2 == 0 || pool.size() < 2) {
        child = space->mutate(pool[pick(rng)], 0.3, rng);
      } else {
        size_t a = pick(rng), b = pick(rng);
        if (a == b)
          b = (b + 1) % pool.size();
        child = space->crossover(pool[a], pool[b], rng);
      }
      std::string config = space->toConfig(child);
      if (!seen.insert(config).second || !space->validate(child))
        continue;
      children.push_back(child);
    }
    // A stale space (few unexplored neighbours): fill with random points.
    if (children.size() < want) {
      std::vector<SpacePoint> more =
          randomPoints(rng, want - children.size(), seen);
      children.insert(children.end(), more.begin(), more.end());
    }
  }
  if (!useModel) {
    if (children.size() > want)
      children.resize(want);
    return children;
  }
  if (o.strategy == "random") {
    // Predicted (for the model's online quality), not ranked.
    for (const SpacePoint &p : children) {
      CandidatePlan plan;
      if (std::optional<double> ms = predict(p, plan))
        predicted[space->toConfig(p)] = *ms;
    }
    return children;
  }
  // Rank the children by the model; measure those predicted within the
  // budget (20% margin), best first, and one exploratory child.
  struct Ranked {
    SpacePoint point;
    double predictedMs;
    double cost;
  };
  std::vector<Ranked> ranked;
  for (const SpacePoint &p : children) {
    CandidatePlan plan;
    std::optional<double> prediction = predict(p, plan);
    if (!prediction)
      continue;
    double ms = *prediction;
    predicted[space->toConfig(p)] = ms;
    double cost = o.objective == "flops"    ? plan.flops
                  : o.objective == "memory" ? plan.memoryBytes
                                            : plan.params;
    ranked.push_back({p, ms, cost});
  }
  double limit = o.budgetMs ? *o.budgetMs * 1.2 : INFINITY;
  std::stable_sort(
      ranked.begin(), ranked.end(), [&](const Ranked &a, const Ranked &b) {
        bool fa = a.predictedMs <= limit, fb = b.predictedMs <= limit;
        if (fa != fb)
          return fa;
        // Within the budget: the cost objective (smaller first)
        // for size objectives, else latency.
        if (fa && o.objective != "latency" && o.objective != "score-cmd" &&
            a.cost != b.cost)
          return a.cost < b.cost;
        return a.predictedMs < b.predictedMs;
      });
  std::vector<SpacePoint> out;
  for (size_t i = 0; i < ranked.size() && out.size() + 1 < want; ++i)
    out.push_back(ranked[i].point);
  if (ranked.size() > out.size()) {
    // One child from the rest, so the model keeps meeting points it ranks
    // low and can correct itself.
    std::uniform_int_distribution<size_t> pick(out.size(), ranked.size() - 1);
    out.push_back(ranked[pick(rng)].point);
  }
  return out;
}
