//===- WindowPipeline.h - Swin-style window attention in Halide -*- C++ -*-===//
//
// Private to lowering/halide.  Form "window_tiled" (docs/Variants.md,
// window2d): the N = rows x cols tokens of a row-major grid attend within
// w x w windows of a window grid offset by the shift.  One parallel task per
// (window, head, batch) gathers the window's (at most w^2) queries, keys and
// values, computes its w^2 x w^2 scores (the 2-D relative bias read from a
// per-head tile of every local pair, which all windows share; other score
// modifiers and masks element-wise), the softmax and P.V, into a
// window-major buffer; the output then gathers every token
// from its window.  No token pair outside a window is ever visited:
// O(B H N w^2 (D + Dv)).
//
// On GPU targets (defineGpu/scheduleGpu, docs/gpu/softmax-forms.md): a
// thread block per `windows_per_block` windows of one window row and one
// (head, batch); the windows' keys and values staged in shared memory
// (`stage_kv`); `query_threads` threads per window, each owning query rows
// of it with the online-softmax state and the query row in registers.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_WINDOWPIPELINE_H
#define ATTN_LOWERING_HALIDE_WINDOWPIPELINE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/PipelineBase.h"

#include "Halide.h"

namespace attn::halide {

class WindowPipeline : public PipelineBase {
public:
  using PipelineBase::PipelineBase;
  void build() override;

private:
  void define();
  void schedule();
  /// The GPU algorithm and schedule (target.isGpu()).
  void defineGpu();
  void scheduleGpu();

  /// Static head dims (GPU: a thread keeps rows of them in registers).
  int headDim = 0, valueDim = 0;

  Halide::Var d{"d"}, dv{"dv"}, tq{"tq"}, tk{"tk"}, cc{"cc"}, cr{"cr"},
      h{"h"}, b{"b"}, i{"i"}, win{"win"};
  Halide::RDom rd, r;
  Halide::Func qWin{"q_window"}, kWin{"k_window"}, vWin{"v_window"},
      dot{"dot"}, score{"score"}, rowMax{"row_max"}, prob{"prob"},
      rowSum{"row_sum"}, acc{"acc"}, normed{"normed"}, biasTile{"bias_tile"},
      qRow{"q_row"}, state{"state"};
  Halide::Var c{"c"};
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_WINDOWPIPELINE_H
