//===- Manifest.h - the library manifest (docs/Manifest.md) -----*- C++ -*-===//

#ifndef ATTN_LOWERING_MANIFEST_H
#define ATTN_LOWERING_MANIFEST_H

#include "lowering/ArchDesc.h"
#include "lowering/KernelDesc.h"

#include <map>
#include <string>
#include <vector>

namespace attn {

/// What the manifest records beyond the kernel descriptions.
struct ManifestInfo {
  std::string compiler;
  std::string source;
  std::string sourceHash;
  std::string target;
  /// "cpu", "cuda" or "opencl" (docs/GPU.md §5).
  std::string device = "cpu";
  std::string library;
  /// GPU libraries, per kernel (same order as `knobs`): threads and
  /// shared-memory bytes per block, written as the kernel's `gpu` object.
  std::vector<std::pair<int64_t, int64_t>> gpuFootprints;
  /// Per kernel: the schedule knobs used and where they came from.
  std::vector<std::map<std::string, int64_t>> knobs;
  std::vector<std::string> scheduleSource;
  /// Per kernel (same order as `knobs`): its entry symbol in the library
  /// when it is not the kernel's name (objects from the per-kernel cache,
  /// docs/Search.md §2); empty means the name.
  std::vector<std::string> entries;
  /// Per kernel: its tuning-database key (docs/Tuning.md), written as
  /// `tuning_key` when known.
  std::vector<std::string> tuningKeys;
};

/// Renders the manifest JSON (format version 1).
std::string renderManifest(const std::vector<AttentionKernelDesc> &kernels,
                           const ManifestInfo &info);

/// Renders a manifest that also holds block kernels (after the attention
/// kernels; `info.knobs` and `info.scheduleSource` index the attention
/// kernels first, then the block kernels) and architectures
/// (docs/Architectures.md §4).
std::string renderManifest(const std::vector<AttentionKernelDesc> &kernels,
                           const std::vector<BlockKernelDesc> &blocks,
                           const std::vector<ArchDesc> &archs,
                           const ManifestInfo &info);

/// FNV-1a 64-bit hash of `text` as 16 lowercase hex digits.
std::string sourceHash(const std::string &text);

} // namespace attn

#endif // ATTN_LOWERING_MANIFEST_H
