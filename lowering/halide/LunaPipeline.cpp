//===- LunaPipeline.cpp - Luna's nested attention in Halide ---------------===//

#include "lowering/halide/LunaPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void LunaPipeline::build() {
  params = makeInputParams(desc);
  if (params[desc.lunaMemory].dimensions() != 3)
    throw CompileError("Luna's memory must be a rank-3 tensor [H, p, D]");
  if (desc.form == "pack_unpack")
    definePackUnpack();
  else if (desc.form == "luna_scan")
    defineScan();
  else
    throw CompileError("no Luna lowering for form '" + desc.form + "'");
}

/// Numerically stable log2(1 + 2^x): max(x, 0) + log2(1 + 2^-|x|).
static Expr softplus2(Expr x) {
  const float ln2 = 0.693147180559945309f;
  Expr y = accurateExp(-abs(x) * ln2); // 2^-|x|, in (0, 1]
  Expr u = 1.0f + y;
  // log1p(y) / ln 2, with Goldberg's correction where 1 + y rounds.
  Expr log1p = select(u == 1.0f, y, log(u) * y / (u - 1.0f));
  return max(x, 0.0f) + log1p * (1.0f / ln2);
}

//===----------------------------------------------------------------------===//
// pack_unpack
//===----------------------------------------------------------------------===//

void LunaPipeline::definePackUnpack() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value], &mem = params[desc.lunaMemory];
  const bool gpu = target.isGpu();
  const int vw = gpu ? 1 : int(knobs.at("vector_width"));
  const int qt = gpu ? 1 : int(knobs.at("query_tile"));
  const int p = int(desc.lunaRows);
  Expr D = q.dim(0).extent(), M = k.dim(1).extent(), H = q.dim(2).extent(),
       G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  float scale = float(desc.scale);
  Expr keep = Internal::const_true();
  if (desc.kvLengths >= 0)
    keep = j < params[desc.kvLengths](b);

  // Pack: the memory rows attend to every key (softmax over keys).
  Func memT("memory_t"), sp("pack_score"), pmax("pack_max"), pe("pack_prob"),
      psum("pack_sum"), pacc("pack_acc"), packed("packed");
  memT(l, d, h) = mem(d, l, h) * scale;
  RDom rd(0, D, "rd");
  sp(l, j, h, b) = 0.0f;
  sp(l, j, h, b) += memT(l, rd, h) * cast<float>(k(rd, j, hk, b));
  RDom rj(0, M, "rj");
  Expr lowest = Float(32).min();
  Expr keepAt = substitute(j.name(), rj.x, keep);
  pmax(l, h, b) = lowest;
  pmax(l, h, b) = max(pmax(l, h, b), select(keepAt, sp(l, rj, h, b), lowest));
  pe(l, j, h, b) = select(keep && pmax(l, h, b) > lowest,
                          accurateExp(sp(l, j, h, b) - pmax(l, h, b)), 0.0f);
  psum(l, h, b) = 0.0f;
  psum(l, h, b) += pe(l, rj, h, b);
  pacc(e, l, h, b) = 0.0f;
  pacc(e, l, h, b) += pe(l, rj, h, b) * cast<float>(v(e, rj, hk, b));
  packed(e, l, h, b) =
      select(psum(l, h, b) > 0.0f, pacc(e, l, h, b) / psum(l, h, b), 0.0f);

  // Unpack: every query attends to the p packed rows (keys = values).
  Func packedT("packed_t"), us("unpack_score"), umax("unpack_max"),
      ue("unpack_prob"), usum("unpack_sum"), uacc("unpack_acc");
  packedT(l, d, h, b) = packed(d, l, h, b) * scale;
  us(l, i, h, b) = 0.0f;
  us(l, i, h, b) += packedT(l, rd, h, b) * cast<float>(q(rd, i, h, b));
  RDom rl(0, p, "rl");
  umax(i, h, b) = lowest;
  umax(i, h, b) = max(umax(i, h, b), us(rl, i, h, b));
  ue(l, i, h, b) = accurateExp(us(l, i, h, b) - umax(i, h, b));
  usum(i, h, b) = 0.0f;
  usum(i, h, b) += ue(rl, i, h, b);
  uacc(e, i, h, b) = 0.0f;
  uacc(e, i, h, b) += ue(rl, i, h, b) * packed(e, rl, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) = cast(outType, uacc(e, i, h, b) / usum(i, h, b));
  constrainOutput(desc, out);
  algorithmOrder = {memT, sp, pmax, pe, psum, pacc, packed,
                    packedT, us, umax, ue, usum, uacc, out};

  if (gpu) {
    // GPU (docs/gpu/efficient-forms.md): the scores, maxima, sums and
    // probabilities at the root (a thread per element or per row); the
    // packed accumulators per block of pack_rows memory rows over shared
    // tiles of key_tile keys' probabilities and values; the unpack per
    // block of block_rows queries over shared tiles of pack_tile packed
    // rows.
    const int Dv = gpuEfficientValueDim(desc);
    const int lr = int(knobs.at("pack_rows")), kt = int(knobs.at("key_tile"));
    const int qr = int(knobs.at("block_rows")), pt = int(knobs.at("pack_tile"));
    const TailStrategy guard = TailStrategy::GuardWithIf;
    auto str = [](int x) { return std::to_string(x); };
    gpuRoot(memT, {16, 16});
    gpuRoot(sp, {8, 32});
    gpuRoot(pmax, {32});
    gpuRoot(pe, {8, 32});
    gpuRoot(psum, {32});
    gpuRoot(packed, {32, 8});
    gpuRoot(packedT, {8, 32});
    gpuRoot(us, {8, 32});
    gpuRoot(umax, {64});
    gpuRoot(ue, {8, 32});
    gpuRoot(usum, {64});
    Var lo("lo"), li("li"), eo("eo"), ei("ei"), elo("elo"), jo("jo"),
        ji("ji");
    Func paccW = pacc.in();
    paccW.compute_root()
        .split(l, lo, li, lr, guard)
        .split(e, eo, ei, Dv, guard)
        .reorder(ei, li, eo, lo, h, b)
        .fuse(eo, lo, elo)
        .gpu_blocks(elo, h, b)
        .gpu_threads(ei, li);
    pacc.compute_at(paccW, elo).store_in(MemoryType::GPUShared)
        .gpu_threads(e, l);
    RVar ro("rjo"), ri("rji");
    pacc.update()
        .split(rj.x, ro, ri, kt, guard)
        .reorder(ri, e, l, ro)
        .gpu_threads(e, l);
    Func peT = pe.in(pacc);
    peT.compute_at(pacc, ro)
        .store_in(MemoryType::GPUShared)
        .split(j, jo, ji, Dv, guard)
        .reorder(ji, l, jo)
        .gpu_threads(ji, l);
    Func vT = v.in(pacc);
    std::vector<Var> va = vT.args();
    vT.compute_at(pacc, ro)
        .store_in(MemoryType::GPUShared)
        .split(va[1], jo, ji, lr, guard)
        .reorder(va[0], ji, jo)
        .gpu_threads(va[0], ji);
    Var io = splitRowsIntoBlocks(e, i, h, b, qr);
    uacc.compute_at(out, io).store_in(MemoryType::GPUShared)
        .gpu_threads(e, i);
    RVar rlo("rlo"), rli("rli");
    uacc.update()
        .split(rl.x, rlo, rli, pt, guard)
        .reorder(rli, e, i, rlo)
        .gpu_threads(e, i);
    Func packedS = packed.in(uacc), ueS = ue.in(uacc);
    packedS.compute_at(uacc, rlo)
        .store_in(MemoryType::GPUShared)
        .split(l, lo, li, qr, guard)
        .reorder(e, li, lo)
        .gpu_threads(e, li);
    ueS.compute_at(uacc, rlo)
        .store_in(MemoryType::GPUShared)
        .split(l, lo, li, Dv, guard)
        .reorder(li, i, lo)
        .gpu_threads(li, i);
    note("memory_t, pack_score, pack_max, pack_prob, pack_sum, packed, "
         "packed_t, unpack_score, unpack_max, unpack_prob, unpack_sum: "
         "compute_root on the device (a thread per element, or per row for "
         "the maxima and sums)");
    note("pack_acc.in().compute_root().split(l, lo, li, " + str(lr) +
         ").gpu_blocks(lo, h, b).gpu_threads(e, li); pack_acc.compute_at("
         "wrapper, lo).store_in(GPUShared); pack_acc.update().split(rj, rjo, "
         "rji, " + str(kt) + ").reorder(rji, e, l, rjo).gpu_threads(e, l); "
         "pack_prob.in(pack_acc), v.in(pack_acc): compute_at(pack_acc, rjo)"
         ".store_in(GPUShared)");
    note("out.split(i, io, ii, " + str(qr) +
         ").gpu_blocks(io, h, b).gpu_threads(e, ii); unpack_acc.compute_at("
         "out, io).store_in(GPUShared); unpack_acc.update().split(rl, rlo, "
         "rli, " + str(pt) + ").reorder(rli, e, i, rlo); packed.in(unpack_acc)"
         ", unpack_prob.in(unpack_acc): compute_at(unpack_acc, rlo)"
         ".store_in(GPUShared)");
    return;
  }

  // Schedule: the pack per (h, b) task; the unpack per query tile.
  Var hb("hb");
  packed.compute_root().fuse(h, b, hb).parallel(hb)
      .vectorize(e, vw, TailStrategy::GuardWithIf);
  for (Func f : {sp, pe})
    f.compute_at(packed, hb).vectorize(l, vw, TailStrategy::GuardWithIf);
  sp.update().reorder(l, rd.x, j).vectorize(l, vw, TailStrategy::GuardWithIf);
  for (Func f : {pmax, psum}) {
    f.compute_at(packed, hb).vectorize(l, vw, TailStrategy::GuardWithIf);
    f.update().reorder(l, rj.x).vectorize(l, vw, TailStrategy::GuardWithIf);
  }
  pacc.compute_at(packed, hb).vectorize(e, vw, TailStrategy::GuardWithIf);
  pacc.update().reorder(e, l, rj.x).vectorize(e, vw, TailStrategy::GuardWithIf);
  memT.compute_at(packed, hb);
  packedT.compute_root().vectorize(l, vw, TailStrategy::GuardWithIf);

  Var iin = splitRowsIntoTasks(e, i, h, b, tile, qt, vw);
  for (Func f : {us, ue})
    f.compute_at(out, tile).vectorize(l, vw, TailStrategy::GuardWithIf);
  us.update().reorder(l, rd.x, i).vectorize(l, vw, TailStrategy::GuardWithIf);
  for (Func f : {umax, usum})
    f.compute_at(out, tile);
  uacc.compute_at(out, iin).vectorize(e, vw, TailStrategy::GuardWithIf);
  uacc.update().reorder(e, rl.x).vectorize(e, vw, TailStrategy::GuardWithIf);
  note("packed.compute_root().parallel(h x b).vectorize(e, " +
       std::to_string(vw) + "); pack_score/pack_prob/pack_max/pack_sum/"
       "pack_acc.compute_at(packed, hb).vectorize(l | e);");
  note("out.split(i, io, ii, " + std::to_string(qt) +
       ").parallel(io x h x b).vectorize(e); unpack_score/unpack_prob."
       "compute_at(out, tile).vectorize(l); unpack_acc.compute_at(out, ii);");
}

//===----------------------------------------------------------------------===//
// luna_scan (causal)
//===----------------------------------------------------------------------===//

void LunaPipeline::defineScan() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value], &mem = params[desc.lunaMemory];
  const bool gpu = target.isGpu();
  const int vw = gpu ? 1 : int(knobs.at("vector_width"));
  const int c = int(knobs.at("chunk"));
  const int p = int(desc.lunaRows);
  Expr D = q.dim(0).extent(), M = k.dim(1).extent(), H = q.dim(2).extent(),
       G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  Expr T = (M + c - 1) / c;
  float scale = float(desc.scale);

  // Pack weights pi(l, j) = log2(1 + 2^(scale P_l . k_j)), zero for keys
  // past the end or excluded by kv_lengths.
  Func memT("memory_t"), piDot("pack_dot"), pi("pack_weight");
  memT(l, d, h) = mem(d, l, h) * scale;
  RDom rd(0, D, "rd");
  piDot(l, j, h, b) = 0.0f;
  piDot(l, j, h, b) += memT(l, rd, h) * cast<float>(k(rd, j, hk, b));
  Expr keyPos = t * c + jj;
  Expr keep = keyPos < M;
  if (desc.kvLengths >= 0)
    keep = keep && keyPos < params[desc.kvLengths](b);
  pi(l, jj, t, h, b) =
      select(keep, softplus2(piDot(l, min(keyPos, M - 1), h, b)), 0.0f);
  Func vc("v_chunk");
  vc(e, jj, t, h, b) =
      select(keyPos < M, cast<float>(v(e, min(keyPos, M - 1), hk, b)), 0.0f);

  // Chunk states dS(e, l, t) = sum_jj pi(l, jj) v(e, jj); exclusive prefix.
  RDom rc(0, c, "rc");
  Func dS("d_state"), S("state");
  dS(e, l, t, h, b) = 0.0f;
  dS(e, l, t, h, b) += pi(l, rc, t, h, b) * vc(e, rc, t, h, b);
  // GPUs scan at least one step (a state past the end, never read): no
  // device buffer may be empty.
  RDom rt(1, gpu ? max(T - 1, 1) : max(T - 1, 0), "rt");
  S(e, l, t, h, b) = 0.0f;
  S(e, l, rt, h, b) = S(e, l, rt - 1, h, b) + dS(e, l, rt - 1, h, b);

  // Per chunk: scores over the p rows, softmax, output.
  Expr qPos = t * c + ii;
  Func qc("q_chunk"), qv("qv"), qS("q_state"), score("score"),
      smax("score_max"), alpha("alpha"), asum("alpha_sum"), w("intra_weight"),
      acc("acc"), res("normalized");
  Expr N = q.dim(1).extent();
  qc(d, ii, t, h, b) = cast<float>(q(d, min(qPos, N - 1), h, b));
  qv(jj, ii, t, h, b) = 0.0f;
  qv(jj, ii, t, h, b) += qc(rd, ii, t, h, b) * vc(rd, jj, t, h, b);
  qS(l, ii, t, h, b) = 0.0f;
  qS(l, ii, t, h, b) += qc(rd, ii, t, h, b) * S(rd, l, t, h, b);
  Expr count = cast<float>(qPos + 1);
  score(l, ii, t, h, b) = qS(l, ii, t, h, b);
  score(l, ii, t, h, b) += select(rc <= ii, pi(l, rc, t, h, b), 0.0f) *
                           qv(rc, ii, t, h, b);
  Func scaled("scaled_score");
  scaled(l, ii, t, h, b) = score(l, ii, t, h, b) * (scale / count);
  RDom rl(0, p, "rl");
  smax(ii, t, h, b) = Float(32).min();
  smax(ii, t, h, b) = max(smax(ii, t, h, b), scaled(rl, ii, t, h, b));
  alpha(l, ii, t, h, b) =
      accurateExp(scaled(l, ii, t, h, b) - smax(ii, t, h, b));
  asum(ii, t, h, b) = 0.0f;
  asum(ii, t, h, b) += alpha(rl, ii, t, h, b);
  w(jj, ii, t, h, b) = 0.0f;
  w(jj, ii, t, h, b) += alpha(rl, ii, t, h, b) * pi(rl, jj, t, h, b);
  acc(e, ii, t, h, b) = 0.0f;
  acc(e, ii, t, h, b) += alpha(rl, ii, t, h, b) * S(e, rl, t, h, b);
  acc(e, ii, t, h, b) += select(rc <= ii, w(rc, ii, t, h, b), 0.0f) *
                         vc(e, rc, t, h, b);
  res(e, ii, t, h, b) = acc(e, ii, t, h, b) / (asum(ii, t, h, b) * count);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) = cast(outType, res(e, i % c, i / c, h, b));
  constrainOutput(desc, out);
  algorithmOrder = {memT, piDot, pi, vc, dS, S, qc, qv, qS, score, scaled,
                    smax, alpha, asum, w, acc, res, out};

  if (gpu) {
    scheduleScanGpu(memT, piDot, pi, vc, dS, S, qv, qS, score, smax, alpha,
                    asum, w, acc, rc);
    return;
  }

  // Schedule.  Pack weights per key block; chunk states per (t, h, b);
  // the prefix over chunks parallel over rows; then one task per chunk.
  Var tb("tb"), hb("hb");
  piDot.compute_root()
      .split(j, tb, jj, c, TailStrategy::GuardWithIf)
      .fuse(tb, h, tb)
      .fuse(tb, b, tb)
      .parallel(tb)
      .vectorize(l, vw, TailStrategy::GuardWithIf);
  piDot.update().reorder(l, rd.x, j).vectorize(l, vw,
                                                TailStrategy::GuardWithIf)
      .parallel(b);
  memT.compute_root();
  // The pack weights once per key (softplus is not cheap), read by the
  // chunk states and by every chunk's scores.
  pi.compute_root().fuse(t, h, tile).fuse(tile, b, tile).parallel(tile)
      .vectorize(l, vw, TailStrategy::GuardWithIf);
  dS.compute_root().fuse(t, h, tile).fuse(tile, b, tile).parallel(tile)
      .vectorize(e, vw, TailStrategy::GuardWithIf);
  dS.update().reorder(e, l, rc.x, t, h, b).fuse(t, h, tile)
      .fuse(tile, b, tile).parallel(tile)
      .vectorize(e, vw, TailStrategy::GuardWithIf);
  S.compute_root().vectorize(e, vw, TailStrategy::GuardWithIf).parallel(l);
  S.update().reorder(e, rt.x, l, h, b).parallel(l)
      .vectorize(e, vw, TailStrategy::GuardWithIf);

  splitRowsIntoTasks(e, i, h, b, tile, c, vw);
  auto perChunk = [&](Func f) {
    f.compute_at(out, tile).bound_extent(t, 1);
  };
  // Per chunk: values stored key-innermost for q.v (vectorized over keys),
  // and key-major for the output.
  Func piT = pi.in(w), vT = vc.in(acc), vKeys = vc.in(qv), sT = S.in(qS);
  for (Func f : {qc, piT, vT, vKeys, sT, qv, qS, score, scaled, alpha, w,
                 acc, res})
    perChunk(f);
  sT.reorder_storage(l, e).vectorize(l, vw, TailStrategy::GuardWithIf);
  vKeys.bound(jj, 0, c).reorder_storage(jj, e)
      .vectorize(jj, vw, TailStrategy::GuardWithIf);
  for (Func f : {smax, asum})
    perChunk(f);
  qc.bound(ii, 0, c).vectorize(d, vw, TailStrategy::GuardWithIf);
  piT.bound(jj, 0, c).reorder_storage(jj, l)
      .vectorize(jj, vw, TailStrategy::GuardWithIf);
  vT.bound(jj, 0, c).vectorize(e, vw, TailStrategy::GuardWithIf);
  qv.bound(ii, 0, c).bound(jj, 0, c);
  qv.update().reorder(jj, rd.x, ii).vectorize(jj, vw,
                                               TailStrategy::GuardWithIf);
  qS.bound(ii, 0, c);
  qS.update().reorder(l, rd.x, ii).vectorize(l, vw, TailStrategy::GuardWithIf);
  score.bound(ii, 0, c);
  score.update().reorder(l, rc.x, ii).vectorize(l, vw,
                                                 TailStrategy::GuardWithIf);
  w.bound(ii, 0, c).bound(jj, 0, c);
  w.update().reorder(jj, rl.x, ii).vectorize(jj, vw, TailStrategy::GuardWithIf);
  acc.bound(ii, 0, c).vectorize(e, vw, TailStrategy::GuardWithIf);
  acc.update(0).reorder(e, rl.x, ii).vectorize(e, vw,
                                               TailStrategy::GuardWithIf);
  acc.update(1).reorder(e, rc.x, ii).vectorize(e, vw,
                                               TailStrategy::GuardWithIf);
  res.bound(ii, 0, c).vectorize(e, vw, TailStrategy::GuardWithIf);
  note("pack_dot.compute_root().parallel(key block x h x b); d_state."
       "compute_root().parallel(t x h x b); state (prefix over chunks)."
       "parallel(l);");
  note("out.split(i, io, ii, " + std::to_string(c) +
       ").parallel(io x h x b); per chunk: q_chunk, qv, q_state, score, "
       "alpha, intra_weight, acc (vectorized over the innermost pure dim)");
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//


//===----------------------------------------------------------------------===//
// luna_scan on GPUs (docs/gpu/efficient-forms.md)
//===----------------------------------------------------------------------===//

void LunaPipeline::scheduleScanGpu(Func memT, Func piDot, Func pi, Func vc,
                                   Func dS, Func S, Func qv, Func qS,
                                   Func score, Func smax, Func alpha,
                                   Func asum, Func w, Func acc, RDom rc) {
  const int Dv = gpuEfficientValueDim(desc);
  const int c = int(knobs.at("chunk"));
  const int lr = int(knobs.at("pack_rows"));
  const int qr = int(knobs.at("block_rows"));
  const TailStrategy guard = TailStrategy::GuardWithIf;
  auto str = [](int x) { return std::to_string(x); };

  // Per-key and per-row stages at the root, a thread per element (or per
  // row for the softmax's max and sum).
  gpuRoot(memT, {16, 16});
  gpuRoot(piDot, {8, 32});
  gpuRoot(pi, {8, 32});
  gpuRoot(S, {32, 8});
  gpuRoot(qv, {32, 8});
  gpuRoot(qS, {8, 32});
  gpuRoot(score, {8, 32});
  gpuRoot(smax, {64});
  gpuRoot(alpha, {8, 32});
  gpuRoot(asum, {64});
  gpuRoot(w, {32, 8});

  // Chunk states: a block per (pack_rows memory rows, chunk, h x b), a
  // thread per (e, l) over the chunk's keys; the accumulators, the chunk's
  // pack weights and values in shared memory.
  Var lo("lo"), li("li"), eo("eo"), ei("ei"), elo("elo"), hb("hb"),
      jo("jo"), ji("ji");
  Func dSW = dS.in();
  dSW.compute_root()
      .split(l, lo, li, lr, guard)
      .split(e, eo, ei, Dv, guard)
      .reorder(ei, li, eo, lo, t, h, b)
      .fuse(eo, lo, elo)
      .fuse(h, b, hb)
      .gpu_blocks(elo, t, hb)
      .gpu_threads(ei, li);
  dS.compute_at(dSW, elo).store_in(MemoryType::GPUShared).gpu_threads(e, l);
  dS.update().gpu_threads(e, l);
  Func piS = pi.in(dS), vS = vc.in(dS);
  piS.compute_at(dSW, elo)
      .store_in(MemoryType::GPUShared)
      .bound(jj, 0, c)
      .split(jj, jo, ji, Dv, guard)
      .reorder(ji, l, jo)
      .gpu_threads(ji, l);
  vS.compute_at(dSW, elo)
      .store_in(MemoryType::GPUShared)
      .bound(jj, 0, c)
      .split(jj, jo, ji, lr, guard)
      .reorder(e, ji, jo)
      .gpu_threads(e, ji);

  // Output: a block per (block_rows rows of one chunk, h, b), a thread per
  // (e, row) accumulating in a register; the chunk's values in shared
  // memory.
  Var io = splitRowsIntoBlocks(e, i, h, b, qr);
  Func vT = vc.in(acc);
  vT.compute_at(out, io)
      .store_in(MemoryType::GPUShared)
      .bound(jj, 0, c)
      .split(jj, jo, ji, qr, guard)
      .reorder(e, ji, jo)
      .gpu_threads(e, ji);
  acc.compute_at(out, e).store_in(MemoryType::Register);
  note("memory_t, pack_dot, pack_weight, state (the prefix over chunks, "
       "serial per thread), qv, q_state, score, score_max, alpha, alpha_sum, "
       "intra_weight: compute_root on the device (a thread per element, or "
       "per row for the softmax's max and sum)");
  note("d_state.in().compute_root().split(l, lo, li, " + str(lr) +
       ").gpu_blocks(lo, t, h x b).gpu_threads(e, li); d_state.compute_at("
       "wrapper, lo).store_in(GPUShared); pack_weight.in(d_state), "
       "v_chunk.in(d_state): compute_at(wrapper, lo).store_in(GPUShared)");
  note("out.split(i, io, ii, " + str(qr) +
       ").gpu_blocks(io, h, b).gpu_threads(e, ii);  // chunk " + str(c) +
       "; v_chunk.in(acc).compute_at(out, io).store_in(GPUShared); acc"
       ".compute_at(out, e).store_in(Register)");
}
