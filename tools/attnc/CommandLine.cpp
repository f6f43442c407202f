//===- CommandLine.cpp - argument helpers of attnc's commands -------------===//

#include "tools/attnc/CommandLine.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace attn::driver;

/// Parses the number before a unit suffix; false unless positive and finite.
static bool positiveNumber(llvm::StringRef text, double &value) {
  return !text.empty() && !text.getAsDouble(value) && value > 0 &&
         std::isfinite(value);
}

bool attn::driver::parseDurationSeconds(llvm::StringRef text, double &seconds) {
  double scale = 1;
  if (text.consume_back("h"))
    scale = 3600;
  else if (text.consume_back("m"))
    scale = 60;
  else
    text.consume_back("s");
  double v;
  if (!positiveNumber(text, v))
    return false;
  seconds = v * scale;
  return true;
}

bool attn::driver::parseLatencyMs(llvm::StringRef text, double &ms) {
  double scale = 1;
  if (text.consume_back("ms"))
    scale = 1;
  else if (text.consume_back("us"))
    scale = 1e-3;
  else if (text.consume_back("s"))
    scale = 1e3;
  double v;
  if (!positiveNumber(text, v))
    return false;
  ms = v * scale;
  return true;
}

bool attn::driver::parseNameInteger(llvm::StringRef text, std::string &name,
                                    int64_t &value) {
  auto [left, right] = text.split('=');
  if (left.empty() || right.getAsInteger(10, value))
    return false;
  name = left.str();
  return true;
}

std::string attn::driver::selfDir(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&selfDir));
  return llvm::sys::path::parent_path(exe).str();
}
