//===- AttncKernels.h - the attnc column of the benchmark -------*- C++ -*-===//
//
// Compiles the benchmark's attention kernels with `attnc` (one library, B, H
// and N symbolic, so every shape runs without recompiling) and calls them
// through the runtime on the benchmark's own arrays (no copies).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BENCH_ATTNCKERNELS_H
#define ATTN_BENCH_ATTNCKERNELS_H

#include "runtime/Library.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace attnc::bench {

/// How AttncKernels::build compiles the library.
struct BuildOptions {
  /// Extra attnc arguments (e.g. --schedule auto:adams2019 --estimate ...).
  std::vector<std::string> extraArgs;
  /// Kernels to put in the source (of "full", "causal", "window256",
  /// "window1024"); empty: all four.
  std::vector<std::string> kernels;
  /// Static N in the source (-1: symbolic N).
  int staticN = -1;
  /// Static B and H in the source (-1: symbolic), e.g. for tuning, whose
  /// database keys are per shape.
  int staticB = -1, staticH = -1;
  /// Kill attnc after this many seconds (0: no limit).
  double timeoutSeconds = 0;
  /// attnc's stdout and stderr go here ("" : inherited).
  std::string logPath;
};

/// What the attnc command did.
struct BuildStatus {
  double seconds = 0;
  bool timedOut = false;
};

class AttncKernels {
public:
  /// Writes the benchmark source for head dim `headDim`, compiles it with
  /// the attnc at `attncPath` into `workDir`, and loads the library.
  /// Returns null and sets `error` on failure.
  static std::unique_ptr<AttncKernels> build(const std::string &attncPath,
                                             const std::string &workDir,
                                             int headDim, int threads,
                                             std::string &error);
  static std::unique_ptr<AttncKernels>
  build(const std::string &attncPath, const std::string &workDir, int headDim,
        int threads, const BuildOptions &options, std::string &error,
        BuildStatus *status = nullptr);

  /// Kernels in the library: "full", "causal", "window256", "window1024".
  /// Runs `kernel` on [B, H, N, D] arrays; false (with `error`) on failure.
  bool run(const std::string &kernel, const float *q, const float *k,
           const float *v, float *out, int B, int H, int N, int D,
           std::string &error);

  /// `s` as one single-quoted shell word.
  static std::string shellQuote(const std::string &s);

  /// The source the kernels were compiled from.
  const std::string &source() const { return sourceText; }

private:
  using Key = std::tuple<std::string, const void *, const void *,
                         const void *, void *, int, int, int>;
  std::unique_ptr<attn::rt::Library> library;
  std::map<Key, attn::rt::PreparedCall> calls;
  std::string sourceText;
};

} // namespace attnc::bench

#endif // ATTN_BENCH_ATTNCKERNELS_H
