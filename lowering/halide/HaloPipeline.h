//===- HaloPipeline.h - EIT's head-mixing map convolutions in Halide -*- C++ -*-===//
//
// Private to lowering/halide.  Form "halo_tiled" (docs/Variants.md, emha):
// the maps must be materialized, because the k x k convolutions (P4
// map_conv) mix each score with its neighbours in both the query and the
// key direction and across heads.  One parallel task per (tile of
// query_tile query rows, batch) computes, for every head, the pair scores
// S_ij of the tile's rows plus a halo of 2p rows (p = (k - 1) / 2), the
// grouped ISI convolution and the softmax over every key for the rows plus
// a halo of p, then the CSI convolution and the aggregate for the tile's
// rows only: O(B H^2 N M (D + 2 k^2)) time, O(H (query_tile + 4p) M) map
// memory per task (the pair scores of one query head at a time).
//
// On GPU targets (buildGpu, docs/gpu/softmax-forms.md): four device
// kernels.  The ISI convolution: a block per (key_tile x query_tile map
// tile, query head, batch), a thread per map entry; the pair scores of the
// tile plus its halo, for every key head, are computed into shared memory
// by the block's threads, then each thread convolves them in a register.
// The softmax statistics: a thread per map row.  The CSI convolution: the
// same tiling, the normalized maps of the tile and its halo staged in
// shared memory.  The aggregate: a block per agg_rows query rows, a thread
// per (value channel, row) accumulating in a register.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_HALOPIPELINE_H
#define ATTN_LOWERING_HALIDE_HALOPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

namespace attn::halide {

class HaloPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  /// The GPU algorithm and schedule (target.isGpu()), once build() has
  /// made and checked the params.
  void buildGpu();

  Halide::Var d{"d"}, dv{"dv"}, m{"m"}, n{"n"}, j{"j"}, i{"i"}, h{"h"},
      b{"b"}, task{"task"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_HALOPIPELINE_H
