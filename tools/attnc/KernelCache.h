//===- KernelCache.h - one object per kernel, shared ---------*- C++ -*-===//
//
// Private to attnc: `attnc compile --kernel-cache DIR` compiles each kernel
// to its own object, keyed by what determines its code (the kernel's
// tuning key and its resolved schedule point), and links a library from the
// cached objects (docs/Search.md §2).  A search over many candidates that
// share kernels compiles each kernel once.
//
// Layout: DIR/objects/<key>.o (entry symbol attnk_<first 24 hex of key>)
// and DIR/objects/runtime-<hash of target>.o (the standalone Halide
// runtime).  Objects are written under a temporary name and renamed, so
// concurrent compiles never read half an object; two compiles of one key
// at once both compile it and the last rename wins (the objects are equal).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_KERNELCACHE_H
#define ATTN_TOOLS_ATTNC_KERNELCACHE_H

#include "lowering/halide/HalideBackend.h"

#include <functional>
#include <map>
#include <string>

namespace attn::driver {

/// The key of a kernel's object: the SHA-256 of its tuning key (which
/// covers its IR, target and compiler) and its resolved schedule point.
std::string objectKey(const std::string &tuningKey,
                      const std::map<std::string, int64_t> &schedule);

/// The entry symbol of the object with key `objectKey`.
std::string objectEntry(const std::string &objectKey);

class KernelCache {
public:
  explicit KernelCache(std::string dir) : dir(std::move(dir)) {}

  /// A function that writes an object to the path it is given; "" or an
  /// error.
  using Compiler = std::function<std::string(const std::string &)>;

  /// Sets `path` to the cached object of kernel `key`, calling
  /// `compile(tmpPath)` to build it when it is not cached (counted in
  /// `compiled` or `reused`).  Returns "" or an error.
  std::string object(const std::string &key, const Compiler &compile,
                     std::string &path);

  /// The standalone Halide runtime object for `target`.
  std::string runtime(const halide::TargetInfo &target, std::string &path);

  /// Objects compiled and reused by this cache object so far.
  int compiled = 0, reused = 0;

private:
  std::string dir;
  /// Creates DIR/objects (mode 0700); "" or an error.
  std::string ensureDirectory();
  /// object() without counting; `hit` says whether it was cached.
  std::string fetch(const std::string &key, const Compiler &compile,
                    std::string &path, bool &hit);
};

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_KERNELCACHE_H
