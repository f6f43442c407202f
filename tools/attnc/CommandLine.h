//===- CommandLine.h - argument helpers of attnc's commands -----*- C++ -*-===//
//
// Private to attnc: the value syntaxes its commands share (durations,
// latencies, NAME=INTEGER assignments) and where its sibling tools live.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_COMMANDLINE_H
#define ATTN_TOOLS_ATTNC_COMMANDLINE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace attn::driver {

/// Parses "90", "90s", "10m", "1h" into seconds; false when malformed or
/// not positive.
bool parseDurationSeconds(llvm::StringRef text, double &seconds);

/// Parses "5ms", "5", "0.5s", "200us" into milliseconds; false when
/// malformed or not positive.
bool parseLatencyMs(llvm::StringRef text, double &ms);

/// Parses "NAME=INTEGER" (`--dim`, `--estimate`); false when malformed.
bool parseNameInteger(llvm::StringRef text, std::string &name, int64_t &value);

/// The directory of the running attnc (attn-run sits beside it).
std::string selfDir(const char *argv0);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_COMMANDLINE_H
