//===- Tune.h - attnc tune --------------------------------------*- C++ -*-===//
//
// Private to attnc: the autotuner.  For each kernel (attention kernels and
// an architecture's block kernels), candidates from the kernel's schedule
// space are compiled ahead of time, checked against the float64 reference
// and timed in separate processes (attn-run, with a time limit), and every
// trial is recorded in the tuning database.  Candidates that fail to
// compile, crash, hang or give wrong numbers are recorded as such and never
// win; the kernel's own point (the default heuristic, or its schedule
// attribute) is always tried first, so a valid winner exists whenever the
// kernel can be compiled at all.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_TUNE_H
#define ATTN_TOOLS_ATTNC_TUNE_H

#include "tools/attnc/Compile.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace attn::driver {

struct TuneOptions {
  std::string kernel;             ///< Only this kernel ("" = all).
  double timeBudgetSeconds = 60;  ///< Per kernel.
  int64_t maxTrials = 0;          ///< 0 = until the budget is spent.
  std::string strategy = "evolutionary"; ///< random | evolutionary | grid
  uint64_t seed = 0;
  std::string dbPath;             ///< "" = the default location.
  double candidateTimeout = 60;   ///< Seconds per measurement process.
  std::string attnRunPath;        ///< The attn-run next to attnc.
  bool verbose = false;
  /// Kernels whose key already has an `ok` record are not tuned again.
  bool skipTuned = false;
  /// Test hook (docs/Tuning.md): "crash@2,hang@3,wrong@4" makes those trial
  /// numbers produce a library that crashes when loaded, one that hangs,
  /// and one that computes a wrong result, to prove they are contained.
  std::string plant;
};

/// Tunes every kernel of `module` (after kernel formation and
/// --attn-outline-blocks) for `target`: attention kernels under tuningKey,
/// block kernels under blockTuningKey.
/// Returns the process exit code.
int runTune(mlir::ModuleOp module, const halide::TargetInfo &target,
            const std::string &sourcePath, const std::string &sourceText,
            const TuneOptions &options);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_TUNE_H
