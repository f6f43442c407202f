//===- Reference.h - Float64 reference for attention kernels ----*- C++ -*-===//
//
// Evaluates a kernel's `reference` description (docs/Manifest.md) in the
// quadratic form, independently of how the kernel was lowered:
//
//   for each b, h, i:  s_j = scale * dot(q[b,h,i], k[b,g,j])  (g = h / (H/G))
//                      s_j = mod_n(...mod_1(s_j))             for kept j
//                      kept j: every mask is true
//                      out[b,h,i] = sum_j softmax(s)_j * v[b,g,j]
//
// A row with no kept key yields zeros.  The same pass also computes the
// naive float32 evaluation of the same math (float inputs, float dot
// products, float softmax and sums, rounded to the output dtype): its error
// against float64 is the baseline of the tolerance rule (Check.h).
//
// Kind "linear" evaluates the feature-map quadratic form
// (docs/LinearFamily.md §4).  Kind "luna" (§6) evaluates, per (b, h) with
// τ = scale, memory P [H, p, D] and D == Dv:
//
//   non-causal: Ps[l] = Σ_{j kept} softmax_j(τ P[h,l]·k[b,g,j]) v[b,g,j]
//               (zeros when no key is kept),
//               O_i = Σ_l softmax_l(τ q_i·Ps[l]) Ps[l];
//   causal (N == M): π_j[l] = log2(1 + 2^(τ P[h,l]·k_j)), t = i + 1,
//               S_i[l] = Σ_{j ≤ i, j kept} π_j[l] v_j,
//               s_i[l] = (τ / t) q_i·S_i[l]   (= (τ/t) Σ_j π_j[l] (q_i·v_j)),
//               O_i = (1 / t) Σ_l softmax_l(s_i)[l] S_i[l]
//                   (= (1/t) Σ_j (α_i·π_j) v_j),
//
// carrying S row by row: O(N·p·D) per (b, h), never N×N.  Both softmaxes
// subtract their max; keys j >= kv_lengths[b] contribute nothing (t stays
// i + 1).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_REFERENCE_H
#define ATTN_RUNTIME_REFERENCE_H

#include "runtime/Manifest.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>

namespace attn::rt {

/// Extents of an attention problem: q [B,H,N,D], k [B,G,M,D], v [B,G,M,Dv],
/// out [B,H,N,Dv].
struct AttentionShape {
  int64_t B = 0, H = 0, G = 0, N = 0, M = 0, D = 0, Dv = 0;
};

/// Reads and cross-checks the extents from the tensors that the kernel's
/// reference names (the output is checked only when present in `args`).
Result<AttentionShape> attentionShape(const KernelSpec &kernel,
                                      const TensorMap &args);

/// The feature width F of a "linear" reference after the expansion: (m for
/// FAVOR+ with m random features, else the head dim D) times the number of
/// expansion entries (1 without an expansion).
int64_t linearFeatureWidth(const ReferenceSpec &ref, int64_t headDim);

/// FLOPs of the kernel as conventionally counted: 4*B*H*N*M*D, halved when
/// the reference says causal.  For kind "linear": 2*B*H*(N+M)*F*(Dv+1), the
/// associative form's state build (keys) plus readout (queries) with
/// F = linearFeatureWidth(); causal or not (the prefix form does the same
/// work), and independent of the quadratic form the reference evaluates.
/// For kind "luna": 4*B*H*p*(N+M)*D, causal or not: per (b, h), packing
/// costs 2*p*M*D for the memory-key scores (or π) and 2*p*M*D for the
/// weighted value sums (or the prefix-state updates), unpacking 2*p*N*D for
/// the query-packed scores and 2*p*N*D for the readout.
double attentionFlops(const KernelSpec &kernel, const AttentionShape &shape);

/// FLOPs actually needed: 4*D per visible (query, key) pair, counted from
/// the reference's exact key bounds (so a sliding window counts its window,
/// causal N(N+1)/2 pairs); attentionFlops() when the bounds are not exact
/// and always for kinds "linear" and "luna".
Result<double> visibleFlops(const KernelSpec &kernel,
                            const AttentionShape &shape, const TensorMap &args);

/// The two evaluations of the reference.
struct ReferenceOutput {
  Tensor ref64;    ///< f64 [B,H,N,Dv]: the float64 reference.
  Tensor baseline; ///< The naive float32 evaluation, in the output's dtype.
  /// Per query row i: 1 when the row was evaluated.  Empty: every row.
  std::vector<char> rowsEvaluated;
};

/// Evaluates the kernel's reference on `args` (all inputs, by name).  Errors
/// when the kernel has no reference, uses an unsupported normalization, the
/// shapes disagree (for "luna" also: the memory is not [H, rows, D], Dv !=
/// D, or causal with N != M), or an expression fails to evaluate.
///
/// With `maxRows` > 0, only about that many query rows are evaluated, evenly
/// spaced and always including the first and last (the tuner checks every
/// candidate this way: the cost of a check stops growing as N^2 in rows).
/// A causal "luna" reference still runs its prefix over every row and
/// skips only the readout of the others.
Result<ReferenceOutput> computeReference(const KernelSpec &kernel,
                                         const TensorMap &args,
                                         int64_t maxRows = 0);

} // namespace attn::rt

#endif // ATTN_RUNTIME_REFERENCE_H
