//===- DType.h - Element types of kernel arguments --------------*- C++ -*-===//
//
// The element types a manifest may name (`f16`, `bf16`, `f32`, `f64`, `i32`)
// and their sizes, names and NumPy descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_DTYPE_H
#define ATTN_RUNTIME_DTYPE_H

#include <cstddef>
#include <optional>
#include <string>

namespace attn::rt {

/// Element type of a tensor.
enum class DType { F16, BF16, F32, F64, I32 };

/// Returns the manifest spelling: "f16", "bf16", "f32", "f64" or "i32".
inline const char *dtypeName(DType t) {
  switch (t) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  }
  return "?";
}

/// Parses a manifest dtype name; std::nullopt when unknown.
inline std::optional<DType> parseDType(const std::string &name) {
  for (DType t : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::I32})
    if (name == dtypeName(t))
      return t;
  return std::nullopt;
}

/// Size of one element in bytes.
inline size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
    return 8;
  }
  return 0;
}

/// True for the floating-point types.
inline bool isFloat(DType t) { return t != DType::I32; }

} // namespace attn::rt

#endif // ATTN_RUNTIME_DTYPE_H
