//===- RunTool.h - run the built attn-run binary in a test ------*- C++ -*-===//
//
// Shared by the tests that drive attn-run as a user would (ATTN_RUN_PATH is
// defined by the test target).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_UNIT_RUNTIME_RUNTOOL_H
#define ATTN_TEST_UNIT_RUNTIME_RUNTOOL_H

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace attn::rt::test {

/// What one attn-run invocation did.
struct RunResult {
  int exitCode = -1;
  std::string output; ///< stdout and stderr together.
};

/// Runs `attn-run ARGS` through the shell and collects its output.
inline RunResult runTool(const std::string &args) {
  RunResult r;
  std::string cmd = std::string(ATTN_RUN_PATH) + " " + args + " 2>&1";
  FILE *pipe = popen(cmd.c_str(), "r");
  if (!pipe)
    return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
    r.output.append(buf, n);
  int status = pclose(pipe);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

} // namespace attn::rt::test

#endif // ATTN_TEST_UNIT_RUNTIME_RUNTOOL_H
