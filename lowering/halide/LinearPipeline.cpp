//===- LinearPipeline.cpp - linear-family attention in Halide -------------===//

#include "lowering/halide/LinearPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"
#include "support/RandomFeatures.h"

#include <cmath>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void LinearPipeline::build() {
  params = makeInputParams(desc);
  const bool gpu = target.isGpu();
  if (gpu)
    gpuValueDim = gpuEfficientValueDim(desc);
  if (desc.form == "associative") {
    defineAssociative();
    if (gpu)
      scheduleAssociativeGpu();
    else
      scheduleAssociative();
  } else if (desc.form == "chunked_scan") {
    defineChunkedScan();
    if (gpu)
      scheduleChunkedScanGpu();
    else
      scheduleChunkedScan();
  } else if (desc.form == "fft_toeplitz") {
    if (gpu) {
      defineToeplitzGpu();
      scheduleToeplitzGpu();
    } else {
      defineFftToeplitz();
      scheduleFftToeplitz();
    }
  } else {
    throw CompileError("the attnc backend has no lowering for form '" +
                       desc.form + "' yet");
  }
}

//===----------------------------------------------------------------------===//
// Features
//===----------------------------------------------------------------------===//

Func LinearPipeline::defineFeature(ImageParam &x, bool isKey) {
  Expr D = x.dim(0).extent(), rows = x.dim(1).extent();
  ExprEnv env = kernelEnv(desc, params);
  std::string side = isKey ? "k" : "q";
  Func base("phi0_" + side);
  if (desc.randomFeatures > 0) {
    // FAVOR+ (docs/LinearFamily.md §4): u_r = Omega_r . x~ - |x~|^2 / 2,
    // phi0_r = m^{-1/2} (exp(u_r - c) + eps_f), c the row max (queries) or
    // the max over the whole (b, g) slice (keys).
    int64_t dim = desc.args[desc.query].shape[3];
    if (dim <= 0)
      throw CompileError("FAVOR+ random features need a static head dim D");
    int64_t m = desc.randomFeatures;
    if (!omega.defined()) {
      std::vector<double> w = favorPlusMatrix(m, dim, uint64_t(desc.featureSeed));
      omega = Buffer<float>(int(m), int(dim), "omega_" + desc.name);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t d = 0; d < dim; ++d)
          omega(int(r), int(d)) = float(w[r * dim + d]);
    }
    float scale = float(std::pow(double(dim), -0.25));
    RDom &rd = isKey ? rdK : rdQ;
    rd = RDom(0, int(dim), "rd_" + side);
    Func &proj = isKey ? projK : projQ;
    Func &sq = isKey ? sqK : sqQ, u("u_" + side);
    proj(f0, t, g, b) = 0.0f;
    proj(f0, t, g, b) += omega(f0, rd) * (cast<float>(x(rd, t, g, b)) * scale);
    sq(t, g, b) = 0.0f;
    Expr xs = cast<float>(x(rd, t, g, b)) * scale;
    sq(t, g, b) += xs * xs * 0.5f;
    u(f0, t, g, b) = proj(f0, t, g, b) - sq(t, g, b);
    RDom rm(0, int(m), "rm_" + side);
    Func &rowMax = isKey ? rowMaxK : rowMaxQ;
    rowMax(t, g, b) = Float(32).min();
    rowMax(t, g, b) = max(rowMax(t, g, b), u(rm, t, g, b));
    Expr shift = rowMax(t, g, b);
    if (isKey) {
      RDom all(0, rows, "rall");
      keyMax(g, b) = Float(32).min();
      keyMax(g, b) = max(keyMax(g, b), rowMaxK(all, g, b));
      shift = keyMax(g, b);
    }
    base(f0, t, g, b) =
        (accurateExp(u(f0, t, g, b) - shift) + float(kFavorPlusEpsilon)) *
        float(1.0 / std::sqrt(double(m)));
    baseWidth = int(m);
  } else {
    Expr xv = cast<float>(x(f0, t, g, b));
    if (desc.featureMap) {
      ExprEnv mapEnv = env;
      mapEnv.vars = {{"x", xv}};
      xv = cast<float>(buildExpr(*desc.featureMap, mapEnv));
    }
    base(f0, t, g, b) = xv;
    baseWidth = D;
  }

  Func phi = isKey ? phiK : phiQ;
  Expr value;
  if (desc.expand.empty()) {
    value = base(f, t, g, b);
    featureWidth = baseWidth;
  } else {
    ExprEnv posEnv = env;
    posEnv.vars = {{"i", t}};
    Expr factor = cast<float>(buildExpr(desc.expand.back(), posEnv));
    Expr which = f / baseWidth;
    for (int n = int(desc.expand.size()) - 2; n >= 0; --n)
      factor = select(which == n, cast<float>(buildExpr(desc.expand[n], posEnv)),
                      factor);
    value = base(f % baseWidth, t, g, b) * factor;
    featureWidth = baseWidth * int(desc.expand.size());
  }
  // Key padding: an excluded key contributes nothing.
  if (isKey && desc.kvLengths >= 0)
    value = select(t < params[desc.kvLengths](b), value, 0.0f);
  phi(f, t, g, b) = value;
  if (isKey)
    phiKNorm(f, t, g, b) = value;
  return phi;
}

/// O = num / (den + eps), num / max(den, eps) or num, per the normalizer.
static Expr normalizeRow(const AttentionKernelDesc &desc, Expr num, Expr den) {
  if (desc.normalize == "none")
    return num;
  if (desc.clampDenominator)
    return num / max(den, float(desc.eps));
  return num / (den + float(desc.eps));
}

void LinearPipeline::scheduleRandomFeatures(Func queryConsumer,
                                            Var queryLevel) {
  if (desc.randomFeatures <= 0)
    return;
  const int vw = int(knobs.at("vector_width"));
  // Keys: every projection before the stabilizer (the max over the whole
  // (b, g) slice); blocks of 64 rows in parallel, features in vector lanes.
  Var tb("tb"), tj("tj");
  projK.compute_root()
      .split(t, tb, tj, 64, TailStrategy::GuardWithIf)
      .fuse(tb, g, tb)
      .fuse(tb, b, tb)
      .parallel(tb)
      .vectorize(f0, vw, TailStrategy::GuardWithIf);
  projK.update()
      .split(t, tb, tj, 64, TailStrategy::GuardWithIf)
      .reorder(f0, rdK.x, tj, tb, g, b)
      .fuse(tb, g, tb)
      .fuse(tb, b, tb)
      .parallel(tb)
      .vectorize(f0, vw, TailStrategy::GuardWithIf);
  for (Func fn : {sqK, rowMaxK}) {
    fn.compute_root().parallel(t, 64, TailStrategy::GuardWithIf);
    fn.update().parallel(t, 64, TailStrategy::GuardWithIf);
  }
  keyMax.compute_root();
  // Queries: where phi_q is computed.
  for (Func fn : {projQ, sqQ, rowMaxQ})
    fn.compute_at(queryConsumer, queryLevel);
  projQ.vectorize(f0, vw, TailStrategy::GuardWithIf);
  projQ.update().reorder(f0, rdQ.x, t).vectorize(f0, vw,
                                               TailStrategy::GuardWithIf);
  note("// FAVOR+: proj_k.compute_root() (blocks of 64 rows in parallel, "
       "features vectorized), half_sq_k, row_max_k, key_max at the root; "
       "proj_q, half_sq_q, row_max_q where phi_q is computed");
}

//===----------------------------------------------------------------------===//
// Associative form
//===----------------------------------------------------------------------===//

void LinearPipeline::defineAssociative() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  Expr M = k.dim(1).extent(), H = q.dim(2).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  defineFeature(k, /*isKey=*/true);
  defineFeature(q, /*isKey=*/false);

  // Per block of key_block keys, then the sum of the blocks.
  const int kb = int(knobs.at("key_block"));
  rb = RDom(0, kb, "rb");
  Expr key = blk * kb + rb;
  rb.where(key < M);
  // The where clause does not narrow bounds inference: clamp the row.
  key = min(key, M - 1);
  kvBlock(e, f, blk, g, b) = 0.0f;
  kvBlock(e, f, blk, g, b) += phiK(f, key, g, b) * cast<float>(v(e, key, g, b));
  zBlock(f, blk, g, b) = 0.0f;
  zBlock(f, blk, g, b) += phiKNorm(f, key, g, b);
  rblk = RDom(0, (M + kb - 1) / kb, "rblk");
  kv(e, f, g, b) = 0.0f;
  kv(e, f, g, b) += kvBlock(e, f, rblk, g, b);
  z(f, g, b) = 0.0f;
  z(f, g, b) += zBlock(f, rblk, g, b);

  rf = RDom(0, featureWidth, "rf");
  num(e, i, h, b) = 0.0f;
  num(e, i, h, b) += phiQ(rf, i, h, b) * kv(e, rf, hk, b);
  den(i, h, b) = 0.0f;
  den(i, h, b) += phiQ(rf, i, h, b) * z(rf, hk, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) =
      cast(outType, normalizeRow(desc, num(e, i, h, b), den(i, h, b)));
  constrainOutput(desc, out);
  algorithmOrder = {phiK, kvBlock, zBlock, kv, z, phiQ, num, den, out};
}

void LinearPipeline::scheduleAssociative() {
  const int vw = int(knobs.at("vector_width"));
  const int fb = int(knobs.at("feature_block"));
  const int qu = int(knobs.at("query_unroll"));
  const int kb = int(knobs.at("key_block"));
  const int qt = int(knobs.at("query_tile"));
  auto str = [](int x) { return std::to_string(x); };
  int64_t dv = desc.args[desc.value].shape[3];
  bool unrollE = dv > 0 && dv % vw == 0;

  // The state per key block: one task per (g, b); within it, feature blocks
  // inside key blocks (a key block of V stays in cache while every feature
  // block accumulates over it), register blocks of feature_block features x
  // the value dim.
  Var fo("fo"), fi("fi"), eo("eo"), ei("ei"), kvTile("kv_tile");
  kvBlock.compute_root()
      .fuse(g, b, kvTile)
      .parallel(kvTile)
      .vectorize(e, vw, TailStrategy::GuardWithIf);
  kvBlock.update()
      .split(f, fo, fi, fb, TailStrategy::GuardWithIf)
      .split(e, eo, ei, vw, TailStrategy::GuardWithIf)
      .reorder(ei, eo, fi, rb.x, fo, blk, g, b)
      .vectorize(ei)
      .fuse(g, b, kvTile)
      .parallel(kvTile)
      .unroll(fi);
  if (unrollE)
    kvBlock.update().unroll(eo);
  phiK.compute_at(kvBlock, blk).vectorize(f, vw, TailStrategy::GuardWithIf);
  zBlock.compute_root().vectorize(f, vw, TailStrategy::GuardWithIf);
  Var zTile("z_tile");
  zBlock.update().reorder(f, rb.x, blk, g, b)
      .fuse(blk, g, zTile)
      .fuse(zTile, b, zTile)
      .parallel(zTile)
      .vectorize(f, vw, TailStrategy::GuardWithIf);
  for (Func *sum : {&kv, &z}) {
    sum->compute_root().vectorize(sum == &kv ? e : f, vw,
                                  TailStrategy::GuardWithIf);
    sum->update().vectorize(sum == &kv ? e : f, vw,
                            TailStrategy::GuardWithIf);
  }
  note("kv_block.compute_root().parallel(g x b); kv_block.update().split(f, "
       "fo, fi, " + str(fb) + ").reorder(e, fi, rb, fo, blk).vectorize(e, " +
       str(vw) + ").unroll(fi)" +
       (unrollE ? ".unroll(e / " + str(vw) + ")" : "") + ";  // key_block " +
       str(kb));
  note("phi_k.compute_at(kv_block, blk).vectorize(f, " + str(vw) +
       "); z_block recomputes the features inline (phi_k_norm); kv and z "
       "sum the blocks");

  // The readout: one task per (query tile, h, b); blocks of query_unroll
  // rows x the value dim accumulate over the features.
  Var io("io"), iin("iin"), iio("iio"), iii("iii");
  out.split(i, io, iin, qt, TailStrategy::GuardWithIf)
      .split(iin, iio, iii, qu, TailStrategy::GuardWithIf)
      .reorder(e, iii, iio, io, h, b)
      .fuse(io, h, tile)
      .fuse(tile, b, tile)
      .parallel(tile)
      .vectorize(e, vw, TailStrategy::GuardWithIf)
      .unroll(iii);
  phiQ.compute_at(out, tile).vectorize(f, vw, TailStrategy::GuardWithIf);
  // The register block lives on the stack (its extent is at most
  // query_unroll x Dv; without this, Halide allocates it on the heap for
  // every block).
  num.compute_at(out, iio).store_in(MemoryType::Stack)
      .vectorize(e, vw, TailStrategy::GuardWithIf)
      .unroll(i);
  num.update()
      .split(e, eo, ei, vw, TailStrategy::GuardWithIf)
      .reorder(ei, eo, i, rf.x)
      .vectorize(ei)
      .unroll(i);
  if (unrollE)
    num.update().unroll(eo);
  // The denominators of a tile's rows at once, rows in vector lanes.
  den.compute_at(out, tile).vectorize(i, vw, TailStrategy::GuardWithIf);
  den.update().reorder(i, rf.x).vectorize(i, vw, TailStrategy::GuardWithIf);
  note("out.split(i, io, ii, " + str(qt) + ").split(ii, iio, iii, " +
       str(qu) + ").parallel(io x h x b).vectorize(e, " + str(vw) +
       ").unroll(iii);");
  note("phi_q.compute_at(out, tile); num.compute_at(out, iio); "
       "num.update().reorder(e, i, rf).vectorize(e).unroll(i); "
       "den.compute_at(out, tile).vectorize(i);");
  scheduleRandomFeatures(out, tile);
}

//===----------------------------------------------------------------------===//
// Chunked scan (causal)
//===----------------------------------------------------------------------===//

void LinearPipeline::defineChunkedScan() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  const int c = int(knobs.at("chunk"));
  Expr N = q.dim(1).extent(), M = k.dim(1).extent(), H = q.dim(2).extent(),
       G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  Expr T = (M + c - 1) / c;
  defineFeature(k, /*isKey=*/true);
  defineFeature(q, /*isKey=*/false);

  // Chunk-local views: rows past the end read zeros (keys) or a clamped
  // row (queries; never stored).
  Expr keyPos = t * c + jj;
  Func phiKc("phi_k_chunk"), vc("v_chunk"), phiQc("phi_q_chunk");
  phiKc(f, jj, t, g, b) =
      select(keyPos < M, phiK(f, min(keyPos, M - 1), g, b), 0.0f);
  vc(e, jj, t, g, b) =
      select(keyPos < M, cast<float>(v(e, min(keyPos, M - 1), g, b)), 0.0f);
  Expr qPos = t * c + ii;
  phiQc(f, ii, t, h, b) = phiQ(f, min(qPos, N - 1), h, b);

  // Momentum: w(r) = alpha + beta_w * mu^r (r = i - j >= 0), so the state
  // splits into a plain and a mu-decayed part (spec V13, two scans).
  bool momentum = desc.weightKind == "momentum";
  double mu = desc.momentumBeta, gamma = desc.momentumGamma;
  double alpha = momentum ? gamma / (1.0 - mu) : 1.0;
  double betaW = momentum ? -gamma * mu / (1.0 - mu) : 0.0;
  bool decayed = momentum && mu > 0.0;
  // mu^r for r in [0, c], computed as exp(r log mu) (never mu^-r).
  Var r("r");
  // GPUs: in float (OpenCL devices need not have doubles).
  Expr power = target.isGpu()
                   ? accurateExp(cast<float>(r) * float(std::log(mu)))
                   : cast<float>(exp(cast<double>(r) * Expr(std::log(mu))));
  weightTable(r) = decayed ? power : Expr(0.0f);

  rc = RDom(0, c, "rc");
  dA(e, f, t, g, b) = 0.0f;
  dA(e, f, t, g, b) += phiKc(f, rc, t, g, b) * vc(e, rc, t, g, b);
  dZ(f, t, g, b) = 0.0f;
  dZ(f, t, g, b) += phiKc(f, rc, t, g, b);
  // Exclusive prefix over chunks.  GPUs scan at least one step (the
  // state of a chunk past the end, never read) so that no device buffer is
  // empty: Halide's OpenCL runtime cannot allocate zero bytes.
  rt = RDom(1, target.isGpu() ? max(T - 1, 1) : max(T - 1, 0), "rt");
  stA(e, f, t, g, b) = 0.0f;
  stA(e, f, rt, g, b) = stA(e, f, rt - 1, g, b) + dA(e, f, rt - 1, g, b);
  stZ(f, t, g, b) = 0.0f;
  stZ(f, rt, g, b) = stZ(f, rt - 1, g, b) + dZ(f, rt - 1, g, b);
  if (decayed) {
    // dB = sum_j mu^(c-1-jj) phi_k v; B_t = mu^c B_(t-1) + dB_(t-1).
    dB(e, f, t, g, b) = 0.0f;
    dB(e, f, t, g, b) += phiKc(f, rc, t, g, b) * weightTable(c - 1 - rc) *
                         vc(e, rc, t, g, b);
    stB(e, f, t, g, b) = 0.0f;
    stB(e, f, rt, g, b) =
        weightTable(c) * stB(e, f, rt - 1, g, b) + dB(e, f, rt - 1, g, b);
  }

  if (target.isGpu()) {
    chunkViews = {phiKc, vc, phiQc};
    defineChunkReadoutGpu(momentum, decayed, alpha, betaW);
    return;
  }

  // Intra-chunk scores, causal inside the chunk.
  rf = RDom(0, featureWidth, "rf");
  intra(jj, ii, t, h, b) = 0.0f;
  intra(jj, ii, t, h, b) += phiQc(rf, ii, t, h, b) * phiKc(rf, jj, t, hk, b);
  Expr visible = jj <= ii;
  Expr s = select(visible, intra(jj, ii, t, h, b), 0.0f);
  Func masked("intra_masked");
  masked(jj, ii, t, h, b) = s;

  // Numerator: intra part (weighted) + carried state; denominator: intra
  // part (unweighted) + carried normalizer.
  Expr wIntra = momentum ? Expr(float(alpha)) +
                               float(betaW) * weightTable(ii - rc)
                         : Expr(1.0f);
  if (momentum)
    wIntra = select(rc <= ii, wIntra, 0.0f);
  numC(e, ii, t, h, b) = 0.0f;
  numC(e, ii, t, h, b) += masked(rc, ii, t, h, b) * cast<float>(wIntra) *
                          vc(e, rc, t, hk, b);
  Expr carried = float(alpha) * stA(e, rf, t, hk, b);
  if (decayed)
    carried += float(betaW) * weightTable(ii + 1) * stB(e, rf, t, hk, b);
  numC(e, ii, t, h, b) += phiQc(rf, ii, t, h, b) * carried;
  denC(ii, t, h, b) = 0.0f;
  denC(ii, t, h, b) += masked(rc, ii, t, h, b);
  denC(ii, t, h, b) += phiQc(rf, ii, t, h, b) * stZ(rf, t, hk, b);

  res(e, ii, t, h, b) =
      normalizeRow(desc, numC(e, ii, t, h, b), denC(ii, t, h, b));
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) = cast(outType, res(e, i % c, i / c, h, b));
  constrainOutput(desc, out);
  chunkViews = {phiKc, vc, phiQc, masked};
  algorithmOrder = {phiK, phiKc, vc, dA, dZ, stA, stZ};
  if (decayed) {
    algorithmOrder.push_back(dB);
    algorithmOrder.push_back(stB);
  }
  for (Func fn : {phiQ, phiQc, intra, masked, numC, denC, res, out})
    algorithmOrder.push_back(fn);
}

void LinearPipeline::scheduleChunkedScan() {
  const int vw = int(knobs.at("vector_width"));
  const int fb = int(knobs.at("feature_block"));
  const int qu = int(knobs.at("query_unroll"));
  const int c = int(knobs.at("chunk"));
  auto str = [](int x) { return std::to_string(x); };
  int64_t dv = desc.args[desc.value].shape[3];
  bool unrollE = dv > 0 && dv % vw == 0;
  bool decayed = desc.weightKind == "momentum" && desc.momentumBeta > 0.0;
  Func phiKc = chunkViews[0], vc = chunkViews[1], phiQc = chunkViews[2],
       masked = chunkViews[3];

  phiK.compute_root()
      .split(t, tile, jj, c, TailStrategy::GuardWithIf)
      .fuse(tile, g, tile)
      .fuse(tile, b, tile)
      .parallel(tile)
      .vectorize(f, vw, TailStrategy::GuardWithIf);
  note("phi_k.compute_root().split(t, tile, jj, " + str(c) +
       ").parallel(tile x g x b).vectorize(f, " + str(vw) + ");");
  if (desc.weightKind == "momentum")
    weightTable.compute_root();

  // Per-chunk state increments: one task per (chunk, g, b), register blocks
  // of feature_block features x the value dim.
  Var fo("fo"), fi("fi"), eo("eo"), ei("ei");
  for (Func *fn : {&dA, &dB}) {
    if (fn == &dB && !decayed)
      continue;
    fn->compute_root()
        .fuse(t, g, tile)
        .fuse(tile, b, tile)
        .parallel(tile)
        .vectorize(e, vw, TailStrategy::GuardWithIf);
    fn->update()
        .split(f, fo, fi, fb, TailStrategy::GuardWithIf)
        .split(e, eo, ei, vw, TailStrategy::GuardWithIf)
        .reorder(ei, eo, fi, rc.x, fo, t, g, b)
        .vectorize(ei)
        .fuse(t, g, tile)
        .fuse(tile, b, tile)
        .parallel(tile)
        .unroll(fi);
    if (unrollE)
      fn->update().unroll(eo);
  }
  dZ.compute_root().vectorize(f, vw, TailStrategy::GuardWithIf);
  dZ.update().reorder(f, rc.x).vectorize(f, vw, TailStrategy::GuardWithIf);
  note("d_state.compute_root().parallel(t x g x b); d_state.update()"
       ".split(f, fo, fi, " + str(fb) + ").reorder(e, fi, rc, fo)"
       ".vectorize(e, " + str(vw) + ").unroll(fi);  // d_decayed alike");
  for (Func *fn : {&stA, &stB}) {
    if (fn == &stB && !decayed)
      continue;
    // Each (e, f) scan is independent: chunks innermost, one task per
    // (feature, g, b).
    Var fgb("fgb"), tgb("tgb");
    fn->compute_root()
        .fuse(t, g, tgb)
        .fuse(tgb, b, tgb)
        .parallel(tgb)
        .vectorize(e, vw, TailStrategy::GuardWithIf);
    fn->update().reorder(e, rt.x, f, g, b)
        .fuse(f, g, fgb)
        .fuse(fgb, b, fgb)
        .parallel(fgb)
        .vectorize(e, vw, TailStrategy::GuardWithIf);
  }
  stZ.compute_root().vectorize(f, vw, TailStrategy::GuardWithIf);
  stZ.update().reorder(f, rt.x).vectorize(f, vw, TailStrategy::GuardWithIf);
  note("state.compute_root(); state.update().reorder(e, rt, f).parallel(f)"
       ".vectorize(e, " + str(vw) + ");  // the exclusive prefix over chunks");

  // Output: one task per (chunk, h, b).  Every per-chunk Func covers
  // exactly one chunk (bounds inference cannot see through out's i % chunk
  // and i / chunk by itself).
  splitRowsIntoTasks(e, i, h, b, tile, c, vw);
  auto perChunk = [&](Func fn) {
    fn.compute_at(out, tile).bound_extent(t, 1);
  };
  perChunk(phiQc);
  phiQc.bound(ii, 0, c).vectorize(f, vw, TailStrategy::GuardWithIf);
  Func phiKt = phiKc.in(intra), vt = vc.in(numC);
  perChunk(phiKt);
  phiKt.bound(jj, 0, c).reorder_storage(jj, f)
      .vectorize(jj, vw, TailStrategy::GuardWithIf);
  perChunk(vt);
  vt.bound(jj, 0, c).vectorize(e, vw, TailStrategy::GuardWithIf);
  perChunk(intra);
  intra.bound(ii, 0, c).bound(jj, 0, c)
      .vectorize(jj, vw, TailStrategy::GuardWithIf);
  Var jo("jo"), ji("ji"), io2("io2"), ii2("ii2");
  intra.update()
      .split(jj, jo, ji, vw, TailStrategy::GuardWithIf)
      .split(ii, io2, ii2, qu, TailStrategy::GuardWithIf)
      .reorder(ji, jo, ii2, rf.x, io2)
      .vectorize(ji)
      .unroll(ii2);
  if (c % vw == 0)
    intra.update().unroll(jo);
  perChunk(masked);
  masked.bound(ii, 0, c).bound(jj, 0, c)
      .vectorize(jj, vw, TailStrategy::GuardWithIf);
  Var rio("rio"), rii("rii");
  perChunk(res);
  res.bound(ii, 0, c)
      .split(ii, rio, rii, qu, TailStrategy::GuardWithIf)
      .reorder(e, rii, rio)
      .vectorize(e, vw, TailStrategy::GuardWithIf)
      .unroll(rii);
  numC.compute_at(res, rio).vectorize(e, vw, TailStrategy::GuardWithIf)
      .unroll(ii);
  for (int u = 0; u < 2; ++u) {
    RVar red = u == 0 ? RVar(rc.x) : RVar(rf.x);
    numC.update(u)
        .split(e, eo, ei, vw, TailStrategy::GuardWithIf)
        .reorder(ei, eo, ii, red)
        .vectorize(ei)
        .unroll(ii);
    if (unrollE)
      numC.update(u).unroll(eo);
  }
  denC.compute_at(res, rio);
  note("out.split(i, io, ii, " + str(c) +
       ").parallel(io x h x b).vectorize(e, " + str(vw) + ");");
  note("// per chunk: phi_q_chunk, phi_k_chunk.in(intra) (stored "
       "jj-innermost), v_chunk.in(num_chunk), intra (vectorize jj, unroll " +
       str(qu) + " rows), intra_masked, normalized (blocks of " + str(qu) +
       " rows)");
  note("num_chunk.compute_at(normalized, rio); num_chunk.update(0|1)"
       ".reorder(e, ii, rc|rf).vectorize(e).unroll(ii); "
       "den_chunk.compute_at(normalized, rio);");
  scheduleRandomFeatures(phiQ, tile);
  phiQ.compute_root()
      .split(t, tile, ii, c, TailStrategy::GuardWithIf)
      .fuse(tile, g, tile)
      .fuse(tile, b, tile)
      .parallel(tile)
      .vectorize(f, vw, TailStrategy::GuardWithIf);
}

//===----------------------------------------------------------------------===//
// FFT Toeplitz (rpe)
//===----------------------------------------------------------------------===//

void LinearPipeline::defineFftToeplitz() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  if (desc.rpeBias < 0)
    throw CompileError("the fft_toeplitz form needs an rpe bias argument");
  ImageParam &bias = params[desc.rpeBias];
  Expr N = q.dim(1).extent(), M = k.dim(1).extent(), H = q.dim(2).extent(),
       G = k.dim(2).extent(), B = q.dim(3).extent(),
       Dv = v.dim(0).extent(), R = bias.dim(0).extent();
  defineFeature(k, /*isKey=*/true);
  defineFeature(q, /*isKey=*/false);
  // toeplitz(e, f, i, h, b) = sum_j c(j - i) phi_k(f, j) [v(e, j); 1]: the
  // Dv + 1 channels of one feature, convolved by FFT (FftSupport.c).
  std::vector<ExternFuncArgument> args = {
      phiK, v, bias, cast<int>(N), cast<int>(M), cast<int>(featureWidth),
      cast<int>(Dv), cast<int>(G), cast<int>(B), cast<int>(H), cast<int>(R),
      Expr(desc.isCausal() ? 1 : 0)};
  toeplitz.define_extern("attn_rpe_toeplitz", args, Float(32),
                         {e, f, i, h, b});
  rf = RDom(0, featureWidth, "rf");
  num(e, i, h, b) = 0.0f;
  num(e, i, h, b) += phiQ(rf, i, h, b) * toeplitz(e, rf, i, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) =
      cast(outType, normalizeRow(desc, num(e, i, h, b), num(Dv, i, h, b)));
  constrainOutput(desc, out);
  algorithmOrder = {phiK, phiQ, num, out};
}

void LinearPipeline::scheduleFftToeplitz() {
  const int vw = int(knobs.at("vector_width"));
  const int fb = int(knobs.at("feature_block"));
  auto str = [](int x) { return std::to_string(x); };
  phiK.compute_root().vectorize(f, vw, TailStrategy::GuardWithIf);
  phiQ.compute_root().vectorize(f, vw, TailStrategy::GuardWithIf);
  scheduleRandomFeatures(phiQ, Var::outermost());
  // One task per (h, b); per block of feature_block features one extern
  // call convolves their (Dv + 1) channels, then phi_q accumulates them.
  Var hb("hb");
  num.compute_root().vectorize(e, vw, TailStrategy::GuardWithIf);
  RVar fo("rfo"), fi("rfi");
  num.update()
      .split(rf.x, fo, fi, fb, TailStrategy::GuardWithIf)
      .reorder(e, i, fi, fo, h, b)
      .fuse(h, b, hb)
      .parallel(hb)
      .vectorize(e, vw, TailStrategy::GuardWithIf);
  toeplitz.compute_at(num, fo);
  out.fuse(h, b, hb).parallel(hb).vectorize(e, vw, TailStrategy::GuardWithIf);
  note("phi_k.compute_root(); phi_q.compute_root();");
  note("num.update().split(rf, rfo, rfi, " + str(fb) +
       ").reorder(e, i, rfi, rfo, h, b).parallel(h x b).vectorize(e, " +
       str(vw) + "); toeplitz.compute_at(num, rfo);  // FFTW extern");
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//


//===----------------------------------------------------------------------===//
// GPU lowerings (docs/gpu/efficient-forms.md)
//===----------------------------------------------------------------------===//

static const TailStrategy kGuard = TailStrategy::GuardWithIf;

void LinearPipeline::scheduleRandomFeaturesGpu() {
  if (desc.randomFeatures <= 0)
    return;
  gpuRoot(projK, {32, 8});
  gpuRoot(sqK, {64});
  gpuRoot(rowMaxK, {64});
  gpuRoot(keyMax, {1});
  gpuRoot(projQ, {32, 8});
  gpuRoot(sqQ, {64});
  gpuRoot(rowMaxQ, {64});
  note("// FAVOR+: proj_k, half_sq_k, row_max_k, key_max, proj_q, half_sq_q, "
       "row_max_q at the root on the device (a thread per row, or per "
       "32 x 8 tile of features x rows)");
}

void LinearPipeline::scheduleAssociativeGpu() {
  const int fb = int(knobs.at("feature_block"));
  const int kb = int(knobs.at("key_block"));
  const int qr = int(knobs.at("block_rows"));
  const int ft = int(knobs.at("feature_tile"));
  const int Dv = gpuValueDim;
  auto str = [](int x) { return std::to_string(x); };

  gpuRoot(phiK, {32, 8});
  gpuRoot(phiQ, {32, 8});
  note("phi_k, phi_q: compute_root, gpu_threads(f / 32, t / 8), gpu_blocks "
       "over the rest");
  scheduleRandomFeaturesGpu();

  // The state: a block per (feature_block features, g, b), a thread per
  // (e, f); the block's accumulators in shared memory, a key block of
  // phi_k and V staged in shared memory per step of the serial loop over
  // key blocks, each thread's key-block sum in a register.
  Func kvW = kv.in();
  Var fo("fo"), fi("fi"), eo("eo"), ei("ei"), efo("efo");
  kvW.compute_root()
      .split(f, fo, fi, fb, kGuard)
      .split(e, eo, ei, Dv, kGuard)
      .reorder(ei, fi, eo, fo, g, b)
      .fuse(eo, fo, efo)
      .gpu_blocks(efo, g, b)
      .gpu_threads(ei, fi);
  kv.compute_at(kvW, efo).store_in(MemoryType::GPUShared).gpu_threads(e, f);
  kv.update().reorder(e, f, rblk.x).gpu_threads(e, f);
  kvBlock.compute_at(kv, e).store_in(MemoryType::Register);
  Func pkS = phiK.in(kvBlock);
  Var to("to"), ti("ti");
  pkS.compute_at(kv, rblk.x)
      .store_in(MemoryType::GPUShared)
      .split(t, to, ti, Dv, kGuard)
      .reorder(ti, f, to)
      .gpu_threads(ti, f);
  Func vS = params[desc.value].in(kvBlock);
  std::vector<Var> va = vS.args();
  vS.compute_at(kv, rblk.x)
      .store_in(MemoryType::GPUShared)
      .split(va[1], to, ti, fb, kGuard)
      .reorder(va[0], ti, to)
      .gpu_threads(va[0], ti);
  note("kv.in().compute_root().split(f, fo, fi, " + str(fb) +
       ").gpu_blocks(fo, g, b).gpu_threads(e, fi);  // " + str(Dv) + " x " +
       str(fb) + " threads");
  note("kv.compute_at(kv_wrapper, fo).store_in(GPUShared); kv.update()"
       ".reorder(e, f, rblk).gpu_threads(e, f); kv_block.compute_at(kv, e)"
       ".store_in(Register);");
  note("phi_k.in(kv_block), v.in(kv_block): compute_at(kv, rblk)"
       ".store_in(GPUShared)  // key_block " + str(kb) + " keys");
  Func zW = z.in();
  zW.compute_root()
      .split(f, fo, fi, 64, kGuard)
      .reorder(fi, fo, g, b)
      .gpu_blocks(fo, g, b)
      .gpu_threads(fi);
  z.compute_at(zW, fi).store_in(MemoryType::Register);
  zBlock.compute_at(z, rblk.x).store_in(MemoryType::Register);
  note("z.in().compute_root().gpu_blocks(f / 64, g, b).gpu_threads(f % 64);"
       " z and z_block in registers");

  // The readout: a block per (block_rows rows, h, b), a thread per (e, row);
  // num in shared memory, accumulated over feature tiles of the state and
  // of phi_q staged in shared memory; den per row.
  Var io = splitRowsIntoBlocks(e, i, h, b, qr);
  num.compute_at(out, io).store_in(MemoryType::GPUShared).gpu_threads(e, i);
  RVar ro("rfo"), ri("rfi");
  num.update()
      .split(rf.x, ro, ri, ft, kGuard)
      .reorder(ri, e, i, ro)
      .gpu_threads(e, i);
  Func kvT = kvW.in(num);
  kvT.compute_at(num, ro)
      .store_in(MemoryType::GPUShared)
      .split(f, fo, fi, qr, kGuard)
      .reorder(e, fi, fo)
      .gpu_threads(e, fi);
  Func pqT = phiQ.in(num);
  pqT.compute_at(num, ro)
      .store_in(MemoryType::GPUShared)
      .split(f, fo, fi, Dv, kGuard)
      .reorder(fi, t, fo)
      .gpu_threads(fi, t);
  den.compute_at(out, io).store_in(MemoryType::GPUShared).gpu_threads(i);
  den.update().gpu_threads(i);
  note("out.split(i, io, ii, " + str(qr) +
       ").gpu_blocks(io, h, b).gpu_threads(e, ii);  // " + str(Dv) + " x " +
       str(qr) + " threads");
  note("num.compute_at(out, io).store_in(GPUShared); num.update().split(rf, "
       "rfo, rfi, " + str(ft) + ").reorder(rfi, e, i, rfo).gpu_threads(e, i);"
       " kv.in(num), phi_q.in(num): compute_at(num, rfo)"
       ".store_in(GPUShared); den.compute_at(out, io).gpu_threads(i);");
}

void LinearPipeline::defineChunkReadoutGpu(bool momentum, bool decayed,
                                           double alpha, double betaW) {
  ImageParam &q = params[desc.query], &k = params[desc.key];
  const int c = int(knobs.at("chunk"));
  Expr N = q.dim(1).extent(), H = q.dim(2).extent(), G = k.dim(2).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  Func phiKc = chunkViews[0], vc = chunkViews[1];
  // Rows i of chunk i / c, at chunk-local position i % c.  Rows past N
  // (never stored) read a clamped query row.
  Expr row = min(i, N - 1), t_ = i / c, local = i % c;
  rf = RDom(0, featureWidth, "rf");
  rc = RDom(0, c, "rc");
  scoreDot(jj, i, h, b) = 0.0f;
  scoreDot(jj, i, h, b) += phiQ(rf, row, h, b) * phiKc(rf, jj, t_, hk, b);
  scoreGpu(jj, i, h, b) = select(jj <= local, scoreDot(jj, i, h, b), 0.0f);
  Expr wIntra = momentum ? Expr(float(alpha)) +
                               float(betaW) * weightTable(local - rc)
                         : Expr(1.0f);
  numGpu(e, i, h, b) = 0.0f;
  numGpu(e, i, h, b) += scoreGpu(rc, i, h, b) * wIntra *
                        vc(e, rc, t_, hk, b);
  Expr carried = float(alpha) * stA(e, rf, t_, hk, b);
  if (decayed)
    carried += float(betaW) * weightTable(local + 1) * stB(e, rf, t_, hk, b);
  numGpu(e, i, h, b) += phiQ(rf, row, h, b) * carried;
  denGpu(i, h, b) = 0.0f;
  denGpu(i, h, b) += scoreGpu(rc, i, h, b);
  denGpu(i, h, b) += phiQ(rf, row, h, b) * stZ(rf, t_, hk, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) =
      cast(outType, normalizeRow(desc, numGpu(e, i, h, b), denGpu(i, h, b)));
  constrainOutput(desc, out);
  algorithmOrder = {phiK, phiKc, vc, dA, dZ, stA, stZ};
  if (decayed) {
    algorithmOrder.push_back(dB);
    algorithmOrder.push_back(stB);
  }
  for (Func fn : {phiQ, scoreDot, scoreGpu, numGpu, denGpu, out})
    algorithmOrder.push_back(fn);
}

void LinearPipeline::scheduleChunkedScanGpu() {
  const int c = int(knobs.at("chunk"));
  const int fb = int(knobs.at("feature_block"));
  const int qr = int(knobs.at("block_rows"));
  const int Dv = gpuValueDim;
  auto str = [](int x) { return std::to_string(x); };
  bool decayed = desc.weightKind == "momentum" && desc.momentumBeta > 0.0;
  Func phiKc = chunkViews[0], vc = chunkViews[1];

  gpuRoot(phiK, {32, 8});
  gpuRoot(phiQ, {32, 8});
  if (desc.weightKind == "momentum")
    gpuRoot(weightTable, {64});
  scheduleRandomFeaturesGpu();
  note("phi_k, phi_q: compute_root, gpu_threads(f / 32, t / 8)");

  // Chunk state increments: a block per (feature_block features, chunk, g
  // x b), a thread per (e, f) accumulating the chunk's keys in a register;
  // the chunk's features and values staged in shared memory.
  Var fo("fo"), fi("fi"), eo("eo"), ei("ei"), efo("efo"), gb("gb"),
      jo("jo"), ji("ji");
  for (Func *fn : {&dA, &dB}) {
    if (fn == &dB && !decayed)
      continue;
    Func w = fn->in();
    w.compute_root()
        .split(f, fo, fi, fb, kGuard)
        .split(e, eo, ei, Dv, kGuard)
        .reorder(ei, fi, eo, fo, t, g, b)
        .fuse(eo, fo, efo)
        .fuse(g, b, gb)
        .gpu_blocks(efo, t, gb)
        .gpu_threads(ei, fi);
    fn->compute_at(w, efo).store_in(MemoryType::GPUShared).gpu_threads(e, f);
    fn->update().gpu_threads(e, f);
    Func pkS = phiKc.in(*fn), vS = vc.in(*fn);
    pkS.compute_at(w, efo)
        .store_in(MemoryType::GPUShared)
        .split(jj, jo, ji, Dv, kGuard)
        .reorder(ji, f, jo)
        .gpu_threads(ji, f);
    vS.compute_at(w, efo)
        .store_in(MemoryType::GPUShared)
        .split(jj, jo, ji, fb, kGuard)
        .reorder(e, ji, jo)
        .gpu_threads(e, ji);
  }
  Func zW = dZ.in();
  zW.compute_root()
      .split(f, fo, fi, 64, kGuard)
      .reorder(fi, fo, t, g, b)
      .fuse(g, b, gb)
      .gpu_blocks(fo, t, gb)
      .gpu_threads(fi);
  dZ.compute_at(zW, fo).store_in(MemoryType::GPUShared).gpu_threads(f);
  dZ.update().gpu_threads(f);
  note("d_state.in().compute_root().split(f, fo, fi, " + str(fb) +
       ").gpu_blocks(fo, t, g x b).gpu_threads(e, fi); d_state.compute_at"
       "(wrapper, fo).store_in(GPUShared).gpu_threads(e, f), the chunk's "
       "keys serial per thread; phi_k_chunk.in(d_state), v_chunk.in(d_state)"
       ": compute_at(wrapper, fo).store_in(GPUShared)  // d_decayed alike; "
       "d_norm a thread per feature");
  // The exclusive prefix over chunks: a thread per (e, f), chunks serial.
  gpuRoot(stA, {32, 8});
  if (decayed)
    gpuRoot(stB, {32, 8});
  gpuRoot(stZ, {64});
  note("state, decayed: compute_root, gpu_threads(e / 32, f / 8), the scan "
       "over chunks serial in each thread; norm_state gpu_threads(f / 64)");

  // Readout: a block per (block_rows rows of one chunk, h, b), a thread
  // per (e, row).  The chunk's values and the block's masked scores in
  // shared memory, each thread's numerator in a register.
  Var io = splitRowsIntoBlocks(e, i, h, b, qr);
  Func vT = vc.in(numGpu);
  vT.compute_at(out, io)
      .bound(jj, 0, c)
      .store_in(MemoryType::GPUShared)
      .split(jj, jo, ji, qr, kGuard)
      .reorder(e, ji, jo)
      .gpu_threads(e, ji);
  scoreGpu.compute_at(out, io)
      .bound(jj, 0, c)
      .store_in(MemoryType::GPUShared)
      .split(jj, jo, ji, Dv, kGuard)
      .reorder(ji, i, jo)
      .gpu_threads(ji, i);
  scoreDot.compute_at(scoreGpu, ji).store_in(MemoryType::Register);
  denGpu.compute_at(out, io).store_in(MemoryType::GPUShared).gpu_threads(i);
  denGpu.update(0).gpu_threads(i);
  denGpu.update(1).gpu_threads(i);
  numGpu.compute_at(out, e).store_in(MemoryType::Register);
  note("out.split(i, io, ii, " + str(qr) +
       ").gpu_blocks(io, h, b).gpu_threads(e, ii);  // " + str(Dv) + " x " +
       str(qr) + " threads, chunk " + str(c));
  note("v_chunk.in(num_gpu), score_gpu (masked phi_q . phi_k of the chunk), "
       "den_gpu: compute_at(out, io).store_in(GPUShared); num_gpu"
       ".compute_at(out, e).store_in(Register)");
}

void LinearPipeline::defineToeplitzGpu() {
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  if (desc.rpeBias < 0)
    throw CompileError("the fft_toeplitz form needs an rpe bias argument");
  ImageParam &bias = params[desc.rpeBias];
  Expr N = q.dim(1).extent(), M = k.dim(1).extent(), H = q.dim(2).extent(),
       G = k.dim(2).extent(), R = bias.dim(0).extent();
  Expr hk = h / max(H / max(G, 1), 1);
  const int Dv = gpuValueDim;
  defineFeature(k, /*isKey=*/true);
  defineFeature(q, /*isKey=*/false);
  // The direct Toeplitz sum (no FFT on the device): score(j, i) =
  // c(j - i) phi_q[i] . phi_k[j], c(d) = exp(bias[h, clamp(d, -W, W) + W])
  // (0 for d > M - N when causal), then num[e, i] = sum_j score(j, i)
  // [v(e, j); 1] over the Dv + 1 channels, as attn_rpe_toeplitz computes.
  rf = RDom(0, featureWidth, "rf");
  Expr row = min(i, N - 1), key = min(j, M - 1);
  scoreDot(j, i, h, b) = 0.0f;
  scoreDot(j, i, h, b) += phiQ(rf, row, h, b) * phiK(rf, key, hk, b);
  Expr W = (R - 1) / 2, d = j - i;
  Expr weight = accurateExp(cast<float>(bias(clamp(d, -W, W) + W, h)));
  Expr s = weight * scoreDot(j, i, h, b);
  if (desc.isCausal())
    s = select(d <= M - N, s, 0.0f);
  scoreGpu(j, i, h, b) = s;
  valueAug(e, j, g, b) =
      select(e < Dv, cast<float>(v(min(e, Dv - 1), min(j, M - 1), g, b)),
             1.0f);
  rj = RDom(0, M, "rj");
  numGpu(e, i, h, b) = 0.0f;
  numGpu(e, i, h, b) += scoreGpu(rj, i, h, b) * valueAug(e, rj, hk, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(e, i, h, b) = cast(outType, normalizeRow(desc, numGpu(e, i, h, b),
                                               numGpu(Dv, i, h, b)));
  constrainOutput(desc, out);
  algorithmOrder = {phiK, phiQ, scoreDot, scoreGpu, valueAug, numGpu, out};
}

void LinearPipeline::scheduleToeplitzGpu() {
  const int qr = int(knobs.at("block_rows"));
  const int kt = int(knobs.at("key_tile"));
  const int Dv = gpuValueDim;
  auto str = [](int x) { return std::to_string(x); };
  gpuRoot(phiK, {32, 8});
  gpuRoot(phiQ, {32, 8});
  scheduleRandomFeaturesGpu();
  note("phi_k, phi_q: compute_root, gpu_threads(f / 32, t / 8)");

  // A block per (block_rows rows, h, b), a thread per (e, row); the Dv + 1
  // accumulators of the block's rows in shared memory, updated per tile of
  // key_tile keys whose scores and values are staged in shared memory.
  Var io = splitRowsIntoBlocks(e, i, h, b, qr);
  Var eo("eo"), ei("ei"), jo("jo"), ji("ji");
  numGpu.compute_at(out, io)
      .store_in(MemoryType::GPUShared)
      .split(e, eo, ei, Dv, kGuard)
      .reorder(ei, i, eo)
      .gpu_threads(ei, i);
  RVar ro("rjo"), ri("rji");
  numGpu.update()
      .split(rj.x, ro, ri, kt, kGuard)
      .split(e, eo, ei, Dv, kGuard)
      .reorder(ri, eo, ei, i, ro)
      .gpu_threads(ei, i);
  scoreGpu.compute_at(numGpu, ro)
      .store_in(MemoryType::GPUShared)
      .split(j, jo, ji, Dv, kGuard)
      .reorder(ji, i, jo)
      .gpu_threads(ji, i);
  scoreDot.compute_at(scoreGpu, ji).store_in(MemoryType::Register);
  valueAug.compute_at(numGpu, ro)
      .store_in(MemoryType::GPUShared)
      .split(e, eo, ei, Dv, kGuard)
      .split(j, jo, ji, qr, kGuard)
      .reorder(ei, ji, eo, jo)
      .gpu_threads(ei, ji);
  note("// no FFT on the device: the direct Toeplitz sum, O(N M (F + Dv))");
  note("out.split(i, io, ii, " + str(qr) +
       ").gpu_blocks(io, h, b).gpu_threads(e, ii);  // " + str(Dv) + " x " +
       str(qr) + " threads");
  note("num_gpu.compute_at(out, io).store_in(GPUShared); num_gpu.update()"
       ".split(rj, rjo, rji, " + str(kt) +
       ").reorder(rji, e, i, rjo).gpu_threads(e % Dv, i); score_gpu, "
       "value_aug: compute_at(num_gpu, rjo).store_in(GPUShared); score_dot"
       " in a register per thread");
}
