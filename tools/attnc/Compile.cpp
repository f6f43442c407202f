//===- Compile.cpp - kernel descriptions to a shipped library -------------===//

#include "tools/attnc/Compile.h"

#include "lowering/Manifest.h"
#include "tools/attnc/KernelCache.h"
#include "tools/attnc/Link.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace attn;
using namespace attn::driver;

std::string attn::driver::compilerVersion() {
  return std::string("attnc ") + ATTNC_VERSION;
}

/// Compiles or reuses one object per kernel in the request's kernel cache,
/// plus the standalone runtime; `entries` gets each kernel's entry symbol.
static std::string compileCachedObjects(const LibraryRequest &request,
                                        std::vector<std::string> &objects,
                                        std::vector<std::string> &entries) {
  size_t count = request.kernels.size() + request.blocks.size();
  if (request.tuningKeys.size() != count)
    return "internal error: " + std::to_string(request.tuningKeys.size()) +
           " kernel keys for " + std::to_string(count) + " kernels";
  KernelCache cache(request.kernelCacheDir);
  std::set<std::string> linked;
  size_t n = 0;
  // Attention kernels, then blocks (the order of `tuningKeys`).
  auto add = [&](const auto &desc) -> std::string {
    std::map<std::string, int64_t> knobs;
    if (std::string err = halide::resolveSchedule(desc, request.target, knobs);
        !err.empty())
      return err;
    std::string key = objectKey(request.tuningKeys[n++], knobs);
    std::string entry = objectEntry(key);
    std::string path;
    if (std::string err = cache.object(
            key,
            [&](const std::string &tmp) {
              return halide::compileKernelObject(desc, request.target, entry,
                                                 tmp);
            },
            path);
        !err.empty())
      return err;
    entries.push_back(entry);
    // Two identical kernels share one object.
    if (linked.insert(path).second)
      objects.push_back(path);
    return "";
  };
  for (const AttentionKernelDesc &k : request.kernels)
    if (std::string err = add(k); !err.empty())
      return err;
  for (const BlockKernelDesc &b : request.blocks)
    if (std::string err = add(b); !err.empty())
      return err;
  std::string runtime;
  if (std::string err = cache.runtime(request.target, runtime); !err.empty())
    return err;
  objects.push_back(runtime);
  if (request.cacheStats)
    *request.cacheStats = std::to_string(cache.compiled) + " compiled, " +
                          std::to_string(cache.reused) + " reused";
  return "";
}

std::string attn::driver::manifestInfo(const LibraryRequest &request,
                                       const std::string &libraryName,
                                       const std::vector<std::string> &entries,
                                       ManifestInfo &info) {
  info.compiler = compilerVersion();
  info.source = request.sourcePath;
  info.sourceHash = sourceHash(request.sourceText);
  info.target = request.target.halideTarget;
  info.device = request.target.deviceName();
  info.library = libraryName;
  for (const AttentionKernelDesc &k : request.kernels) {
    info.knobs.push_back(request.autoscheduler.empty()
                             ? k.schedule
                             : std::map<std::string, int64_t>{});
    if (request.target.isGpu()) {
      std::map<std::string, int64_t> knobs;
      if (std::string err = halide::resolveSchedule(k, request.target, knobs);
          !err.empty())
        return "kernel " + k.name + ": " + err;
      GpuFootprint f = halide::gpuFootprint(k, request.target, knobs);
      info.gpuFootprints.push_back({f.threads, f.sharedBytes});
    }
  }
  info.scheduleSource = request.scheduleSource;
  info.entries = entries;
  info.tuningKeys = request.tuningKeys;
  for (const BlockKernelDesc &b : request.blocks) {
    std::map<std::string, int64_t> knobs;
    if (std::string err = halide::resolveSchedule(b, request.target, knobs);
        !err.empty())
      return "kernel " + b.name + ": " + err;
    info.knobs.push_back(knobs);
    info.scheduleSource.push_back(b.scheduleSource);
    if (request.target.isGpu()) {
      GpuFootprint f = halide::gpuFootprint(b, request.target, knobs);
      info.gpuFootprints.push_back({f.threads, f.sharedBytes});
    }
  }
  return "";
}

std::string attn::driver::buildLibrary(const LibraryRequest &request,
                                       const std::string &outPath,
                                       std::string &note) {
  llvm::SmallString<128> tmpDir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("attnc", tmpDir))
    return "cannot create a temporary directory: " + ec.message();
  auto cleanup = llvm::make_scope_exit(
      [&] { llvm::sys::fs::remove_directories(tmpDir); });

  std::string kernelsObj = (tmpDir + "/kernels.o").str();
  std::vector<std::string> cachedObjects, entries;
  bool cached = !request.kernelCacheDir.empty();
  if (cached && !request.target.isNative)
    return "--kernel-cache needs a native target (the objects are linked)";
  if (cached && !request.autoscheduler.empty())
    return "--kernel-cache cannot be combined with --schedule auto:NAME";
  std::string err =
      cached ? compileCachedObjects(request, cachedObjects, entries)
      : request.autoscheduler.empty()
          ? halide::compileObject(request.kernels, request.blocks,
                                  request.target, kernelsObj)
          : halide::compileObjectAuto(request.kernels, request.target,
                                      request.autoscheduler, request.estimates,
                                      kernelsObj, request.reports);
  if (!err.empty())
    return err;
  if (!request.target.isNative) {
    llvm::SmallString<128> objOut(outPath);
    llvm::sys::path::replace_extension(objOut, ".o");
    if (auto ec = llvm::sys::fs::copy_file(kernelsObj, objOut))
      return "cannot write " + objOut.str().str() + ": " + ec.message();
    note = "target " + request.target.halideTarget +
           " is not this machine's; wrote the object " + objOut.str().str() +
           " and skipped the link step (no cross linker is used)";
    return "";
  }

  ManifestInfo info;
  if (std::string err = manifestInfo(
          request, llvm::sys::path::filename(outPath).str(), entries, info);
      !err.empty())
    return err;

  std::string hashObj;
  if (std::string err =
          compileHashObject(info.sourceHash, tmpDir.str().str(), hashObj);
      !err.empty())
    return err;
  std::vector<std::string> objects{hashObj};
  if (cached)
    objects.insert(objects.end(), cachedObjects.begin(), cachedObjects.end());
  else
    objects.push_back(kernelsObj);
  objects.insert(objects.end(), request.extraObjects.begin(),
                 request.extraObjects.end());
  std::vector<std::string> libraries;
  bool needsFft = false;
  for (const AttentionKernelDesc &k : request.kernels)
    needsFft |= k.form == "fft_toeplitz" || k.form == "ema";
  if (needsFft) {
    std::string fftObj;
    if (std::string err = compileFftSupportObject(tmpDir.str().str(), fftObj);
        !err.empty())
      return err;
    objects.push_back(fftObj);
    libraries.push_back("fftw3");
  }
  if (std::string err = linkShared(objects, outPath, libraries);
      !err.empty())
    return err;
  llvm::SmallString<128> manifestPath(outPath);
  llvm::sys::path::replace_extension(manifestPath, ".manifest.json");
  std::error_code ec;
  llvm::raw_fd_ostream os(manifestPath, ec);
  if (ec)
    return "cannot write " + manifestPath.str().str() + ": " + ec.message();
  os << renderManifest(request.manifestKernels.empty()
                           ? request.kernels
                           : request.manifestKernels,
                       request.blocks, request.archs, info);
  return "";
}

/// Clears what does not change what `kernel` computes: its name and its
/// schedule attributes.
static void clearScheduleAndName(mlir::attn::KernelOp kernel) {
  mlir::Builder b(kernel.getContext());
  kernel.setName("kernel");
  kernel.setScheduleAttr(b.getDictionaryAttr({}));
  kernel->removeAttr("attn.schedule_space");
  kernel->removeAttr("attn.schedule_constraints");
  kernel->removeAttr("attn.schedule_source");
}

std::string attn::driver::tuningKey(mlir::attn::KernelOp kernel,
                                    const std::string &target) {
  // Print a detached copy of the function that holds the kernel (its only
  // content besides the return), renamed and without schedules.  Printing
  // the kernel op alone would number its operands within the whole module,
  // so one kernel would get other keys in other modules (another point of
  // an architecture); the detached function is numbered on its own, and
  // its arguments keep the kernel's operand order in the text.
  mlir::Operation *scope = kernel->getParentOfType<mlir::func::FuncOp>();
  mlir::Operation *copy = scope ? scope->clone() : kernel->clone();
  auto erase = llvm::make_scope_exit([&] { copy->destroy(); });
  if (auto fn = llvm::dyn_cast<mlir::func::FuncOp>(copy))
    fn.setSymName("kernel");
  copy->walk([](mlir::attn::KernelOp k) { clearScheduleAndName(k); });
  std::string text;
  llvm::raw_string_ostream os(text);
  copy->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  os << "\ntarget=" << target << "\ncompiler=" << compilerVersion() << "\n";
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(os.str()));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

std::string attn::driver::blockTuningKey(mlir::func::FuncOp kernel,
                                         const std::string &target) {
  // A detached copy without the parts that do not change what is computed.
  mlir::Operation *copy = kernel->clone();
  auto erase = llvm::make_scope_exit([&] { copy->destroy(); });
  auto fn = llvm::cast<mlir::func::FuncOp>(copy);
  fn.setSymName("kernel");
  fn->removeAttr(kBlockScheduleAttr);
  fn->removeAttr(kBlockScheduleSourceAttr);
  std::string text;
  llvm::raw_string_ostream os(text);
  fn->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  os << "\ntarget=" << target << "\ncompiler=" << compilerVersion() << "\n";
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(os.str()));
  return llvm::toHex(digest, /*LowerCase=*/true);
}
