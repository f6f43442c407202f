//===- LinearPipeline.h - linear-family attention in Halide -----*- C++ -*-===//
//
// Private to lowering/halide.  The efficient forms of the linear family
// (docs/LinearFamily.md), algorithm and schedule kept apart as in
// AttentionPipeline:
//
// * "associative": KV[f, e] = sum_j phi_k[j, f] v[j, e] and z[f] =
//   sum_j phi_k[j, f] per (b, g) (one GEMM, keys in blocks of `key_block`),
//   then O[i] = phi_q[i] . KV / (phi_q[i] . z + eps) per query tile (the
//   second GEMM).
// * "chunked_scan": causal.  Keys and queries are cut into chunks of
//   `chunk` rows; per chunk the state increments dA = phi_k^T V (and, with a
//   momentum weight, the decayed dB) are GEMMs run in parallel, an exclusive
//   prefix over chunks gives the carried states, and each chunk's output is
//   its masked intra-chunk quadratic part plus phi_q times the carried state.
//
// The feature map (pointwise, or FAVOR+ with its stabilizers) and the
// positional expansion are computed once per row, inside the tile that
// consumes them.
//
// GPU targets (docs/gpu/efficient-forms.md) schedule every stage on the
// device: the features at the root (a thread per element), the states as
// thread blocks of features x value dim over shared-memory tiles of keys
// and values, the readouts as thread blocks of rows x value dim.
// fft_toeplitz has no FFT on the device: its GPU lowering is the direct
// Toeplitz sum over key tiles staged in shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_LINEARPIPELINE_H
#define ATTN_LOWERING_HALIDE_LINEARPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace attn::halide {

class LinearPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  /// The feature Func of `input` (Halide dims f, t, head, b), masked to zero
  /// for excluded keys.
  Halide::Func defineFeature(Halide::ImageParam &input, bool isKey);
  void defineAssociative();
  void defineChunkedScan();
  void defineFftToeplitz();
  void scheduleFftToeplitz();
  void scheduleAssociative();
  /// FAVOR+ (when used): the key projections, squared norms and the
  /// stabilizer at the root (parallel); the query ones at `queryLevel`, the
  /// loop that computes phi_q.
  void scheduleRandomFeatures(Halide::Func queryConsumer,
                              Halide::Var queryLevel);
  void scheduleChunkedScan();
  /// GPU lowerings (target.isGpu()).
  void scheduleAssociativeGpu();
  /// The chunked scan's readout on GPUs (rows, not chunk-local rows).
  void defineChunkReadoutGpu(bool momentum, bool decayed, double alpha,
                             double betaW);
  void scheduleChunkedScanGpu();
  /// fft_toeplitz on GPUs: the direct Toeplitz sum (no FFT on the device).
  void defineToeplitzGpu();
  void scheduleToeplitzGpu();
  /// FAVOR+ helpers at the root, on the device.
  void scheduleRandomFeaturesGpu();

  /// Feature width after expansion, and before (base map width).
  Halide::Expr featureWidth, baseWidth;
  Halide::Var f0{"f0"}, f{"f"}, e{"e"}, i{"i"}, j{"j"}, t{"t"}, h{"h"}, g{"g"},
      b{"b"}, ii{"ii"}, jj{"jj"}, tile{"tile"};
  Halide::RDom rk, rf, rc, rt;
  /// The head-dim reductions of the FAVOR+ projections.
  Halide::RDom rdQ, rdK;

  // Features (FAVOR+ helpers are only defined when used).
  /// phi_k_norm: the key features again, inlined into the normalizer z so
  /// that phi_k can live in the state GEMM's key blocks.
  Halide::Func phiQ{"phi_q"}, phiK{"phi_k"}, phiKNorm{"phi_k_norm"},
      sqQ{"half_sq_q"}, sqK{"half_sq_k"}, rowMaxQ{"row_max_q"},
      rowMaxK{"row_max_k"}, projQ{"proj_q"},
      projK{"proj_k"}, keyMax{"key_max"};
  // Associative.
  /// kv_block/z_block: the state of one block of `key_block` keys; kv and z
  /// sum the blocks (two-level summation: the rounding error grows with
  /// key_block + M / key_block instead of M).
  Halide::Func kvBlock{"kv_block"}, zBlock{"z_block"}, kv{"kv"}, z{"z"},
      num{"num"}, den{"den"};
  Halide::Var blk{"blk"};
  Halide::RDom rb, rblk;
  // Chunked scan.
  Halide::Func dA{"d_state"}, dB{"d_decayed"}, dZ{"d_norm"}, stA{"state"},
      stB{"decayed"}, stZ{"norm_state"}, intra{"intra"}, numC{"num_chunk"},
      denC{"den_chunk"}, weightTable{"weight_table"};
  // FFT Toeplitz (the extern stage of tools/attnc/FftSupport.c).
  Halide::Func toeplitz{"toeplitz"};
  Halide::Func res{"normalized"};
  /// phi_k_chunk, v_chunk, phi_q_chunk, intra_masked.
  std::vector<Halide::Func> chunkViews;
  Halide::Buffer<float> omega;
  /// GPU: the static value head dim, the masked intra-chunk or Toeplitz
  /// scores (score_gpu(j, i, h, b)) and the GPU readouts.
  int gpuValueDim = 0;
  Halide::Func scoreGpu{"score_gpu"}, scoreDot{"score_dot"},
      numGpu{"num_gpu"}, denGpu{"den_gpu"}, valueAug{"value_aug"};
  Halide::RDom rj;
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_LINEARPIPELINE_H
