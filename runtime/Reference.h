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
// Kind "ema" (§7, Mega's EMA SeqMix) is not an attention: x [B, L, C],
// delta, alpha, beta, gamma [C, n], omega [C], out [B, L, C].  With
// p = σ(delta), a = σ(alpha), q = 1 − p·a (per c, k):
//
//   K[c, t]    = Σ_k gamma[c,k] n^{-1/2} p[c,k] beta[c,k] q[c,k]^t
//   y[b, t, c] = Σ_{s ≤ t} K[c, t − s] x[b, s, c]
//   out = y (compat "paper"), silu(y + omega[c] x[b,t,c]) (compat "code"),
//   silu(z) = z σ(z).
//
// The float64 reference runs the recurrence h_t = p·beta·x_t + q·h_{t−1}
// (h_{−1} = 0), y_t = Σ_k gamma n^{-1/2} h_t per (b, c, k): O(B·L·C·n),
// mathematically equal to the Toeplitz sum.  The naive float32 baseline is
// deliberately the other formula: K built in float with pow(q, t), then the
// direct O(L^2) Toeplitz sum in float, s = 0..t in order (and silu in
// float).  That is the naive same-precision evaluation a kernel is judged
// against; its error (pow's rounding, long float sums) is the realistic
// float error of computing the EMA as a convolution, as the ema_fft form
// does, rather than the smaller error of a float recurrence.  Its cost
// grows as L^2 per (b, c), so with maxRows only the sampled time steps of
// the baseline are computed (the reference itself is computed in full).
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
/// An error for kind "ema", which is not an attention (emaShape()).
Result<AttentionShape> attentionShape(const KernelSpec &kernel,
                                      const TensorMap &args);

/// Extents of an "ema" problem: x [B, L, C], delta/alpha/beta/gamma [C, n].
struct EmaShape {
  int64_t B = 0, L = 0, C = 0, n = 0;
};

/// Reads and cross-checks the extents of an "ema" reference's tensors: x,
/// delta, alpha, beta and gamma must be present; omega when compat is
/// "code" (and checked whenever present); out only when present.
Result<EmaShape> emaShape(const KernelSpec &kernel, const TensorMap &args);

/// FLOPs of an "ema" kernel: 2*B*L*C*n*2 = 4*B*L*C*n, as conventionally
/// counted with multiply-adds: per (b, t, c, k) one multiply-add (2) for the
/// state update h = q·h + (p·beta)·x_t and one (2) for the readout
/// y += (gamma n^{-1/2})·h.  The same for either compat (the O(B·L·C)
/// gate is not counted) and for either lowering form (the direct or FFT
/// convolution reports this conventional count too).
double emaFlops(const EmaShape &shape);

/// The feature width F of a "linear" reference after the expansion: (m for
/// FAVOR+ with m random features, else the head dim D) times the number of
/// expansion entries (1 without an expansion).
int64_t linearFeatureWidth(const ReferenceSpec &ref, int64_t headDim);

/// FLOPs of the kernel as conventionally counted: 4*B*H*N*M*D, halved when
/// the reference says causal.  For kind "linear": 2*B*H*(N+M)*F*(Dv+1), the
/// associative form's state build (keys) plus readout (queries) with
/// F = linearFeatureWidth(), plus 2*B*H*(N+M)*m*D for FAVOR+'s projections;
/// causal or not (the chunked form executes about twice that: its
/// intra-chunk quadratic part is not counted), and independent of the
/// quadratic form the reference evaluates.
/// For kind "luna": 4*B*H*p*(N+M)*D, causal or not: per (b, h), packing
/// costs 2*p*M*D for the memory-key scores (or π) and 2*p*M*D for the
/// weighted value sums (or the prefix-state updates), unpacking 2*p*N*D for
/// the query-packed scores and 2*p*N*D for the readout.
double attentionFlops(const KernelSpec &kernel, const AttentionShape &shape);

/// FLOPs actually needed: 4*D per visible (query, key) pair, counted from
/// the reference's exact key bounds (so a sliding window counts its window,
/// causal N(N+1)/2 pairs) or, with a `window2d` partition, from each
/// query's window (the keys of it that every mask keeps); attentionFlops()
/// when neither applies and always for kinds "linear" and "luna".
Result<double> visibleFlops(const KernelSpec &kernel,
                            const AttentionShape &shape, const TensorMap &args);

/// The FLOPs to report for a call of the kernel with `args`, for every
/// reference kind: emaFlops(emaShape()) for "ema", blockFlops() for "block"
/// (BlockReference.h), visibleFlops(attentionShape()) otherwise.  Errors when the kernel has no reference or
/// the shapes disagree.
Result<double> referenceFlops(const KernelSpec &kernel, const TensorMap &args);

/// The two evaluations of the reference.
struct ReferenceOutput {
  /// f64, the float64 reference: [B,H,N,Dv] ([B,L,C] for kind "ema").
  Tensor ref64;
  Tensor baseline; ///< The naive float32 evaluation, in the output's dtype.
  /// Per row: 1 when the row was evaluated.  Empty: every row.  A row is a
  /// query i (axis 2 of [B,H,N,Dv]) or, for kind "ema", a time step t
  /// (axis 1 of [B,L,C]); rowAxis says which.  Rows not evaluated hold
  /// zeros, except in an "ema" ref64, which is always computed in full.
  std::vector<char> rowsEvaluated;
  int rowAxis = 2;
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
/// skips only the readout of the others.  For "ema" the rows are the time
/// steps t: the float64 recurrence runs over every step, and only the
/// baseline's Toeplitz sums are limited to the sampled steps.  Errors for
/// "ema" also when an argument is missing or the shapes disagree (x, out
/// [B, L, C]; delta, alpha, beta, gamma [C, n]; omega [C]).
///
/// Kind "block" is evaluated by computeBlockReference() (BlockReference.h)
/// on every row; the kernel's first output is returned (a block kernel may
/// have several: computeReferenceOutputs() gives them all).  Inputs of every
/// kind may be of any float dtype (f64 included): they are read as doubles
/// for the reference and rounded to float for the baseline.
Result<ReferenceOutput> computeReference(const KernelSpec &kernel,
                                         const TensorMap &args,
                                         int64_t maxRows = 0);

} // namespace attn::rt

#endif // ATTN_RUNTIME_REFERENCE_H
