//===- SeparablePipeline.cpp - Couplformer's coupled maps in Halide -------===//

#include "lowering/halide/SeparablePipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"

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
  O(dv, i, h, b) = 0.0f;
  O(dv, i, h, b) += A(rr, i / cols, h, b) * T(dv, i % cols, rr, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) = cast(outType, O(dv, i, h, b));
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
  rowPart.vectorize(d, vw, guard);
  rowPart.update().reorder(d, rc.x, r2, r1).vectorize(d, vw, guard);
  colPart.vectorize(d, vw, guard);
  colPart.update().reorder(d, rr.x, c2, c1).vectorize(d, vw, guard);
  rowScore.update().reorder(rd.x, r2, r1);
  colScore.update().reorder(rd.x, c2, c1);
  rowExp.vectorize(r2, vw, guard);
  colExp.vectorize(c2, vw, guard);
  note("row_map/col_map.compute_root().fuse(h, b -> hb).parallel(hb); "
       "row_part/col_part (per channel, the width or height innermost)."
       "compute_at(map, hb).vectorize(d, " + std::to_string(vw) + ");");

  Var task("task");
  T.compute_root()
      .fuse(r2, h, task)
      .fuse(task, b, task)
      .parallel(task)
      .vectorize(dv, vw, guard);
  T.update()
      .reorder(dv, rc.x, c1, r2, h, b)
      .fuse(r2, h, task)
      .fuse(task, b, task)
      .parallel(task)
      .vectorize(dv, vw, guard);
  note("v_cols.compute_root().parallel(r2 x h x b); v_cols.update()"
       ".reorder(dv, rc, c1).vectorize(dv, " + std::to_string(vw) + ");");

  Var iin = splitRowsIntoTasks(dv, i, h, b, tile, cols, vw);
  O.compute_at(out, iin).vectorize(dv, vw, guard);
  O.update().reorder(dv, rr.x).vectorize(dv, vw, guard);
  note("out.split(i, io, ii, " + std::to_string(cols) +
       ").parallel(io x h x b).vectorize(dv); o_rows.compute_at(out, ii)"
       ".update().reorder(dv, rr);");
}
