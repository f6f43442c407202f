//===- Tune.cpp - attnc tune ----------------------------------------------===//

#include "tools/attnc/Tune.h"

#include "lowering/BlockDescBuilder.h"
#include "lowering/KernelDescBuilder.h"
#include "lowering/ScheduleSpace.h"
#include "runtime/TuningDb.h"
#include "tools/attnc/Link.h"
#include "search/Subprocess.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <unistd.h>

using namespace attn;
using namespace attn::driver;

namespace {

using Clock = std::chrono::steady_clock;

/// One measured candidate.
struct Trial {
  SchedulePoint point;
  std::string status = "ok"; // ok | wrong | crash | timeout | compile_error
  double median = 0, spread = 0, gflops = 0;
  int runs = 0;
  std::string detail;
};

/// Parses "crash@2,hang@3,wrong@4".
std::map<int64_t, std::string> parsePlant(const std::string &text) {
  std::map<int64_t, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos
                                            ? std::string::npos
                                            : comma - pos);
    size_t at = item.find('@');
    if (at != std::string::npos)
      out[std::stoll(item.substr(at + 1))] = item.substr(0, at);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

/// Writes and compiles a C object whose load-time constructor misbehaves.
std::string plantObject(const std::string &kind, const std::string &dir,
                        std::string &objPath) {
  std::string src = dir + "/plant.c";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(src, ec);
    if (ec)
      return ec.message();
    os << "/* A planted tuning candidate (attnc tune --plant). */\n"
       << "#include <signal.h>\n#include <unistd.h>\n"
       << "__attribute__((constructor)) static void attnc_plant(void) {\n";
    if (kind == "crash")
      os << "  raise(SIGSEGV);\n";
    else
      os << "  for (;;) pause();\n";
    os << "}\n";
  }
  objPath = dir + "/plant.o";
  return runProgram({cCompiler(), "-c", "-fPIC", src, "-o", objPath});
}

/// One kernel to tune: an attention kernel or a block kernel.
struct TuneItem {
  std::string name;
  std::string key;
  ScheduleSpace space;
  /// The first trial: the kernel's own point (the heuristic, its schedule
  /// attribute).
  SchedulePoint first;
  std::optional<AttentionKernelDesc> attention;
  std::optional<BlockKernelDesc> block;
};

/// Classifies a failed measurement process.
std::string failureStatus(const ProcessResult &r) {
  if (r.timedOut)
    return "timeout";
  return "crash";
}

class Tuner {
public:
  Tuner(const halide::TargetInfo &target, const std::string &sourcePath,
        const std::string &sourceText, const TuneOptions &options,
        std::optional<halide::TargetInfo> checkTarget)
      : target(target), sourcePath(sourcePath), sourceText(sourceText),
        options(options), plants(parsePlant(options.plant)),
        checkTarget(std::move(checkTarget)) {}

  /// True when candidates are only checked (on checkTarget), not timed.
  bool correctnessOnly() const { return checkTarget.has_value(); }

  /// Compiles and measures one point: a library with the kernel alone.
  Trial evaluate(const TuneItem &item, const SchedulePoint &point,
                 int64_t trialNumber) {
    Trial t;
    t.point = point;
    llvm::SmallString<128> dir;
    if (auto ec = llvm::sys::fs::createUniqueDirectory("attnc-tune", dir)) {
      t.status = "compile_error";
      t.detail = ec.message();
      return t;
    }
    auto cleanup =
        llvm::make_scope_exit([&] { llvm::sys::fs::remove_directories(dir); });

    LibraryRequest request;
    request.target = target;
    request.sourcePath = sourcePath;
    request.sourceText = sourceText;
    if (item.attention) {
      AttentionKernelDesc candidate = *item.attention;
      candidate.schedule = point;
      request.kernels = {candidate};
      request.scheduleSource = {"candidate"};
    } else {
      BlockKernelDesc candidate = *item.block;
      candidate.schedule = point;
      candidate.scheduleSource = "candidate";
      request.blocks = {candidate};
    }
    auto plant = plants.find(trialNumber);
    if (plant != plants.end()) {
      if (plant->second == "wrong") {
        // The kernel disagrees with its reference (a doubled scale); the
        // manifest describes a block kernel as compiled, so only attention
        // kernels can be planted wrong.
        if (item.attention) {
          request.manifestKernels = request.kernels;
          request.kernels[0].scale *= 2.0;
        }
      } else {
        std::string obj;
        if (std::string err = plantObject(plant->second, dir.str().str(), obj);
            !err.empty()) {
          t.status = "compile_error";
          t.detail = err;
          return t;
        }
        request.extraObjects = {obj};
      }
    }
    std::string lib = (dir + "/candidate.so").str(), note;
    if (std::string err = buildLibrary(request, lib, note); !err.empty()) {
      t.status = "compile_error";
      t.detail = err;
      return t;
    }
    if (checkTarget) {
      // Correctness only: the same schedule point, compiled for the
      // OpenCL device there is, runs against the reference.
      request.target = *checkTarget;
      lib = (dir + "/check.so").str();
      if (std::string err = buildLibrary(request, lib, note); !err.empty()) {
        t.status = "compile_error";
        t.detail = "for " + checkTarget->requested + ": " + err;
        return t;
      }
    }

    // Correctness first, against the float64 reference.
    ProcessResult check =
        runWithTimeout({options.attnRunPath, lib, "--kernel", item.name,
                        "--check", "reference", "--check-rows", "64"},
                       options.candidateTimeout);
    if (!check.succeeded() || check.output.find(" PASS") == std::string::npos) {
      bool wrong = check.startError.empty() && !check.timedOut &&
                   check.signal == 0 &&
                   check.output.find(" FAIL") != std::string::npos;
      t.status = wrong ? "wrong" : failureStatus(check);
      t.detail = check.describe() + ": " + lastLine(check.output);
      return t;
    }
    if (checkTarget) {
      t.detail = "checked on " + checkTarget->requested + "; not timed";
      return t;
    }
    // Then the time: attn-run warms up, runs >= 5 times and reports the
    // median and the spread.
    ProcessResult bench = runWithTimeout(
        {options.attnRunPath, lib, "--kernel", item.name, "--bench"},
        options.candidateTimeout);
    if (!bench.succeeded()) {
      t.status = failureStatus(bench);
      t.detail = bench.describe() + ": " + lastLine(bench.output);
      return t;
    }
    // GFLOP/s is missing where the reference counts no FLOPs (a block
    // kernel of layout ops).
    static const std::regex line(
        R"(median ([0-9.eE+-]+) ms \(min ([0-9.eE+-]+), max ([0-9.eE+-]+), n=([0-9]+)\)(\s+([0-9.eE+-]+) GFLOP/s)?)");
    std::smatch m;
    if (!std::regex_search(bench.output, m, line)) {
      t.status = "crash";
      t.detail = "unreadable measurement: " + lastLine(bench.output);
      return t;
    }
    t.median = std::stod(m[1]) * 1e-3;
    t.spread = (std::stod(m[3]) - std::stod(m[2])) * 1e-3;
    t.runs = std::stoi(m[4]);
    t.gflops = m[6].matched ? std::stod(m[6]) : 0.0;
    if (t.median <= 0) {
      // attn-run prints milliseconds to 3 decimals: a kernel under half a
      // microsecond reads 0.000; record the bound (an ok record needs a
      // positive median).
      t.median = 0.5e-6;
      t.detail = "median below the 0.001 ms resolution of attn-run --bench";
    }
    return t;
  }

  static std::string lastLine(const std::string &text) {
    std::string trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
      trimmed.pop_back();
    size_t nl = trimmed.rfind('\n');
    return nl == std::string::npos ? trimmed : trimmed.substr(nl + 1);
  }

  const halide::TargetInfo &target;
  const std::string &sourcePath;
  const std::string &sourceText;
  const TuneOptions &options;
  std::map<int64_t, std::string> plants;
  std::optional<halide::TargetInfo> checkTarget;
};

/// The device `attn-run --gpu-info API` reports, or nullopt (with why).
std::optional<std::string> gpuDevice(const TuneOptions &options,
                                     const std::string &api,
                                     std::string &why) {
  ProcessResult r =
      runWithTimeout({options.attnRunPath, "--gpu-info", api}, 60);
  std::string text = r.output;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  if (!r.succeeded()) {
    const std::string prefix = "attn-run: error: ";
    why = text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : text;
    return std::nullopt;
  }
  return text;
}

/// Proposes the next point to try.
class Proposer {
public:
  Proposer(const ScheduleSpace &space, const SchedulePoint &first,
           const std::string &strategy, uint64_t seed)
      : space(space), strategy(strategy), rng(seed) {
    queue.push_back(first);
    if (strategy == "grid") {
      std::vector<SchedulePoint> all = space.enumerate();
      queue.insert(queue.end(), all.begin(), all.end());
    }
  }

  /// Records a result (evolutionary keeps the best few as parents).
  void observe(const Trial &t) {
    if (t.status != "ok")
      return;
    parents.push_back(t);
    std::sort(parents.begin(), parents.end(),
              [](const Trial &a, const Trial &b) { return a.median < b.median; });
    if (parents.size() > 6)
      parents.resize(6);
  }

  /// The next untried point; false when the space is exhausted.
  bool next(SchedulePoint &out) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      SchedulePoint p;
      if (!queue.empty()) {
        p = queue.front();
        queue.erase(queue.begin());
      } else if (strategy == "grid") {
        return false;
      } else if (strategy == "evolutionary" && !parents.empty()) {
        double r = std::uniform_real_distribution<double>(0, 1)(rng);
        const SchedulePoint &a = parents[rng() % parents.size()].point;
        if (r < 0.6)
          p = space.mutate(a, rng);
        else if (r < 0.85 && parents.size() > 1)
          p = space.crossover(a, parents[rng() % parents.size()].point, rng);
        else
          p = space.sample(rng);
      } else {
        p = space.sample(rng);
      }
      if (tried.insert(ScheduleSpace::toJson(p)).second) {
        out = p;
        return true;
      }
    }
    return false;
  }

private:
  const ScheduleSpace &space;
  std::string strategy;
  std::mt19937_64 rng;
  std::vector<SchedulePoint> queue;
  std::vector<Trial> parents;
  std::set<std::string> tried;
};

/// Stores one trial of kernel `name` (tuning key `key`) in `db`.
std::string storeTrial(rt::TuningDb &db, const std::string &key,
                       const std::string &name,
                       const halide::TargetInfo &target, const Trial &t) {
  rt::TuningRecord record;
  record.key = key;
  record.kernel = name;
  record.target = target.halideTarget;
  record.compiler = compilerVersion();
  record.config = ScheduleSpace::toJson(t.point);
  record.status = t.status;
  record.medianSeconds = t.median;
  record.spreadSeconds = t.spread;
  record.runs = t.runs;
  record.gflops = t.gflops;
  record.createdAt = rt::tuningTimestampNow();
  record.detail = t.detail;
  rt::Status st = db.put(record);
  return st ? "" : st.message();
}

std::string formatMs(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  return buf;
}

} // namespace

int attn::driver::runTune(mlir::ModuleOp module,
                          const halide::TargetInfo &target,
                          const std::string &sourcePath,
                          const std::string &sourceText,
                          const TuneOptions &options) {
  if (!target.isNative) {
    llvm::errs() << "attnc: error: cannot tune for " << target.halideTarget
                 << ": candidates must run on this machine\n";
    return 1;
  }
  auto descs = buildKernelDescs(module);
  if (mlir::failed(descs))
    return 1;
  auto blocks = buildBlockKernelDescs(module);
  if (mlir::failed(blocks))
    return 1;
  std::map<std::string, mlir::attn::KernelOp> kernelOps;
  module.walk([&](mlir::attn::KernelOp k) { kernelOps[k.getName().str()] = k; });
  std::map<std::string, mlir::func::FuncOp> blockFuncs;
  for (auto fn : module.getOps<mlir::func::FuncOp>())
    if (fn->hasAttr(mlir::attn::kBlockKernelAttr))
      blockFuncs[fn.getSymName().str()] = fn;

  // What to tune: the attention kernels, then the block kernels.
  std::vector<TuneItem> items;
  for (const AttentionKernelDesc &desc : *descs) {
    if (!options.kernel.empty() && desc.name != options.kernel)
      continue;
    for (auto &[dim, size] : desc.dims)
      if (size < 0) {
        llvm::errs() << "attnc: error: kernel '" << desc.name << "': dim "
                     << dim << " is symbolic; tune at a length with --dim "
                     << dim << "=... (and compile with the same --dim to "
                     << "use the result)\n";
        return 1;
      }
    TuneItem item{desc.name,
                  tuningKey(kernelOps.at(desc.name), target.halideTarget),
                  halide::spaceFor(desc, target), desc.schedule, desc,
                  std::nullopt};
    items.push_back(std::move(item));
  }
  for (const BlockKernelDesc &desc : *blocks) {
    if (!options.kernel.empty() && desc.name != options.kernel)
      continue;
    mlir::func::FuncOp fn = blockFuncs.at(desc.name);
    // The space around the kernel's default point; the first trial is the
    // kernel's own point (its attn.schedule over the default).
    BlockKernelDesc plain = desc;
    plain.schedule.clear();
    SchedulePoint heuristic, first;
    std::string err = halide::resolveSchedule(plain, target, heuristic);
    if (err.empty())
      err = halide::resolveSchedule(desc, target, first);
    if (!err.empty()) {
      fn.emitError() << "block kernel '" << desc.name << "': " << err;
      return 1;
    }
    ScheduleSpace space =
        target.isGpu()
            ? ScheduleSpace::gpuBlockKernel(target.gpuLimits,
                                            desc.hasGemm(),
                                            desc.hasMaps())
            : ScheduleSpace::blockKernel(target.vectorLanes,
                                         target.vectorRegisters, heuristic,
                                         desc.hasGemm(),
                                         desc.hasMaps());
    // The space must declare exactly the knobs the backend resolves.
    std::set<std::string> declared, resolved;
    for (const KnobSpec &k : space.knobs())
      declared.insert(k.name);
    for (auto &[name, value] : heuristic)
      resolved.insert(name);
    if (declared != resolved) {
      llvm::errs() << "attnc: internal error: the block kernel knobs of "
                      "ScheduleSpace::blockKernel and resolveBlockKnobs "
                      "differ\n";
      return 1;
    }
    TuneItem item{desc.name, blockTuningKey(fn, target.halideTarget),
                  std::move(space), first, std::nullopt, desc};
    items.push_back(std::move(item));
  }
  if (items.empty()) {
    if (options.kernel.empty())
      llvm::errs() << "attnc: error: nothing to tune: the source defines no "
                      "kernel\n";
    else
      llvm::errs() << "attnc: error: no kernel named '" << options.kernel
                   << "'\n";
    return 1;
  }

  std::string dbPath =
      options.dbPath.empty() ? rt::defaultTuningDbPath() : options.dbPath;
  std::string warning;
  auto db = rt::TuningDb::open(dbPath, &warning);
  if (!warning.empty())
    llvm::errs() << "attnc: warning: " << warning << "\n";
  if (!db) {
    llvm::errs() << "attnc: error: " << db.message() << "\n";
    return 1;
  }
  if ((*db)->isReadOnly()) {
    llvm::errs() << "attnc: error: the tuning database " << dbPath
                 << " is read-only; tuning results could not be kept\n";
    return 1;
  }

  // GPU targets tune on the GPU when there is one.  Without a CUDA device,
  // CUDA schedules are tuned for correctness only: every candidate is
  // compiled for the CUDA target (its PTX) and checked on OpenCL (e.g.
  // PoCL on the CPU) against the reference; nothing is timed or stored.
  std::optional<halide::TargetInfo> checkTarget;
  if (target.isGpu()) {
    std::string why;
    std::optional<std::string> device =
        gpuDevice(options, target.deviceName(), why);
    if (device) {
      llvm::outs() << "tuning on " << *device << "\n";
    } else if (target.gpu == halide::GpuApi::Cuda) {
      std::string clWhy;
      std::optional<std::string> cl = gpuDevice(options, "opencl", clWhy);
      if (!cl) {
        llvm::errs() << "attnc: error: cannot tune for " << target.requested
                     << ": no CUDA device (" << why
                     << ") and no OpenCL device to check the schedules on ("
                     << clWhy << ")\n";
        return 1;
      }
      checkTarget.emplace();
      if (std::string err = halide::resolveTarget("opencl", *checkTarget);
          !err.empty()) {
        llvm::errs() << "attnc: error: " << err << "\n";
        return 1;
      }
      llvm::outs() << "CORRECTNESS ONLY, NOT A PERFORMANCE RESULT: no CUDA "
                      "device here ("
                   << why << ").\nEach candidate is compiled for "
                   << target.requested << " and checked on " << *cl
                   << " against the float64 reference; nothing is timed and "
                      "nothing is stored in the tuning database.\n";
    } else {
      llvm::errs() << "attnc: error: cannot tune for " << target.requested
                   << ": " << why << "\n";
      return 1;
    }
  }

  llvm::outs().flush();
  Tuner tuner(target, sourcePath, sourceText, options, checkTarget);
  bool interactive = isatty(2);
  for (const TuneItem &item : items) {
    const std::string &name = item.name, &key = item.key;
    if (options.skipTuned) {
      auto done = (*db)->best(key);
      if (!done) {
        llvm::errs() << "attnc: error: " << done.message() << "\n";
        return 1;
      }
      if (*done) {
        llvm::outs() << name << ": skipped, already tuned (best "
                     << formatMs((*done)->medianSeconds) << " "
                     << (*done)->config << "); key " << key.substr(0, 16)
                     << "\n";
        continue;
      }
    }
    Proposer proposer(item.space, item.first, options.strategy, options.seed);

    auto start = Clock::now();
    auto secondsLeft = [&] {
      return options.timeBudgetSeconds -
             std::chrono::duration<double>(Clock::now() - start).count();
    };
    // Block kernels of layout ops count no FLOPs.
    auto gflopsText = [](const Trial &t, bool whole) {
      if (t.gflops <= 0)
        return std::string();
      std::string text;
      llvm::raw_string_ostream os(text);
      os << " (";
      if (whole)
        os << int(t.gflops);
      else
        os << llvm::format("%.1f", t.gflops);
      os << " GFLOP/s)";
      return os.str();
    };
    std::map<std::string, int> counts;
    std::optional<Trial> best, heuristic;
    int64_t trial = 0;
    SchedulePoint point;
    while ((options.maxTrials == 0 || trial < options.maxTrials) &&
           secondsLeft() > 0 && proposer.next(point)) {
      ++trial;
      Trial t = tuner.evaluate(item, point, trial);
      proposer.observe(t);
      ++counts[t.status];
      if (trial == 1 && t.status == "ok")
        heuristic = t;
      if (t.status == "ok" && (!best || t.median < best->median))
        best = t;

      if (!tuner.correctnessOnly())
        if (std::string err = storeTrial(**db, key, name, target, t); !err.empty()) {
          llvm::errs() << "\nattnc: error: " << err << "\n";
          return 1;
        }

      std::string result = t.status != "ok"            ? t.status
                           : tuner.correctnessOnly() ? "checked"
                                                     : formatMs(t.median);
      std::string line =
          "tune " + name + ": trial " + std::to_string(trial) + " " + result +
          (tuner.correctnessOnly()
               ? std::string()
               : " | best " +
                     (best ? formatMs(best->median) + gflopsText(*best, true)
                           : std::string("none yet"))) +
          " | " + std::to_string(int(std::max(0.0, secondsLeft()))) +
          " s left";
      if (interactive)
        llvm::errs() << "\r\x1b[K" << line;
      else
        llvm::errs() << line << "\n";
      if (options.verbose && t.status != "ok")
        llvm::errs() << (interactive ? "\n" : "") << "  trial " << trial
                     << " " << ScheduleSpace::toJson(t.point) << ": "
                     << t.status << ": " << t.detail << "\n";
    }
    if (interactive)
      llvm::errs() << "\n";

    std::string summary;
    for (auto &[status, n] : counts)
      summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " +
                 status;
    if (tuner.correctnessOnly()) {
      llvm::outs() << name << ": " << counts["ok"] << " of " << trial
                   << " candidates correct on opencl (" << summary
                   << "; correctness only, not timed, nothing stored)\n";
      continue;
    }
    if (!best) {
      llvm::outs() << name << ": no valid candidate in " << trial
                   << " trials (" << summary << ")\n";
      continue;
    }
    llvm::outs() << name << ": best " << formatMs(best->median)
                 << gflopsText(*best, false) << " "
                 << ScheduleSpace::toJson(best->point);
    if (heuristic)
      llvm::outs() << "; heuristic " << formatMs(heuristic->median) << " ("
                   << llvm::format("%.2f", heuristic->median / best->median)
                   << "x)";
    llvm::outs() << "; " << trial << " trials (" << summary << "); key "
                 << key.substr(0, 16) << "\n";
    llvm::outs().flush();
  }
  return 0;
}
