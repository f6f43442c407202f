//===- Random.h - Seeded, reproducible input data ---------------*- C++ -*-===//
//
// Deterministic fills for missing kernel inputs.  The generator is a
// SplitMix64 stream implemented here (not <random>'s distributions, whose
// output differs between standard libraries), so a seed gives the same data
// on every platform.  Each argument draws from its own stream, derived from
// the seed and the argument's name, so adding an argument does not change
// the data of the others.
//
// Policy:
//  * floating-point tensors: uniform in [-1, 1], rounded to the dtype;
//  * the `reference.kv_lengths` argument: lengths in [0, M] (M = the key
//    length).  With B >= 2, batch 0 gets length 0 (every query row of that
//    batch is fully masked: exercises the "no kept key gives zeros" rule) and
//    batch B-1 gets the full length M; the others are uniform in [0, M].
//    With B == 1 the length is uniform in [1, M], so the output is not
//    trivially zero;
//  * other i32 tensors: uniform in [0, 16).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_RANDOM_H
#define ATTN_RUNTIME_RANDOM_H

#include "runtime/Binding.h"
#include "runtime/Manifest.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

namespace attn::rt {

/// A SplitMix64 generator.
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform01();
  /// Uniform integer in [lo, hi] (inclusive; requires lo <= hi).
  int64_t uniformInt(int64_t lo, int64_t hi);

private:
  uint64_t state;
};

/// The seed of argument `argName`'s stream.
uint64_t argumentSeed(uint64_t seed, const std::string &argName);

/// Fills a float tensor uniformly in [lo, hi] (default [-1, 1]), an i32
/// tensor in [0, 16).
void fillUniform(Tensor &tensor, uint64_t seed, double lo = -1.0,
                 double hi = 1.0);

/// Fills a rank-1 i32 tensor of key lengths in [0, maxLength] by the policy
/// above.
void fillLengths(Tensor &tensor, int64_t maxLength, uint64_t seed);

/// Creates input `arg` of `kernel` with its bound shape and fills it by the
/// policy above (seeded by `argumentSeed(seed, arg.name)`).
/// Float inputs are uniform in [lo, hi].
Result<Tensor> makeRandomInput(const KernelSpec &kernel, const ArgSpec &arg,
                               const DimBindings &bindings, uint64_t seed,
                               double lo = -1.0, double hi = 1.0);

} // namespace attn::rt

#endif // ATTN_RUNTIME_RANDOM_H
