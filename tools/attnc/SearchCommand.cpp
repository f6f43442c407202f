//===- SearchCommand.cpp - `attnc search`: hardware-aware search ----------===//
//
// The driver of docs/Search.md §3: each generation's points (proposed by
// SearchPropose.cpp) run as `attnc evaluate` jobs through the executor;
// each record is appended as it arrives, and the front, the plot and the
// model's quality are kept up to date.  Every generation's proposals come
// from a generator seeded by (seed, generation), so a resumed search makes
// the same proposals and skips the points it has already measured.
//
//===----------------------------------------------------------------------===//

#include "tools/attnc/SearchCommand.h"
#include "tools/attnc/SearchDriver.h"

#include "frontend/Frontend.h"
#include "frontend/Space.h"
#include "lowering/Manifest.h"
#include "lowering/halide/HalideBackend.h"
#include "runtime/TuningDb.h"
#include "search/Executor.h"
#include "search/Metrics.h"
#include "search/Pareto.h"
#include "search/Record.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <unistd.h>

using namespace attn;
using namespace attn::driver;
using attn::frontend::ArchSpace;
using attn::frontend::SpacePoint;
using search::EvalRecord;

namespace {

/// "12m05s", "45s".
std::string formatSeconds(double s) {
  char text[32];
  if (s >= 60)
    std::snprintf(text, sizeof(text), "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(text, sizeof(text), "%.0fs", s);
  return text;
}

/// "12.3 ms", "0.0123 ms": four significant digits.
std::string formatMs(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g ms", ms);
  return text;
}

} // namespace

std::string SearchDriver::loadSource() {
  auto file = llvm::MemoryBuffer::getFile(o.file);
  if (!file)
    return "cannot read '" + o.file + "': " + file.getError().message();
  std::string hash = sourceHash((*file)->getBuffer().str());
  if (o.resume && !o.sourceHash.empty() && hash != o.sourceHash)
    return o.file + " changed since the search in " + o.out +
           " began; start a new search (--out) to search the new source";
  o.sourceHash = hash;
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  return "";
}

std::vector<std::string>
SearchDriver::compileArgs(const std::string &config) const {
  std::vector<std::string> args{o.file, "--config", config, "--target",
                                o.target};
  for (const std::string &d : o.dims)
    args.insert(args.end(), {"--dim", d});
  if (!o.db.empty())
    args.insert(args.end(), {"--db", o.db});
  return args;
}

int SearchDriver::setUp() {
  // Candidates are measured here: the target must run on this machine.
  halide::TargetInfo target;
  if (std::string err = halide::resolveTarget(o.target, target); !err.empty()) {
    std::cerr << "attnc search: error: " << err << "\n";
    return 2;
  }
  if (!target.isNative) {
    std::cerr << "attnc search: error: target " << o.target << " ("
              << target.halideTarget
              << ") is not this machine's: the search measures every "
                 "candidate, so it runs on the machine of the target\n";
    return 2;
  }
  std::string saved = o.out + "/search.json";
  if (!o.resume && llvm::sys::fs::exists(saved)) {
    std::cerr << "attnc search: error: " << o.out
              << " already holds a search; continue it with --resume " << o.out
              << " or choose another --out\n";
    return 1;
  }
  if (auto ec = llvm::sys::fs::create_directories(o.out)) {
    std::cerr << "attnc search: error: cannot create " << o.out << ": "
              << ec.message() << "\n";
    return 1;
  }
  if (std::string err = loadSource(); !err.empty()) {
    std::cerr << "attnc search: error: " << err << "\n";
    return 1;
  }
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  module = frontend::parseSource(sourceMgr, context);
  if (!module)
    return 1;
  frontend::FrontendOptions fe;
  for (const std::string &d : o.dims) {
    std::string name;
    int64_t v;
    if (!parseNameInteger(d, name, v)) {
      std::cerr << "attnc search: error: malformed --dim '" << d
                << "': expected NAME=INTEGER\n";
      return 2;
    }
    fe.dimOverrides[name] = v;
  }
  auto built = ArchSpace::build(context, *module, fe, o.arch);
  if (mlir::failed(built))
    return 1;
  space.emplace(std::move(*built));
  if (space->choices().empty()) {
    std::cerr << "attnc search: error: architecture '" << space->arch()
              << "' has no choices: there is nothing to search\n";
    return 1;
  }
  std::string err;
  // Saved again when resuming: --generations and --time-budget may grow.
  std::ofstream(saved) << o.toJson();
  int64_t skipped = 0;
  if (llvm::sys::fs::exists(pointsPath()) &&
      !search::readJsonl(pointsPath(), records, err, &skipped)) {
    std::cerr << "attnc search: error: " << err << "\n";
    return 1;
  }
  if (skipped)
    std::cerr << "attnc search: note: ignored the cut-off last line of "
              << pointsPath() << " (the search was killed while writing)\n";
  for (const EvalRecord &r : records)
    evaluated.insert(r.config);
  // Resume in the last generation whose proposals were saved.
  while (llvm::sys::fs::exists(generationPath(generation + 1)))
    ++generation;
  std::string path = o.db.empty() ? rt::defaultTuningDbPath() : o.db;
  if (!path.empty() && llvm::sys::fs::exists(path)) {
    std::string warning;
    auto opened =
        rt::TuningDb::open(path, &warning, rt::TuningDbOpenMode::ReadOnly);
    if (opened)
      db = opened.take();
  }
  std::cerr << "attnc search: " << o.file << ", architecture " << space->arch()
            << ": " << space->choices().size() << " choices, "
            << space->sizeText() << " points; target " << o.target
            << "; objective "
            << (o.objective == "latency" ? "latency"
                                         : "latency vs " + o.objective)
            << (o.budgetMs ? "; budget " + formatMs(*o.budgetMs) : "") << "\n";
  if (!records.empty())
    std::cerr << "attnc search: resuming " << o.out << ": " << records.size()
              << " points already evaluated (not measured again)\n";
  return 0;
}

bool SearchDriver::loadGeneration(
    std::vector<std::string> &configs,
    std::map<std::string, double> &predicted) const {
  auto text = llvm::MemoryBuffer::getFile(generationPath(generation));
  if (!text)
    return false;
  llvm::SmallVector<llvm::StringRef> lines;
  (*text)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef line : lines) {
    auto [config, prediction] = line.split('\t');
    configs.push_back(config.str());
    double ms;
    if (!prediction.empty() && !prediction.getAsDouble(ms))
      predicted[config.str()] = ms;
  }
  return true;
}

std::string SearchDriver::saveGeneration(
    const std::vector<std::string> &configs,
    const std::map<std::string, double> &predicted) const {
  llvm::sys::fs::create_directories(o.out + "/generations");
  std::string path = generationPath(generation), tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const std::string &c : configs) {
      out << c;
      if (auto it = predicted.find(c); it != predicted.end())
        out << "\t" << it->second;
      out << "\n";
    }
    out.close();
    if (!out)
      return "cannot write " + tmp;
  }
  if (auto ec = llvm::sys::fs::rename(tmp, path))
    return "cannot write " + path + ": " + ec.message();
  return "";
}

EvalRecord SearchDriver::collect(const search::JobOutcome &outcome,
                                 const std::string &config, int64_t id) {
  std::string recordPath = o.out + "/jobs/" + std::to_string(id) + ".json";
  EvalRecord r;
  std::string error;
  auto text = llvm::MemoryBuffer::getFile(recordPath);
  if (text &&
      search::fromJsonLine((*text)->getBuffer().trim().str(), r, error)) {
    r.id = id;
    r.generation = generation;
  } else {
    // The job itself died (time limit, signal): record what happened.
    r = EvalRecord();
    r.id = id;
    r.generation = generation;
    r.config = config;
    r.createdAt = search::timestampNow();
    r.seconds = outcome.seconds;
    r.status = outcome.result.timedOut ? "timeout"
               : outcome.result.signal ? "crash"
                                       : "error";
    r.detail = "attnc evaluate: " + outcome.result.describe() + ": " +
               lastLines(outcome.result.output, 4);
  }
  llvm::sys::fs::remove(recordPath);
  llvm::sys::fs::remove_directories(o.out + "/work/" + std::to_string(id));
  return r;
}

bool SearchDriver::evaluate(const std::vector<std::string> &points,
                            const std::map<std::string, double> &predicted) {
  llvm::sys::fs::create_directories(o.out + "/jobs");
  search::LocalProcessPool pool(int(o.jobs));
  std::map<int64_t, std::string> configs;
  size_t next = 0;
  int64_t nextId = 0;
  for (const EvalRecord &r : records)
    nextId = std::max(nextId, r.id + 1);
  auto submit = [&] {
    const std::string &config = points[next++];
    int64_t id = nextId++;
    std::vector<std::string> argv{dir + "/attnc",
                                  "evaluate",
                                  o.file,
                                  "--config",
                                  config,
                                  "--target",
                                  o.target,
                                  "--out",
                                  o.out + "/jobs/" + std::to_string(id) +
                                      ".json",
                                  "--work",
                                  o.out + "/work/" + std::to_string(id),
                                  "--cache",
                                  o.out + "/cache",
                                  "--lock",
                                  o.out + "/measure.lock",
                                  "--id",
                                  std::to_string(id),
                                  "--generation",
                                  std::to_string(generation),
                                  "--timeout",
                                  std::to_string(o.candidateTimeout)};
    for (const std::string &d : o.dims)
      argv.insert(argv.end(), {"--dim", d});
    if (!o.arch.empty())
      argv.insert(argv.end(), {"--arch", o.arch});
    if (!o.db.empty())
      argv.insert(argv.end(), {"--db", o.db});
    if (o.tuneTrials > 0)
      argv.insert(argv.end(), {"--tune-trials", std::to_string(o.tuneTrials)});
    argv.insert(argv.end(),
                {"--bench-seconds", std::to_string(o.benchSeconds)});
    if (!o.check)
      argv.push_back("--no-check");
    else
      argv.insert(argv.end(), {"--check-rows", std::to_string(o.checkRows)});
    if (!o.scoreCmd.empty())
      argv.insert(argv.end(), {"--score-cmd", o.scoreCmd, "--score-timeout",
                               std::to_string(o.scoreTimeout)});
    if (auto it = predicted.find(config); it != predicted.end())
      argv.insert(argv.end(), {"--predicted-ms", std::to_string(it->second)});
    search::Job job;
    job.id = id;
    job.argv = argv;
    // The steps have their own limits; this bounds the whole job.
    job.timeoutSeconds =
        5 * o.candidateTimeout + (o.scoreCmd.empty() ? 0 : o.scoreTimeout);
    configs[id] = config;
    pool.submit(std::move(job));
  };
  while (next < points.size() && pool.pending() < size_t(o.jobs) &&
         !outOfTime())
    submit();
  while (pool.pending() > 0) {
    std::optional<search::JobOutcome> outcome = pool.next();
    if (!outcome)
      break;
    EvalRecord r = collect(*outcome, configs[outcome->id], outcome->id);
    std::string error;
    if (!search::appendJsonl(pointsPath(), r, error)) {
      std::cerr << "attnc search: error: " << error << "\n";
      return false;
    }
    records.push_back(r);
    evaluated.insert(r.config);
    addDbTimes(r.kernels);
    progress(r);
    while (next < points.size() && pool.pending() < size_t(o.jobs) &&
           !outOfTime())
      submit();
  }
  return true;
}

void SearchDriver::progress(const EvalRecord &r) const {
  char line[512];
  std::string result =
      r.status == "ok" && r.latencyMs ? formatMs(*r.latencyMs) : r.status;
  if (r.predictedMs && r.status == "ok")
    result += " (predicted " + formatMs(*r.predictedMs) + ")";
  if (!r.scoreStatus.empty())
    result += r.score ? ", score " + std::to_string(*r.score)
                      : ", score " + r.scoreStatus;
  size_t failed = 0;
  const EvalRecord *best = nullptr;
  for (const EvalRecord &x : records) {
    failed += x.status == "ok" ? 0 : 1;
    if (isFeasible(o, x) && (!best || *x.latencyMs < *best->latencyMs))
      best = &x;
  }
  std::snprintf(
      line, sizeof(line),
      "[gen %lld/%lld] #%lld %s | evaluated %zu (%zu failed) | best "
      "feasible %s",
      (long long)generation + 1, (long long)o.generations, (long long)r.id,
      result.c_str(), records.size(), failed,
      best ? (formatMs(*best->latencyMs) + " #" + std::to_string(best->id))
                 .c_str()
           : "none yet");
  std::cerr << line;
  if (o.timeBudgetSeconds > 0)
    std::cerr << " | "
              << formatSeconds(std::max(0.0, o.timeBudgetSeconds - elapsed()))
              << " left";
  std::cerr << "\n    " << r.config;
  if (r.status != "ok" && !r.detail.empty())
    std::cerr << "\n    " << lastLines(r.detail, 1);
  std::cerr << std::endl;
}

ModelReport SearchDriver::modelReport() const {
  ModelReport report;
  std::vector<search::Candidate> candidates;
  std::vector<std::vector<search::KernelTimeSample>> times;
  std::vector<double> measured, onlinePredicted, onlineMeasured;
  for (const EvalRecord &r : records) {
    if (r.status != "ok" || !r.latencyMs)
      continue;
    candidates.push_back(candidateOf(r));
    std::vector<search::KernelTimeSample> samples;
    for (const search::KernelTime &k : r.kernels)
      samples.push_back(sampleOf(k));
    times.push_back(samples);
    measured.push_back(*r.latencyMs);
    if (r.predictedMs) {
      onlinePredicted.push_back(*r.predictedMs);
      onlineMeasured.push_back(*r.latencyMs);
    }
  }
  std::vector<search::KernelTimeSample> base;
  for (const auto &[key, ms] : dbTimes)
    if (std::isfinite(ms))
      base.push_back({key, "", 0, ms});
  report.crossValidation =
      search::crossValidate(candidates, times, measured, base, 5);
  report.online.points = int64_t(onlineMeasured.size());
  report.online.kendallTau =
      search::kendallTau(onlinePredicted, onlineMeasured);
  report.online.mape =
      search::meanAbsPercentError(onlinePredicted, onlineMeasured);
  search::LatencyModel model = buildModel();
  report.calibration = model.calibration();
  report.kernels = model.kernelCount();
  return report;
}

void SearchDriver::summary(const ModelReport &report) const {
  std::vector<size_t> front = feasibleFront(o, records);
  std::vector<search::Objective> objectives = frontObjectives(o);
  std::cout << "evaluated " << records.size() << " points in "
            << formatSeconds(elapsed()) << "; Pareto front (latency vs "
            << objectives[1].name << ", feasible points"
            << (o.budgetMs ? " within " + formatMs(*o.budgetMs) : "") << "):\n";
  for (size_t i : front) {
    const EvalRecord &r = records[i];
    std::vector<double> v = objectiveValues(o, r);
    char line[256];
    std::snprintf(line, sizeof(line), "  #%-4lld %9.4g ms ±%-8.3g %s=%-12.6g ",
                  (long long)r.id, v[0], r.spreadMs ? *r.spreadMs : 0.0,
                  objectives[1].name.c_str(), v[1]);
    std::cout << line << r.config << "\n";
  }
  if (front.empty())
    std::cout << "  (no feasible point)\n";
  auto q = [](const search::ModelQuality &m) {
    char text[128];
    std::snprintf(text, sizeof(text), "Kendall tau %.3f, MAPE %.1f%% over %lld",
                  m.kendallTau, m.mape, (long long)m.points);
    return std::string(text);
  };
  std::cout << "latency model: held out (5-fold) " << q(report.crossValidation)
            << " points; predicted before measuring " << q(report.online)
            << " points\n";
  std::cout << "results in " << o.out
            << ": points.jsonl, points.csv, front.json, front.svg, "
               "model.json\n";
}

int SearchDriver::run() {
  if (int rc = setUp())
    return rc;
  for (; generation < o.generations && !outOfTime(); ++generation) {
    // A generation's proposals are saved before any is evaluated, so a
    // resumed search finishes the generation it was in without proposing
    // anew, then goes on.
    std::map<std::string, double> predicted;
    std::vector<std::string> configs;
    if (!loadGeneration(configs, predicted)) {
      std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL +
                          uint64_t(generation) + 1);
      for (const SpacePoint &p : propose(rng, predicted))
        configs.push_back(space->toConfig(p));
      if (std::string err = saveGeneration(configs, predicted); !err.empty()) {
        std::cerr << "attnc search: error: " << err << "\n";
        return 1;
      }
    }
    std::vector<std::string> fresh;
    for (const std::string &c : configs)
      if (!evaluated.count(c))
        fresh.push_back(c);
    if (configs.empty()) {
      std::cerr << "attnc search: the space has no unevaluated valid point "
                   "left\n";
      break;
    }
    if (!evaluate(fresh, predicted))
      return 1;
    if (std::string err = writeResults(o, records); !err.empty()) {
      std::cerr << "attnc search: error: " << err << "\n";
      return 1;
    }
  }
  ModelReport report = modelReport();
  if (std::string err = writeResults(o, records); !err.empty()) {
    std::cerr << "attnc search: error: " << err << "\n";
    return 1;
  }
  if (std::string err = writeModelReport(o, report); !err.empty()) {
    std::cerr << "attnc search: error: " << err << "\n";
    return 1;
  }
  summary(report);
  return 0;
}

int attn::driver::runSearchCommand(const std::vector<std::string> &args,
                                   const char *argv0) {
  SearchOptions options;
  std::vector<std::string> given;
  if (int rc = parseSearchArgs(args, options, given))
    return rc == 1 ? 0 : rc;
  if (options.resume) {
    std::string savedPath = options.out + "/search.json";
    auto saved = llvm::MemoryBuffer::getFile(savedPath);
    if (!saved) {
      std::cerr << "attnc search: error: cannot resume: " << savedPath << ": "
                << saved.getError().message() << "\n";
      return 1;
    }
    SearchOptions resumed;
    if (std::string err = resumed.fromJson((*saved)->getBuffer().str());
        !err.empty()) {
      std::cerr << "attnc search: error: cannot resume: " << savedPath << ": "
                << err << "\n";
      return 1;
    }
    // What may change between runs: how long and how wide.
    for (const std::string &flag : given) {
      if (flag == "--generations")
        resumed.generations = options.generations;
      else if (flag == "--time-budget")
        resumed.timeBudgetSeconds = options.timeBudgetSeconds;
      else if (flag == "--jobs")
        resumed.jobs = options.jobs;
      else if (flag != "--resume") {
        std::cerr << "attnc search: error: " << flag
                  << " cannot change when resuming (the search's options "
                     "are in "
                  << savedPath
                  << "); only --generations, --time-budget and --jobs can\n";
        return 2;
      }
    }
    if (!options.file.empty() && options.file != resumed.file) {
      std::cerr << "attnc search: error: " << options.out << " searches "
                << resumed.file << ", not " << options.file << "\n";
      return 2;
    }
    resumed.out = options.out;
    resumed.resume = true;
    options = resumed;
  }
  SearchDriver search(options, selfDir(argv0));
  return search.run();
}
