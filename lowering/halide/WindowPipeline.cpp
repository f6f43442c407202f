//===- WindowPipeline.cpp - Swin-style window attention in Halide ---------===//

#include "lowering/halide/WindowPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"

#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void WindowPipeline::build() {
  if (!desc.isWindow())
    throw CompileError("form 'window_tiled' needs a window2d partition");
  define();
  schedule();
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void WindowPipeline::define() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  const int rows = int(desc.windowRows), cols = int(desc.windowCols);
  const int w = int(desc.windowSize);
  // Windows start at multiples of w minus `off` (per axis): the cyclic
  // shift by s moves the window grid by s, and the pairs only the wrap
  // would join are excluded, so the first and last windows of an axis are
  // clipped by the image (docs/Variants.md, window2d).
  const int off = int((desc.windowSize - desc.windowShift) % desc.windowSize);
  const int tokens = w * w;
  Expr D = q.dim(0).extent(), N = q.dim(1).extent(), H = q.dim(2).extent();
  Expr B = q.dim(3).extent(), M = k.dim(1).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);

  // Local token t of window (cc, cr): grid row cr*w - off + t / w, column
  // cc*w - off + t % w; outside the image it does not exist (its loads are
  // clamped, its keys excluded, its rows never stored).
  auto gridRow = [&](Expr t, Expr wr) { return wr * w - off + t / w; };
  auto gridCol = [&](Expr t, Expr wc) { return wc * w - off + t % w; };
  auto inside = [&](Expr t) {
    Expr rr = gridRow(t, cr), cl = gridCol(t, cc);
    return rr >= 0 && rr < rows && cl >= 0 && cl < cols;
  };
  auto tokenOf = [&](Expr t) {
    return clamp(gridRow(t, cr), 0, rows - 1) * cols +
           clamp(gridCol(t, cc), 0, cols - 1);
  };

  // The window's queries (transposed, pre-scaled), keys and values.
  qWin(tq, d, cc, cr, h, b) =
      cast<float>(q(d, tokenOf(tq), h, b)) * float(desc.scale);
  kWin(d, tk, cc, cr, h, b) = cast<float>(k(d, tokenOf(tk), hk, b));
  vWin(dv, tk, cc, cr, h, b) = cast<float>(v(dv, tokenOf(tk), hk, b));

  rd = RDom(0, D, "rd");
  dot(tq, tk, cc, cr, h, b) = 0.0f;
  dot(tq, tk, cc, cr, h, b) +=
      qWin(tq, rd, cc, cr, h, b) * kWin(rd, tk, cc, cr, h, b);

  // Score modifiers (the relative bias among them) and the masks other
  // than the window's own, which the iteration makes exact.
  ExprEnv env;
  env.dims = {{"B", B}, {"H", H}, {"N", N}, {"M", M}, {"D", D}, {"G", G}};
  env.vars = {{"b", b}, {"h", h}, {"i", tokenOf(tq)}, {"j", tokenOf(tk)}};
  env.load = argumentLoader(desc, params);
  Expr s = dot(tq, tk, cc, cr, h, b);
  for (size_t n = 0; n < desc.scoreMods.size(); ++n) {
    if (int(n) == desc.windowBiasMod) {
      // The relative bias depends on the local offsets only (the same in
      // every window, clipped ones included): one w^2 x w^2 tile per head.
      ImageParam &table = params[desc.windowBias];
      Expr dr = clamp(tq / w - tk / w, 1 - w, w - 1) + (w - 1);
      Expr dc = clamp(tq % w - tk % w, 1 - w, w - 1) + (w - 1);
      biasTile(tq, tk, h) = table(dr * (2 * w - 1) + dc, h);
      s = s + biasTile(tq, tk, h);
      continue;
    }
    env.vars["s"] = s;
    s = cast<float>(buildExpr(desc.scoreMods[n], env));
  }
  Expr keep = inside(tk);
  for (size_t n = 0; n < desc.masks.size(); ++n)
    if (desc.maskOrigins[n] != "window2d")
      keep = keep && buildExpr(desc.masks[n], env);
  score(tq, tk, cc, cr, h, b) = s;

  // Softmax over the window's keys (finite "excluded", as two_pass_tiled).
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  r = RDom(0, tokens, "r");
  Expr keepAtR = substitute(tk.name(), r.x, keep);
  rowMax(tq, cc, cr, h, b) = lowest;
  rowMax(tq, cc, cr, h, b) =
      max(rowMax(tq, cc, cr, h, b),
          select(keepAtR, score(tq, r.x, cc, cr, h, b), lowest));
  Expr m = rowMax(tq, cc, cr, h, b);
  prob(tq, tk, cc, cr, h, b) =
      select(keep && m > lowest,
             accurateExp(score(tq, tk, cc, cr, h, b) - m), 0.0f);
  rowSum(tq, cc, cr, h, b) = 0.0f;
  rowSum(tq, cc, cr, h, b) += prob(tq, r.x, cc, cr, h, b);
  acc(dv, tq, cc, cr, h, b) = 0.0f;
  acc(dv, tq, cc, cr, h, b) +=
      prob(tq, r.x, cc, cr, h, b) * vWin(dv, r.x, cc, cr, h, b);
  Expr l = rowSum(tq, cc, cr, h, b);
  normed(dv, tq, cc, cr, h, b) =
      select(l > 0.0f, acc(dv, tq, cc, cr, h, b) / l, 0.0f);

  // Every token reads its row of its window.
  Expr ri = i / cols + off, ci = i % cols + off;
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) = cast(outType, normed(dv, (ri % w) * w + ci % w, ci / w,
                                          ri / w, h, b));
  constrainOutput(desc, out);

  algorithmOrder = {qWin, kWin, vWin, dot, score, rowMax, prob, rowSum,
                    acc, normed, out};
  if (desc.windowBiasMod >= 0)
    algorithmOrder.insert(algorithmOrder.begin() + 3, biasTile);
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

void WindowPipeline::schedule() {
  const int vw = int(knobs.at("vector_width"));
  const int ku = int(knobs.at("key_unroll"));
  const int qb = int(knobs.at("dot_query_block"));
  const int qu = int(knobs.at("pv_query_unroll"));
  const int w = int(desc.windowSize);
  const int off = int((desc.windowSize - desc.windowShift) % desc.windowSize);
  const int tokens = w * w;
  const int windowRows = int((desc.windowRows - 1 + off) / w + 1);
  const int windowCols = int((desc.windowCols - 1 + off) / w + 1);
  auto str = [](int x) { return std::to_string(x); };

  // One task per (window, head, batch), into a window-major buffer.
  Var nio("nio"), nii("nii");
  normed.compute_root()
      .bound(tq, 0, tokens)
      .bound(cc, 0, windowCols)
      .bound(cr, 0, windowRows)
      .fuse(cc, cr, win)
      .fuse(win, h, win)
      .fuse(win, b, win)
      .parallel(win)
      .split(tq, nio, nii, qu, TailStrategy::GuardWithIf)
      .reorder(dv, nii, nio, win)
      .vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(nii);
  note("normed.compute_root().fuse(cc, cr, h, b -> win).parallel(win)"
       ".split(tq, nio, nii, " + str(qu) + ").vectorize(dv, " + str(vw) +
       ").unroll(nii);  // " + str(windowRows) + " x " + str(windowCols) +
       " windows of " + str(tokens) + " tokens");

  if (desc.windowBiasMod >= 0) {
    biasTile.compute_root().vectorize(tq, vw, TailStrategy::GuardWithIf);
    note("bias_tile.compute_root().vectorize(tq, " + str(vw) +
         ");  // the relative bias of every local pair, per head");
  }
  qWin.compute_at(normed, win).vectorize(tq, vw, TailStrategy::GuardWithIf);
  kWin.compute_at(normed, win).vectorize(d, vw, TailStrategy::GuardWithIf);
  vWin.compute_at(normed, win).vectorize(dv, vw, TailStrategy::GuardWithIf);
  note("q_window/k_window/v_window.compute_at(normed, win)  // the window's "
       "rows, gathered once");

  // Scores: blocks of qb queries (vector lanes) x ku keys, as
  // two_pass_tiled.
  Var jo("jo"), ji("ji"), iio("iio"), iiv("iiv");
  score.compute_at(normed, win)
      .split(tk, jo, ji, ku, TailStrategy::RoundUp)
      .split(tq, iio, iiv, qb, TailStrategy::RoundUp)
      .reorder(iiv, ji, iio, jo)
      .vectorize(iiv, vw)
      .unroll(iiv)
      .unroll(ji);
  dot.compute_at(score, iio).vectorize(tq, vw).unroll(tq).unroll(tk);
  dot.update().reorder(tq, tk, rd.x).vectorize(tq, vw).unroll(tq).unroll(tk);
  note("score.compute_at(normed, win).split(tk, jo, ji, " + str(ku) +
       ").split(tq, iio, iiv, " + str(qb) + ").reorder(iiv, ji, iio, jo)"
       ".vectorize(iiv, " + str(vw) + "); dot.compute_at(score, iio);");

  for (Func *f : {&rowMax, &rowSum}) {
    f->compute_at(normed, win).vectorize(tq, vw, TailStrategy::GuardWithIf);
    f->update().reorder(tq, r.x).vectorize(tq, vw,
                                           TailStrategy::GuardWithIf);
  }
  prob.compute_at(normed, win)
      .reorder(tq, tk)
      .vectorize(tq, vw, TailStrategy::GuardWithIf);
  note("row_max/row_sum/prob.compute_at(normed, win).vectorize(tq, " +
       str(vw) + ");");

  acc.compute_at(normed, nio)
      .vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(tq);
  acc.update()
      .reorder(dv, tq, r.x)
      .vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(tq);
  if (knobs.at("unroll_value_dim")) {
    acc.unroll(dv);
    acc.update().unroll(dv);
  }
  note("acc.compute_at(normed, nio); acc.update().reorder(dv, tq, r)"
       ".vectorize(dv, " + str(vw) + ").unroll(tq)" +
       (knobs.at("unroll_value_dim") ? ".unroll(dv)" : "") + ";");

  // The output gathers each token's row: a copy, in tasks of rows.
  Var tile("tile");
  splitRowsIntoTasks(dv, i, h, b, tile, 64, vw);
  note("out.split(i, io, ii, 64).fuse(io, h, b -> tile).parallel(tile)"
       ".vectorize(dv, " + str(vw) + ");  // gather from normed");
}
