//===- Compile.h - kernel descriptions to a shipped library -----*- C++ -*-===//
//
// Private to attnc: the steps `attnc compile` and every tuning candidate
// share: Halide objects, the source-hash object, the link, the manifest; and
// the tuning-database key of a kernel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_COMPILE_H
#define ATTN_TOOLS_ATTNC_COMPILE_H

#include "dialect/AttnOps.h"
#include "lowering/ArchDesc.h"
#include "lowering/KernelDesc.h"
#include "lowering/Manifest.h"
#include "lowering/halide/HalideBackend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace attn::driver {

/// Everything a library is built from.
struct LibraryRequest {
  std::vector<AttentionKernelDesc> kernels;
  /// Block kernels and architectures (docs/Architectures.md).
  std::vector<BlockKernelDesc> blocks;
  std::vector<ArchDesc> archs;
  halide::TargetInfo target;
  std::string sourcePath;
  std::string sourceText;
  /// Per kernel: "heuristic", "tuned" or "attribute" (from the IR).
  std::vector<std::string> scheduleSource;
  /// When set, the manifest describes these instead of `kernels` (the
  /// tuner's planted wrong candidate: a kernel that disagrees with its
  /// reference).
  std::vector<AttentionKernelDesc> manifestKernels;
  /// Extra objects linked into the library (the tuner's planted faults).
  std::vector<std::string> extraObjects;
  /// When set (mullapudi2016, adams2019, li2018), every kernel is the plain
  /// algorithm scheduled by that Halide autoscheduler, planned for
  /// `estimates` (dim -> extent); `reports` receives what it did.
  std::string autoscheduler;
  std::map<std::string, int64_t> estimates;
  std::vector<halide::AutoScheduleReport> *reports = nullptr;
  /// When set, every kernel is compiled to its own object in this per-kernel
  /// cache (KernelCache.h, docs/Search.md §2) or taken from it, and
  /// `tuningKeys` holds each kernel's tuning key (attention kernels, then
  /// blocks).  `cacheStats` receives "N compiled, M reused".
  std::string kernelCacheDir;
  std::vector<std::string> tuningKeys;
  std::string *cacheStats = nullptr;
};

/// What the manifest of `request`'s library records besides the kernel
/// descriptions (schedules and their sources, entry symbols, tuning keys);
/// "" or an error.
std::string manifestInfo(const LibraryRequest &request,
                         const std::string &libraryName,
                         const std::vector<std::string> &entries,
                         ManifestInfo &info);

/// Builds `outPath` (a .so) and its manifest next to it, or for a
/// non-native target the object `outPath` with `.o`.  Returns "" or an
/// error; `note` receives a message for the user when the link was skipped.
std::string buildLibrary(const LibraryRequest &request,
                         const std::string &outPath, std::string &note);

/// The tuning-database key of a formed kernel: a SHA-256 of its canonical
/// IR (generic form, without its name and schedule attributes, so the
/// shapes, dtypes, masks and score modifiers are in it), the target string
/// and the compiler version.
std::string tuningKey(mlir::attn::KernelOp kernel, const std::string &target);

/// The tuning-database key of a block kernel (a `func.func` with the
/// `attn.block_kernel` attribute): a SHA-256 of the function printed in
/// generic form with its sym_name replaced by "kernel" and its
/// `attn.schedule` and `attn.schedule_source` attributes removed (so its
/// name and schedule do not change the key, its ops, attributes and shapes
/// do), the target string and the compiler version.
std::string blockTuningKey(mlir::func::FuncOp kernel,
                           const std::string &target);

/// The compiler's version string, part of every key and manifest.
std::string compilerVersion();

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_COMPILE_H
