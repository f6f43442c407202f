//===- HaloPipeline.cpp - EIT's head-mixing map convolutions in Halide ----===//

#include "lowering/halide/HaloPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

#include <algorithm>
#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void HaloPipeline::build() {
  if (!desc.isEmha())
    throw CompileError("form 'halo_tiled' needs an emha map");
  params = makeInputParams(desc);
  if (params[desc.emhaIsi].dimensions() != 4 ||
      params[desc.emhaCsi].dimensions() != 4)
    throw CompileError("emha's weights must be rank-4 tensors [H, H, k, k]");
  if (target.isGpu()) {
    buildGpu();
    return;
  }
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  ImageParam &isi = params[desc.emhaIsi], &csi = params[desc.emhaCsi];
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

//===----------------------------------------------------------------------===//
// GPU targets (docs/gpu/softmax-forms.md, "halo_tiled")
//===----------------------------------------------------------------------===//

void HaloPipeline::buildGpu() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  ImageParam &isi = params[desc.emhaIsi], &csi = params[desc.emhaCsi];
  const int H = gpuStaticDim(desc, desc.query, "halo_tiled", "head count",
                             GpuDimUse::Tiles, /*dim=*/1);
  const int Dv = gpuStaticDim(desc, desc.value, "halo_tiled", "value head dim",
                              GpuDimUse::Tiles, /*dim=*/3);
  const int kt = int(knobs.at("key_tile"));
  const int qt = int(knobs.at("query_tile"));
  const int sr = int(knobs.at("softmax_rows"));
  const int ar = int(knobs.at("agg_rows"));
  const int ks = int(desc.emhaKernel), p = (ks - 1) / 2;
  Expr D = q.dim(0).extent(), N = q.dim(1).extent(), M = k.dim(1).extent();
  const float tau = float(desc.scale);
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  const TailStrategy guard = TailStrategy::GuardWithIf;
  auto str = [](int64_t x) { return std::to_string(x); };

  // The halo tile of every head's map, per block of a convolution.
  const int tileM = kt + 2 * p, tileN = qt + 2 * p;
  int64_t shared = int64_t(H) * tileM * tileN * 4;
  if (shared > target.gpuLimits.sharedBytes)
    throw CompileError(
        "the schedule uses " + str(shared) +
        " bytes of shared memory per block (H " + str(H) + " x (key_tile " +
        str(kt) + " + " + str(2 * p) + ") x (query_tile " + str(qt) + " + " +
        str(2 * p) + ") floats of halo tile); the target allows at most " +
        str(target.gpuLimits.sharedBytes));

  auto inMap = [&](Expr row, Expr col) {
    return row >= 0 && row < N && col >= 0 && col < M;
  };
  auto clampM = [&](Expr x) { return clamp(x, 0, M - 1); };
  auto clampN = [&](Expr x) { return clamp(x, 0, N - 1); };

  // Pair scores (query head i, key head j), clamped so that a halo tile
  // may reach past the map; a register accumulator per entry, the tile in
  // shared memory.
  Func pairAcc("pair_acc"), pairTile("pair_score_tile");
  RDom rd(0, D, "rd");
  pairAcc(m, n, j, i, b) = 0.0f;
  pairAcc(m, n, j, i, b) += cast<float>(q(rd, clampN(n), i, b)) * tau *
                            cast<float>(k(rd, clampM(m), j, b));
  pairTile(m, n, j, i, b) = pairAcc(m, n, j, i, b);
  auto pairPadded = [&](Expr mm, Expr nn, Expr jj) {
    return select(inMap(nn, mm), pairTile(mm, nn, jj, i, b), 0.0f);
  };

  // ISI: head i's grouped k x k convolution of its H pair maps.
  RDom rw(0, H, 0, ks, 0, ks, "rw");
  RVar jw = rw.x, aw = rw.y, ew = rw.z;
  Func mixedAcc("isi_acc"), mixed("isi_mixed");
  mixedAcc(m, n, i, b) = 0.0f;
  mixedAcc(m, n, i, b) += isi(ew, aw, jw, i) *
                          pairPadded(m + ew - p, n + aw - p, jw);
  mixed(m, n, i, b) = mixedAcc(m, n, i, b);

  // The softmax statistics of each map row: stat(0) the max, stat(1) the
  // sum of exponentials, in registers of the row's thread.
  Var c("c");
  RDom rm(0, M, "rm");
  Func maxAcc("row_max"), sumAcc("row_sum"), stat("row_stat");
  maxAcc(n, i, b) = lowest;
  maxAcc(n, i, b) = max(maxAcc(n, i, b), mixed(rm, n, i, b));
  sumAcc(n, i, b) = 0.0f;
  sumAcc(n, i, b) += accurateExp(mixed(rm, n, i, b) - maxAcc(n, i, b));
  stat(c, n, i, b) = select(c == 0, maxAcc(n, i, b), sumAcc(n, i, b));

  // CSI: every head mixes the H normalized maps (staged per block with
  // their halo).
  Func mapTile("weights_tile"), crossedAcc("csi_acc"), crossed("csi_mixed");
  mapTile(m, n, j, b) =
      accurateExp(mixed(clampM(m), clampN(n), j, b) -
                  stat(0, clampN(n), j, b)) /
      stat(1, clampN(n), j, b);
  crossedAcc(m, n, i, b) = 0.0f;
  Expr mm = m + ew - p, nn = n + aw - p;
  crossedAcc(m, n, i, b) +=
      csi(ew, aw, jw, i) *
      select(inMap(nn, mm), mapTile(mm, nn, jw, b), 0.0f);
  crossed(m, n, i, b) = crossedAcc(m, n, i, b);

  // The aggregate.
  Func oAcc("o_acc");
  oAcc(dv, n, i, b) = 0.0f;
  oAcc(dv, n, i, b) += crossed(rm, n, i, b) * cast<float>(v(dv, rm, i, b));
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, n, h, b) = cast(outType, oAcc(dv, n, h, b));
  constrainOutput(desc, out);
  algorithmOrder = {pairAcc, pairTile, mixedAcc, mixed, maxAcc, sumAcc,
                    stat, mapTile, crossedAcc, crossed, oAcc, out};

  // The convolutions: a block per (map tile, head, batch), a thread per
  // entry; the halo tile staged by the block's threads.  The map tiles are
  // rounded up (the maps' buffers are padded to whole tiles), so that
  // every halo tile is key_tile + k - 1 by query_tile + k - 1 entries
  // (reads past the map are clamped, and masked by the zero padding).
  auto scheduleConv = [&](Func conv, Func acc, Func tile, bool pairs) {
    Var mo("mo"), mi("mi"), no("no"), ni("ni"), ib("ib"), tmo("tmo"),
        tmi("tmi"), tno("tno"), tni("tni");
    conv.compute_root()
        .bound(i, 0, H)
        .split(m, mo, mi, kt, TailStrategy::RoundUp)
        .split(n, no, ni, qt, TailStrategy::RoundUp)
        .fuse(i, b, ib)
        .reorder(mi, ni, mo, no, ib)
        .gpu_blocks(mo, no, ib)
        .gpu_threads(mi, ni);
    acc.compute_at(conv, mi).store_in(MemoryType::Register);
    tile.compute_at(conv, mo)
        .store_in(MemoryType::GPUShared)
        .bound(j, 0, H)
        .split(m, tmo, tmi, kt, guard)
        .split(n, tno, tni, qt, guard)
        .reorder(tmo, tno, j, tmi, tni)
        .gpu_threads(tmi, tni);
    if (pairs)
      pairAcc.compute_at(tile, tmo).store_in(MemoryType::Register);
  };
  scheduleConv(mixed, mixedAcc, pairTile, true);
  scheduleConv(crossed, crossedAcc, mapTile, false);
  note("isi_mixed/csi_mixed.compute_root().split(m, mo, mi, " + str(kt) +
       ").split(n, no, ni, " + str(qt) +
       ").fuse(i, b, ib).gpu_blocks(mo, no, ib).gpu_threads(mi, ni); "
       "isi_acc/csi_acc.compute_at(mixed, mi).store_in(MemoryType::"
       "Register);");
  note("pair_score_tile/weights_tile.compute_at(mixed, mo).store_in("
       "MemoryType::GPUShared).bound(j, 0, " + str(H) +
       ").gpu_threads(m, n);  // the halo tile, " + str(tileM) + " x " +
       str(tileN) + " x " + str(H) + ", " + str(shared) +
       " bytes; pair_acc.compute_at(pair_score_tile, m) in a register");

  // The statistics: a thread per map row.
  Var so("so"), si("si");
  stat.compute_root()
      .bound(c, 0, 2)
      .bound(i, 0, H)
      .split(n, so, si, sr, guard)
      .reorder(c, si, so, i, b)
      .gpu_blocks(so, i, b)
      .gpu_threads(si)
      .unroll(c);
  maxAcc.compute_at(stat, si).store_in(MemoryType::Register);
  sumAcc.compute_at(stat, si).store_in(MemoryType::Register);
  note("row_stat.compute_root().split(n, so, si, " + str(sr) +
       ").gpu_blocks(so, i, b).gpu_threads(si); row_max/row_sum"
       ".compute_at(row_stat, si).store_in(MemoryType::Register);");

  // The aggregate: threads over (value channel, query row).
  Var ao("ao"), ai("ai");
  out.split(n, ao, ai, ar, guard)
      .reorder(dv, ai, ao, h, b)
      .gpu_blocks(ao, h, b)
      .gpu_threads(dv, ai);
  oAcc.compute_at(out, dv).store_in(MemoryType::Register);
  oAcc.update().unroll(rm.x, 4, guard);
  note("out.split(n, ao, ai, " + str(ar) +
       ").reorder(dv, ai, ao, h, b).gpu_blocks(ao, h, b)"
       ".gpu_threads(dv, ai); o_acc.compute_at(out, dv).store_in(MemoryType::"
       "Register); o_acc.update().unroll(rm, 4);  // " + str(Dv) + " x " +
       str(ar) + " threads");
}
