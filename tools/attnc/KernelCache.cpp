//===- KernelCache.cpp - one object per kernel, shared by libraries -------===//

#include "tools/attnc/KernelCache.h"

#include "tools/attnc/Compile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"

#include <unistd.h>

using namespace attn;
using namespace attn::driver;

static std::string sha256Hex(const std::string &text) {
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(text));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

std::string
attn::driver::objectKey(const std::string &tuningKey,
                        const std::map<std::string, int64_t> &schedule) {
  std::string text = "tuning-key=" + tuningKey + "\nschedule=";
  for (const auto &[knob, value] : schedule)
    text += knob + ":" + std::to_string(value) + ";";
  return sha256Hex(text);
}

std::string attn::driver::objectEntry(const std::string &objectKey) {
  return "attnk_" + objectKey.substr(0, 24);
}

std::string KernelCache::ensureDirectory() {
  llvm::SmallString<128> objects(dir);
  llvm::sys::path::append(objects, "objects");
  if (auto ec = llvm::sys::fs::create_directories(
          objects, /*IgnoreExisting=*/true, llvm::sys::fs::perms::owner_all))
    return "cannot create the kernel cache " + objects.str().str() + ": " +
           ec.message();
  return "";
}

std::string KernelCache::fetch(const std::string &key, const Compiler &compile,
                               std::string &path, bool &hit) {
  if (std::string err = ensureDirectory(); !err.empty())
    return err;
  llvm::SmallString<128> p(dir);
  llvm::sys::path::append(p, "objects", key + ".o");
  path = p.str().str();
  hit = llvm::sys::fs::exists(path);
  if (hit)
    return "";
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  if (std::string err = compile(tmp); !err.empty()) {
    llvm::sys::fs::remove(tmp);
    return err;
  }
  if (auto ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    return "cannot write " + path + ": " + ec.message();
  }
  return "";
}

std::string KernelCache::object(const std::string &key, const Compiler &compile,
                                std::string &path) {
  bool hit = false;
  std::string err = fetch(key, compile, path, hit);
  if (err.empty())
    ++(hit ? reused : compiled);
  return err;
}

std::string KernelCache::runtime(const halide::TargetInfo &target,
                                 std::string &path) {
  // The runtime is not a kernel: not counted.
  std::string key = sha256Hex("runtime\ntarget=" + target.halideTarget +
                              "\ncompiler=" + compilerVersion())
                        .substr(0, 24);
  bool hit = false;
  return fetch(
      "runtime-" + key,
      [&](const std::string &tmp) {
        return halide::compileRuntimeObject(target, tmp);
      },
      path, hit);
}
