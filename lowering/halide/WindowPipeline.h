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

#include <utility>

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

  // What define() and defineGpu() share.
  /// The grid row and column of local token `t` of window (cc, cr); outside
  /// the image for the clipped windows' missing tokens.
  std::pair<Halide::Expr, Halide::Expr> gridPosition(Halide::Expr t) const;
  /// Whether local token `t` of window (cc, cr) is inside the image.
  Halide::Expr inside(Halide::Expr t) const;
  /// The token (row of the inputs) of local token `t` of window (cc, cr),
  /// clamped to the image: a missing token's loads are clamped, its keys
  /// excluded, its rows never stored.
  Halide::Expr tokenOf(Halide::Expr t) const;
  /// The window's keys kWin(d, tk, cc, cr, h, b) and values
  /// vWin(dv, tk, cc, cr, h, b), as floats.
  void defineKeysAndValues();
  /// The score of query tq and key tk from their dot product `dotScore`
  /// after the score modifiers, and whether the key is visible (inside the
  /// image and kept by the masks other than the window's own).  D is
  /// `headDim` in the modifiers; the relative bias is read through the
  /// per-head tile biasTile when `tileBias`, else from its table per pair.
  std::pair<Halide::Expr, Halide::Expr>
  scoreAndKeep(Halide::Expr headDim, Halide::Expr dotScore, bool tileBias);
  /// out(dv, i, h, b): every token reads its row of its window from
  /// normed(dv, tq, cc, cr, h, b).
  void defineGather();

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
