//===- Binding.h - Binding symbolic dims from argument shapes ---*- C++ -*-===//
//
// A kernel's dims are fixed by the manifest or symbolic (`N = ?`).  Symbolic
// dims are bound at call time from the shapes of the tensors passed in, or
// from values given explicitly (attn-run's --dim).  Every use of a dim must
// agree; disagreements are errors that say who bound what, e.g.
// "argument 'k': dim 2 (N) is 17 but 'q' bound N = 16".
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_BINDING_H
#define ATTN_RUNTIME_BINDING_H

#include "runtime/Manifest.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn::rt {

/// Values of a kernel's named dims and where each came from.
struct DimBindings {
  std::map<std::string, int64_t> values;
  /// Who bound each dim, phrased to precede "N = 16": "'q' bound",
  /// "the library fixes", "--dim gave".
  std::map<std::string, std::string> origins;

  std::optional<int64_t> lookup(const std::string &name) const {
    auto it = values.find(name);
    if (it == values.end())
      return std::nullopt;
    return it->second;
  }
};

/// Binds the dims of `kernel`: first the manifest's fixed dims, then `given`
/// (attributed to `givenLabel`), then the shapes of the tensors in `args`, in
/// manifest order.  Arguments absent from `args` are skipped.  Checks that
/// every tensor in `args` is an argument of the kernel with the right dtype
/// and rank, that literal extents match exactly, that symbolic extents are
/// positive, and that all uses of a dim agree.
Result<DimBindings> bindDims(const KernelSpec &kernel, const TensorMap &args,
                             const std::map<std::string, int64_t> &given = {},
                             const std::string &givenLabel = "--dim");

/// Dims used by some argument's shape that `bindings` leaves unbound, in the
/// order of first use.
std::vector<std::string> unboundDims(const KernelSpec &kernel,
                                     const DimBindings &bindings);

/// The C-order shape of `arg` under `bindings`; an error naming the unbound
/// dims when some are missing.
Result<std::vector<int64_t>> resolveShape(const ArgSpec &arg,
                                          const DimBindings &bindings);

} // namespace attn::rt

#endif // ATTN_RUNTIME_BINDING_H
