//===- SeparablePipeline.cpp - Couplformer's coupled maps in Halide -------===//

#include "lowering/halide/SeparablePipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"

#include <algorithm>
#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void SeparablePipeline::build() {
  if (!desc.isCoupler())
    throw CompileError("form 'separable' needs a coupler map");
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
