//===- SafeTensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian u64 header length N, N
// bytes of JSON
//
//   {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]},
//    ..., "__metadata__": {"KEY": "VALUE", ...}}
//
// then the raw little-endian, C-order data; offsets are relative to the
// start of the data (after the header).  Dtypes read and written: F16, BF16,
// F32, F64 and I32 (the runtime's DTypes); the format's other dtypes (I8,
// U8, I16, I64, BOOL, F8_*, ...) are errors.  Every malformed file is an
// error naming the file and, where it applies, the tensor: a header length
// beyond the file, bad JSON, a non-object entry, an unknown dtype, a bad
// shape, offsets outside the data or overlapping another tensor's, a byte
// count that is not the shape's element count times the dtype size.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_SAFETENSORS_H
#define ATTN_RUNTIME_SAFETENSORS_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>

namespace attn::rt {

/// The contents of a safetensors file.
struct SafeTensors {
  TensorMap tensors;
  std::map<std::string, std::string> metadata; ///< `__metadata__`.
};

/// Parses the bytes of a safetensors file; `name` prefixes the errors.
Result<SafeTensors> parseSafeTensors(const std::string &bytes,
                                     const std::string &name);

/// Reads a safetensors file.
Result<SafeTensors> readSafeTensors(const std::string &path);

/// Serializes tensors (in name order, data 8-byte aligned; the header is
/// padded with spaces to a multiple of 8 bytes).
std::string
serializeSafeTensors(const TensorMap &tensors,
                     const std::map<std::string, std::string> &metadata = {});

/// Writes a safetensors file.
Status
writeSafeTensors(const std::string &path, const TensorMap &tensors,
                 const std::map<std::string, std::string> &metadata = {});

/// The safetensors spelling of a dtype: "F16", "BF16", "F32", "F64", "I32".
const char *safeTensorsDType(DType dtype);

} // namespace attn::rt

#endif // ATTN_RUNTIME_SAFETENSORS_H
