//===- SpaceCommand.h - `attnc space FILE` ----------------------*- C++ -*-===//
//
// Private to attnc: prints the choices of a source's architectures, the
// exact size of each space, and (--sample K --seed S) K valid configurations
// as JSON (docs/Search.md §1).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_SPACECOMMAND_H
#define ATTN_TOOLS_ATTNC_SPACECOMMAND_H

#include <string>
#include <vector>

namespace attn::driver {

/// Runs `attnc space ARGS...` (`args` is what follows `space`).  Returns the
/// exit code: 0 success, 1 failure (bad source, no valid sample), 2 usage.
int runSpaceCommand(const std::vector<std::string> &args);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_SPACECOMMAND_H
