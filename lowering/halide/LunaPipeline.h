//===- LunaPipeline.h - Luna's nested attention in Halide -------*- C++ -*-===//
//
// Private to lowering/halide.  The two Luna forms (docs/LinearFamily.md §6):
//
// * "pack_unpack": per (b, h) the p memory rows attend to every key (a
//   p x M softmax, stable by the row max) into the packed sequence Ps
//   (p x D); then per query tile each query attends to the p packed rows.
//   O(N p D) time, p x D extra memory per (b, h).
// * "luna_scan" (causal): the softplus pack weights pi (p per key), the
//   per-chunk states dS = pi^T V, their exclusive prefix over chunks, and per
//   chunk the intra-chunk quadratic parts (q.v and pi-weighted sums) with the
//   softmax over the p rows in between.
//
// GPU targets (docs/gpu/efficient-forms.md): every stage on the device;
// the pack's and the chunk states' accumulators over shared-memory tiles of
// keys, the unpack over shared tiles of packed rows, luna_scan's output a
// thread per (value column, row) with the chunk's values in shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_LUNAPIPELINE_H
#define ATTN_LOWERING_HALIDE_LUNAPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace attn::halide {

class LunaPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  void definePackUnpack();
  void defineScan();
  /// luna_scan's GPU schedule (the stages of defineScan).
  void scheduleScanGpu(Halide::Func memT, Halide::Func piDot, Halide::Func pi,
                       Halide::Func vc, Halide::Func dS, Halide::Func S,
                       Halide::Func qv, Halide::Func qS, Halide::Func score,
                       Halide::Func smax, Halide::Func alpha,
                       Halide::Func asum, Halide::Func w, Halide::Func acc,
                       Halide::RDom rc);

  Halide::Var d{"d"}, e{"e"}, l{"l"}, i{"i"}, j{"j"}, t{"t"}, h{"h"},
      b{"b"}, ii{"ii"}, jj{"jj"}, tile{"tile"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_LUNAPIPELINE_H
