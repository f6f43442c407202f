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
  Halide::Var d{"d"}, dv{"dv"}, m{"m"}, n{"n"}, j{"j"}, i{"i"}, h{"h"},
      b{"b"}, task{"task"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_HALOPIPELINE_H
