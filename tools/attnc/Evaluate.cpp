//===- Evaluate.cpp - `attnc evaluate`: one candidate of a search ---------===//
//
// One job of the search (docs/Search.md §2): tune the candidate's untuned
// kernels (optional), compile it with the per-kernel cache, check it
// against the float64 reference (optional), time it end to end and per
// kernel under the exclusive measurement lock, run the user's score
// command, and write one JSON record.  Every step is its own process with a
// time limit, so a failing candidate becomes a record, never a crash of
// the search.
//
//===----------------------------------------------------------------------===//

#include "tools/attnc/SearchCommand.h"
#include "tools/attnc/SearchSupport.h"

#include "search/Record.h"
#include "search/Subprocess.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

using namespace attn;
using namespace attn::driver;

namespace {

const char *const kEvaluateUsage =
    "usage: attnc evaluate FILE --config C --out RECORD.json --work DIR\n"
    "         [--target T] [--cache DIR] [--db PATH] [--arch NAME]\n"
    "         [--dim N=V]... [--tune-trials N] [--check-rows R | --no-check]\n"
    "         [--timeout SECONDS] [--lock FILE] [--score-cmd 'CMD {config}']\n"
    "         [--score-timeout SECONDS] [--id N] [--generation G]\n"
    "         [--predicted-ms MS] [--bench-seconds S]\n"
    "\n"
    "Evaluates one point of an architecture space (one job of `attnc\n"
    "search`, docs/Search.md) and writes its record as one JSON line.\n";

struct EvaluateOptions {
  std::string file, config, out, work, target = "host", cache, db, arch;
  std::string lock, scoreCmd;
  std::vector<std::string> dims;
  int64_t tuneTrials = 0, checkRows = 16, id = 0, generation = 0;
  bool check = true;
  double timeout = 600, scoreTimeout = 600;
  std::string benchSeconds = "0.5";
  std::optional<double> predictedMs;
};

/// Parses the arguments; returns 0, or 2 after a usage error.
int parseEvaluateArgs(const std::vector<std::string> &args,
                      EvaluateOptions &o) {
  auto usage = [](const std::string &msg) {
    std::cerr << "attnc evaluate: error: " << msg << "\n" << kEvaluateUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    auto integer = [&](int64_t &out) {
      std::string v;
      if (!value(v))
        return false;
      return !llvm::StringRef(v).getAsInteger(10, out) && out >= 0;
    };
    auto seconds = [&](double &out) {
      std::string v;
      return value(v) && parseDurationSeconds(v, out);
    };
    std::string v;
    bool ok = true;
    if (a == "--config")
      ok = value(o.config);
    else if (a == "--out")
      ok = value(o.out);
    else if (a == "--work")
      ok = value(o.work);
    else if (a == "--target")
      ok = value(o.target);
    else if (a == "--cache")
      ok = value(o.cache);
    else if (a == "--db")
      ok = value(o.db);
    else if (a == "--arch")
      ok = value(o.arch);
    else if (a == "--lock")
      ok = value(o.lock);
    else if (a == "--bench-seconds")
      ok = value(o.benchSeconds);
    else if (a == "--score-cmd")
      ok = value(o.scoreCmd);
    else if (a == "--dim")
      ok = value(v) && (o.dims.push_back(v), true);
    else if (a == "--tune-trials")
      ok = integer(o.tuneTrials);
    else if (a == "--check-rows")
      ok = integer(o.checkRows) && o.checkRows > 0;
    else if (a == "--no-check")
      o.check = false;
    else if (a == "--id")
      ok = integer(o.id);
    else if (a == "--generation")
      ok = integer(o.generation);
    else if (a == "--timeout")
      ok = seconds(o.timeout);
    else if (a == "--score-timeout")
      ok = seconds(o.scoreTimeout);
    else if (a == "--predicted-ms") {
      double ms;
      ok = value(v) && !llvm::StringRef(v).getAsDouble(ms);
      if (ok)
        o.predictedMs = ms;
    } else if (a == "--help" || a == "-h") {
      std::cout << kEvaluateUsage;
      return 1;
    } else if (!a.empty() && a[0] == '-')
      return usage("unknown option '" + a + "'");
    else if (o.file.empty())
      o.file = a;
    else
      return usage("unexpected argument '" + a + "'");
    if (!ok)
      return usage("option '" + a + "' needs a valid value");
  }
  if (o.file.empty() || o.out.empty() || o.work.empty())
    return usage("FILE, --out and --work are required");
  return 0;
}

/// The status of a step that ran `result`, or "" when it succeeded.
std::string failureStatus(const ProcessResult &result,
                          const std::string &exitStatus) {
  if (result.succeeded())
    return "";
  if (result.timedOut)
    return "timeout";
  if (result.signal)
    return "crash";
  if (!result.startError.empty())
    return "error";
  return exitStatus;
}

/// Reads a file as text; nullopt when unreadable.
std::optional<std::string> readText(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return std::nullopt;
  return (*buffer)->getBuffer().str();
}

/// Fills the measured fields of `record` from attn-run's --json output and
/// the candidate's plan.  "" or an error.
std::string readMeasurement(const std::string &jsonText,
                            const CandidatePlan &plan,
                            search::EvalRecord &record) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(jsonText);
  if (!parsed)
    return "attn-run --json: " + llvm::toString(parsed.takeError());
  const llvm::json::Object *root = parsed->getAsObject();
  const llvm::json::Object *e2e =
      root ? root->getObject("end_to_end") : nullptr;
  if (!e2e)
    return "attn-run --json: no end_to_end timing";
  record.latencyMs = e2e->getNumber("median_ms");
  // The spread is p90 - p10 of the timed runs (docs/Search.md §5).
  if (auto p10 = e2e->getNumber("p10_ms"), p90 = e2e->getNumber("p90_ms");
      p10 && p90)
    record.spreadMs = *p90 - *p10;
  record.runs = e2e->getInteger("runs").value_or(0);
  std::map<std::string, double> totalMs;
  if (const llvm::json::Array *kernels = root->getArray("per_kernel"))
    for (const llvm::json::Value &k : *kernels)
      if (const llvm::json::Object *o = k.getAsObject())
        totalMs[o->getString("kernel").value_or("").str()] =
            o->getNumber("total_ms").value_or(0);
  for (const PlannedKernel &k : plan.kernels) {
    search::KernelTime t;
    t.kernel = k.name;
    t.key = k.tuningKey;
    t.schedule = k.schedule;
    t.calls = k.calls;
    t.flops = k.flopsPerCall;
    t.form = k.form;
    t.ms = k.calls > 0 ? totalMs[k.name] / double(k.calls) : 0;
    record.kernels.push_back(t);
  }
  return "";
}

/// Runs the user's score command for `config`; fills the score fields.
void runScore(const EvaluateOptions &o, search::EvalRecord &record) {
  std::string command = o.scoreCmd;
  std::string quoted = shellQuote(o.config);
  for (size_t at = command.find("{config}"); at != std::string::npos;
       at = command.find("{config}", at + quoted.size()))
    command.replace(at, 8, quoted);
  ProcessResult r = runWithTimeout({"/bin/sh", "-c", command}, o.scoreTimeout);
  if (!r.succeeded()) {
    record.scoreStatus = r.timedOut ? "timeout" : "failed";
    record.scoreDetail = r.describe() + ": " + lastLines(r.output, 3);
    return;
  }
  // The score is the last line that is a number.
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(r.output).split(lines, '\n');
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    double score;
    llvm::StringRef line = it->trim();
    if (line.empty())
      continue;
    if (!line.getAsDouble(score) && std::isfinite(score)) {
      record.score = score;
      record.scoreStatus = "ok";
      return;
    }
  }
  record.scoreStatus = "unparsable";
  record.scoreDetail =
      "no line of its output is a number: " + lastLines(r.output, 3);
}

/// The steps of one evaluation; fills `record`.
void evaluate(const EvaluateOptions &o, const std::string &dir,
              search::EvalRecord &record) {
  std::string attnc = dir + "/attnc", attnRun = dir + "/attn-run";
  std::vector<std::string> common{o.file, "--config", o.config, "--target",
                                  o.target};
  for (const std::string &d : o.dims)
    common.insert(common.end(), {"--dim", d});
  if (!o.db.empty())
    common.insert(common.end(), {"--db", o.db});
  auto fail = [&](const std::string &status, const std::string &detail) {
    record.status = status;
    record.detail = detail;
  };
  std::optional<FileLock> shared;
  auto lockShared = [&] {
    if (!o.lock.empty())
      shared.emplace(o.lock, /*exclusive=*/false);
  };
  lockShared();

  // The plan: kernels, keys, schedules, cost figures (also validates).
  CandidatePlan plan;
  bool timedOut = false;
  if (std::string err =
          planCandidate(attnc, common, o.arch, o.timeout, plan, &timedOut);
      !err.empty())
    return fail(timedOut ? "timeout" : "invalid", err);
  record.params = plan.params;
  record.flops = plan.flops;
  record.memoryBytes = plan.memoryBytes;
  record.calls = plan.calls;

  if (o.tuneTrials > 0) {
    std::vector<std::string> argv{attnc, "tune"};
    argv.insert(argv.end(), common.begin(), common.end());
    argv.insert(argv.end(),
                {"--skip-tuned", "--trials", std::to_string(o.tuneTrials)});
    // The tuner times candidates: nothing else of the search may run.
    shared.reset();
    std::optional<FileLock> exclusive;
    if (!o.lock.empty())
      exclusive.emplace(o.lock, /*exclusive=*/true);
    ProcessResult tuned = runWithTimeout(argv, o.timeout);
    exclusive.reset();
    lockShared();
    if (!tuned.succeeded())
      record.detail = "tuning: " + tuned.describe() + ": " +
                      lastLines(tuned.output, 3) + "\n";
    // Tuned schedules change the kernels' schedules: plan again.
    if (std::string err =
            planCandidate(attnc, common, o.arch, o.timeout, plan, &timedOut);
        !err.empty())
      return fail(timedOut ? "timeout" : "invalid", err);
  }

  llvm::sys::fs::create_directories(o.work);
  std::string library = o.work + "/candidate.so";
  std::vector<std::string> compile{attnc, "compile"};
  compile.insert(compile.end(), common.begin(), common.end());
  compile.insert(compile.end(), {"-o", library});
  if (!o.cache.empty())
    compile.insert(compile.end(), {"--kernel-cache", o.cache});
  ProcessResult compiled = runWithTimeout(compile, o.timeout);
  if (std::string s = failureStatus(compiled, "compile_error"); !s.empty())
    return fail(s, compiled.describe() + ": " + lastLines(compiled.output, 6));

  std::vector<std::string> run{attnRun, library};
  if (!o.arch.empty())
    run.insert(run.end(), {"--arch", o.arch});
  if (o.check) {
    std::vector<std::string> argv = run;
    argv.insert(argv.end(), {"--check", "reference", "--check-rows",
                             std::to_string(o.checkRows)});
    ProcessResult checked = runWithTimeout(argv, o.timeout);
    if (std::string s = failureStatus(checked, "wrong"); !s.empty())
      return fail(s, "check: " + checked.describe() + ": " +
                         lastLines(checked.output, 4));
  }

  std::string measureJson = o.work + "/measure.json";
  {
    shared.reset();
    std::optional<FileLock> exclusive;
    if (!o.lock.empty())
      exclusive.emplace(o.lock, /*exclusive=*/true);
    std::vector<std::string> argv = run;
    argv.insert(argv.end(), {"--bench", "--profile", "--bench-seconds",
                             o.benchSeconds, "--json", measureJson});
    ProcessResult measured = runWithTimeout(argv, o.timeout);
    if (std::string s = failureStatus(measured, "error"); !s.empty())
      return fail(s, "measure: " + measured.describe() + ": " +
                         lastLines(measured.output, 4));
  }
  std::optional<std::string> text = readText(measureJson);
  if (!text)
    return fail("error", "attn-run wrote no " + measureJson);
  if (std::string err = readMeasurement(*text, plan, record); !err.empty())
    return fail("error", err);
  record.status = "ok";
}

} // namespace

int attn::driver::runEvaluateCommand(const std::vector<std::string> &args,
                                     const char *argv0) {
  EvaluateOptions o;
  if (int rc = parseEvaluateArgs(args, o))
    return rc == 1 ? 0 : rc;
  auto start = std::chrono::steady_clock::now();
  search::EvalRecord record;
  record.id = o.id;
  record.generation = o.generation;
  record.config = o.config;
  record.predictedMs = o.predictedMs;
  record.createdAt = search::timestampNow();
  evaluate(o, selfDir(argv0), record);
  if (!o.scoreCmd.empty() && record.status != "invalid") {
    // The score command uses the machine too: no timing may overlap it.
    std::optional<FileLock> shared;
    if (!o.lock.empty())
      shared.emplace(o.lock, /*exclusive=*/false);
    runScore(o, record);
  }
  record.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::ofstream out(o.out);
  out << search::toJsonLine(record) << "\n";
  out.close();
  if (!out) {
    std::cerr << "attnc evaluate: error: cannot write " << o.out << "\n";
    return 1;
  }
  return 0;
}
