//===- DbCommand.h - `attnc db ...` -----------------------------*- C++ -*-===//
//
// Private to attnc: inspects and maintains the tuning database
// (docs/Tuning.md).  Plain C++ over runtime/TuningDb.h; no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_DBCOMMAND_H
#define ATTN_TOOLS_ATTNC_DBCOMMAND_H

#include <iosfwd>
#include <string>
#include <vector>

namespace attn::driver {

/// Runs `attnc db ARGS...`, where `args` is what follows `db`:
///   list | show KEY | export [FILE] | import FILE |
///   prune [--failed] [--keep N] [--compiler STRING] | path
/// with `--db PATH` (anywhere) overriding the database location.
/// Returns the exit code: 0 success, 1 failure, 2 usage error.
int runDbCommand(const std::vector<std::string> &args);

/// The same, writing to `out` (results) and `err` (diagnostics).
int runDbCommand(const std::vector<std::string> &args, std::ostream &out,
                 std::ostream &err);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_DBCOMMAND_H
