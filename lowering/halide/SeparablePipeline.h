//===- SeparablePipeline.h - Couplformer's coupled maps in Halide -*- C++ -*-===//
//
// Private to lowering/halide.  Form "separable" (docs/Variants.md, coupler):
// the N = rows x cols tokens of a row-major grid; per (b, h) a row map A
// (rows x rows, contracting each grid row over its width and the channels)
// and a column map Bm (cols x cols, contracting each column over the rows),
// each softmax-normalized, then O[:, :, d] = A V[:, :, d] Bm^T as two
// mode products (register-blocked GEMMs), T = V Bm^T per grid row and
// O = A T: full attention with the Kronecker map A (x) Bm without forming
// its N x N entries.
// O(B H N (rows + cols) (D + Dv)) time, O(rows^2 + cols^2) map memory per
// (b, h) plus the N x Dv intermediate T.
//
// On GPU targets (buildGpu, docs/gpu/softmax-forms.md): six device
// kernels.  Per map: the scores (a block per query row or column, a thread
// per key row or column, the query line staged in shared memory) and the
// softmax (a thread per map row); then T = V Bm^T (a block per grid row,
// Bm and the row of V in shared memory) and O = A T written straight into
// the output (a block per grid column, A and the column of T in shared
// memory); register accumulators throughout.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_SEPARABLEPIPELINE_H
#define ATTN_LOWERING_HALIDE_SEPARABLEPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

namespace attn::halide {

class SeparablePipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  /// The GPU algorithm and schedule (target.isGpu()).
  void buildGpu();

  Halide::Var d{"d"}, dv{"dv"}, r1{"r1"}, r2{"r2"}, c1{"c1"}, c2{"c2"},
      i{"i"}, h{"h"}, b{"b"}, hb{"hb"}, tile{"tile"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_SEPARABLEPIPELINE_H
