//===- Tensor.h - Owning typed C-order tensors ------------------*- C++ -*-===//
//
// A Tensor owns a 64-byte aligned, C-order (row-major) array of one DType.
// f16 and bf16 are stored as their 16-bit patterns; getDouble/setDouble
// convert.  Tensors are move-only; clone() copies explicitly.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_TENSOR_H
#define ATTN_RUNTIME_TENSOR_H

#include "runtime/DType.h"
#include "runtime/Status.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attn::rt {

/// Returns "[2, 3, 4]".
std::string formatShape(const std::vector<int64_t> &shape);

/// Multiplies the extents of `shape`; an error when an extent is negative or
/// the product overflows int64 or size_t bytes of `elemSize`.
Result<int64_t> checkedElementCount(const std::vector<int64_t> &shape,
                                    size_t elemSize);

/// An owning, C-order tensor.
namespace detail {
/// Frees what a Tensor owns; a view (owned == false) frees nothing.
struct FreeDeleter {
  bool owned = true;
  void operator()(void *p) const {
    if (owned)
      std::free(p);
  }
};
} // namespace detail

class Tensor {
public:
  Tensor() = default;
  Tensor(Tensor &&) = default;
  Tensor &operator=(Tensor &&) = default;
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;

  /// Allocates a zero-filled tensor; an error when the size overflows or the
  /// allocation fails.
  static Result<Tensor> create(DType dtype, std::vector<int64_t> shape);

  /// A tensor over memory the caller owns and keeps alive (no copy, not
  /// freed); for handing existing arrays to kernels, e.g. in benchmarks.
  static Tensor view(DType dtype, std::vector<int64_t> shape, void *data);

  /// Returns a deep copy (owning).
  Tensor clone() const;

  DType dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  int64_t rank() const { return int64_t(dims.size()); }
  int64_t numElements() const { return count; }
  size_t sizeInBytes() const { return size_t(count) * dtypeSize(type); }
  /// Element strides (C order): stride(rank-1) == 1.
  std::vector<int64_t> strides() const;

  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }
  template <typename T> T *dataAs() { return static_cast<T *>(data()); }
  template <typename T> const T *dataAs() const {
    return static_cast<const T *>(data());
  }

  /// Reads element `flat` (C-order linear index) as a double.
  double getDouble(int64_t flat) const;
  /// Writes element `flat`, rounding to the dtype (i32: truncation toward
  /// zero, saturated to the int32 range; NaN becomes 0).
  void setDouble(int64_t flat, double value);
  /// Linear index of a C-order multi-index (no bounds check).
  int64_t flatIndex(const std::vector<int64_t> &index) const;

  /// Returns e.g. "f32[1, 8, 16, 64]".
  std::string describe() const;

private:
  DType type = DType::F32;
  std::vector<int64_t> dims;
  int64_t count = 0;
  std::unique_ptr<uint8_t, detail::FreeDeleter> storage;
};

/// Arguments by name.
using TensorMap = std::map<std::string, Tensor>;

} // namespace attn::rt

#endif // ATTN_RUNTIME_TENSOR_H
