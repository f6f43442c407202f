//===- SeparablePipeline.cpp - Couplformer's coupled maps in Halide -------===//

#include "lowering/halide/SeparablePipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

#include <algorithm>
#include <functional>
#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void SeparablePipeline::build() {
  if (!desc.isCoupler())
    throw CompileError("form 'separable' needs a coupler map");
  if (target.isGpu()) {
    buildGpu();
    return;
  }
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  const int vw = int(knobs.at("vector_width"));
  const int rows = int(desc.couplerRows), cols = int(desc.couplerCols);
  Expr D = q.dim(0).extent(), H = q.dim(2).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  const float tau = float(desc.scale);
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  RDom rc(0, cols, "rc"), rr(0, rows, "rr"), rd(0, D, "rd");
  auto qAt = [&](Expr dd, Expr token) {
    return cast<float>(q(dd, token, h, b));
  };
  auto kAt = [&](Expr dd, Expr token) {
    return cast<float>(k(dd, token, hk, b));
  };

  // The row map: query row r1 against key row r2, contracted over the
  // width and the channels (per channel first, so that the inner loop
  // reads rows of q and k contiguously), softmax over r2.
  Func rowPart("row_part"), rowScore("row_score"), rowMax("row_max"),
      rowExp("row_exp"), rowSum("row_sum"), A("row_map");
  rowPart(d, r2, r1, h, b) = 0.0f;
  rowPart(d, r2, r1, h, b) += qAt(d, r1 * cols + rc) * kAt(d, r2 * cols + rc);
  rowScore(r2, r1, h, b) = 0.0f;
  rowScore(r2, r1, h, b) += rowPart(rd, r2, r1, h, b);
  rowMax(r1, h, b) = lowest;
  rowMax(r1, h, b) = max(rowMax(r1, h, b), rowScore(rr, r1, h, b) * tau);
  rowExp(r2, r1, h, b) =
      accurateExp(rowScore(r2, r1, h, b) * tau - rowMax(r1, h, b));
  rowSum(r1, h, b) = 0.0f;
  rowSum(r1, h, b) += rowExp(rr, r1, h, b);
  A(r2, r1, h, b) = rowExp(r2, r1, h, b) / rowSum(r1, h, b);

  // The column map: query column c1 against key column c2, contracted over
  // the rows and the channels, softmax over c2.
  Func colPart("col_part"), colScore("col_score"), colMax("col_max"),
      colExp("col_exp"), colSum("col_sum"), Bm("col_map");
  colPart(d, c2, c1, h, b) = 0.0f;
  colPart(d, c2, c1, h, b) += qAt(d, rr * cols + c1) * kAt(d, rr * cols + c2);
  colScore(c2, c1, h, b) = 0.0f;
  colScore(c2, c1, h, b) += colPart(rd, c2, c1, h, b);
  colMax(c1, h, b) = lowest;
  colMax(c1, h, b) = max(colMax(c1, h, b), colScore(rc, c1, h, b) * tau);
  colExp(c2, c1, h, b) =
      accurateExp(colScore(c2, c1, h, b) * tau - colMax(c1, h, b));
  colSum(c1, h, b) = 0.0f;
  colSum(c1, h, b) += colExp(rc, c1, h, b);
  Bm(c2, c1, h, b) = colExp(c2, c1, h, b) / colSum(c1, h, b);

  // The separable aggregate: T[r2, c1] = sum_c2 Bm[c1, c2] V[r2, c2], then
  // O[r1, c1] = sum_r2 A[r1, r2] T[r2, c1] (per value channel).
  Func T("v_cols"), O("o_rows");
  T(dv, c1, r2, h, b) = 0.0f;
  T(dv, c1, r2, h, b) +=
      Bm(rc, c1, h, b) * cast<float>(v(dv, r2 * cols + rc, hk, b));
  O(dv, c1, r1, h, b) = 0.0f;
  O(dv, c1, r1, h, b) += A(rr, r1, h, b) * T(dv, c1, rr, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) = cast(outType, O(dv, i % cols, i / cols, h, b));
  constrainOutput(desc, out);
  algorithmOrder = {rowPart, rowScore, rowMax, rowExp, rowSum, A,
                    colPart, colScore, colMax, colExp, colSum, Bm,
                    T,       O,        out};

  // Schedule.  Both maps per (h, b) task; T per (grid row, h, b); the
  // output in tasks of grid rows.
  const TailStrategy guard = TailStrategy::GuardWithIf;
  for (Func *map : {&A, &Bm}) {
    map->compute_root().fuse(h, b, hb).parallel(hb);
  }
  A.vectorize(r2, vw, guard);
  Bm.vectorize(c2, vw, guard);
  for (Func *f : {&rowPart, &rowScore, &rowMax, &rowExp, &rowSum})
    f->compute_at(A, hb);
  for (Func *f : {&colPart, &colScore, &colMax, &colExp, &colSum})
    f->compute_at(Bm, hb);
  // Per channel: register blocks of the head dim x 4 key rows (columns),
  // so that each query vector is loaded once per 4 keys.
  Var r2o("r2o"), r2i("r2i"), c2o("c2o"), c2i("c2i");
  rowPart.vectorize(d, vw, guard);
  rowPart.update()
      .split(r2, r2o, r2i, 4, guard)
      .reorder(d, r2i, rc.x, r2o, r1)
      .vectorize(d, vw, guard)
      .unroll(r2i);
  colPart.vectorize(d, vw, guard);
  colPart.update()
      .split(c2, c2o, c2i, 4, guard)
      .reorder(d, c2i, rr.x, c2o, c1)
      .vectorize(d, vw, guard)
      .unroll(c2i);
  rowScore.update().reorder(rd.x, r2, r1);
  colScore.update().reorder(rd.x, c2, c1);
  rowExp.vectorize(r2, vw, guard);
  colExp.vectorize(c2, vw, guard);
  note("row_map/col_map.compute_root().fuse(h, b -> hb).parallel(hb); "
       "row_part/col_part (per channel, the width or height innermost, 4 "
       "key rows or columns unrolled).compute_at(map, hb).vectorize(d, " +
       std::to_string(vw) + ");");

  // The two mode products are GEMMs per (h, b): register blocks of the
  // value dim (vector lanes) x 4 columns (T) or 2 columns x 4 grid rows
  // (O), the contraction innermost around them.
  int64_t dvStatic = desc.args[desc.value].shape.back();
  int valueVecs = dvStatic > 0 ? int((dvStatic + vw - 1) / vw) : 2;
  int colBlock = std::max(1, std::min(4, 16 / valueVecs));
  Var task("task"), c1o("c1o"), c1i("c1i"), r1o("r1o"), r1i("r1i");
  T.compute_root()
      .fuse(r2, h, task)
      .fuse(task, b, task)
      .parallel(task)
      .vectorize(dv, vw, guard);
  T.update()
      .split(c1, c1o, c1i, colBlock, guard)
      .reorder(dv, c1i, rc.x, c1o, r2, h, b)
      .vectorize(dv, vw, guard)
      .unroll(c1i)
      .fuse(r2, h, task)
      .fuse(task, b, task)
      .parallel(task);
  note("v_cols.compute_root().parallel(r2 x h x b); v_cols.update()"
       ".split(c1, c1o, c1i, " + std::to_string(colBlock) +
       ").reorder(dv, c1i, rc, c1o).vectorize(dv, " + std::to_string(vw) +
       ").unroll(c1i);");

  int rowBlock = std::max(1, std::min(4, 16 / (valueVecs * 2)));
  O.compute_root()
      .fuse(r1, h, task)
      .fuse(task, b, task)
      .parallel(task)
      .vectorize(dv, vw, guard);
  O.update()
      .split(r1, r1o, r1i, rowBlock, guard)
      .split(c1, c1o, c1i, 2, guard)
      .reorder(dv, c1i, r1i, rr.x, c1o, r1o, h, b)
      .vectorize(dv, vw, guard)
      .unroll(c1i)
      .unroll(r1i)
      .fuse(r1o, h, task)
      .fuse(task, b, task)
      .parallel(task);
  note("o_rows.compute_root().parallel(r1 x h x b); o_rows.update()"
       ".split(r1, r1o, r1i, " + std::to_string(rowBlock) +
       ").split(c1, c1o, c1i, 2).reorder(dv, c1i, r1i, rr, c1o, r1o)"
       ".vectorize(dv).unroll(c1i).unroll(r1i);");

  splitRowsIntoTasks(dv, i, h, b, tile, cols, vw);
  note("out.split(i, io, ii, " + std::to_string(cols) +
       ").parallel(io x h x b).vectorize(dv);  // copy from o_rows");
}

//===----------------------------------------------------------------------===//
// GPU targets (docs/gpu/softmax-forms.md, "separable")
//===----------------------------------------------------------------------===//

void SeparablePipeline::buildGpu() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  const int rows = int(desc.couplerRows), cols = int(desc.couplerCols);
  const int D = gpuStaticDim(desc, desc.query, "separable",
                             "query/key head dim", GpuDimUse::Tiles);
  const int Dv = gpuStaticDim(desc, desc.value, "separable", "value head dim",
                              GpuDimUse::Tiles);
  const int mt = int(knobs.at("map_threads"));
  const int vt = int(knobs.at("value_threads"));
  const int lt = int(knobs.at("line_threads"));
  const int64_t stageKnob = knobs.at("stage_shared");
  const int64_t sharedLimit = target.gpuLimits.sharedBytes;
  Expr H = q.dim(2).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  const float tau = float(desc.scale);
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  const TailStrategy guard = TailStrategy::GuardWithIf;
  auto str = [](int64_t x) { return std::to_string(x); };

  // Whether a tile of `bytes` is staged in shared memory (stage_shared: 0
  // never, 1 always, 2 when it fits); staging one that does not fit is an
  // error.
  int64_t sharedMax = 0;
  auto staged = [&](int64_t bytes, const std::string &what) {
    bool on = stageKnob == 1 || (stageKnob == 2 && bytes <= sharedLimit);
    if (on && bytes > sharedLimit)
      throw CompileError("the schedule uses " + str(bytes) +
                         " bytes of shared memory per block (" + what +
                         "); the target allows at most " + str(sharedLimit) +
                         " (use stage_shared = 0 or 2)");
    if (on)
      sharedMax = std::max(sharedMax, bytes);
    return on;
  };
  // Stages `f` in shared memory at `level` of `consumer`, loaded by the
  // block's value_threads x line_threads threads over its dims x and y.
  auto stageTile = [&](Func f, Func consumer, VarOrRVar level, Var x, Var y) {
    Var xo(x.name() + "o"), xi(x.name() + "i"), yo(y.name() + "o"),
        yi(y.name() + "i");
    f.compute_at(LoopLevel(consumer, level))
        .store_in(MemoryType::GPUShared)
        .split(x, xo, xi, vt, guard)
        .split(y, yo, yi, lt, guard)
        .reorder(xo, yo, xi, yi)
        .gpu_threads(xi, yi);
  };

  // One map (rows: lines are grid rows, positions their columns; columns:
  // the converse).  score(y, x) contracts query line x with key line y
  // over the positions and the channels, in a register per thread; the
  // block's query line is staged.  The softmax runs a thread per line x.
  auto buildMap = [&](const std::string &tag, Var y, Var x, int len,
                      int span, std::function<Expr(Expr, Expr)> token) {
    Func qLine(tag + "_q_line"), acc(tag + "_acc"), score(tag + "_score"),
        mx(tag + "_max"), sm(tag + "_sum"), map(tag + "_map");
    Var p("p");
    qLine(d, p, x, h, b) = cast<float>(q(d, token(x, p), h, b));
    RDom rc(0, D, 0, span, tag + "_rc");
    acc(y, x, h, b) = 0.0f;
    acc(y, x, h, b) += qLine(rc.x, rc.y, x, h, b) *
                       cast<float>(k(rc.x, token(y, rc.y), hk, b));
    score(y, x, h, b) = acc(y, x, h, b) * tau;
    RDom rl(0, len, tag + "_rl");
    mx(x, h, b) = lowest;
    mx(x, h, b) = max(mx(x, h, b), score(rl, x, h, b));
    sm(x, h, b) = 0.0f;
    sm(x, h, b) += accurateExp(score(rl, x, h, b) - mx(x, h, b));
    map(y, x, h, b) =
        accurateExp(score(y, x, h, b) - mx(x, h, b)) / sm(x, h, b);

    Var yo("yo"), yi("yi"), xo("xo"), xi("xi"), shb("hb");
    score.compute_root()
        .bound(y, 0, len)
        .bound(x, 0, len)
        .split(y, yo, yi, mt, guard)
        .fuse(h, b, shb)
        .reorder(yo, yi, x, shb)
        .gpu_blocks(x, shb)
        .gpu_threads(yi);
    acc.compute_at(score, yo).store_in(MemoryType::Register);
    acc.update().unroll(rc.x, std::min(D, 8), guard);
    bool stage = staged(int64_t(span) * D * 4, "a query line of the " + tag +
                                                   " map scores: " +
                                                   str(span) + " x D floats");
    if (stage) {
      Var po("po"), pi("pi");
      qLine.compute_at(score, x)
          .store_in(MemoryType::GPUShared)
          .split(p, po, pi, mt, guard)
          .reorder(d, po, pi)
          .gpu_threads(pi);
    }
    map.compute_root()
        .bound(y, 0, len)
        .bound(x, 0, len)
        .split(x, xo, xi, mt, guard)
        .fuse(h, b, shb)
        .reorder(y, xi, xo, shb)
        .gpu_blocks(xo, shb)
        .gpu_threads(xi);
    mx.compute_at(map, xi);
    sm.compute_at(map, xi);
    note(tag + "_score.compute_root().split(" + y.name() + ", yo, yi, " +
         str(mt) + ").reorder(yo, yi, " + x.name() + ", hb).gpu_blocks(" +
         x.name() + ", hb).gpu_threads(yi); " + tag +
         "_acc.compute_at(score, yo).store_in(MemoryType::Register);" +
         (stage ? " " + tag +
                      "_q_line.compute_at(score, " + x.name() +
                      ").store_in(MemoryType::GPUShared).gpu_threads(p);"
                : ""));
    note(tag + "_map.compute_root().split(" + x.name() + ", xo, xi, " +
         str(mt) + ").gpu_blocks(xo, hb).gpu_threads(xi); " + tag + "_max/" +
         tag + "_sum.compute_at(map, xi);  // a thread per map row");
    return std::vector<Func>{qLine, acc, score, mx, sm, map};
  };
  std::vector<Func> rowFuncs =
      buildMap("row", r2, r1, rows, cols,
               [&](Expr line, Expr pos) { return line * cols + pos; });
  std::vector<Func> colFuncs =
      buildMap("col", c2, c1, cols, rows,
               [&](Expr line, Expr pos) { return pos * cols + line; });
  Func A = rowFuncs.back(), Bm = colFuncs.back();

  // T = V Bm^T per grid row: a block per (grid row, h, b), threads over
  // (value channel, column), Bm and the grid row of V in shared memory.
  Func bmTile("col_map_tile"), vLine("v_line"), tAcc("v_cols_acc"),
      T("v_cols");
  RDom rc(0, cols, "rc"), rr(0, rows, "rr");
  bmTile(c2, c1, h, b) = Bm(c2, c1, h, b);
  vLine(dv, c2, r2, h, b) = cast<float>(v(dv, r2 * cols + c2, hk, b));
  tAcc(dv, c1, r2, h, b) = 0.0f;
  tAcc(dv, c1, r2, h, b) +=
      bmTile(rc, c1, h, b) * vLine(dv, rc, r2, h, b);
  T(dv, c1, r2, h, b) = tAcc(dv, c1, r2, h, b);
  Var dvo("dvo"), dvi("dvi"), c1o("c1o"), c1i("c1i"), thb("hb");
  T.compute_root()
      .bound(dv, 0, Dv)
      .bound(c1, 0, cols)
      .bound(r2, 0, rows)
      .split(dv, dvo, dvi, vt, guard)
      .split(c1, c1o, c1i, lt, guard)
      .fuse(h, b, thb)
      .reorder(dvo, c1o, dvi, c1i, r2, thb)
      .gpu_blocks(r2, thb)
      .gpu_threads(dvi, c1i);
  tAcc.compute_at(T, dvo).store_in(MemoryType::Register);
  bool stageT = staged(int64_t(cols) * (cols + Dv) * 4,
                       "the column map and a grid row of V: " + str(cols) +
                           " x (" + str(cols) + " + Dv) floats");
  if (stageT) {
    stageTile(bmTile, T, r2, c2, c1);
    stageTile(vLine, T, r2, dv, c2);
  }
  note("v_cols.compute_root().split(dv, dvo, dvi, " + str(vt) +
       ").split(c1, c1o, c1i, " + str(lt) +
       ").reorder(dvo, c1o, dvi, c1i, r2, hb).gpu_blocks(r2, hb)"
       ".gpu_threads(dvi, c1i); v_cols_acc.compute_at(v_cols, dvo)"
       ".store_in(MemoryType::Register);" +
       std::string(stageT ? " col_map_tile/v_line.compute_at(v_cols, r2)"
                            ".store_in(MemoryType::GPUShared)"
                            ".gpu_threads(...);"
                          : ""));

  // O = A T, straight into the output: the update scatters o_acc(dv, c1,
  // r1) to token r1 * cols + c1 (one token per (c1, r1): no race), so a
  // block per (grid column, h, b) stages exactly its column of T; threads
  // over (value channel, grid row), A and the column of T staged.
  Func aTile("row_map_tile"), tCol("v_cols_tile"), oAcc("o_acc");
  aTile(r2, r1, h, b) = A(r2, r1, h, b);
  tCol(dv, c1, r2, h, b) = T(dv, c1, r2, h, b);
  oAcc(dv, c1, r1, h, b) = 0.0f;
  oAcc(dv, c1, r1, h, b) += aTile(rr, r1, h, b) * tCol(dv, c1, rr, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  // ro.x: the grid row r1, ro.y: the grid column c1 (the block).  RVars
  // of a scatter keep their order, so the rows' outer loop (rco) runs at
  // the block level around the thread loops.
  RDom ro(0, rows, 0, cols, "ro");
  out(dv, i, h, b) = undef(outType);
  out(dv, ro.x * cols + ro.y, h, b) =
      cast(outType, oAcc(dv, ro.y, ro.x, h, b));
  constrainOutput(desc, out);
  Var io("io"), ii("ii"), ohb("ohb");
  RVar rco("rco"), rci("rci");
  // The pure definition is empty (undef); it is scheduled like the update
  // so that every stage names its GPU loops.
  out.split(dv, dvo, dvi, vt, guard)
      .split(i, io, ii, lt, guard)
      .fuse(h, b, ohb)
      .reorder(dvi, ii, dvo, io, ohb)
      .gpu_blocks(io, ohb)
      .gpu_threads(dvi, ii);
  out.update()
      .allow_race_conditions()
      .split(dv, dvo, dvi, vt, guard)
      .split(ro.x, rco, rci, lt, guard)
      .fuse(h, b, ohb)
      .reorder(dvo, dvi, rci, rco, ro.y, ohb)
      .gpu_blocks(ro.y, ohb)
      .gpu_threads(dvi, rci);
  oAcc.compute_at(out, dvo).store_in(MemoryType::Register);
  bool stageO = staged(int64_t(rows) * (rows + Dv) * 4,
                       "the row map and a grid column of T: " + str(rows) +
                           " x (" + str(rows) + " + Dv) floats");
  if (stageO) {
    stageTile(aTile, out, ro.y, r2, r1);
    stageTile(tCol, out, ro.y, dv, r2);
  }
  note("out(dv, i, h, b) = undef; out(dv, ro.r1 * " + str(cols) +
       " + ro.c1, h, b) = o_acc(dv, ro.c1, ro.r1, h, b); out.update()"
       ".split(dv, dvo, dvi, " + str(vt) + ").split(ro.r1, rco, rci, " +
       str(lt) + ").reorder(dvo, dvi, rci, rco, ro.c1, hb)"
       ".gpu_blocks(ro.c1, hb).gpu_threads(dvi, rci); o_acc.compute_at(out, "
       "dvo)"
       ".store_in(MemoryType::Register);" +
       std::string(stageO ? " row_map_tile/v_cols_tile.compute_at(out, ii)"
                            ".store_in(MemoryType::GPUShared)"
                            ".gpu_threads(...);"
                          : "") +
       "  // " + str(sharedMax) + " bytes of shared memory per block at most");

  algorithmOrder = rowFuncs;
  algorithmOrder.insert(algorithmOrder.end(), colFuncs.begin(),
                        colFuncs.end());
  for (Func f : {bmTile, vLine, tAcc, T, aTile, tCol, oAcc, out})
    algorithmOrder.push_back(f);
}
