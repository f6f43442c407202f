//===- HaloPipeline.cpp - EIT's head-mixing map convolutions in Halide ----===//

#include "lowering/halide/HaloPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"

#include <algorithm>
#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void HaloPipeline::build() {
  if (!desc.isEmha())
    throw CompileError("form 'halo_tiled' needs an emha map");
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  ImageParam &isi = params[desc.emhaIsi], &csi = params[desc.emhaCsi];
  if (isi.dimensions() != 4 || csi.dimensions() != 4)
    throw CompileError("emha's weights must be rank-4 tensors [H, H, k, k]");
  const int vw = int(knobs.at("vector_width"));
  const int qt = int(knobs.at("query_tile"));
  const int ks = int(desc.emhaKernel), p = (ks - 1) / 2;
  Expr D = q.dim(0).extent(), N = q.dim(1).extent(), H = q.dim(2).extent();
  Expr M = k.dim(1).extent();
  const float tau = float(desc.scale);
  Expr lowest = Expr(std::numeric_limits<float>::lowest());

  // Every (query head i, key head j) pair's scores; the keys transposed
  // once so that the score loop reads them contiguously across keys.
  Func qs("q_scaled"), kT("k_t"), S("pair_score"), Sz("pair_score_padded");
  qs(d, n, i, b) = cast<float>(q(d, clamp(n, 0, N - 1), i, b)) * tau;
  kT(m, d, j, b) = cast<float>(k(d, m, j, b));
  RDom rd(0, D, "rd");
  S(m, n, j, i, b) = 0.0f;
  S(m, n, j, i, b) += qs(rd, n, i, b) * kT(m, rd, j, b);
  auto inMap = [&](Expr row, Expr col) {
    return row >= 0 && row < N && col >= 0 && col < M;
  };
  Sz(m, n, j, i, b) = select(inMap(n, m),
                             S(clamp(m, 0, M - 1), clamp(n, 0, N - 1), j, i,
                               b),
                             0.0f);

  // ISI: head i's grouped k x k convolution of its H pair maps (zero
  // padding), then the softmax over every key.
  RDom rw(0, H, 0, ks, 0, ks, "rw");
  RVar jw = rw.x, aw = rw.y, ew = rw.z;
  Func mixed("isi_mixed"), rowMax("row_max"), ex("row_exp"), rowSum("row_sum"),
      A("weights"), Az("weights_padded");
  mixed(m, n, i, b) = 0.0f;
  mixed(m, n, i, b) += isi(ew, aw, jw, i) *
                       Sz(m + ew - p, n + aw - p, jw, i, b);
  RDom rm(0, M, "rm");
  rowMax(n, i, b) = lowest;
  rowMax(n, i, b) = max(rowMax(n, i, b), mixed(rm, n, i, b));
  ex(m, n, i, b) = accurateExp(mixed(m, n, i, b) - rowMax(n, i, b));
  rowSum(n, i, b) = 0.0f;
  rowSum(n, i, b) += ex(rm, n, i, b);
  A(m, n, i, b) = ex(m, n, i, b) / rowSum(n, i, b);
  Az(m, n, j, b) = select(inMap(n, m),
                          A(clamp(m, 0, M - 1), clamp(n, 0, N - 1), j, b),
                          0.0f);

  // CSI: every head mixes the H normalized maps, then the aggregate.
  Func crossed("csi_mixed"), O("o_rows");
  crossed(m, n, i, b) = 0.0f;
  crossed(m, n, i, b) += csi(ew, aw, jw, i) * Az(m + ew - p, n + aw - p, jw, b);
  O(dv, n, i, b) = 0.0f;
  O(dv, n, i, b) += crossed(rm, n, i, b) * cast<float>(v(dv, rm, i, b));
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, n, h, b) = cast(outType, O(dv, n, h, b));
  constrainOutput(desc, out);
  algorithmOrder = {qs, kT, S, Sz, mixed, rowMax, ex, rowSum, A, Az,
                    crossed, O, out};

  // Schedule: one task per (query tile, batch), every head inside it; the
  // maps of the tile and its halo are computed at the task (Halide's
  // bounds inference adds the halo rows the convolutions read).
  const TailStrategy guard = TailStrategy::GuardWithIf;
  Var no("no"), ni("ni");
  out.split(n, no, ni, qt, guard)
      .reorder(dv, ni, h, no, b)
      .fuse(no, b, task)
      .parallel(task)
      .vectorize(dv, vw, guard);
  kT.compute_root().parallel(b).vectorize(m, vw, guard);
  for (Func *f : {&qs, &mixed, &rowMax, &rowSum, &A, &crossed})
    f->compute_at(out, task);
  // The pair scores of one query head at a time, at the ISI's head loop.
  S.compute_at(mixed, i).vectorize(m, vw, guard);
  Var mo("mo"), mi("mi");
  // Register blocks of four vectors of keys x four query rows: sixteen
  // accumulators over the head-dim loop, each key vector loaded once per
  // four rows.
  Var nb("nb"), nr("nr");
  S.update()
      .split(m, mo, mi, 4 * vw, guard)
      .split(n, nb, nr, 4, guard)
      .reorder(mi, nr, rd.x, mo, nb, j)
      .vectorize(mi, vw)
      .unroll(mi)
      .unroll(nr);
  // The convolutions accumulate blocks of four key vectors in registers
  // over (head, tap row, tap column).
  mixed.vectorize(m, vw, guard);
  mixed.update()
      .split(m, mo, mi, 4 * vw, guard)
      .reorder(mi, ew, aw, jw, mo, n, i)
      .vectorize(mi, vw)
      .unroll(mi);
  rowMax.update().reorder(rm.x, n, i);
  ex.compute_at(out, task).vectorize(m, vw, guard);
  rowSum.update().reorder(rm.x, n, i);
  A.vectorize(m, vw, guard);
  crossed.vectorize(m, vw, guard);
  crossed.update()
      .split(m, mo, mi, 4 * vw, guard)
      .reorder(mi, ew, aw, jw, mo, n, i)
      .vectorize(mi, vw)
      .unroll(mi);
  // The aggregate in register blocks of query rows x the value dim, so that
  // each value row is loaded once per block of rows.
  int64_t dvStatic = desc.args[desc.value].shape.back();
  int valueVecs = dvStatic > 0 ? int((dvStatic + vw - 1) / vw) : 4;
  int blockRows = std::max(1, std::min(4, 24 / valueVecs));
  O.compute_at(out, task).vectorize(dv, vw, guard);
  O.update()
      .split(n, nb, nr, blockRows, guard)
      .reorder(dv, nr, rm.x, nb, i)
      .vectorize(dv, vw, guard)
      .unroll(nr);
  note("out.split(n, no, ni, " + std::to_string(qt) +
       ").reorder(dv, ni, h, no, b).fuse(no, b -> task).parallel(task)"
       ".vectorize(dv, " + std::to_string(vw) + ");");
  note("k_t.compute_root(); q_scaled/isi_mixed/row_max/row_exp/row_sum/"
       "weights/csi_mixed.compute_at(out, task)  // the tile's rows and "
       "their halo, every head");
  note("pair_score.compute_at(isi_mixed, i)  // one query head's H maps; "
       "update: keys in vector lanes, the head dim in the loop");
  note("pair_score.update(): blocks of 4 key vectors x 4 query rows over "
       "the head dim; isi_mixed/csi_mixed.update(): blocks of 4 key vectors "
       "over (j, a, e); o_rows.compute_at(out, task).update(): "
       "blocks of query rows x dv over the keys;");
}
