//===- SearchSupport.h - shared by `search` and `evaluate` ---*- C++ -*-===//
//
// Private to attnc: shell quoting, the measurement lock, and the
// *plan* of a candidate: its kernels (tuning key, schedule, form, calls,
// FLOPs) and its cost figures, read from the manifest `attnc -emit=manifest`
// prints without compiling anything (docs/Search.md §2, §4).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_SEARCHSUPPORT_H
#define ATTN_TOOLS_ATTNC_SEARCHSUPPORT_H

#include "tools/attnc/CommandLine.h"

#include "search/LatencyModel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attn::driver {

/// Quotes `text` for /bin/sh (single quotes).
std::string shellQuote(const std::string &text);

/// An advisory lock on a file (flock): shared by compiles, exclusive while a
/// candidate is timed, so that timings never overlap other work of the
/// search (docs/Search.md §2).  Released when destroyed.
class FileLock {
public:
  FileLock(const std::string &path, bool exclusive);
  ~FileLock();
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  /// "" when held, else why not.
  const std::string &error() const { return failure; }

private:
  int fd = -1;
  std::string failure;
};

/// One distinct kernel of a candidate.
struct PlannedKernel {
  std::string name;
  /// The tuning-database key and the schedule point it is compiled with
  /// (canonical JSON), which together identify its measured time.
  std::string tuningKey, schedule;
  std::string form;
  int64_t calls = 0;
  double flopsPerCall = 0;
  /// The latency model's key of the kernel: tuning key and schedule.
  std::string modelKey() const { return tuningKey + "@" + schedule; }
};

/// What a candidate is made of, known before it is compiled.
struct CandidatePlan {
  std::string arch;
  std::vector<PlannedKernel> kernels;
  int64_t calls = 0;
  double params = 0, flops = 0, memoryBytes = 0;
  /// The latency model's view of it.
  search::Candidate candidate() const;
};

/// Parses a manifest (with tuning keys, as `attnc -emit=manifest` or a
/// kernel-cache compile writes it) into the plan of architecture `arch`
/// ("" = the first).  "" or an error.
std::string planFromManifest(const std::string &manifestText,
                             const std::string &arch, CandidatePlan &plan);

/// Runs `attnc FILE -emit=manifest` with `compileArgs` (config, target,
/// dims, database) and parses the result.  "" or an error (the frontend's
/// message when the point is invalid); `timedOut` says whether attnc ran
/// past `timeoutSeconds`.
std::string planCandidate(const std::string &attnc,
                          const std::vector<std::string> &compileArgs,
                          const std::string &arch, double timeoutSeconds,
                          CandidatePlan &plan, bool *timedOut = nullptr);

/// The last `maxLines` non-empty lines of `text` (error details).
std::string lastLines(const std::string &text, int maxLines);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_SEARCHSUPPORT_H
