//===- Tensor.cpp - Owning typed C-order tensors --------------------------===//

#include "runtime/Tensor.h"

#include "runtime/Half.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace attn::rt {

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<int64_t> checkedElementCount(const std::vector<int64_t> &shape,
                                    size_t elemSize) {
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      return Status::error("shape " + formatShape(shape) +
                           " has negative extent " + std::to_string(shape[i]) +
                           " in dim " + std::to_string(i));
    if (__builtin_mul_overflow(count, shape[i], &count))
      return Status::error("shape " + formatShape(shape) +
                           " has more elements than fit in 64 bits");
  }
  int64_t bytes;
  if (__builtin_mul_overflow(count, int64_t(elemSize), &bytes) ||
      uint64_t(bytes) > uint64_t(std::numeric_limits<size_t>::max() / 2))
    return Status::error("shape " + formatShape(shape) +
                         " needs more bytes than fit in memory");
  return count;
}

Result<Tensor> Tensor::create(DType dtype, std::vector<int64_t> shape) {
  Result<int64_t> n = checkedElementCount(shape, dtypeSize(dtype));
  if (!n)
    return n.status();
  Tensor t;
  t.type = dtype;
  t.dims = std::move(shape);
  t.count = *n;
  // Round up to a multiple of the alignment, as aligned_alloc requires, and
  // allocate at least one block so that data() is never null.
  size_t bytes = t.sizeInBytes();
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0)
    rounded = 64;
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    return Status::error("cannot allocate " + std::to_string(bytes) +
                         " bytes for a " + t.describe() + " tensor");
  std::memset(p, 0, rounded);
  t.storage.reset(static_cast<uint8_t *>(p));
  return Result<Tensor>(std::move(t));
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, void *data) {
  Tensor t;
  t.type = dtype;
  t.count = 1;
  for (int64_t d : shape)
    t.count *= d;
  t.dims = std::move(shape);
  t.storage = std::unique_ptr<uint8_t, detail::FreeDeleter>(
      static_cast<uint8_t *>(data), detail::FreeDeleter{/*owned=*/false});
  return t;
}

Tensor Tensor::clone() const {
  Result<Tensor> t = create(type, dims);
  if (!t)
    return Tensor();
  if (sizeInBytes())
    std::memcpy(t->data(), data(), sizeInBytes());
  return t.take();
}

std::vector<int64_t> Tensor::strides() const {
  std::vector<int64_t> s(dims.size(), 1);
  for (int64_t i = int64_t(dims.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * dims[i + 1];
  return s;
}

double Tensor::getDouble(int64_t flat) const {
  switch (type) {
  case DType::F16:
    return halfToFloat(dataAs<uint16_t>()[flat]);
  case DType::BF16:
    return bfloat16ToFloat(dataAs<uint16_t>()[flat]);
  case DType::F32:
    return dataAs<float>()[flat];
  case DType::F64:
    return dataAs<double>()[flat];
  case DType::I32:
    return dataAs<int32_t>()[flat];
  }
  return 0;
}

void Tensor::setDouble(int64_t flat, double value) {
  switch (type) {
  case DType::F16:
    dataAs<uint16_t>()[flat] = floatToHalf(float(value));
    return;
  case DType::BF16:
    dataAs<uint16_t>()[flat] = floatToBfloat16(float(value));
    return;
  case DType::F32:
    dataAs<float>()[flat] = float(value);
    return;
  case DType::F64:
    dataAs<double>()[flat] = value;
    return;
  case DType::I32: {
    int32_t v = 0;
    if (std::isnan(value))
      v = 0;
    else if (value >= 2147483647.0)
      v = std::numeric_limits<int32_t>::max();
    else if (value <= -2147483648.0)
      v = std::numeric_limits<int32_t>::min();
    else
      v = int32_t(value);
    dataAs<int32_t>()[flat] = v;
    return;
  }
  }
}

int64_t Tensor::flatIndex(const std::vector<int64_t> &index) const {
  int64_t flat = 0;
  for (size_t d = 0; d < dims.size(); ++d)
    flat = flat * dims[d] + index[d];
  return flat;
}

std::string Tensor::describe() const {
  return std::string(dtypeName(type)) + formatShape(dims);
}

} // namespace attn::rt
