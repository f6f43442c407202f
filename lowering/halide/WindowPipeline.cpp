//===- WindowPipeline.cpp - Swin-style window attention in Halide ---------===//

#include "lowering/halide/WindowPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void WindowPipeline::build() {
  if (!desc.isWindow())
    throw CompileError("form 'window_tiled' needs a window2d partition");
  if (target.isGpu()) {
    defineGpu();
    scheduleGpu();
    return;
  }
  define();
  schedule();
}

//===----------------------------------------------------------------------===//
// What the CPU and GPU algorithms share
//===----------------------------------------------------------------------===//

/// Windows start at multiples of w minus this offset (per axis): the cyclic
/// shift by s moves the window grid by s, and the pairs only the wrap would
/// join are excluded, so the first and last windows of an axis are clipped
/// by the image (docs/Variants.md, window2d).
static int windowOffset(const AttentionKernelDesc &desc) {
  return int((desc.windowSize - desc.windowShift) % desc.windowSize);
}

std::pair<Expr, Expr> WindowPipeline::gridPosition(Expr t) const {
  const int w = int(desc.windowSize), off = windowOffset(desc);
  return {cr * w - off + t / w, cc * w - off + t % w};
}

Expr WindowPipeline::inside(Expr t) const {
  auto [row, col] = gridPosition(t);
  return row >= 0 && row < int(desc.windowRows) && col >= 0 &&
         col < int(desc.windowCols);
}

Expr WindowPipeline::tokenOf(Expr t) const {
  auto [row, col] = gridPosition(t);
  const int rows = int(desc.windowRows), cols = int(desc.windowCols);
  return clamp(row, 0, rows - 1) * cols + clamp(col, 0, cols - 1);
}

void WindowPipeline::defineKeysAndValues() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  Expr H = q.dim(2).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  kWin(d, tk, cc, cr, h, b) = cast<float>(k(d, tokenOf(tk), hk, b));
  vWin(dv, tk, cc, cr, h, b) = cast<float>(v(dv, tokenOf(tk), hk, b));
}

std::pair<Expr, Expr> WindowPipeline::scoreAndKeep(Expr headDim, Expr dotScore,
                                                   bool tileBias) {
  const int w = int(desc.windowSize);
  ExprEnv env = kernelEnv(desc, params, headDim);
  env.vars = {{"b", b}, {"h", h}, {"i", tokenOf(tq)}, {"j", tokenOf(tk)}};
  Expr s = dotScore;
  for (size_t n = 0; n < desc.scoreMods.size(); ++n) {
    if (int(n) == desc.windowBiasMod) {
      // The relative bias depends on the local offsets only (the same in
      // every window, clipped ones included): one w^2 x w^2 tile per head.
      ImageParam &table = params[desc.windowBias];
      Expr dr = clamp(tq / w - tk / w, 1 - w, w - 1) + (w - 1);
      Expr dc = clamp(tq % w - tk % w, 1 - w, w - 1) + (w - 1);
      Expr bias = table(dr * (2 * w - 1) + dc, h);
      if (tileBias) {
        biasTile(tq, tk, h) = bias;
        s = s + biasTile(tq, tk, h);
      } else {
        s = s + cast<float>(bias);
      }
      continue;
    }
    env.vars["s"] = s;
    s = cast<float>(buildExpr(desc.scoreMods[n], env));
  }
  Expr keep = inside(tk);
  for (size_t n = 0; n < desc.masks.size(); ++n)
    if (desc.maskOrigins[n] != "window2d")
      keep = keep && buildExpr(desc.masks[n], env);
  return {s, keep};
}

void WindowPipeline::defineGather() {
  const int w = int(desc.windowSize), cols = int(desc.windowCols);
  const int off = windowOffset(desc);
  Expr ri = i / cols + off, ci = i % cols + off;
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) =
      cast(outType, normed(dv, (ri % w) * w + ci % w, ci / w, ri / w, h, b));
  constrainOutput(desc, out);
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void WindowPipeline::define() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query];
  const int tokens = int(desc.windowSize * desc.windowSize);
  Expr D = q.dim(0).extent();

  // The window's queries (transposed, pre-scaled), keys and values.
  qWin(tq, d, cc, cr, h, b) =
      cast<float>(q(d, tokenOf(tq), h, b)) * float(desc.scale);
  defineKeysAndValues();

  rd = RDom(0, D, "rd");
  dot(tq, tk, cc, cr, h, b) = 0.0f;
  dot(tq, tk, cc, cr, h, b) +=
      qWin(tq, rd, cc, cr, h, b) * kWin(rd, tk, cc, cr, h, b);

  // Score modifiers (the relative bias among them, as a per-head tile) and
  // the masks other than the window's own, which the iteration makes exact.
  auto [s, keep] =
      scoreAndKeep(D, dot(tq, tk, cc, cr, h, b), /*tileBias=*/true);
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
  defineGather();

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
  const int off = windowOffset(desc);
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

//===----------------------------------------------------------------------===//
// GPU targets (docs/gpu/softmax-forms.md, "window_tiled")
//===----------------------------------------------------------------------===//

void WindowPipeline::defineGpu() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query];
  headDim = gpuStaticDim(desc, desc.query, "window_tiled", "query/key head dim",
                         GpuDimUse::Registers);
  valueDim = gpuStaticDim(desc, desc.value, "window_tiled", "value head dim",
                          GpuDimUse::Registers);
  const int tokens = int(desc.windowSize * desc.windowSize);
  const int D = headDim, Dv = valueDim;

  // A query row (pre-scaled; registers of its thread), the window's keys
  // and values (shared memory of its block when staged).
  qRow(d, tq, cc, cr, h, b) =
      cast<float>(q(d, tokenOf(tq), h, b)) * float(desc.scale);
  defineKeysAndValues();

  rd = RDom(0, D, "rd");
  dot(tk, tq, cc, cr, h, b) = 0.0f;
  dot(tk, tq, cc, cr, h, b) +=
      qRow(rd, tq, cc, cr, h, b) * kWin(rd, tk, cc, cr, h, b);

  // Score modifiers (the relative bias read from its table per pair) and
  // the masks other than the window's own.
  auto [s, keep] =
      scoreAndKeep(D, dot(tk, tq, cc, cr, h, b), /*tileBias=*/false);

  // The online softmax over the window's keys (defineOnlineSoftmax, as
  // GpuAttentionPipeline).
  r = RDom(0, Dv + 2, 0, tokens, "r");
  RVar col = r.x, key = r.y;
  defineOnlineSoftmax(state, c, {tq, cc, cr, h, b}, r, Dv,
                      substitute(tk.name(), key, s),
                      substitute(tk.name(), key, keep),
                      vWin(clamp(Expr(col), 0, Dv - 1), key, cc, cr, h, b));
  normed(dv, tq, cc, cr, h, b) =
      onlineSoftmaxResult(state, dv, {tq, cc, cr, h, b}, Dv);
  defineGather();

  algorithmOrder = {qRow, kWin, vWin, dot, state, normed, out};
}

void WindowPipeline::scheduleGpu() {
  const int qt = int(knobs.at("query_threads"));
  const int wpb = int(knobs.at("windows_per_block"));
  const int ku = int(knobs.at("key_unroll"));
  const int64_t stageKnob = knobs.at("stage_kv");
  const int w = int(desc.windowSize);
  const int off = windowOffset(desc);
  const int tokens = w * w;
  const int windowRows = int((desc.windowRows - 1 + off) / w + 1);
  const int windowCols = int((desc.windowCols - 1 + off) / w + 1);
  const TailStrategy guard = TailStrategy::GuardWithIf;
  auto str = [](int64_t x) { return std::to_string(x); };

  // The space checks the threads; the shared tiles depend on the window
  // and the head dims, which it does not see.  stage_kv = 2 stages them
  // when they fit.
  int64_t tileBytes = int64_t(wpb) * tokens * (headDim + valueDim) * 4;
  const bool stage =
      stageKnob == 1 ||
      (stageKnob == 2 && tileBytes <= target.gpuLimits.sharedBytes);
  int64_t shared = stage ? tileBytes : 0;
  if (shared > target.gpuLimits.sharedBytes)
    throw CompileError(
        "the schedule uses " + str(shared) +
        " bytes of shared memory per block (windows_per_block " + str(wpb) +
        " x " + str(tokens) + " tokens x (D + Dv) floats of keys and "
        "values); the target allows at most " +
        str(target.gpuLimits.sharedBytes) + " (use stage_kv = 0 or 2, or "
        "fewer windows_per_block)");

  // Blocks of `wpb` windows of one window row and one (head, batch); per
  // window `qt` threads, each owning the query rows tq = tqi + qt * tqo.
  Var cco("cco"), cci("cci"), tqo("tqo"), tqi("tqi"), hb("hb");
  normed.compute_root()
      .bound(dv, 0, valueDim)
      .bound(tq, 0, tokens)
      .bound(cc, 0, windowCols)
      .bound(cr, 0, windowRows)
      .split(cc, cco, cci, wpb, guard)
      .split(tq, tqo, tqi, qt, guard)
      .fuse(h, b, hb)
      .reorder(dv, tqo, tqi, cci, cco, cr, hb)
      .gpu_blocks(cco, cr, hb)
      .gpu_threads(tqi, cci)
      .unroll(dv);
  note("normed.compute_root().split(cc, cco, cci, " + str(wpb) +
       ").split(tq, tqo, tqi, " + str(qt) +
       ").fuse(h, b, hb).reorder(dv, tqo, tqi, cci, cco, cr, hb)"
       ".gpu_blocks(cco, cr, hb).gpu_threads(tqi, cci).unroll(dv);  // " +
       str(windowRows) + " x " + str(windowCols) + " windows of " +
       str(tokens) + " tokens");

  // The thread's online-softmax state and query row, in registers.
  state.compute_at(normed, tqo)
      .bound(c, 0, valueDim + 2)
      .store_in(MemoryType::Register)
      .unroll(c);
  RVar ro("ro"), ri("ri");
  state.update()
      .split(r.y, ro, ri, ku, guard)
      .reorder(r.x, ri, ro)
      .unroll(r.x)
      .unroll(ri);
  qRow.compute_at(normed, tqo)
      .bound(d, 0, headDim)
      .store_in(MemoryType::Register)
      .unroll(d);
  dot.compute_at(state, ri).unroll(tk);
  dot.update().unroll(rd.x, std::min(headDim, 8), guard);
  note("state.compute_at(normed, tqo).bound(c, 0, Dv + 2)"
       ".store_in(MemoryType::Register).unroll(c); state.update()"
       ".split(r.key, ro, ri, " + str(ku) +
       ").reorder(r.col, ri, ro).unroll(r.col).unroll(ri);");
  note("q_row.compute_at(normed, tqo).store_in(MemoryType::Register)"
       ".unroll(d); dot.compute_at(state, ri); dot.update().unroll(rd, " +
       str(std::min(headDim, 8)) + ");");

  // The block's keys and values, loaded once by its threads.
  if (stage) {
    Var tko("tko"), tki("tki");
    for (Func *f : {&kWin, &vWin}) {
      Var e = f == &kWin ? d : dv;
      f->compute_at(normed, cco)
          .store_in(MemoryType::GPUShared)
          .split(tk, tko, tki, qt, guard)
          .reorder(e, tko, tki, cc)
          .gpu_threads(tki, cc);
    }
    note("k_window/v_window.compute_at(normed, cco).store_in(MemoryType::"
         "GPUShared).split(tk, tko, tki, " + str(qt) +
         ").reorder(d, tko, tki, cc).gpu_threads(tki, cc);  // " +
         str(shared) + " bytes per block");
  } else {
    note("k_window/v_window inline  // each thread reads keys and values "
         "from global memory");
  }

  // The output gathers each token's row: a copy, coalesced along dv.
  Var dvo("dvo"), dvi("dvi"), io("io"), ii("ii"), ohb("ohb");
  out.fuse(h, b, ohb)
      .gpu_tile(dv, i, dvo, io, dvi, ii, 32, 8, guard)
      .gpu_blocks(ohb);
  note("out.fuse(h, b, ohb).gpu_tile(dv, i, dvo, io, dvi, ii, 32, 8)"
       ".gpu_blocks(ohb);  // gather from normed");
}
