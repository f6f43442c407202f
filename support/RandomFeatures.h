//===- RandomFeatures.h - FAVOR+ random feature matrices --------*- C++ -*-===//
//
// The projection matrix Ω of FAVOR+ positive random features (Performer;
// docs/LinearFamily.md §4), shared by the compiler (which embeds float(Ω) in
// the kernel) and the runtime's float64 reference (which uses the same Ω in
// double).  Header-only, C++17 standard library only, and fully specified
// below, so that every build produces the same bits from the same seed
// (no <random> distributions: their output differs between libraries).
//
// Algorithm, for Ω of `features` rows and `dim` columns:
//
//  1. One SplitMix64 stream seeded with `seed` feeds everything, in order.
//  2. Uniform doubles in (0, 1): u = ((z >> 11) + 0.5) * 2^-53 for each
//     64-bit output z (never 0, never 1).
//  3. Standard normals by Box-Muller, two per pair of uniforms (u1, u2):
//     r = sqrt(-2 ln u1), n1 = r cos(2π u2), n2 = r sin(2π u2); n1 is
//     returned first and n2 by the next call.
//  4. Rows come in blocks of `dim` rows.  For each block, a dim x dim
//     Gaussian matrix is drawn row by row (row-major), and each row is
//     orthonormalized against the block's earlier rows by modified
//     Gram-Schmidt in double, applied twice ("twice is enough"
//     re-orthogonalization, so the rows are orthogonal to ~1e-15).  A row
//     whose norm after projection is below 1e-8 of its norm before
//     (or zero) is degenerate: it is replaced by a fresh Gaussian row from
//     the stream and orthonormalized again.  Every block, the last one
//     included, is generated in full; the last keeps only the rows needed.
//  5. Then, for each of the `features` rows in order, an independent
//     standard-normal dim-vector is drawn and the row is multiplied by its
//     Euclidean norm (chi-distributed with `dim` degrees of freedom), so
//     rows have the length distribution of Gaussian rows (as in FAVOR+).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SUPPORT_RANDOMFEATURES_H
#define ATTN_SUPPORT_RANDOMFEATURES_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attn {

/// The constant ε_f added to every FAVOR+ feature after the stabilizing
/// shift: φ0_r = m^{-1/2} (exp(u_r - c) + kFavorPlusEpsilon).
constexpr double kFavorPlusEpsilon = 1e-4;

/// A SplitMix64 stream with the uniform and normal draws FAVOR+ uses.
class FavorPlusRng {
public:
  explicit FavorPlusRng(uint64_t seed) : state(seed) {}

  /// The next 64-bit output of SplitMix64.
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Uniform in the open interval (0, 1), 53 random bits.
  double uniform() {
    return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }

  /// A standard normal by Box-Muller (the pair's second value is kept for
  /// the next call).
  double normal() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const double twoPi = 6.283185307179586476925286766559;
    double u1 = uniform(), u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    spare = r * std::sin(twoPi * u2);
    hasSpare = true;
    return r * std::cos(twoPi * u2);
  }

private:
  uint64_t state;
  double spare = 0;
  bool hasSpare = false;
};

/// Returns the FAVOR+ matrix Ω, `features` x `dim`, row-major, generated
/// from `seed` by the algorithm at the top of this file: block-orthogonal
/// Gaussian rows (each block of `dim` rows orthonormal), each rescaled by
/// an independent chi-distributed norm.  Deterministic in (features, dim,
/// seed).  Returns an empty vector when `features` or `dim` is not positive.
inline std::vector<double> favorPlusMatrix(int64_t features, int64_t dim,
                                           uint64_t seed) {
  if (features <= 0 || dim <= 0)
    return {};
  const size_t m = size_t(features), d = size_t(dim);
  std::vector<double> omega(m * d);
  FavorPlusRng rng(seed);
  std::vector<double> block(d * d);

  for (size_t first = 0; first < m; first += d) {
    // One dim x dim block: row r is drawn, then orthonormalized against the
    // block's rows 0..r-1 (twice), redrawn while degenerate.
    for (size_t r = 0; r < d; ++r) {
      double *row = block.data() + r * d;
      for (;;) {
        double before = 0;
        for (size_t c = 0; c < d; ++c) {
          row[c] = rng.normal();
          before += row[c] * row[c];
        }
        for (int pass = 0; pass < 2; ++pass)
          for (size_t p = 0; p < r; ++p) {
            const double *prev = block.data() + p * d;
            double dot = 0;
            for (size_t c = 0; c < d; ++c)
              dot += row[c] * prev[c];
            for (size_t c = 0; c < d; ++c)
              row[c] -= dot * prev[c];
          }
        double after = 0;
        for (size_t c = 0; c < d; ++c)
          after += row[c] * row[c];
        // Degenerate: (almost) in the span of the earlier rows.
        if (!(before > 0) || !(after > 1e-16 * before))
          continue;
        double inv = 1.0 / std::sqrt(after);
        for (size_t c = 0; c < d; ++c)
          row[c] *= inv;
        break;
      }
    }
    size_t keep = m - first < d ? m - first : d;
    for (size_t r = 0; r < keep; ++r)
      for (size_t c = 0; c < d; ++c)
        omega[(first + r) * d + c] = block[r * d + c];
  }

  // Chi-distributed row norms, as the norms of fresh Gaussian dim-vectors.
  for (size_t r = 0; r < m; ++r) {
    double sq = 0;
    for (size_t c = 0; c < d; ++c) {
      double g = rng.normal();
      sq += g * g;
    }
    double norm = std::sqrt(sq);
    for (size_t c = 0; c < d; ++c)
      omega[r * d + c] *= norm;
  }
  return omega;
}

} // namespace attn

#endif // ATTN_SUPPORT_RANDOMFEATURES_H
