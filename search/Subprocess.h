//===- Subprocess.h - run a command with a time limit -----------*- C++ -*-===//
//
// The tuner and the search measure every candidate in a separate process
// so that a candidate that crashes or hangs cannot take the tuner with it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_SUBPROCESS_H
#define ATTN_SEARCH_SUBPROCESS_H

#include <string>
#include <vector>

namespace attn::driver {

struct ProcessResult {
  /// The exit status when the process exited normally.
  int exitCode = -1;
  /// The signal that ended it (0 when it exited).
  int signal = 0;
  /// True when it ran past the limit and was killed.
  bool timedOut = false;
  /// stdout and stderr, interleaved.
  std::string output;
  /// Why it could not be started ("" when it ran).
  std::string startError;

  bool succeeded() const {
    return startError.empty() && !timedOut && signal == 0 && exitCode == 0;
  }
  /// "exit 1", "killed by signal 11 (Segmentation fault)", "timed out".
  std::string describe() const;
};

/// Runs `argv` (argv[0] a path) with stdin closed and extra environment
/// `env` ("NAME=VALUE"), killing its process group after `timeoutSeconds`.
ProcessResult runWithTimeout(const std::vector<std::string> &argv,
                             double timeoutSeconds,
                             const std::vector<std::string> &env = {});

} // namespace attn::driver

#endif // ATTN_SEARCH_SUBPROCESS_H
