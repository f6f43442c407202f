//===- GpuAttentionPipeline.h - softmax attention on GPUs -------*- C++ -*-===//
//
// Private to lowering/halide.  The GPU lowering of the softmax form
// ("two_pass_tiled" kernels compiled for a cuda or opencl target;
// docs/GPU.md §4).  One GPU thread owns one query row; a block holds
// `block_rows` rows of one (head, batch).  Each thread streams the row's
// visible keys once (online softmax): the running max m, the running sum l
// and the Dv accumulators live in registers as one Func of Dv + 2 columns,
// rescaled by exp(m_old - m_new) as the max grows, so no score tile is ever
// stored.  The query row is staged in registers, pre-scaled; `key_unroll`
// keys are processed per step of the key loop.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_GPUATTENTIONPIPELINE_H
#define ATTN_LOWERING_HALIDE_GPUATTENTIONPIPELINE_H

#include "lowering/halide/PipelineBase.h"

namespace attn::halide {

class GpuAttentionPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  void define();
  void schedule();

  /// The static query/key and value head dims (GPU schedules keep a row of
  /// each in registers).
  int headDim = 0, valueDim = 0;
  Halide::Var c{"c"}, d{"d"}, dv{"dv"}, i{"i"}, j{"j"}, h{"h"}, b{"b"};
  Halide::RDom rd, r;
  Halide::Func qRow{"q_row"}, dot{"dot"}, state{"state"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_GPUATTENTIONPIPELINE_H
