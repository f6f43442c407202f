//===- EmaPipeline.h - Mega's EMA SeqMix in Halide --------------*- C++ -*-===//
//
// Private to lowering/halide.  Form "ema" (docs/LinearFamily.md §7): the
// multi-dimensional damped EMA y = K * x along the sequence, per channel.
//
// * Scan branch: the sequence is cut into chunks of `chunk` steps.  Per
//   chunk the end state E_k = sum_s q_k^(chunk-1-s) p_k beta_k x_s is a
//   reduction (chunks in parallel); the carried states follow from an
//   exclusive prefix H_t = q^chunk H_(t-1) + E_(t-1); each chunk's output is
//   its direct Toeplitz part sum_{s' <= s} K[s - s'] x_s' plus
//   sum_k gamma_k n^-1/2 q_k^(s+1) H_k.  O(L C (chunk + n)).
// * FFT branch (L >= fft_min_length): K[c, t] for every t, then the causal
//   long convolution by FFT (FFTW extern, tools/attnc/FftSupport.c).
//
// The branch is chosen at run time by Halide's specialize on L.
//
// GPU targets (docs/gpu/efficient-forms.md) have no FFT branch: FFTW runs
// on the host only, so the chunked scan serves every length, on the device.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_EMAPIPELINE_H
#define ATTN_LOWERING_HALIDE_EMAPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace attn::halide {

class EmaPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  /// The GPU lowering: the scan for every length, on the device.
  void buildGpu();

  Halide::Var c{"c"}, k{"k"}, t{"t"}, s{"s"}, r{"r"}, b{"b"}, tile{"tile"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_EMAPIPELINE_H
