//===- Npy.h - NumPy .npy file reading and writing --------------*- C++ -*-===//
//
// Reads and writes NumPy format versions 1.0, 2.0 and 3.0 with little-endian
// element types `<f2` (f16), `<f4` (f32), `<f8` (f64) and `<i4` (i32), C order
// only.  Every malformed file is an error that names the file and says what
// is wrong: bad magic, unsupported version, malformed header dictionary,
// big-endian or unsupported dtype, fortran_order True, truncated or
// oversized data.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_NPY_H
#define ATTN_RUNTIME_NPY_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <string>

namespace attn::rt {

/// Parses the bytes of an .npy file; `name` is used in error messages.
Result<Tensor> parseNpy(const std::string &bytes, const std::string &name);

/// Reads an .npy file.
Result<Tensor> readNpy(const std::string &path);

/// Serializes a tensor as .npy bytes (version 1.0, or 2.0 when the header
/// needs it).  bf16 has no NumPy dtype and is written as `<f4` (exact).
std::string serializeNpy(const Tensor &tensor);

/// Writes a tensor to an .npy file.
Status writeNpy(const std::string &path, const Tensor &tensor);

} // namespace attn::rt

#endif // ATTN_RUNTIME_NPY_H
