//===- BlockMaps.cpp - materialized attention maps in block kernels -------===//
//
// The map ops of evolving attention (docs/Architectures.md §2): scores,
// blend, map_conv, softmax and attend over maps [B, H, N, M] (Halide dims
// (j, i, h, b)).  Evolving attention convolves the map over (i, j) with the
// heads as channels and carries it to the next layer, so the map is
// materialized; the schedule keeps it in row tiles:
//
// * Every stored map value (an output, or a value feeding a map_conv or a
//   softmax) is a *map stage*.  A root map stage loops over (b, row tile
//   of `map_rows` query rows) in parallel; inside a tile it runs its own
//   loops (below).  A stored map value whose consumers all lie in the same
//   root map stage is *tiled*: computed per row tile of that stage (all
//   heads, the rows the tile needs: a map_conv's input gets the tile plus a
//   halo of k/2 rows, so the halo's scores are recomputed by neighbouring
//   tiles) instead of being written to memory.  Only the outputs reach
//   memory: the exported map (the next layer's carried map, N x M per head,
//   which is why it must be materialized at all) and the attention output.
//   An output read by a later op (the exported map read by the softmax) is
//   read back from the output buffer by that op's stage: Halide 14 cannot
//   fuse two output stages where one reads the other (compute_with refuses
//   the dependence), and fusing the tile loops of a copy of a tiled map with
//   its reader makes it compute the whole map per tile (measured), so the
//   exported map costs one extra read.
// * scores: a GEMM per head, s = scale * sum_d q[i, d] kT[d, j], with the
//   keys transposed once at the root; register blocks of gemm_col_vectors
//   vectors of j by gemm_rows rows, the accumulator block computed per
//   block.  Inlined into a blend (the carried-map blend), the scores are
//   computed per head inside the blend's tile.
// * map_conv: its input is zero padded (in place when the input is a
//   blend computed here, else a padded copy per tile); the stage storing
//   its (blended) result walks each row in chunks of a few vectors of j and
//   accumulates all H output heads of the chunk at once (H x chunk
//   accumulators in registers, reduction over input heads with the k x k
//   taps unrolled), so each input vector is loaded once for H outputs.
// * softmax: per row, lane-partial max and sum (vectorized along j) and
//   the exponentials stored for the row block; inlined into attend, the
//   normalization is applied after the GEMM (o = (sum_j e_j v_j) / sum_j
//   e_j); causal rows keep j <= i + M - N and a row keeping nothing is 0.
// * attend: a GEMM per head, o[i, d] = sum_j a[i, j] v[j, d], register
//   blocks of up to 4 vectors of d by up to 8 rows; the softmax parts are
//   computed per row block.
//
// Vectorized along j (maps) or d (attend outputs); parallel over (b, row
// tiles) of the root stages.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipelineImpl.h"

#include "lowering/halide/ExprBuilder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;
using namespace attn::halide::blockdetail;

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

bool BlockPipeline::Impl::mapInputStored(int n, size_t p) const {
  const BlockOpDesc &op = desc.ops[n];
  const Value &in = values.at(op.inputs[p]);
  if (in.isParam)
    return false;
  const std::string &producer = desc.ops[in.producer].op;
  // Ops that read each element of an input many times.
  if (op.op == "scores" || op.op == "map_conv" || op.op == "softmax")
    return true;
  if (op.op == "attend")
    return !(p == 0 && producer == "softmax");
  if (!isBlockMapOp(producer))
    return false;
  // Map results flow, inlined, only into map ops: scores and map_conv
  // into a blend (their reductions are then computed in the blend's stage),
  // blends into blends; softmax only into attend (above).
  if (!isBlockMapOp(op.op))
    return true;
  if (producer == "scores" || producer == "map_conv")
    return op.op != "blend";
  return producer != "blend";
}

BlockPipeline::Impl::MapStage BlockPipeline::Impl::mapStage(int id) const {
  const Value &v = values.at(id);
  if (!v.stored || v.producer < 0 || v.shape.size() != 4)
    return MapStage::None;
  const std::string &op = desc.ops[v.producer].op;
  if (!isBlockMapOp(op))
    return MapStage::None;
  if (op == "scores")
    return MapStage::Scores;
  if (op == "attend")
    return MapStage::Attend;
  if (op == "softmax")
    return MapStage::Softmax;
  return v.hasConv ? MapStage::Conv : MapStage::Elementwise;
}

void BlockPipeline::Impl::analyzeMaps() {
  // Scores are computed per head inside an elementwise stage only (a stage
  // with a convolution walks heads innermost): elsewhere they are stored.
  for (const BlockOpDesc &op : desc.ops) {
    Value &v = values[op.result];
    if (op.op == "scores" && !v.stored && v.owner >= 0 &&
        mapStage(v.owner) != MapStage::Elementwise)
      v.stored = true;
  }
  // A map_conv's input computed here as a blend is padded in place.
  for (const BlockOpDesc &op : desc.ops) {
    if (op.op != "map_conv" || op.inputs.empty())
      continue;
    int x = op.inputs[0];
    Value &v = values[x];
    if (v.isParam || desc.isArg(x) || !v.stored || v.hasConv ||
        v.shape.size() != 4)
      continue;
    if (desc.ops[v.producer].op == "blend")
      v.padded = true;
  }
  // Tiled values, consumers first: every consumer's stage lies in the same
  // root map stage, over the same batch and rows.
  for (int n = int(desc.ops.size()) - 1; n >= 0; --n) {
    int id = desc.ops[n].result;
    Value &v = values[id];
    if (desc.isArg(id) || !v.stored || !isBlockMapOp(desc.ops[n].op) ||
        v.shape.size() != 4)
      continue;
    int root = -2;
    for (int c : v.consumers) {
      int r = desc.ops[c].result;
      int stage = values[r].stored ? r : values[r].owner;
      int rs = stage < 0 ? -1
                         : (values[stage].tiled ? values[stage].anchor : stage);
      if (rs < 0 || (root != -2 && root != rs)) {
        root = -1;
        break;
      }
      root = rs;
    }
    if (root < 0 || root == id || mapStage(root) == MapStage::None)
      continue;
    const std::vector<int64_t> &rs = values[root].shape;
    if (rs[0] != v.shape[0] || rs[2] != v.shape[2])
      continue;
    v.tiled = true;
    v.anchor = root;
  }
}

int64_t BlockPipeline::Impl::haloOf(int id) const {
  int64_t halo = 0;
  for (int c : values.at(id).consumers)
    if (desc.ops[c].op == "map_conv" && desc.ops[c].inputs[0] == id)
      halo = std::max(halo, shapeOf(desc.ops[c].inputs[1]).back() / 2);
  return halo;
}

BlockPipeline::Impl::MapOp *BlockPipeline::Impl::mapOfResult(int id) {
  for (MapOp &m : maps)
    if (m.result == id)
      return &m;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::defineMap(int n) {
  const BlockOpDesc &op = desc.ops[n];
  Value &res = values[op.result];
  std::string name = res.func.name();
  Var j = vars[0], i = vars[1], h = vars[2], b = vars[3];
  auto arity = [&](size_t count) {
    if (op.inputs.size() != count)
      fail(opLabel(n) + ": takes " + std::to_string(count) + " inputs, got " +
           std::to_string(op.inputs.size()));
  };
  auto rank4 = [&](int id, const char *what, const char *layout) {
    if (shapeOf(id).size() != 4)
      fail(opLabel(n) + ": " + what + " " + shapeText(shapeOf(id)) +
           " is not " + layout);
    return shapeOf(id);
  };
  MapOp m;
  m.op = n;
  m.result = op.result;
  m.kind = op.op;
  std::vector<int64_t> shape;
  Expr e;
  if (op.op == "scores" || op.op == "attend") {
    arity(2);
    bool scores = op.op == "scores";
    std::vector<int64_t> xs = rank4(op.inputs[0], scores ? "query" : "map",
                                    scores ? "[B, H, N, D]" : "[B, H, N, M]");
    std::vector<int64_t> zs =
        rank4(op.inputs[1], scores ? "key" : "value",
              scores ? "[B, G, M, D]" : "[B, G, M, Dv]");
    int64_t B = xs[0], H = xs[1], K = xs[3], G = zs[1];
    if (zs[0] != B || G < 1 || H % G != 0)
      fail(opLabel(n) + ": " + shapeText(zs) + " does not pair with " +
           shapeText(xs) + " (same batch, heads a multiple of the groups)");
    if ((scores ? zs[3] : zs[2]) != K)
      fail(opLabel(n) + ": " + shapeText(xs) + " and " + shapeText(zs) +
           (scores ? " differ in the head dim" : " differ in the keys"));
    shape = {B, H, xs[2], scores ? zs[2] : zs[3]};
    int per = int(H / G);
    m.acc = Func(name + "_acc");
    m.r = RDom(0, int(K), name + "_r");
    m.acc(j, i, h, b) = 0.0f;
    if (scores) {
      // kT(j, d, g, b): the keys with j innermost.  Rows and keys are
      // clamped: scores computed inside a padded blend have regions whose
      // bounds Halide over-approximates (min and extent bounded apart), and
      // the inputs' bounds checks would see them.
      int64_t N = xs[2], M = zs[2];
      m.keysT = Func(name + "_keys_t");
      m.keysT(j, i, h, b) =
          at(op.inputs[1], {i, clamp(j, 0, int(M - 1)), h, b});
      m.acc(j, i, h, b) +=
          at(op.inputs[0], {m.r.x, clamp(i, 0, int(N - 1)), h, b}) *
          m.keysT(j, m.r.x, h / per, b);
      algorithmOrder.push_back(m.keysT);
      e = m.acc(j, i, h, b) * float(op.scale);
    } else {
      // A softmax read inlined: its exponentials, normalized afterwards.
      int a = op.inputs[0];
      const Value &av = values[a];
      MapOp *sm = nullptr;
      if (!av.isParam && !av.stored && desc.ops[av.producer].op == "softmax")
        sm = mapOfResult(a);
      Expr weight = sm ? sm->exps(m.r.x, i, h, b) : at(a, {m.r.x, i, h, b});
      m.acc(j, i, h, b) += weight * at(op.inputs[1], {j, m.r.x, h / per, b});
      e = m.acc(j, i, h, b);
      if (sm) {
        e = e * sm->rowScale;
        m.softmax = sm->op;
      }
    }
    algorithmOrder.push_back(m.acc);
  } else if (op.op == "blend") {
    arity(2);
    shape = shapeOf(op.inputs[0]);
    if (shapeOf(op.inputs[1]) != shape)
      fail(opLabel(n) + ": operand shapes " + shapeText(shape) + " and " +
           shapeText(shapeOf(op.inputs[1])) + " differ");
    if (shape.size() > vars.size())
      fail(opLabel(n) + ": rank " + std::to_string(shape.size()) +
           " is not in [1, 8]");
    std::vector<Expr> pure = pureArgs(shape.size());
    e = float(1.0 - op.scale) * at(op.inputs[0], pure) +
        float(op.scale) * at(op.inputs[1], pure);
  } else if (op.op == "map_conv") {
    arity(3);
    shape = rank4(op.inputs[0], "input", "[B, H, N, M]");
    int64_t H = shape[1], N = shape[2], M = shape[3];
    const std::vector<int64_t> &ws = shapeOf(op.inputs[1]);
    if (ws.size() != 4 || ws[0] != H || ws[1] != H || ws[2] != ws[3])
      fail(opLabel(n) + ": weight " + shapeText(ws) + " is not [" +
           std::to_string(H) + ", " + std::to_string(H) + ", k, k]");
    int64_t k = ws[3];
    if (op.window > 0 && op.window != k)
      fail(opLabel(n) + ": window " + std::to_string(op.window) +
           " differs from the weight's kernel size " + std::to_string(k));
    if (k * k > kMaxWindowTerms)
      fail(opLabel(n) + ": window " + std::to_string(k) + " is not in [1, " +
           std::to_string(int(std::sqrt(double(kMaxWindowTerms)))) + "]");
    if (shapeOf(op.inputs[2]) != std::vector<int64_t>{H})
      fail(opLabel(n) + ": bias " + shapeText(shapeOf(op.inputs[2])) +
           " is not [" + std::to_string(H) + "]");
    if (op.act != "none" && op.act != "leaky_relu")
      fail(opLabel(n) + ": unknown act '" + op.act +
           "' (expected none or leaky_relu)");
    int x = op.inputs[0];
    Func src;
    if (values[x].padded) {
      src = values[x].func;
    } else {
      m.pad = Func(name + "_pad");
      Expr inside = j >= 0 && j < int(M) && i >= 0 && i < int(N);
      m.pad(j, i, h, b) = select(
          likely(inside),
          at(x, {clamp(likely(j), 0, int(M - 1)),
                 clamp(likely(i), 0, int(N - 1)), h, b}),
          0.0f);
      algorithmOrder.push_back(m.pad);
      src = m.pad;
    }
    int p = int(k / 2);
    // The weights with the output head innermost, wT(o, e, a, c) (at the
    // root): the H weights of one tap are contiguous.
    m.weightsT = Func(name + "_w_t");
    m.weightsT(h, j, i, b) = at(op.inputs[1], {j, i, b, h});
    algorithmOrder.push_back(m.weightsT);
    // The reduction over (input head c, tap row a, tap column e), e
    // innermost: the schedule unrolls the taps and the output heads inside
    // each c.
    m.acc = Func(name + "_acc");
    m.r = RDom(0, int(k), 0, int(k), 0, int(H), name + "_r");
    m.acc(j, i, h, b) = at(op.inputs[2], {h});
    m.acc(j, i, h, b) += m.weightsT(h, m.r.x, m.r.y, m.r.z) *
                         src(j + m.r.x - p, i + m.r.y - p, m.r.z, b);
    algorithmOrder.push_back(m.acc);
    Expr c = m.acc(j, i, h, b);
    e = op.act == "leaky_relu" ? select(c < 0.0f, c * 0.01f, c) : c;
  } else if (op.op == "softmax") {
    arity(1);
    shape = rank4(op.inputs[0], "input", "[B, H, N, M]");
    int64_t N = shape[2], M = shape[3];
    int x = op.inputs[0];
    // Lane partials over chunks of `lanes` columns, then their reduction.
    int lanes = int(std::min<int64_t>(vw, M));
    int chunks = int((M + lanes - 1) / lanes);
    RDom rj(0, chunks, name + "_rj");
    Expr col = j + lanes * rj.x;
    auto keep = [&](Expr jj, Expr ii) {
      return op.causal ? jj <= ii + int(M - N) : Internal::const_true();
    };
    Expr lowest = Float(32).min();
    Expr inRow = col < int(M) && keep(col, i);
    m.partMax = Func(name + "_pmax");
    m.partMax(j, i, h, b) = Float(32).min();
    m.partMax(j, i, h, b) =
        max(m.partMax(j, i, h, b),
            select(inRow, at(x, {min(col, int(M - 1)), i, h, b}), lowest));
    m.rowMax = Func(name + "_max");
    Expr mx = m.partMax(0, i, h, b);
    for (int q = 1; q < lanes; ++q)
      mx = max(mx, m.partMax(q, i, h, b));
    m.rowMax(i, h, b) = mx;
    m.exps = Func(name + "_exp");
    m.exps(j, i, h, b) =
        select(keep(j, i), accurateExp(at(x, {j, i, h, b}) - m.rowMax(i, h, b)),
               0.0f);
    m.partSum = Func(name + "_psum");
    m.partSum(j, i, h, b) = 0.0f;
    m.partSum(j, i, h, b) +=
        select(col < int(M), m.exps(min(col, int(M - 1)), i, h, b), 0.0f);
    m.rowSum = Func(name + "_sum");
    Expr sum = m.partSum(0, i, h, b);
    for (int q = 1; q < lanes; ++q)
      sum = sum + m.partSum(q, i, h, b);
    m.rowSum(i, h, b) = sum;
    Expr s = m.rowSum(i, h, b);
    m.rowScale = select(s > 0.0f, 1.0f / s, 0.0f);
    for (Func f : {m.partMax, m.rowMax, m.exps, m.partSum, m.rowSum})
      algorithmOrder.push_back(f);
    e = m.exps(j, i, h, b) * m.rowScale;
  }
  if (shape != op.shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " does not match the shape " + shapeText(shape) +
         " its inputs give");
  if (res.padded) {
    // Zero outside [0, N) x [0, M): the map_conv reading it needs no
    // bounds checks.
    Func raw(name + "_raw");
    raw(j, i, h, b) = e;
    algorithmOrder.push_back(raw);
    int64_t N = shape[2], M = shape[3];
    Expr inside = j >= 0 && j < int(M) && i >= 0 && i < int(N);
    e = select(likely(inside),
               raw(clamp(likely(j), 0, int(M - 1)),
                   clamp(likely(i), 0, int(N - 1)), h, b),
               0.0f);
  }
  if (desc.isArg(op.result))
    e = cast(halideType(desc.args[op.result].dtype), e);
  res.func(pureArgs(shape.size())) = e;
  maps.push_back(m);
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::scheduleMapStage(int id) {
  Value &v = values[id];
  Func F = v.func;
  const MapStage kind = mapStage(id);
  const std::vector<int64_t> &shape = v.shape;
  const int64_t H = shape[1], N = shape[2], X = shape[3];
  const bool root = !v.tiled;
  const bool parallel = knobs.at("parallel") != 0;
  const int64_t T = std::clamp<int64_t>(knobs.at("map_rows"), 1, N);
  const int64_t budget =
      std::max<int64_t>(1, int64_t(target.vectorRegisters) * 3 / 4);
  const int lanes = int(std::min<int64_t>(vw, X));
  Var j = vars[0], i = vars[1], h = vars[2], b = vars[3];
  Var it("it"), tile("tile"), row = i;
  const int anchor = root ? id : v.anchor;
  std::ostringstream log;
  log << F.name();
  if (root) {
    Var ii("ii");
    F.split(i, it, ii, int(T), TailStrategy::ShiftInwards);
    row = ii;
    tileLoop[id] = tile;
    log << ".split(v1, it, ii, " << T << ")";
  } else {
    F.compute_at(values[anchor].func, tileLoop.at(anchor));
    log << ".compute_at(" << values[anchor].func.name()
        << ", tile)  // all heads, the rows its tile needs;";
  }
  std::vector<VarOrRVar> order;
  // Rows per register block for `rows` rows per tile (at least `least` at
  // the map's edges; ShiftInwards needs blocks no larger): the fewest rows
  // computed, then the largest block.
  auto blockRows = [&](int64_t rows, int64_t least, int64_t most) {
    int64_t best = 1;
    for (int64_t r = 1; r <= std::min(most, least); ++r)
      if ((rows + r - 1) / r * r <= (rows + best - 1) / best * best)
        best = r;
    return int(best);
  };

  // The GEMM register block of a scores Func S (over j, rows) computed at
  // the current level.
  auto scoresBlocks = [&](Func S, MapOp &m, Var rows, int64_t halo) {
    int64_t cols = values[m.result].shape[3];
    int l = int(std::min<int64_t>(vw, cols));
    // Per tile: T rows and the halo (fewer at the map's edges).
    int R = blockRows(T + 2 * halo, std::min(N, T + halo),
                      knobs.at("gemm_rows"));
    int64_t cv = std::clamp<int64_t>(budget / R, 1, 4);
    cv = std::min<int64_t>(cv, std::max<int64_t>(1, cols / l));
    int panel = int(cv * l);
    Var jo("jo"), jc("jc"), jv("jv"), jl("jl"), io("io"), ir("ir");
    S.split(j, jo, jc, panel, TailStrategy::ShiftInwards)
        .split(jc, jv, jl, l)
        .split(rows, io, ir, R, TailStrategy::ShiftInwards)
        .vectorize(jl)
        .unroll(jv)
        .unroll(ir);
    Var fo("fo"), fi("fi");
    m.acc.compute_at(S, jo)
        .split(j, fo, fi, l)
        .vectorize(fi)
        .unroll(fo)
        .unroll(i);
    m.acc.update()
        .split(j, fo, fi, l)
        .reorder(fi, fo, i, m.r.x)
        .vectorize(fi)
        .unroll(fo)
        .unroll(i);
    Var kjo("kjo"), kji("kji");
    m.keysT.compute_root()
        .split(j, kjo, kji, l, TailStrategy::GuardWithIf)
        .vectorize(kji);
    if (parallel)
      m.keysT.parallel(h); // the key groups
    std::ostringstream s;
    s << S.name() << ".split(v0, jo, j, " << panel << ").split(rows, io, ir, "
      << R << ").vectorize(j, " << l << ").unroll(ir);  " << m.acc.name()
      << ".compute_at(" << S.name()
      << ", jo).update().reorder(j, ir, r).vectorize(j).unroll(ir);  "
         "// register block "
      << panel << " x " << R << "; " << m.keysT.name()
      << ": keys transposed at the root";
    scheduleLog.push_back(s.str());
    return std::vector<VarOrRVar>{jl, jv, ir, jo, io};
  };
  // The softmax parts of `m`, per `at` of F (rows of a block or one row).
  auto softmaxParts = [&](MapOp &m, Var at) {
    int64_t cols = values[desc.ops[m.op].inputs[0]].shape[3];
    int l = int(std::min<int64_t>(vw, cols));
    for (Func p : {m.partMax, m.partSum}) {
      p.compute_at(F, at).vectorize(j);
      p.update().vectorize(j);
    }
    m.rowMax.compute_at(F, at);
    m.rowSum.compute_at(F, at);
    Var ejo("ejo"), eji("eji");
    m.exps.compute_at(F, at)
        .split(j, ejo, eji, l, TailStrategy::ShiftInwards)
        .vectorize(eji);
    scheduleLog.push_back("// " + m.exps.name() + ", lane-partial " +
                          m.partMax.name() + " and " + m.partSum.name() +
                          ": at " + F.name() + "'s " + at.name() + " loop");
  };

  switch (kind) {
  case MapStage::Scores: {
    MapOp *m = mapOfResult(id);
    order = scoresBlocks(F, *m, row, root ? 0 : haloOf(id));
    order.push_back(h);
    break;
  }
  case MapStage::Attend: {
    MapOp *m = mapOfResult(id);
    int64_t cv = std::clamp<int64_t>(X / lanes, 1, 4);
    int panel = int(cv * lanes);
    int R = blockRows(T, T, std::clamp<int64_t>(budget / cv, 1, 8));
    Var dO("dO"), dc("dc"), dv("dv"), dl("dl"), ib("ib"), ir("ir");
    F.split(j, dO, dc, panel, TailStrategy::ShiftInwards)
        .split(dc, dv, dl, lanes)
        .split(row, ib, ir, R, TailStrategy::ShiftInwards)
        .vectorize(dl)
        .unroll(dv)
        .unroll(ir);
    Var fo("fo"), fi("fi");
    m->acc.compute_at(F, dO)
        .split(j, fo, fi, lanes)
        .vectorize(fi)
        .unroll(fo)
        .unroll(i);
    m->acc.update()
        .split(j, fo, fi, lanes)
        .reorder(fi, fo, i, m->r.x)
        .vectorize(fi)
        .unroll(fo)
        .unroll(i);
    order = {dl, dv, ir, dO, ib, h};
    std::ostringstream s;
    s << F.name() << ".split(v0, dO, d, " << panel << ").split(rows, ib, ir, "
      << R << ").vectorize(d, " << lanes << ").unroll(ir);  "
      << m->acc.name() << ".compute_at(" << F.name()
      << ", dO).update().reorder(d, ir, r).vectorize(d).unroll(ir);  "
         "// register block "
      << panel << " x " << R;
    scheduleLog.push_back(s.str());
    if (m->softmax >= 0)
      for (MapOp &sm : maps)
        if (sm.op == m->softmax)
          softmaxParts(sm, ib);
    break;
  }
  case MapStage::Softmax: {
    Var jo("jo"), ji("ji");
    F.split(j, jo, ji, lanes, TailStrategy::ShiftInwards).vectorize(ji);
    order = {ji, jo, row, h};
    softmaxParts(*mapOfResult(id), row);
    scheduleLog.push_back(F.name() + ".vectorize(v0, " +
                          std::to_string(lanes) + ");  // row by row");
    break;
  }
  case MapStage::Conv: {
    // All H output heads of a chunk of ccv vectors at once.
    bool allHeads = H <= budget;
    int64_t ccv = allHeads ? std::clamp<int64_t>(budget / H, 1, 4) : 1;
    ccv = std::min<int64_t>(ccv, std::max<int64_t>(1, X / lanes));
    int chunk = int(ccv * lanes);
    Var jo("jo"), jc("jc"), jv("jv"), jl("jl");
    F.split(j, jo, jc, chunk, TailStrategy::ShiftInwards)
        .split(jc, jv, jl, lanes)
        .vectorize(jl)
        .unroll(jv);
    order = {jl, jv, h, jo, row};
    rowLoop[id] = row;
    for (MapOp &m : maps) {
      if (m.kind != "map_conv")
        continue;
      const Value &cv = values[m.result];
      if (!(m.result == id || (!cv.stored && cv.owner == id)))
        continue;
      Var fo("fo"), fi("fi");
      m.acc.compute_at(F, jo).split(j, fo, fi, lanes).vectorize(fi).unroll(fo);
      // Per input head: for each tap, load the chunk's vectors once and
      // update every output head (H x ccv accumulators in registers).
      m.acc.update()
          .split(j, fo, fi, lanes)
          .reorder(fi, fo, h, m.r.x, m.r.y, m.r.z)
          .vectorize(fi)
          .unroll(fo)
          .unroll(m.r.x)
          .unroll(m.r.y);
      if (allHeads) {
        m.acc.unroll(h);
        m.acc.update().unroll(h);
      }
      m.weightsT.compute_root();
      std::ostringstream s;
      s << F.name() << ".split(v0, jo, j, " << chunk
        << ").reorder(j, h, jo, rows).vectorize(j, " << lanes << ");  "
        << m.acc.name() << ".compute_at(" << F.name()
        << ", jo).update().reorder(j, h, e, a, c).vectorize(j).unroll(e, a)"
        << (allHeads ? ".unroll(h)" : "") << ";  // " << H << " heads x "
        << chunk << " columns per block";
      scheduleLog.push_back(s.str());
      if (m.pad.defined()) {
        Var pjo("pjo"), pji("pji");
        m.pad.compute_at(values[anchor].func, tileLoop.at(anchor))
            .split(j, pjo, pji, lanes, TailStrategy::ShiftInwards)
            .vectorize(pji);
        scheduleLog.push_back(m.pad.name() + ".compute_at(" +
                              values[anchor].func.name() +
                              ", tile);  // zero-padded input with its halo");
      }
    }
    break;
  }
  case MapStage::Elementwise:
  case MapStage::None: {
    Var jo("jo"), ji("ji");
    F.split(j, jo, ji, lanes, TailStrategy::ShiftInwards).vectorize(ji);
    order = {ji, jo, row, h};
    rowLoop[id] = row;
    scheduleLog.push_back(F.name() + ".vectorize(v0, " +
                          std::to_string(lanes) + ")" +
                          (v.padded ? ";  // zero padded (a map_conv input)"
                                    : ";"));
    // Scores inlined into it: per head, over the rows it needs.
    for (MapOp &m : maps) {
      const Value &sv = values[m.result];
      if (m.kind != "scores" || sv.stored || sv.owner != id)
        continue;
      Func S = sv.func;
      S.compute_at(F, h);
      std::vector<VarOrRVar> so = scoresBlocks(S, m, i, haloOf(id));
      so.push_back(h);
      so.push_back(b);
      S.reorder(so);
      scheduleLog.push_back(S.name() + ".compute_at(" + F.name() +
                            ", h);  // per head");
    }
    break;
  }
  }
  if (root) {
    order.push_back(it);
    order.push_back(b);
    F.reorder(order).fuse(it, b, tile);
    int64_t tasks = shape[0] * ((N + T - 1) / T);
    if (parallel && tasks > 1)
      F.parallel(tile);
    log << ".fuse(it, b, tile)" << (parallel && tasks > 1 ? ".parallel(tile)"
                                                          : "")
        << ";  // " << tasks << " row tiles";
  } else {
    order.push_back(b);
    F.reorder(order);
  }
  scheduleLog.push_back(log.str());
}

//===----------------------------------------------------------------------===//
// The GPU schedule (docs/gpu/block-kernels.md)
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::scheduleMapStageGpu(int id) {
  Value &v = values[id];
  Func F = v.func;
  const std::vector<int64_t> &shape = v.shape;
  const int64_t N = shape[2], X = shape[3];
  const int tx = int(std::min<int64_t>(32, X));
  const int ty = int(std::clamp<int64_t>(knobs.at("map_rows"), 1, N));
  Var j = vars[0], i = vars[1], h = vars[2], b = vars[3];
  Var jo("jo"), jt("jt"), io("io"), it("it"), hb("hb");
  F.split(j, jo, jt, tx, TailStrategy::GuardWithIf)
      .split(i, io, it, ty, TailStrategy::GuardWithIf)
      .reorder(jt, it, jo, io, h, b)
      .fuse(h, b, hb)
      .gpu_blocks(jo, io, hb)
      .gpu_threads(jt, it);
  std::ostringstream os;
  os << F.name() << ".split(v0, jo, jt, " << tx << ").split(v1, io, it, "
     << ty << ").fuse(h, b, hb).gpu_blocks(jo, io, hb).gpu_threads(jt, it);"
     << "  // one map element per thread";
  scheduleLog.push_back(os.str());
  // The reductions of the map ops computed in this stage (its own, and
  // those of scores or map_conv results inlined into it): per thread.
  for (MapOp &m : maps) {
    if (!m.acc.defined())
      continue;
    const Value &mv = values[m.result];
    int stage = mv.stored ? m.result : mv.owner;
    if (stage != id)
      continue;
    m.acc.compute_at(F, jt);
    scheduleLog.push_back(m.acc.name() + ".compute_at(" + F.name() +
                          ", jt);  // its reduction per thread");
  }
}
