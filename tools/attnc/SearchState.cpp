//===- SearchState.cpp - the state of one `attnc search` ------------------===//

#include "tools/attnc/SearchState.h"

#include "tools/attnc/SearchSupport.h"

#include "search/SvgPlot.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <fstream>
#include <iostream>

using namespace attn;
using namespace attn::driver;

namespace {

const char *const kSearchUsage =
    "usage: attnc search FILE [--target T] [--latency-budget 5ms]\n"
    "         [--objective latency|params|flops|memory|score-cmd]\n"
    "         [--strategy random|evolutionary] [--population P]\n"
    "         [--generations G] [--time-budget 30m] [--seed S] [--out DIR]\n"
    "         [--score-cmd 'CMD {config}'] [--score-timeout 10m]\n"
    "         [--jobs J] [--tune-trials N] [--candidate-timeout 10m]\n"
    "         [--no-check | --check-rows R] [--arch NAME] [--dim N=V]...\n"
    "         [--bench-seconds 0.5] [--db PATH]\n"
    "       attnc search --resume DIR [--generations G] [--time-budget T]\n"
    "         [--jobs J]\n"
    "\n"
    "Searches the `choose` space of an architecture on the target: every\n"
    "candidate is compiled and measured end to end; the output is every\n"
    "point (DIR/points.jsonl, points.csv), the Pareto front of latency\n"
    "against the objective (front.json, front.svg) and the latency model's\n"
    "quality (model.json).  See docs/Search.md.\n";

bool writeFile(const std::string &path, const std::string &text,
               std::string &error) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out)
    error = "cannot write " + path;
  return bool(out);
}

/// A number as JSON (null when not finite).
llvm::json::Value number(double v) {
  return std::isfinite(v) ? llvm::json::Value(v) : llvm::json::Value(nullptr);
}

llvm::json::Value optionalNumber(const std::optional<double> &v) {
  return v ? number(*v) : llvm::json::Value(nullptr);
}

} // namespace

std::string SearchOptions::toJson() const {
  llvm::json::Object o{{"format", "attnc-search"},
                       {"version", 1},
                       {"file", file},
                       {"arch", arch},
                       {"dims", llvm::json::Array(dims)},
                       {"target", target},
                       {"latency_budget_ms", optionalNumber(budgetMs)},
                       {"objective", objective},
                       {"strategy", strategy},
                       {"population", population},
                       {"generations", generations},
                       {"time_budget_seconds", timeBudgetSeconds},
                       {"seed", int64_t(seed)},
                       {"score_cmd", scoreCmd},
                       {"score_timeout_seconds", scoreTimeout},
                       {"jobs", jobs},
                       {"tune_trials", tuneTrials},
                       {"candidate_timeout_seconds", candidateTimeout},
                       {"check", check},
                       {"check_rows", checkRows},
                       {"bench_seconds", benchSeconds},
                       {"db", db},
                       {"source_hash", sourceHash}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(o))) << "\n";
  return os.str();
}

std::string SearchOptions::fromJson(const std::string &text) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return llvm::toString(parsed.takeError());
  const llvm::json::Object *o = parsed->getAsObject();
  if (!o || o->getString("format") != "attnc-search")
    return "not an attnc search (format is not 'attnc-search')";
  if (o->getInteger("version") != 1)
    return "search format version is not 1";
  auto str = [&](const char *key, std::string &out) {
    if (auto v = o->getString(key))
      out = v->str();
  };
  auto integer = [&](const char *key, int64_t &out) {
    if (auto v = o->getInteger(key))
      out = *v;
  };
  auto real = [&](const char *key, double &out) {
    if (auto v = o->getNumber(key))
      out = *v;
  };
  str("file", file);
  str("arch", arch);
  str("target", target);
  str("objective", objective);
  str("strategy", strategy);
  str("score_cmd", scoreCmd);
  str("db", db);
  str("source_hash", sourceHash);
  dims.clear();
  if (const llvm::json::Array *d = o->getArray("dims"))
    for (const llvm::json::Value &v : *d)
      if (auto s = v.getAsString())
        dims.push_back(s->str());
  budgetMs.reset();
  if (auto b = o->getNumber("latency_budget_ms"))
    budgetMs = *b;
  integer("population", population);
  integer("generations", generations);
  real("time_budget_seconds", timeBudgetSeconds);
  int64_t s = 0;
  integer("seed", s);
  seed = uint64_t(s);
  real("score_timeout_seconds", scoreTimeout);
  integer("jobs", jobs);
  integer("tune_trials", tuneTrials);
  real("candidate_timeout_seconds", candidateTimeout);
  if (auto c = o->getBoolean("check"))
    check = *c;
  integer("check_rows", checkRows);
  real("bench_seconds", benchSeconds);
  return "";
}

int attn::driver::parseSearchArgs(const std::vector<std::string> &args,
                                  SearchOptions &o,
                                  std::vector<std::string> &given) {
  auto usage = [](const std::string &msg) {
    std::cerr << "attnc search: error: " << msg << "\n" << kSearchUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= args.size())
        return false;
      v = args[++i];
      return true;
    };
    auto count = [&](int64_t &out, int64_t lo, int64_t hi) {
      return value() && !llvm::StringRef(v).getAsInteger(10, out) &&
             out >= lo && out <= hi;
    };
    auto seconds = [&](double &out) {
      return value() && parseDurationSeconds(v, out);
    };
    if (a.rfind("--", 0) == 0)
      given.push_back(a);
    bool ok = true;
    std::string why;
    if (a == "--help" || a == "-h") {
      std::cout << kSearchUsage;
      return 1;
    } else if (a == "--target")
      ok = value() && (o.target = v, true);
    else if (a == "--arch")
      ok = value() && (o.arch = v, true);
    else if (a == "--dim")
      ok = value() && (o.dims.push_back(v), true);
    else if (a == "--db")
      ok = value() && (o.db = v, true);
    else if (a == "--out")
      ok = value() && (o.out = v, true);
    else if (a == "--resume") {
      ok = value() && (o.out = v, true);
      o.resume = true;
    } else if (a == "--latency-budget") {
      double ms;
      ok = value() && parseLatencyMs(v, ms);
      if (ok)
        o.budgetMs = ms;
      why = "expected a time such as 5ms, 0.5s or 800us";
    } else if (a == "--objective") {
      ok = value() && (v == "latency" || v == "params" || v == "flops" ||
                       v == "memory" || v == "score-cmd");
      o.objective = v;
      why = "expected latency, params, flops, memory or score-cmd";
    } else if (a == "--strategy") {
      ok = value() && (v == "random" || v == "evolutionary");
      o.strategy = v;
      why = "expected random or evolutionary";
    } else if (a == "--population") {
      ok = count(o.population, 1, 100000);
      why = "expected an integer in [1, 100000]";
    } else if (a == "--generations") {
      ok = count(o.generations, 1, 100000);
      why = "expected an integer in [1, 100000]";
    } else if (a == "--jobs") {
      ok = count(o.jobs, 1, 1024);
      why = "expected an integer in [1, 1024]";
    } else if (a == "--tune-trials") {
      ok = count(o.tuneTrials, 0, 100000);
      why = "expected an integer >= 0";
    } else if (a == "--check-rows") {
      ok = count(o.checkRows, 1, 1 << 30);
      why = "expected a positive integer";
    } else if (a == "--no-check") {
      o.check = false;
    } else if (a == "--seed") {
      int64_t s;
      ok = count(s, 0, INT64_MAX);
      o.seed = uint64_t(s);
      why = "expected a non-negative integer";
    } else if (a == "--time-budget") {
      ok = seconds(o.timeBudgetSeconds);
      why = "expected a duration such as 90s, 30m or 2h";
    } else if (a == "--candidate-timeout") {
      ok = seconds(o.candidateTimeout);
      why = "expected a duration such as 90s, 30m or 2h";
    } else if (a == "--score-timeout") {
      ok = seconds(o.scoreTimeout);
      why = "expected a duration such as 90s, 30m or 2h";
    } else if (a == "--bench-seconds") {
      ok = value() && !llvm::StringRef(v).getAsDouble(o.benchSeconds) &&
           o.benchSeconds > 0 && o.benchSeconds <= 3600;
      why = "expected seconds in (0, 3600]";
    } else if (a == "--score-cmd") {
      ok = value() && !v.empty();
      o.scoreCmd = v;
      why = "expected a command";
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      return usage("unexpected argument '" + a + "' (one FILE only)");
    }
    if (!ok)
      return usage("bad value for " + a + (v.empty() ? "" : " '" + v + "'") +
                   (why.empty() ? "" : ": " + why));
  }
  if (!o.resume && o.file.empty())
    return usage("no FILE given");
  if (!o.scoreCmd.empty() && o.objective == "latency")
    o.objective = "score-cmd";
  if (o.objective == "score-cmd" && o.scoreCmd.empty())
    return usage("--objective score-cmd needs --score-cmd 'CMD {config}'");
  if (!o.scoreCmd.empty() && o.scoreCmd.find("{config}") == std::string::npos)
    return usage("--score-cmd must contain {config} (where the point's "
                 "configuration goes)");
  return 0;
}

std::vector<search::Objective>
attn::driver::frontObjectives(const SearchOptions &o) {
  std::string cost = o.objective == "latency" ? "params" : o.objective;
  if (cost == "score-cmd")
    return {{"latency_ms", false}, {"score", true}};
  return {{"latency_ms", false}, {cost, false}};
}

std::vector<double> attn::driver::objectiveValues(const SearchOptions &o,
                                                  const search::EvalRecord &r) {
  auto get = [](const std::optional<double> &v) { return v ? *v : NAN; };
  std::string cost = o.objective == "latency" ? "params" : o.objective;
  double second = cost == "params"   ? get(r.params)
                  : cost == "flops"  ? get(r.flops)
                  : cost == "memory" ? get(r.memoryBytes)
                                     : get(r.score);
  return {r.status == "ok" ? get(r.latencyMs) : NAN, second};
}

bool attn::driver::isFeasible(const SearchOptions &o,
                              const search::EvalRecord &r) {
  if (r.status != "ok" || !r.latencyMs)
    return false;
  return !o.budgetMs || *r.latencyMs <= *o.budgetMs;
}

std::vector<size_t>
attn::driver::feasibleFront(const SearchOptions &o,
                            const std::vector<search::EvalRecord> &rs) {
  std::vector<std::vector<double>> points;
  for (const search::EvalRecord &r : rs) {
    std::vector<double> v = objectiveValues(o, r);
    if (!isFeasible(o, r))
      v[0] = NAN;
    points.push_back(v);
  }
  return search::paretoFront(points, frontObjectives(o));
}

std::string
attn::driver::writeResults(const SearchOptions &o,
                           const std::vector<search::EvalRecord> &records) {
  std::string error;
  std::string csv = search::csvHeader() + "\n";
  for (const search::EvalRecord &r : records)
    csv += search::toCsvRow(r) + "\n";
  if (!writeFile(o.out + "/points.csv", csv, error))
    return error;

  std::vector<size_t> front = feasibleFront(o, records);
  std::vector<search::Objective> objectives = frontObjectives(o);
  llvm::json::Array points;
  for (size_t i : front) {
    const search::EvalRecord &r = records[i];
    std::vector<double> v = objectiveValues(o, r);
    points.push_back(
        llvm::json::Object{{"id", r.id},
                           {"config", r.config},
                           {"latency_ms", number(v[0])},
                           {"spread_ms", optionalNumber(r.spreadMs)},
                           {objectives[1].name, number(v[1])},
                           {"params", optionalNumber(r.params)},
                           {"flops", optionalNumber(r.flops)},
                           {"memory_bytes", optionalNumber(r.memoryBytes)},
                           {"score", optionalNumber(r.score)}});
  }
  llvm::json::Object doc{
      {"objectives", llvm::json::Array{objectives[0].name, objectives[1].name}},
      {"maximize",
       llvm::json::Array{objectives[0].maximize, objectives[1].maximize}},
      {"latency_budget_ms", optionalNumber(o.budgetMs)},
      {"target", o.target},
      {"evaluated", int64_t(records.size())},
      {"front", std::move(points)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(doc))) << "\n";
  if (!writeFile(o.out + "/front.json", os.str(), error))
    return error;

  search::PlotData plot;
  plot.title = "attnc search: " + o.file + " on " + o.target;
  for (size_t i = 0; i < o.dims.size(); ++i)
    plot.title +=
        (i ? ", " : " (") + o.dims[i] + (i + 1 == o.dims.size() ? ")" : "");
  plot.xLabel = "latency (ms, median)";
  plot.yLabel = objectives[1].name == "score"    ? "score (higher is better)"
                : objectives[1].name == "memory" ? "memory (bytes)"
                                                 : objectives[1].name;
  plot.xBudget = o.budgetMs;
  std::vector<bool> onFront(records.size(), false);
  for (size_t i : front)
    onFront[i] = true;
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<double> v = objectiveValues(o, records[i]);
    if (!std::isfinite(v[0]) || !std::isfinite(v[1]))
      continue;
    plot.points.push_back(
        {v[0], v[1], isFeasible(o, records[i]), onFront[i],
         "#" + std::to_string(records[i].id) + " " + records[i].config});
  }
  if (!writeFile(o.out + "/front.svg", search::renderFrontSvg(plot), error))
    return error;
  return "";
}

std::string attn::driver::writeModelReport(const SearchOptions &o,
                                           const ModelReport &r) {
  auto quality = [](const search::ModelQuality &q) {
    return llvm::json::Object{{"kendall_tau", number(q.kendallTau)},
                              {"mape_percent", number(q.mape)},
                              {"points", q.points},
                              {"folds", q.folds}};
  };
  llvm::json::Object doc{
      {"cross_validation", quality(r.crossValidation)},
      {"online", quality(r.online)},
      {"calibration", llvm::json::Object{{"a", r.calibration.a},
                                         {"b", r.calibration.b},
                                         {"c", r.calibration.c},
                                         {"points", r.calibration.points},
                                         {"method", r.calibration.method}}},
      {"kernels_measured", int64_t(r.kernels)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(doc))) << "\n";
  std::string error;
  writeFile(o.out + "/model.json", os.str(), error);
  return error;
}
