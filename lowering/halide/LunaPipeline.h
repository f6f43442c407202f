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

  Halide::Var d{"d"}, e{"e"}, l{"l"}, i{"i"}, j{"j"}, t{"t"}, h{"h"},
      b{"b"}, ii{"ii"}, jj{"jj"}, tile{"tile"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_LUNAPIPELINE_H
