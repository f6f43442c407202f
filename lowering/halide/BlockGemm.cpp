//===- BlockGemm.cpp - linear ops of block kernels: GEMMs -----------------===//
//
// A `linear` is a GEMM y[r, f] = sum_k x[r, k] w[f, k] (or the adder /
// shift variants) computed by the stage that stores its result after the
// epilogue: defineLinear() builds the accumulator and the transposed weight
// panels, scheduleGemmStage() the register-blocked loop nest
// (BlockPipeline.h).
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipelineImpl.h"

#include <algorithm>
#include <functional>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;
using namespace attn::halide::blockdetail;

int BlockPipeline::Impl::foldedMergeHeadsInput(int n, int x,
                                               bool shift) const {
  const Value &xv = values.at(x);
  if (shift || xv.isParam || xv.stored ||
      desc.ops[xv.producer].op != "merge_heads")
    return -1;
  int a = desc.ops[xv.producer].inputs[0];
  if (shapeOf(a).size() != 4 || desc.ops[n].shape.size() != 3)
    fail(opLabel(n) + ": merge_heads input must be [B, H, N, D]");
  return a;
}

void BlockPipeline::Impl::defineLinear(int n) {
  const BlockOpDesc &op = desc.ops[n];
  std::string mode = op.mode.empty() ? "mul" : op.mode;
  bool shift = mode == "shift";
  if (mode != "mul" && mode != "adder" && !shift)
    fail(opLabel(n) + ": unknown mode '" + op.mode +
         "' (expected mul, adder or shift)");
  size_t weights = shift ? 2 : 1;
  if (op.inputs.size() != 1 + weights && op.inputs.size() != 2 + weights)
    fail(opLabel(n) + ": mode " + mode + " takes " +
         std::to_string(1 + weights) + " or " + std::to_string(2 + weights) +
         " inputs, got " + std::to_string(op.inputs.size()));
  int x = op.inputs[0], w = op.inputs[1];
  const std::vector<int64_t> &xs = shapeOf(x), &ws = shapeOf(w);
  int64_t K = xs.back();
  if (ws.size() != 2 || ws[1] != K)
    fail(opLabel(n) + ": weight shape " + shapeText(ws) + " is not [F, " +
         std::to_string(K) + "] for input " + shapeText(xs));
  int64_t F = ws[0];
  if (shift) {
    int sign = op.inputs[2];
    if (shapeOf(sign) != ws)
      fail(opLabel(n) + ": sign shape " + shapeText(shapeOf(sign)) +
           " differs from shift shape " + shapeText(ws));
    if (!values[w].isInt || !values[sign].isInt)
      fail(opLabel(n) + ": shift and sign must be i32 tensors");
  } else if (values[w].isInt) {
    fail(opLabel(n) + ": the weight must be a float tensor");
  }
  int bias = op.inputs.size() == 2 + weights ? op.inputs.back() : -1;
  if (bias >= 0 && shapeOf(bias) != std::vector<int64_t>{F})
    fail(opLabel(n) + ": bias shape " + shapeText(shapeOf(bias)) +
         " is not [" + std::to_string(F) + "]");
  std::vector<int64_t> shape(xs.begin(), xs.end() - 1);
  shape.push_back(F);
  if (shape != op.shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " does not match " + shapeText(shape) + " (input " +
         shapeText(xs) + ", weight " + shapeText(ws) + ")");

  Value &res = values[op.result];
  std::string name = res.func.name();
  size_t rank = shape.size();
  std::vector<Expr> pure = pureArgs(rank), rows = pureArgs(rank, 1);
  Var f = vars[0], k = vars[1];
  Gemm g;
  g.op = n;
  g.result = op.result;
  g.mode = mode;
  g.acc = Func(name + "_acc");
  if (target.isGpu()) {
    Expr biasAt = bias >= 0 ? at(bias, {f}) : Expr(0.0f);
    defineLinearGpu(n, g, biasAt, x, w, shift ? op.inputs[2] : -1, K);
    gemms.push_back(g);
    return;
  }

  // The activation at the reduction index, and the weight panel's index.
  // A merge_heads folds in: k = h * D + d over a 2-D domain.
  Expr xk, kIndex;
  if (int a = foldedMergeHeadsInput(n, x, shift); a >= 0) {
    const std::vector<int64_t> &as = shapeOf(a);
    g.rk = RDom(0, int(as[3]), 0, int(as[1]), name + "_rk");
    xk = at(a, {g.rk.x, rows[0], g.rk.y, rows[1]});
    kIndex = g.rk.y * int(as[3]) + g.rk.x;
  } else {
    g.rk = RDom(0, int(K), name + "_rk");
    kIndex = g.rk.x;
    std::vector<Expr> idx = {g.rk.x};
    idx.insert(idx.end(), rows.begin(), rows.end());
    if (shift) {
      // xq = round_half_even(x * 2^16) as int32, clamped.
      g.xq = Func(name + "_xq");
      Expr scaled = round(cast<double>(at(x, pure)) * f64(65536.0));
      g.xq(pure) = cast<int32_t>(
          clamp(scaled, f64(-2147483648.0), f64(2147483647.0)));
      algorithmOrder.push_back(g.xq);
      xk = g.xq(idx);
    } else {
      xk = at(x, idx);
    }
  }

  // A weight [F, K] transposed (f innermost) for the panels: rows of it
  // are read contiguously (`_rows`, transposed in tiles by the schedule).
  auto pack = [&](int weight, const std::string &suffix,
                  std::function<Expr(Expr)> fn) {
    Func rows(name + suffix + "_rows"), t(name + suffix);
    rows(k, f) = at(weight, {k, f});
    t(f, k) = fn(rows(k, f));
    g.packRows.push_back(rows);
    g.packed.push_back(t);
    return t;
  };
  Expr biasAt = bias >= 0 ? at(bias, {f}) : Expr(0.0f);
  Expr value;
  if (shift) {
    Func shT = pack(w, "_shift_t", [](Expr e) { return clamp(-e, 0, 31); });
    Func sgT = pack(op.inputs[2], "_sign_t", [](Expr e) { return e; });
    Expr term = cast<int64_t>(xk >> cast<uint32_t>(shT(f, kIndex)));
    Expr sg = sgT(f, kIndex);
    g.acc(pure) = cast<int64_t>(0);
    g.acc(pure) += select(sg > 0, term, sg < 0, -term, cast<int64_t>(0));
    value = cast<float>(cast<double>(g.acc(pure)) * f64(1.0 / 65536.0) +
                        cast<double>(biasAt));
  } else {
    Func wT = pack(w, "_w_t", [](Expr e) { return e; });
    g.acc(pure) = 0.0f;
    if (mode == "mul") {
      g.acc(pure) += xk * wT(f, kIndex);
      value = g.acc(pure) + biasAt;
    } else {
      g.acc(pure) += abs(xk - wT(f, kIndex));
      value = biasAt - g.acc(pure);
    }
  }
  for (size_t q = 0; q < g.packed.size(); ++q) {
    algorithmOrder.push_back(g.packRows[q]);
    algorithmOrder.push_back(g.packed[q]);
  }
  algorithmOrder.push_back(g.acc);
  if (desc.isArg(op.result))
    value = cast(halideType(desc.args[op.result].dtype), value);
  res.func(pure) = value;
  gemms.push_back(g);
}

void BlockPipeline::Impl::scheduleGemmStage(int id) {
  Value &sv = values[id];
  Func S = sv.func;
  const std::vector<int64_t> &shape = sv.shape;
  size_t rank = shape.size();
  int64_t cols = shape.back();
  int64_t rowsExtent = rank >= 2 ? shape[rank - 2] : 1;
  std::vector<Gemm *> mine;
  for (Gemm &g : gemms)
    if (g.result == id || values[g.result].owner == id)
      mine.push_back(&g);
  bool wide = false; // int64 accumulators take two registers per vector
  for (Gemm *g : mine)
    wide |= g->mode == "shift";

  int lanes = int(std::min<int64_t>(vw, cols));
  int64_t cv = std::min<int64_t>(knobs.at("gemm_col_vectors"),
                                 std::max<int64_t>(1, cols / lanes));
  if (cols % (cv * lanes) != 0)
    for (int64_t c = cv; c >= 1; --c)
      if (cols % (c * lanes) == 0) {
        cv = c;
        break;
      }
  int panel = int(cv * lanes);
  int64_t R = knobs.at("gemm_rows");
  if (wide)
    R = std::max<int64_t>(1, R / 2);
  R = std::min(R, rowsExtent);
  bool parallel = knobs.at("parallel") != 0;

  // The loop nest, innermost first: vector lanes, the panel's vectors and
  // the block's rows (unrolled), row blocks, batch dims, then the parallel
  // loop over column panels (and heads, and row tasks).
  Var co("co"), ci("ci"), cio("cio"), cii("cii"), ro("ro"), ri("ri"),
      rt("rt");
  S.split(vars[0], co, ci, panel, TailStrategy::ShiftInwards)
      .split(ci, cio, cii, lanes);
  std::vector<VarOrRVar> order = {cii, cio};
  std::vector<Var> colOuter, batch;
  for (size_t d = 2; d < rank; ++d)
    (sv.hasSplitHeads && rank == 4 && d == 2 ? colOuter : batch)
        .push_back(vars[d]);
  int64_t colTasks = (cols + panel - 1) / panel;
  if (sv.hasSplitHeads && rank == 4)
    colTasks *= shape[1];
  int64_t blocks = (rowsExtent + R - 1) / R;
  int64_t rowTasks = 1;
  int64_t minTasks = knobs.at("gemm_min_tasks");
  if (parallel && rank >= 2 && colTasks < minTasks)
    rowTasks = std::min(blocks, (minTasks + colTasks - 1) / colTasks);
  Var blockLoop = ro;
  if (rank >= 2) {
    S.split(vars[1], ro, ri, int(R), TailStrategy::ShiftInwards);
    order.push_back(ri);
    if (rowTasks > 1) {
      Var rb("rb");
      int64_t per = (blocks + rowTasks - 1) / rowTasks;
      rowTasks = (blocks + per - 1) / per;
      S.split(ro, rt, rb, int(per), TailStrategy::GuardWithIf);
      blockLoop = rb;
    }
    order.push_back(blockLoop);
  }
  for (Var b : batch)
    order.push_back(b);
  order.push_back(co);
  for (Var h : colOuter)
    order.push_back(h);
  if (rowTasks > 1)
    order.push_back(rt);
  S.reorder(order).vectorize(cii).unroll(cio);
  if (rank >= 2)
    S.unroll(ri);
  Var task = co;
  std::vector<Var> fuseInto = colOuter;
  if (rowTasks > 1)
    fuseInto.push_back(rt);
  for (size_t n = 0; n < fuseInto.size(); ++n) {
    Var fused("task" + std::to_string(n));
    S.fuse(task, fuseInto[n], fused);
    task = fused;
  }
  if (parallel)
    S.parallel(task);

  std::ostringstream os;
  os << S.name() << ".split(v0, co, ci, " << panel
     << ").split(ci, cio, cii, " << lanes << ")";
  if (rank >= 2)
    os << ".split(v1, ro, ri, " << R << ")";
  if (rowTasks > 1)
    os << ".split(ro, rt, rb, " << (blocks + rowTasks - 1) / rowTasks << ")";
  os << ".vectorize(cii).unroll(cio).unroll(ri)"
     << (parallel ? ".parallel(co" : ".serial(co")
     << (colOuter.empty() ? "" : " x heads")
     << (rowTasks > 1 ? " x rt" : "") << ");";
  scheduleLog.push_back(os.str());

  Var fo("fo"), fi("fi");
  for (Gemm *g : mine) {
    Func acc = g->acc;
    if (rank >= 2)
      acc.compute_at(S, blockLoop);
    else
      acc.compute_at(S, task);
    acc.split(vars[0], fo, fi, lanes).vectorize(fi).unroll(fo);
    std::vector<VarOrRVar> inner = {fi, fo};
    if (rank >= 2) {
      acc.unroll(vars[1]);
      inner.push_back(vars[1]);
    }
    for (int d = 0; d < g->rk.dimensions(); ++d)
      inner.push_back(g->rk[d]);
    acc.update()
        .split(vars[0], fo, fi, lanes)
        .reorder(inner)
        .vectorize(fi)
        .unroll(fo);
    if (rank >= 2)
      acc.update().unroll(vars[1]);
    // Transposition in lanes x vector_width tiles: each tile's weight rows
    // are loaded as dense vectors into a small buffer stored transposed,
    // then stored as panel vectors (2.3x faster than gathers, measured).
    int64_t K = values[desc.ops[g->op].inputs[1]].shape[1];
    for (size_t q = 0; q < g->packed.size(); ++q) {
      Func p = g->packed[q], rows = g->packRows[q];
      Var pf("pf"), pfi("pfi"), pk("pk"), pki("pki");
      p.compute_at(S, task).split(vars[0], pf, pfi, lanes);
      if (K >= vw) {
        p.split(vars[1], pk, pki, vw, TailStrategy::ShiftInwards)
            .reorder(pfi, pki, pf, pk)
            .vectorize(pfi)
            .unroll(pki);
        Var rko("rko"), rki("rki"); // named: see scheduleRowStage
        rows.compute_at(p, pf)
            .reorder_storage(vars[0], vars[1])
            .split(vars[1], rko, rki, vw)
            .vectorize(rki)
            .unroll(vars[0]);
      } else {
        p.vectorize(pfi);
      }
    }
    scheduleLog.push_back(
        acc.name() + ".compute_at(" + S.name() +
        ", ro).vectorize(v0, " + std::to_string(lanes) +
        ").unroll(v0 / lanes).unroll(v1); " + acc.name() +
        ".update().reorder(v0, v1, rk).vectorize(v0).unroll(v0 / lanes)"
        ".unroll(v1);  // register block " +
        std::to_string(panel) + " x " + std::to_string(R));
    scheduleLog.push_back("// " + g->packed[0].name() +
                          ": the weight panel, transposed (panel columns "
                          "innermost), computed per column panel");
  }
}

//===----------------------------------------------------------------------===//
// GPU targets (docs/gpu/block-kernels.md)
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::defineLinearGpu(int n, Gemm &g, Expr biasAt, int x,
                                          int w, int sign, int64_t K) {
  const BlockOpDesc &op = desc.ops[n];
  const std::vector<int64_t> &shape = op.shape;
  size_t rank = shape.size();
  std::string name = values[op.result].func.name();
  std::vector<Expr> pure = pureArgs(rank), rows = pureArgs(rank, 1);
  Var f = vars[0], k = vars[0];
  const int64_t F = shape.back();
  const bool shift = g.mode == "shift";
  const int64_t kt = std::min<int64_t>(knobs.at("k_tile"), K);
  g.kTile = kt;

  // The input at reduction index k and rows `rowsAt` (k clamped; the
  // staged slice is 0 beyond K so a partial last slice adds nothing).
  Expr kc = clamp(k, 0, int(K - 1)), inK = k < int(K);
  std::vector<Expr> rowsC;
  for (size_t d = 0; d < rows.size(); ++d)
    rowsC.push_back(clamp(rows[d], 0, int(shape[rank - 2 - d] - 1)));
  Expr xk;
  if (int a = foldedMergeHeadsInput(n, x, shift); a >= 0) {
    // A folded merge_heads: k = h * D + d.
    int D = int(shapeOf(a)[3]);
    xk = at(a, {kc % D, rowsC[0], kc / D, rowsC[1]});
  } else if (shift) {
    // As the CPU's round_half_even(x * 2^16) in double, in float (OpenCL
    // devices need not have doubles): the scaling by 2^16 is exact, and
    // values from 2^31 on saturate.
    g.xq = Func(name + "_xq");
    Expr scaled = round(at(x, pure) * 65536.0f);
    g.xq(pure) = select(scaled >= 2147483648.0f, Int(32).max(),
                        cast<int32_t>(max(scaled, -2147483648.0f)));
    algorithmOrder.push_back(g.xq);
    std::vector<Expr> idx = {kc};
    idx.insert(idx.end(), rowsC.begin(), rowsC.end());
    xk = g.xq(idx);
  } else {
    std::vector<Expr> idx = {kc};
    idx.insert(idx.end(), rowsC.begin(), rowsC.end());
    xk = at(x, idx);
  }
  std::vector<Expr> kRows = {k};
  kRows.insert(kRows.end(), rows.begin(), rows.end());
  Func xs(name + "_x_slice");
  xs(kRows) = select(inK, xk, cast(xk.type(), 0));
  g.staged.push_back(xs);
  // Weight slices ws(k, f): the weight rows with k innermost, as stored.
  Var fw = vars[1];
  auto slice = [&](int weight, const std::string &suffix,
                   std::function<Expr(Expr)> fn) {
    Func s(name + suffix);
    Expr v = fn(at(weight, {kc, clamp(fw, 0, int(F - 1))}));
    s(k, fw) = select(inK, v, cast(v.type(), 0));
    g.staged.push_back(s);
    return s;
  };

  Var ko("ko");
  std::vector<Expr> partArgs = pure;
  partArgs.push_back(ko);
  g.rki = RDom(0, int(kt), name + "_ki");
  g.rko = RDom(0, int((K + kt - 1) / kt), name + "_ko");
  Expr kAt = ko * int(kt) + g.rki.x;
  std::vector<Expr> xAt = {kAt};
  xAt.insert(xAt.end(), rows.begin(), rows.end());
  g.part = Func(name + "_part");
  Expr value;
  std::vector<Expr> partAtKo = pure;
  partAtKo.push_back(g.rko.x);
  if (shift) {
    Func sh = slice(w, "_shift_slice",
                    [](Expr e) { return clamp(-e, 0, 31); });
    Func sg = slice(sign, "_sign_slice", [](Expr e) { return e; });
    Expr term = cast<int64_t>(xs(xAt) >> cast<uint32_t>(sh(kAt, f)));
    Expr s = sg(kAt, f);
    g.part(partArgs) = cast<int64_t>(0);
    g.part(partArgs) += select(s > 0, term, s < 0, -term, cast<int64_t>(0));
    g.acc(pure) = cast<int64_t>(0);
    g.acc(pure) += g.part(partAtKo);
    // In float (no doubles on OpenCL devices): the sum rounds to float
    // once more than on CPUs (an ulp).
    value = cast<float>(g.acc(pure)) * (1.0f / 65536.0f) + biasAt;
  } else {
    Func ws = slice(w, "_w_slice", [](Expr e) { return e; });
    g.part(partArgs) = 0.0f;
    if (g.mode == "mul")
      g.part(partArgs) += xs(xAt) * ws(kAt, f);
    else
      g.part(partArgs) += abs(xs(xAt) - ws(kAt, f));
    g.acc(pure) = 0.0f;
    g.acc(pure) += g.part(partAtKo);
    value = g.mode == "mul" ? g.acc(pure) + biasAt : biasAt - g.acc(pure);
  }
  for (Func s : g.staged)
    algorithmOrder.push_back(s);
  algorithmOrder.push_back(g.part);
  algorithmOrder.push_back(g.acc);
  if (desc.isArg(op.result))
    value = cast(halideType(desc.args[op.result].dtype), value);
  values[op.result].func(pure) = value;
}

void BlockPipeline::Impl::scheduleGemmStageGpu(int id) {
  Value &sv = values[id];
  Func S = sv.func;
  const std::vector<int64_t> &shape = sv.shape;
  const size_t rank = shape.size();
  const int64_t cols = shape.back();
  const int64_t rowsExtent = rank >= 2 ? shape[rank - 2] : 1;
  // The tiles, shrunk to the stage (every loop has a constant extent: the
  // last tile of a dim is shifted inwards, recomputing a few outputs).
  const int64_t tc = std::min(knobs.at("thread_cols"), cols);
  const int64_t TC = std::min(knobs.at("tile_cols"), cols / tc * tc);
  const int64_t tr = std::min(knobs.at("thread_rows"), rowsExtent);
  const int64_t TR = std::min(knobs.at("tile_rows"), rowsExtent / tr * tr);
  const int threads = int((TC / tc) * (TR / tr));
  std::vector<Gemm *> mine;
  for (Gemm &g : gemms)
    if (g.result == id || values[g.result].owner == id)
      mine.push_back(&g);
  // Shared memory: per GEMM, the tile's running sums and the slices.
  int64_t bytes = 0;
  for (Gemm *g : mine) {
    bool wide = g->mode == "shift";
    bytes += (wide ? 8 : 4) * TR * TC +
             4 * g->kTile * (TR + (wide ? 2 : 1) * TC);
  }
  if (bytes > target.gpuLimits.sharedBytes)
    fail("stage '" + S.name() + "': its GEMM tiles (" + std::to_string(TR) +
         " x " + std::to_string(TC) + ", k_tile " +
         std::to_string(mine.empty() ? 0 : mine[0]->kTile) + ") use " +
         std::to_string(bytes) +
         " bytes of shared memory per block; the target allows at most " +
         std::to_string(target.gpuLimits.sharedBytes));

  // Blocks of TR x TC outputs (heads and batch fused into the third block
  // dim); threads of tr x tc outputs, unrolled.
  Var bx("bx"), c("c"), tx("tx"), cr("cr"), by("by"), r("r"), ty("ty"),
      rr("rr"), bz("bz");
  S.split(vars[0], bx, c, int(TC), TailStrategy::ShiftInwards)
      .split(c, tx, cr, int(tc));
  std::vector<VarOrRVar> order = {cr};
  if (rank >= 2) {
    S.split(vars[1], by, r, int(TR), TailStrategy::ShiftInwards)
        .split(r, ty, rr, int(tr));
    order = {cr, rr, tx, ty, bx, by};
  } else {
    order = {cr, tx, bx};
  }
  for (size_t d = 2; d < rank; ++d)
    order.push_back(vars[d]);
  S.reorder(order).unroll(cr);
  Var outer = rank >= 3 ? vars[2] : Var();
  for (size_t d = 3; d < rank; ++d) {
    Var fused("bz" + std::to_string(d));
    S.fuse(outer, vars[d], fused);
    outer = fused;
  }
  if (rank >= 3)
    S.gpu_blocks(bx, by, outer).gpu_threads(tx, ty).unroll(rr);
  else if (rank == 2)
    S.gpu_blocks(bx, by).gpu_threads(tx, ty).unroll(rr);
  else
    S.gpu_blocks(bx).gpu_threads(tx);
  std::ostringstream os;
  os << S.name() << ".split(v0, bx, c, " << TC << ").split(c, tx, cr, " << tc
     << ")";
  if (rank >= 2)
    os << ".split(v1, by, r, " << TR << ").split(r, ty, rr, " << tr << ")";
  os << ".reorder(cr, rr, tx, ty, bx, by, ...).gpu_blocks(bx, by"
     << (rank >= 3 ? ", rest" : "") << ").gpu_threads(tx, ty)"
     << ".unroll(cr).unroll(rr);  // " << TR << " x " << TC
     << " outputs per block, " << tr << " x " << tc << " per thread, "
     << threads << " threads";
  scheduleLog.push_back(os.str());

  for (Gemm *g : mine) {
    Func acc = g->acc, part = g->part;
    // The tile's running sums: at the block level, in shared memory; each
    // thread owns its tr x tc outputs (the same as in S).
    acc.compute_at(S, bx).store_in(MemoryType::GPUShared);
    acc.split(vars[0], tx, cr, int(tc));
    acc.update().split(vars[0], tx, cr, int(tc));
    if (rank >= 2) {
      acc.split(vars[1], ty, rr, int(tr))
          .reorder(cr, rr, tx, ty)
          .gpu_threads(tx, ty)
          .unroll(cr)
          .unroll(rr);
      acc.update()
          .split(vars[1], ty, rr, int(tr))
          .reorder(cr, rr, tx, ty, g->rko.x)
          .gpu_threads(tx, ty)
          .unroll(cr)
          .unroll(rr);
    } else {
      acc.gpu_threads(tx).unroll(cr);
      acc.update().reorder(cr, tx, g->rko.x).gpu_threads(tx).unroll(cr);
    }
    // One slice's sums of a thread's tile: registers, the slice's k
    // outermost (tr + tc shared loads per tr * tc multiply-adds).
    part.compute_at(acc, tx).store_in(MemoryType::Register).unroll(vars[0]);
    if (rank >= 2) {
      part.unroll(vars[1]);
      part.update()
          .reorder(vars[0], vars[1], g->rki.x)
          .unroll(vars[0])
          .unroll(vars[1]);
    } else {
      part.update().reorder(vars[0], g->rki.x).unroll(vars[0]);
    }
    // The slices: per slice of the reduction (the block-level loop rko),
    // in shared memory, loaded by all the block's threads (k innermost:
    // consecutive threads read consecutive addresses).
    for (Func st : g->staged) {
      std::vector<Var> a = st.args();
      Var t("t"), to("to"), ti("ti");
      st.compute_at(acc, g->rko.x).store_in(MemoryType::GPUShared);
      if (a.size() >= 2)
        st.fuse(a[0], a[1], t);
      else
        t = a[0];
      st.split(t, to, ti, threads, TailStrategy::GuardWithIf).gpu_threads(ti);
    }
    std::ostringstream s;
    s << acc.name() << ".compute_at(" << S.name()
      << ", bx).store_in(MemoryType::GPUShared).gpu_threads(tx, ty);  "
      << acc.name() << ".update().reorder(cr, rr, tx, ty, ko)  // slices of "
      << g->kTile;
    scheduleLog.push_back(s.str());
    scheduleLog.push_back(part.name() + ".compute_at(" + acc.name() +
                          ", tx).store_in(MemoryType::Register).unroll(v0)"
                          ".unroll(v1); " + part.name() +
                          ".update().reorder(v0, v1, ki);  // register tile");
    for (Func st : g->staged)
      scheduleLog.push_back(st.name() + ".compute_at(" + acc.name() +
                            ", ko).store_in(MemoryType::GPUShared).fuse(k, "
                            "rows).gpu_threads(t, " +
                            std::to_string(threads) + ");");
  }
}
