//===- StructuralReference.h - References of coupler and emha ---*- C++ -*-===//
//
// The float64 references (and the naive float32 baselines) of the two
// structural variants that the "attention" kind cannot express
// (docs/Variants.md, docs/Manifest.md):
//
// Kind "coupler" (Couplformer, spec V5), grid [R, C] with N = M = R·C, per
// (b, h) with g = h / (H / G) and τ the scale:
//
//   A[r, r']  = softmax_r'( τ Σ_{c,d} q[rC + c, d] k[r'C + c, d] )   (R × R)
//   Bm[c, c'] = softmax_c'( τ Σ_{r,d} q[rC + c, d] k[rC + c', d] )   (C × C)
//   O[rC + c] = Σ_{r', c'} A[r, r'] Bm[c, c'] v[r'C + c']
//
// evaluated as the explicit quadratic form of the Kronecker map A ⊗ Bm
// (N × M weights, O(N·M·Dv) per (b, h)), so the separable kernel (A V Bmᵀ)
// is checked against (A ⊗ Bm) vec(V) (spec §6.7).
//
// Kind "emha" (EIT, spec V10), G = H, weights ISI and CSI [H, H, k, k],
// p = (k − 1) / 2, maps zero outside [0, N) × [0, M):
//
//   S_ij[n, m] = τ q_i[n]·k_j[m]                        (every head pair)
//   Ŝ_i[n, m]  = Σ_{j,a,e} ISI[i, j, a, e] S_ij[n + a − p, m + e − p]
//   A_i[n, :]  = softmax(Ŝ_i[n, :])
//   Ã_i[n, m]  = Σ_{j,a,e} CSI[i, j, a, e] A_j[n + a − p, m + e − p]
//   O_i[n]     = Σ_m Ã_i[n, m] v_i[m]
//
// materializing per batch the maps of one query head at a time (O(H·N·M)
// memory) and A for every head.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_STRUCTURALREFERENCE_H
#define ATTN_RUNTIME_STRUCTURALREFERENCE_H

#include "runtime/Reference.h"

namespace attn::rt {

/// FLOPs of a "coupler" kernel: 2·B·H·N·(R + C)·(D + Dv): the two maps'
/// scores (2·N·R·D and 2·N·C·D per head) and the two mode products of the
/// aggregate (2·N·C·Dv and 2·N·R·Dv); the softmaxes are not counted.
double couplerFlops(const ReferenceSpec &ref, const AttentionShape &shape);

/// FLOPs of an "emha" kernel: 2·B·H·N·M·(H·D + 2·H·k² + Dv): every head
/// pair's scores, the two map convolutions and the aggregate.
double emhaFlops(const ReferenceSpec &ref, const AttentionShape &shape);

/// Evaluates a "coupler" reference on the query rows in `rows` (empty:
/// all); errors when the grid does not match N and M.
Result<ReferenceOutput> computeCouplerReference(const KernelSpec &kernel,
                                                const TensorMap &args,
                                                const AttentionShape &shape,
                                                std::vector<char> rows);

/// Evaluates an "emha" reference on the query rows in `rows` (empty: all);
/// errors when G != H or the weights are not [H, H, k, k].
Result<ReferenceOutput> computeEmhaReference(const KernelSpec &kernel,
                                             const TensorMap &args,
                                             const AttentionShape &shape,
                                             std::vector<char> rows);

namespace detail {
/// Helpers of Reference.cpp shared with the structural references.
Result<const Tensor *> referenceTensor(const TensorMap &args,
                                       const std::string &name,
                                       const char *role);
std::vector<double> tensorAsDoubles(const Tensor &t);
std::vector<float> tensorAsFloats(const Tensor &t);
/// Evaluates the reference's scale (an expression over dims) for `shape`.
Result<double> referenceScale(const ReferenceSpec &ref,
                              const AttentionShape &shape,
                              const TensorMap &args);
/// The outputs of shape [B, H, N, Dv], every element zero.
Result<ReferenceOutput> createAttentionOutputs(const KernelSpec &kernel,
                                               const AttentionShape &shape);
} // namespace detail

} // namespace attn::rt

#endif // ATTN_RUNTIME_STRUCTURALREFERENCE_H
