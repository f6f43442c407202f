//===- SearchCommand.h - `attnc search` and `attnc evaluate` ----*- C++ -*-===//
//
// Private to attnc: hardware-aware search over an architecture's `choose`
// space (docs/Search.md).  `attnc search` is the driver; `attnc evaluate`
// is one job of it (compile one point with the per-kernel cache, measure
// it, write one JSON record), run by the executor in its own process.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_SEARCHCOMMAND_H
#define ATTN_TOOLS_ATTNC_SEARCHCOMMAND_H

#include <string>
#include <vector>

namespace attn::driver {

/// `attnc search ARGS...`; `argv0` locates attnc itself and attn-run.
/// Returns the exit code: 0 success, 1 failure, 2 usage error.
int runSearchCommand(const std::vector<std::string> &args, const char *argv0);

/// `attnc evaluate ARGS...`: one candidate, one JSON record.
int runEvaluateCommand(const std::vector<std::string> &args,
                       const char *argv0);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_SEARCHCOMMAND_H
