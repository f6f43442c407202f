//===- Random.cpp - Seeded, reproducible input data -----------------------===//

#include "runtime/Random.h"

namespace attn::rt {

uint64_t Rng::next() {
  // SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
  // generators", 2014): a Weyl sequence passed through a 64-bit mixer.
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Rng::uniform01() {
  return double(next() >> 11) * (1.0 / 9007199254740992.0);
}

int64_t Rng::uniformInt(int64_t lo, int64_t hi) {
  uint64_t span = uint64_t(hi) - uint64_t(lo) + 1;
  if (span == 0) // The full 64-bit range.
    return int64_t(next());
  // Rejection sampling avoids modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t r;
  do
    r = next();
  while (r >= limit);
  return int64_t(uint64_t(lo) + r % span);
}

uint64_t argumentSeed(uint64_t seed, const std::string &argName) {
  // FNV-1a of the name, mixed with the seed.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : argName) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  Rng mix(seed ^ h);
  return mix.next();
}

void fillUniform(Tensor &tensor, uint64_t seed, double lo, double hi) {
  Rng rng(seed);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    if (tensor.dtype() == DType::I32)
      tensor.setDouble(i, double(rng.uniformInt(0, 15)));
    else
      tensor.setDouble(i, lo + (hi - lo) * rng.uniform01());
  }
}

void fillLengths(Tensor &tensor, int64_t maxLength, uint64_t seed) {
  Rng rng(seed);
  int64_t n = tensor.numElements();
  for (int64_t b = 0; b < n; ++b) {
    int64_t len;
    if (n == 1)
      len = rng.uniformInt(maxLength > 0 ? 1 : 0, maxLength);
    else if (b == 0)
      len = 0;
    else if (b == n - 1)
      len = maxLength;
    else
      len = rng.uniformInt(0, maxLength);
    tensor.setDouble(b, double(len));
  }
}

Result<Tensor> makeRandomInput(const KernelSpec &kernel, const ArgSpec &arg,
                               const DimBindings &bindings, uint64_t seed,
                               double lo, double hi) {
  Result<std::vector<int64_t>> shape = resolveShape(arg, bindings);
  if (!shape)
    return shape.status();
  Result<Tensor> t = Tensor::create(arg.dtype, shape.take());
  if (!t)
    return t.status().withContext("argument '" + arg.name + "'");
  uint64_t argSeed = argumentSeed(seed, arg.name);
  const ReferenceSpec *ref = kernel.reference ? &*kernel.reference : nullptr;
  if (ref && ref->kvLengths && *ref->kvLengths == arg.name &&
      arg.dtype == DType::I32) {
    // M is the key length: dim 2 of the key argument.
    int64_t maxLength = 0;
    if (const ArgSpec *key = kernel.findArg(ref->key)) {
      Result<std::vector<int64_t>> keyShape = resolveShape(*key, bindings);
      if (!keyShape)
        return keyShape.status();
      if (keyShape->size() == 4)
        maxLength = (*keyShape)[2];
    }
    fillLengths(*t, maxLength, argSeed);
  } else {
    fillUniform(*t, argSeed, lo, hi);
  }
  return t;
}

} // namespace attn::rt
