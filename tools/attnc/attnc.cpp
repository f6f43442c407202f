//===- attnc.cpp - the attnc compiler driver ------------------------------===//
//
// `attnc [compile] FILE [-emit=ast|mlir|kernels|halide-cpp|obj|so] [-o OUT]
//        [--target T] [--dim N=V]... [--config C] [-v] [-verify-diagnostics]`
// `attnc tune FILE [--target T] [--kernel K] [--time-budget 60s]
//        [--trials N] [--strategy random|evolutionary|grid] [--seed S]`
// `attnc db list|show|export|import|prune|path ...`
// `attnc space FILE [--sample K --seed S]`
// `attnc search FILE --target T [--latency-budget 5ms] ...` (docs/Search.md)
//
// Stages: parse (.attn) or read (.mlir) -> attn dialect -> apply config,
// decompose, form kernels -> kernel descriptions -> Halide -> one object ->
// one shared library + manifest.  Every stage can be printed.
//
//===----------------------------------------------------------------------===//

#include "dialect/InitAttn.h"
#include "dialect/Passes.h"
#include "frontend/Frontend.h"
#include "lowering/BlockDescBuilder.h"
#include "lowering/KernelDescBuilder.h"
#include "lowering/Manifest.h"
#include "lowering/halide/HalideBackend.h"
#include "tools/attnc/CommandLine.h"
#include "tools/attnc/Compile.h"
#include "tools/attnc/GpuSource.h"
#include "tools/attnc/Link.h"
#include "tools/attnc/DbCommand.h"
#include "tools/attnc/SearchCommand.h"
#include "tools/attnc/SpaceCommand.h"
#include "tools/attnc/Tune.h"
#include "runtime/TuningDb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Emit { Ast, Mlir, Kernels, HalideCpp, Manifest, GpuSrc, Obj, So };

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .attn|.mlir>"),
                               cl::Required);
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::init(""));
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::So),
    cl::values(clEnumValN(Emit::Ast, "ast", "the parsed AST"),
               clEnumValN(Emit::Mlir, "mlir", "the attn dialect, as parsed"),
               clEnumValN(Emit::Kernels, "kernels",
                          "the attn dialect after decomposition and kernel "
                          "formation"),
               clEnumValN(Emit::HalideCpp, "halide-cpp",
                          "each kernel's Halide algorithm and schedule"),
               clEnumValN(Emit::Manifest, "manifest",
                          "the library's manifest (kernels, schedules, "
                          "tuning keys, architectures) without compiling"),
               clEnumValN(Emit::GpuSrc, "gpu-src",
                          "GPU targets: each kernel's device code (PTX or "
                          "OpenCL C) into the directory -o names"),
               clEnumValN(Emit::Obj, "obj", "one object file"),
               clEnumValN(Emit::So, "so",
                          "a shared library and its manifest (default)")));
cl::opt<std::string> target("target",
                            cl::desc("host (default), x86-64-avx2, "
                                     "x86-64-avx512, arm-64-linux, or a "
                                     "Halide target string"),
                            cl::init("host"));
cl::list<std::string> dims("dim", cl::desc("Set a dim: --dim N=4096"),
                           cl::value_desc("NAME=VALUE"));
cl::opt<std::string> config(
    "config",
    cl::desc("Pin choices: name=value,... (per layer: name=[v0,v1,...] or "
             "name.LAYER=value)"),
    cl::init(""));
cl::opt<bool> noFusion("no-fusion",
                       cl::desc("One kernel per architecture op (the "
                                "unfused baseline)"),
                       cl::init(false));
cl::opt<bool> verbose("v", cl::desc("Say what each stage does"),
                      cl::init(false));
cl::opt<std::string> dbPath("db",
                            cl::desc("Tuning database (default: "
                                     "$ATTN_CACHE_DIR/tuning.db, else "
                                     "$XDG_CACHE_HOME/attnc/tuning.db)"),
                            cl::init(""));
cl::opt<bool> noTuningDb("no-tuning-db",
                         cl::desc("Compile with the default heuristic even "
                                  "when the tuning database has an entry"),
                         cl::init(false));
cl::opt<std::string> kernelCache(
    "kernel-cache",
    cl::desc("Compile each kernel to its own object in DIR, reusing the "
             "objects of earlier compiles (docs/Search.md)"),
    cl::value_desc("DIR"), cl::init(""));
cl::opt<std::string> scheduleOpt(
    "schedule",
    cl::desc("Schedule every kernel with one of Halide's autoschedulers "
             "instead: auto:mullapudi2016, auto:adams2019, auto:li2018"),
    cl::value_desc("auto:NAME"), cl::init(""));
cl::list<std::string> estimates(
    "estimate",
    cl::desc("With --schedule auto:NAME: the extent the autoscheduler plans "
             "for a symbolic dim (default 1024)"),
    cl::value_desc("NAME=VALUE"));
// attnc tune
cl::opt<std::string> tuneKernel("kernel", cl::desc("tune: only this kernel"),
                                cl::init(""));
cl::opt<std::string> timeBudget("time-budget",
                                cl::desc("tune: time per kernel (60s, 10m)"),
                                cl::init("60s"));
cl::opt<int64_t> trials("trials", cl::desc("tune: at most this many "
                                           "candidates per kernel"),
                        cl::init(0));
cl::opt<std::string> strategy("strategy",
                              cl::desc("tune: random, evolutionary or grid"),
                              cl::init("evolutionary"));
cl::opt<uint64_t> seed("seed", cl::desc("tune: random seed"), cl::init(0));
cl::opt<double> candidateTimeout(
    "candidate-timeout",
    cl::desc("tune: seconds a candidate's check or timing may take"),
    cl::init(60));
cl::opt<bool> skipTuned(
    "skip-tuned",
    cl::desc("tune: skip kernels whose key already has an ok record in the "
             "tuning database"),
    cl::init(false));
cl::opt<std::string> plant("plant", cl::Hidden,
                           cl::desc("tune test hook: crash@N,hang@N,wrong@N"),
                           cl::init(""));

bool tuneMode = false;

cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check diagnostics against expected-* comments in the input"),
    cl::init(false));

/// Prints a progress line with -v.
void say(const llvm::Twine &msg) {
  if (verbose)
    llvm::errs() << "attnc: " << msg << "\n";
}

/// Writes `text` to -o (or stdout).
bool writeOutput(llvm::StringRef text, llvm::StringRef path) {
  std::string err;
  auto out = openOutputFile(path.empty() ? "-" : path, &err);
  if (!out) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return false;
  }
  out->os() << text;
  out->keep();
  return true;
}

/// Parses --dim flags.
bool parseDims(::attn::frontend::FrontendOptions &options) {
  for (const std::string &d : dims) {
    std::string name;
    int64_t v;
    if (!::attn::driver::parseNameInteger(d, name, v)) {
      llvm::errs() << "attnc: error: malformed --dim '" << d
                   << "': expected NAME=INTEGER\n";
      return false;
    }
    options.dimOverrides[name] = v;
  }
  return true;
}

/// Runs the configuration, decomposition and kernel formation passes.
LogicalResult lowerToKernels(ModuleOp module, bool fromMlir) {
  PassManager pm(module.getContext());
  // An .attn source's configuration is applied by the frontend, which
  // elaborates architectures under it.
  if (!config.empty() && fromMlir) {
    mlir::attn::AttnApplyConfigPassOptions opts;
    opts.config = config;
    pm.addPass(mlir::attn::createAttnApplyConfigPass(opts));
  }
  mlir::attn::AttnOutlineBlocksPassOptions outline;
  outline.fuse = !noFusion;
  pm.addPass(mlir::attn::createAttnOutlineBlocksPass(outline));
  pm.addPass(mlir::attn::createAttnDecomposePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(mlir::attn::createAttnSelectFormsPass());
  pm.addPass(mlir::attn::createAttnFormKernelsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSymbolDCEPass());
  return pm.run(module);
}

/// Location of the function that defines kernel `name`, for diagnostics.
Location kernelLoc(ModuleOp module, llvm::StringRef name) {
  if (auto fn = module.lookupSymbol(name))
    return fn->getLoc();
  return module.getLoc();
}

/// Pins each kernel without a schedule to the best tuning-database entry
/// for its key, when there is one; records where each schedule came from.
/// Attention kernels (`attn.kernel`, key tuningKey) and block kernels
/// (`attn.block_kernel` functions, key blockTuningKey, schedule in
/// `attn.schedule`) alike.
LogicalResult applyTuningDb(ModuleOp module,
                            const ::attn::halide::TargetInfo &target) {
  SmallVector<mlir::attn::KernelOp> kernels;
  module.walk([&](mlir::attn::KernelOp k) { kernels.push_back(k); });
  SmallVector<func::FuncOp> blocks;
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn->hasAttr(mlir::attn::kBlockKernelAttr))
      blocks.push_back(fn);
  std::unique_ptr<::attn::rt::TuningDb> db;
  std::string path =
      dbPath.empty() ? ::attn::rt::defaultTuningDbPath() : dbPath.getValue();
  bool lookedUp = false;
  // The best entry of `key` as a point, or nothing (after saying why).
  auto lookup = [&](llvm::StringRef name, const std::string &key)
      -> std::optional<::attn::SchedulePoint> {
    if (noTuningDb || path.empty())
      return std::nullopt;
    if (!lookedUp) {
      lookedUp = true;
      if (!llvm::sys::fs::exists(path)) {
        say("no tuning database at " + path);
      } else {
        std::string warning;
        auto opened = ::attn::rt::TuningDb::open(
            path, &warning, ::attn::rt::TuningDbOpenMode::ReadOnly);
        if (!warning.empty())
          llvm::errs() << "attnc: warning: " << warning << "\n";
        if (opened)
          db = opened.take();
        else
          llvm::errs() << "attnc: warning: " << opened.message()
                       << "; compiling with the default heuristic\n";
      }
    }
    if (!db)
      return std::nullopt;
    auto best = db->best(key);
    if (!best) {
      llvm::errs() << "attnc: warning: " << best.message()
                   << "; compiling with the default heuristic\n";
      return std::nullopt;
    }
    if (!*best) {
      say("kernel " + name + ": no tuning entry for key " + key.substr(0, 16));
      return std::nullopt;
    }
    ::attn::SchedulePoint point;
    if (!::attn::ScheduleSpace::fromJson((*best)->config, point)) {
      llvm::errs() << "attnc: warning: tuning entry " << key.substr(0, 16)
                   << " has an unreadable config; ignored\n";
      return std::nullopt;
    }
    say("kernel " + name + ": schedule from the tuning database "
        "(key " + key.substr(0, 16) + ", " +
        std::to_string((*best)->medianSeconds * 1e3) + " ms)");
    return point;
  };
  auto dictionary = [](Builder &b, const ::attn::SchedulePoint &point) {
    SmallVector<NamedAttribute> attrs;
    for (auto &[name, value] : point)
      attrs.push_back(b.getNamedAttr(name, b.getI64IntegerAttr(value)));
    return b.getDictionaryAttr(attrs);
  };
  for (mlir::attn::KernelOp kernel : kernels) {
    Builder b(kernel.getContext());
    if (!kernel.getSchedule().empty()) {
      kernel->setAttr("attn.schedule_source", b.getStringAttr("attribute"));
      say("kernel " + kernel.getName() + ": schedule from the IR attribute");
      continue;
    }
    kernel->setAttr("attn.schedule_source", b.getStringAttr("heuristic"));
    if (noTuningDb || path.empty())
      continue;
    auto point = lookup(kernel.getName(),
                        ::attn::driver::tuningKey(kernel, target.halideTarget));
    if (!point)
      continue;
    kernel.setScheduleAttr(dictionary(b, *point));
    kernel->setAttr("attn.schedule_source", b.getStringAttr("tuned"));
  }
  for (func::FuncOp fn : blocks) {
    Builder b(fn.getContext());
    auto own = fn->getAttrOfType<DictionaryAttr>(::attn::kBlockScheduleAttr);
    if ((own && !own.empty()) ||
        (fn->hasAttr(::attn::kBlockScheduleAttr) && !own)) {
      fn->setAttr(::attn::kBlockScheduleSourceAttr,
                  b.getStringAttr("attribute"));
      say("kernel " + fn.getSymName() + ": schedule from the IR attribute");
      continue;
    }
    fn->setAttr(::attn::kBlockScheduleSourceAttr, b.getStringAttr("heuristic"));
    if (noTuningDb || path.empty())
      continue;
    auto point = lookup(
        fn.getSymName(),
        ::attn::driver::blockTuningKey(fn, target.halideTarget));
    if (!point)
      continue;
    fn->setAttr(::attn::kBlockScheduleAttr, dictionary(b, *point));
    fn->setAttr(::attn::kBlockScheduleSourceAttr, b.getStringAttr("tuned"));
  }
  // --attn-attach-schedules completes and validates the attention kernels'
  // schedules; the block kernels' are validated (at the function) and
  // said here.
  if (blocks.empty())
    return success();
  auto descs = ::attn::buildBlockKernelDescs(module);
  if (failed(descs))
    return failure();
  for (const ::attn::BlockKernelDesc &d : *descs) {
    std::map<std::string, int64_t> knobs;
    if (std::string err = ::attn::halide::resolveSchedule(d, target, knobs);
        !err.empty())
      return emitError(kernelLoc(module, d.name))
             << "block kernel '" << d.name << "': " << err;
    std::string line =
        "kernel " + d.name + ": schedule (" + d.scheduleSource + "):";
    for (auto &[k, v] : knobs)
      line += " " + k + "=" + std::to_string(v);
    say(line);
  }
  return success();
}

/// Completes and validates every kernel's schedule, recording its space.
LogicalResult attachSchedules(ModuleOp module,
                              const ::attn::halide::TargetInfo &target) {
  PassManager pm(module.getContext());
  mlir::attn::AttnAttachSchedulesPassOptions opts;
  opts.vectorWidth = target.vectorLanes;
  opts.vectorRegisters = target.vectorRegisters;
  opts.gpu = target.isGpu();
  opts.gpuMaxThreads = target.gpuLimits.maxThreads;
  opts.gpuSharedBytes = target.gpuLimits.sharedBytes;
  pm.addPass(mlir::attn::createAttnAttachSchedulesPass(opts));
  return pm.run(module);
}

/// Parses --schedule and --estimate; false (after an error) when malformed.
bool parseAutoSchedule(std::string &name,
                       std::map<std::string, int64_t> &extents) {
  if (scheduleOpt.empty()) {
    if (!estimates.empty()) {
      llvm::errs() << "attnc: error: --estimate needs --schedule auto:NAME\n";
      return false;
    }
    return true;
  }
  llvm::StringRef value = scheduleOpt;
  const auto &names = ::attn::halide::autoschedulerNames();
  if (!value.consume_front("auto:") ||
      std::find(names.begin(), names.end(), value.str()) == names.end()) {
    llvm::errs() << "attnc: error: --schedule '" << scheduleOpt
                 << "': expected auto:NAME with NAME one of";
    for (const std::string &n : names)
      llvm::errs() << " " << n;
    llvm::errs() << "\n";
    return false;
  }
  name = value.str();
  for (const std::string &e : estimates) {
    std::string dim;
    int64_t v;
    if (!::attn::driver::parseNameInteger(e, dim, v)) {
      llvm::errs() << "attnc: error: malformed --estimate '" << e
                   << "': expected NAME=INTEGER\n";
      return false;
    }
    extents[dim] = v;
  }
  return true;
}

/// The tuning key of every kernel in the order of a LibraryRequest:
/// attention kernels (`descs`), then block kernels (`blocks`).
std::vector<std::string>
kernelTuningKeys(ModuleOp module,
                 const std::vector<::attn::AttentionKernelDesc> &descs,
                 const std::vector<::attn::BlockKernelDesc> &blocks,
                 const std::string &target) {
  std::map<std::string, std::string> keys;
  module.walk([&](mlir::attn::KernelOp k) {
    keys[k.getName().str()] = ::attn::driver::tuningKey(k, target);
  });
  module.walk([&](func::FuncOp f) {
    if (f->hasAttr("attn.block_kernel"))
      keys[f.getSymName().str()] = ::attn::driver::blockTuningKey(f, target);
  });
  std::vector<std::string> out;
  for (const auto &d : descs)
    out.push_back(keys[d.name]);
  for (const auto &b : blocks)
    out.push_back(keys[b.name]);
  return out;
}

int compileModule(ModuleOp module, llvm::StringRef sourceText,
                  const char *argv0, bool fromMlir) {
  std::string autoscheduler;
  std::map<std::string, int64_t> autoEstimates;
  if (!parseAutoSchedule(autoscheduler, autoEstimates))
    return 1;
  if (!autoscheduler.empty() && tuneMode) {
    llvm::errs() << "attnc: error: --schedule auto:NAME cannot be tuned\n";
    return 1;
  }
  if (emit == Emit::Mlir && !tuneMode) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeOutput(os.str(), outputFile) ? 0 : 1;
  }
  say("decomposing variants and forming kernels");
  if (failed(lowerToKernels(module, fromMlir)))
    return 1;
  ::attn::halide::TargetInfo targetInfo;
  if (std::string err = ::attn::halide::resolveTarget(target, targetInfo);
      !err.empty()) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return 1;
  }
  say("target " + targetInfo.halideTarget);
  if (!tuneMode && autoscheduler.empty() &&
      failed(applyTuningDb(module, targetInfo)))
    return 1;
  if (failed(attachSchedules(module, targetInfo)))
    return 1;

  if (tuneMode) {
    ::attn::driver::TuneOptions opts;
    opts.kernel = tuneKernel;
    if (!::attn::driver::parseDurationSeconds(timeBudget,
                                              opts.timeBudgetSeconds)) {
      llvm::errs() << "attnc: error: malformed --time-budget '" << timeBudget
                   << "': expected e.g. 60s, 10m\n";
      return 1;
    }
    opts.maxTrials = trials;
    if (strategy != "random" && strategy != "evolutionary" &&
        strategy != "grid") {
      llvm::errs() << "attnc: error: unknown --strategy '" << strategy
                   << "': expected random, evolutionary or grid\n";
      return 1;
    }
    opts.strategy = strategy;
    opts.seed = seed;
    opts.dbPath = dbPath;
    opts.candidateTimeout = candidateTimeout;
    opts.attnRunPath = ::attn::driver::selfDir(argv0) + "/attn-run";
    opts.verbose = verbose;
    opts.plant = plant;
    opts.skipTuned = skipTuned;
    return ::attn::driver::runTune(module, targetInfo, inputFile,
                                   sourceText.str(), opts);
  }

  if (emit == Emit::Kernels) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeOutput(os.str(), outputFile) ? 0 : 1;
  }

  auto descs = ::attn::buildKernelDescs(module);
  if (failed(descs))
    return 1;
  auto blocks = ::attn::buildBlockKernelDescs(module);
  auto archs = ::attn::buildArchDescs(module);
  if (failed(blocks) || failed(archs))
    return 1;
  if (!blocks->empty() && !autoscheduler.empty()) {
    llvm::errs() << "attnc: error: --schedule auto:NAME does not support "
                    "architectures yet (their block kernels)\n";
    return 1;
  }
  if (descs->empty() && blocks->empty()) {
    emitError(module.getLoc()) << "nothing to compile: the source defines no "
                               << "kernel";
    return 1;
  }
  if (!autoscheduler.empty())
    if (std::string err = ::attn::halide::checkEstimates(*descs, autoEstimates);
        !err.empty()) {
      llvm::errs() << "attnc: error: " << err << "\n";
      return 1;
    }
  if (targetInfo.isGpu() && !autoscheduler.empty()) {
    llvm::errs() << "attnc: error: --schedule auto:NAME schedules CPU "
                    "kernels (Halide's autoschedulers are CPU baselines); "
                    "GPU targets use attnc's GPU schedules (docs/GPU.md)\n";
    return 1;
  }
  std::vector<std::string> sources;
  for (const auto &d : *descs) {
    if (!autoscheduler.empty()) {
      sources.push_back("auto:" + autoscheduler);
      say("kernel " + d.name + ": schedule by Halide's " + autoscheduler +
          " autoscheduler (plain algorithm)");
      continue;
    }
    std::string source = "heuristic";
    module.walk([&](mlir::attn::KernelOp k) {
      if (k.getName() == d.name)
        if (auto s = k->getAttrOfType<StringAttr>("attn.schedule_source"))
          source = s.str();
    });
    sources.push_back(source);
    std::string line = "kernel " + d.name + ": schedule (" + source + "):";
    for (auto &[k, v] : d.schedule)
      line += " " + k + "=" + std::to_string(v);
    say(line);
  }

  if (emit == Emit::HalideCpp) {
    std::string all;
    for (const auto &b : *blocks) {
      std::string text;
      if (std::string err = ::attn::halide::printHalide(b, targetInfo, text);
          !err.empty()) {
        emitError(kernelLoc(module, b.name)) << err;
        return 1;
      }
      all += text + "\n";
    }
    for (const auto &d : *descs) {
      std::string text;
      std::string err =
          autoscheduler.empty()
              ? ::attn::halide::printHalide(d, targetInfo, text)
              : ::attn::halide::printHalideAuto(d, targetInfo, autoscheduler,
                                                autoEstimates, text);
      if (!err.empty()) {
        emitError(kernelLoc(module, d.name)) << err;
        return 1;
      }
      all += text + "\n";
    }
    return writeOutput(all, outputFile) ? 0 : 1;
  }

  if (emit == Emit::GpuSrc) {
    if (outputFile.empty()) {
      llvm::errs() << "attnc: error: -emit=gpu-src needs -o DIR\n";
      return 1;
    }
    std::vector<std::string> written;
    if (std::string err = ::attn::driver::emitGpuSources(
            *descs, *blocks, targetInfo, outputFile, written);
        !err.empty()) {
      llvm::errs() << "attnc: error: " << err << "\n";
      return 1;
    }
    for (const std::string &path : written)
      say("wrote " + path);
    return 0;
  }

  ::attn::driver::LibraryRequest request;
  request.kernels = *descs;
  request.blocks = *blocks;
  request.archs = *archs;
  request.target = targetInfo;
  request.sourcePath = inputFile;
  request.sourceText = sourceText.str();
  request.scheduleSource = sources;
  if (emit == Emit::Manifest) {
    request.tuningKeys = kernelTuningKeys(module, *descs, *blocks,
                                          targetInfo.halideTarget);
    ::attn::ManifestInfo info;
    std::string library = llvm::sys::path::stem(inputFile).str() + ".so";
    if (std::string err =
            ::attn::driver::manifestInfo(request, library, {}, info);
        !err.empty()) {
      llvm::errs() << "attnc: error: " << err << "\n";
      return 1;
    }
    return writeOutput(::attn::renderManifest(*descs, *blocks, *archs, info),
                       outputFile)
               ? 0
               : 1;
  }

  // Objects and libraries need a path.
  std::string out = outputFile;
  if (out.empty()) {
    llvm::SmallString<128> p(llvm::sys::path::stem(inputFile));
    p += emit == Emit::Obj ? ".o" : ".so";
    out = p.str().str();
  }
  say("compiling " + std::to_string(descs->size() + blocks->size()) +
      " kernel(s) with Halide");
  std::vector<::attn::halide::AutoScheduleReport> reports;
  auto sayReports = [&] {
    for (const auto &r : reports)
      say("kernel " + r.kernel + ": " + autoscheduler + " took " +
          std::to_string(r.seconds) + " s");
  };
  if (emit == Emit::Obj) {
    std::string err =
        autoscheduler.empty()
            ? ::attn::halide::compileObject(*descs, *blocks, targetInfo, out)
            : ::attn::halide::compileObjectAuto(*descs, targetInfo,
                                                autoscheduler, autoEstimates,
                                                out, &reports);
    sayReports();
    if (!err.empty()) {
      emitError(module.getLoc()) << err;
      return 1;
    }
    return 0;
  }
  request.autoscheduler = autoscheduler;
  request.estimates = autoEstimates;
  request.reports = &reports;
  std::string cacheStats;
  if (!kernelCache.empty()) {
    request.kernelCacheDir = kernelCache;
    request.tuningKeys = kernelTuningKeys(module, *descs, *blocks,
                                          targetInfo.halideTarget);
    request.cacheStats = &cacheStats;
  }
  std::string note;
  std::string buildErr = ::attn::driver::buildLibrary(request, out, note);
  sayReports();
  if (std::string err = buildErr; !err.empty()) {
    if (err.rfind("Halide", 0) == 0 || err.rfind("kernel", 0) == 0)
      emitError(descs->empty() ? module.getLoc()
                               : kernelLoc(module, (*descs)[0].name))
          << err;
    else
      llvm::errs() << "attnc: error: " << err << "\n";
    return 1;
  }
  if (!cacheStats.empty())
    say("kernel cache " + kernelCache + ": " + cacheStats);
  if (!note.empty())
    llvm::errs() << "attnc: note: " << note << "\n";
  else
    say("wrote " + out + " and its manifest");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // `attnc compile FILE ...` is the same as `attnc FILE ...`.
  std::vector<char *> args(argv, argv + argc);
  if (args.size() > 1 && llvm::StringRef(args[1]) == "db") {
    std::vector<std::string> rest(args.begin() + 2, args.end());
    return ::attn::driver::runDbCommand(rest);
  }
  if (args.size() > 1 && llvm::StringRef(args[1]) == "space") {
    std::vector<std::string> rest(args.begin() + 2, args.end());
    return ::attn::driver::runSpaceCommand(rest);
  }
  if (args.size() > 1 && llvm::StringRef(args[1]) == "search") {
    std::vector<std::string> rest(args.begin() + 2, args.end());
    return ::attn::driver::runSearchCommand(rest, argv[0]);
  }
  if (args.size() > 1 && llvm::StringRef(args[1]) == "evaluate") {
    std::vector<std::string> rest(args.begin() + 2, args.end());
    return ::attn::driver::runEvaluateCommand(rest, argv[0]);
  }
  if (args.size() > 1 && llvm::StringRef(args[1]) == "compile")
    args.erase(args.begin() + 1);
  else if (args.size() > 1 && llvm::StringRef(args[1]) == "tune") {
    tuneMode = true;
    args.erase(args.begin() + 1);
  }
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(int(args.size()), args.data(),
                              "attnc: attention architectures to fused "
                              "kernels\n");

  DialectRegistry registry;
  mlir::attn::registerAttnDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics name the op's source location; printing the op as well
  // would only repeat what the user wrote (and confuse the verifier).
  context.printOpOnDiagnostic(false);

  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!file) {
    llvm::errs() << "attnc: error: cannot read '" << inputFile
                 << "': " << file.getError().message() << "\n";
    return 1;
  }
  std::string sourceText = (*file)->getBuffer().str();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());

  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  std::unique_ptr<SourceMgrDiagnosticVerifierHandler> verifier;
  if (verifyDiagnostics)
    verifier = std::make_unique<SourceMgrDiagnosticVerifierHandler>(
        sourceMgr, &context);
  else
    handler =
        std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context);

  int rc = 0;
  bool isMlir = llvm::StringRef(inputFile).ends_with(".mlir");
  if (isMlir) {
    if (emit == Emit::Ast) {
      llvm::errs() << "attnc: error: -emit=ast needs an .attn input\n";
      return 1;
    }
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    rc = module ? compileModule(*module, sourceText, argv[0], true) : 1;
  } else {
    ::attn::frontend::FrontendOptions options;
    if (!parseDims(options))
      return 1;
    options.config = config;
    auto ast = ::attn::frontend::parseSource(sourceMgr, context);
    if (!ast) {
      rc = 1;
    } else if (emit == Emit::Ast) {
      std::string text;
      llvm::raw_string_ostream os(text);
      ::attn::frontend::dumpAST(*ast, os);
      rc = writeOutput(os.str(), outputFile) ? 0 : 1;
    } else {
      OwningOpRef<ModuleOp> module =
          ::attn::frontend::generateMLIR(*ast, context, options);
      if (!module || failed(verify(*module)))
        rc = 1;
      else
        rc = compileModule(*module, sourceText, argv[0], false);
    }
  }
  if (verifier)
    return failed(verifier->verify()) ? 1 : 0;
  return rc;
}
