//===- AttentionPipeline.cpp - fused softmax attention in Halide ----------===//

#include "lowering/halide/AttentionPipeline.h"

#include "lowering/KeyRange.h"
#include "lowering/halide/ExprBuilder.h"

#include <limits>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

Type attn::halide::halideType(const std::string &dtype) {
  if (dtype == "f32")
    return Float(32);
  if (dtype == "f64")
    return Float(64);
  if (dtype == "f16")
    return Float(16);
  if (dtype == "bf16")
    return BFloat(16);
  if (dtype == "i32")
    return Int(32);
  throw CompileError("unsupported dtype '" + dtype + "'");
}

void AttentionPipeline::build() {
  define();
  schedule();
}

Var PipelineBase::splitRowsIntoTasks(Var e, Var i, Var h, Var b, Var tile,
                                     int rows, int vectorWidth) {
  Var io("io"), iin("iin");
  out.split(i, io, iin, rows, TailStrategy::GuardWithIf)
      .reorder(e, iin, io, h, b)
      .fuse(io, h, tile)
      .fuse(tile, b, tile)
      .parallel(tile)
      .vectorize(e, vectorWidth, TailStrategy::GuardWithIf);
  return iin;
}

std::vector<Argument> PipelineBase::arguments() const {
  std::vector<Argument> args;
  for (const ImageParam &p : params)
    args.push_back(p);
  return args;
}

void attn::halide::constrainOutput(const AttentionKernelDesc &desc,
                                   Func &out) {
  const TensorArg &o = desc.args[desc.out];
  for (int n = 0; n < out.dimensions(); ++n)
    out.output_buffer().dim(n).set_min(0);
  for (size_t n = 0; n < o.shape.size(); ++n)
    if (o.shape[n] >= 0)
      out.output_buffer().dim(int(o.shape.size() - 1 - n))
          .set_extent(int(o.shape[n]));
}

std::vector<ImageParam>
attn::halide::makeInputParams(const AttentionKernelDesc &desc) {
  // Halide buffers have 32-bit extents.
  for (const TensorArg &a : desc.args)
    for (size_t n = 0; n < a.shape.size(); ++n)
      if (a.shape[n] > std::numeric_limits<int32_t>::max())
        throw CompileError("argument '" + a.name + "': dim " +
                           std::to_string(n) + " (" + a.dims[n] + " = " +
                           std::to_string(a.shape[n]) +
                           ") exceeds 2^31 - 1, the largest extent a "
                           "Halide buffer can have");
  std::vector<ImageParam> params;
  for (const TensorArg &a : desc.args) {
    if (a.isOutput)
      continue;
    ImageParam p(halideType(a.dtype), int(a.shape.size()), a.name);
    for (size_t n = 0; n < a.shape.size(); ++n)
      if (a.shape[n] >= 0)
        p.dim(int(a.shape.size() - 1 - n)).set_extent(int(a.shape[n]));
    params.push_back(p);
  }
  if (desc.query >= 0 && (params[desc.query].dimensions() != 4 ||
                          params[desc.key].dimensions() != 4 ||
                          params[desc.value].dimensions() != 4))
    throw CompileError("query, key and value must be rank-4 tensors");
  return params;
}

std::function<Expr(const std::string &, const std::vector<Expr> &)>
attn::halide::argumentLoader(const AttentionKernelDesc &desc,
                             const std::vector<ImageParam> &params) {
  return [&desc, params](const std::string &name,
                         const std::vector<Expr> &idx) -> Expr {
    for (size_t n = 0; n < desc.args.size(); ++n)
      if (desc.args[n].name == name && !desc.args[n].isOutput) {
        std::vector<Expr> rev(idx.rbegin(), idx.rend());
        return params[n](rev);
      }
    throw CompileError("unknown argument '" + name + "'");
  };
}

ExprEnv attn::halide::kernelEnv(const AttentionKernelDesc &desc,
                                const std::vector<ImageParam> &params,
                                Expr headDim) {
  const ImageParam &q = params[desc.query], &k = params[desc.key];
  ExprEnv env;
  env.dims = {{"B", q.dim(3).extent()},
              {"H", q.dim(2).extent()},
              {"N", q.dim(1).extent()},
              {"M", k.dim(1).extent()},
              {"D", headDim.defined() ? headDim : q.dim(0).extent()},
              {"G", k.dim(2).extent()}};
  env.load = argumentLoader(desc, params);
  return env;
}

ModifiedScore attn::halide::modifyScore(const AttentionKernelDesc &desc,
                                        ExprEnv env, Expr rawScore) {
  Expr s = rawScore;
  for (const ScalarExpr &mod : desc.scoreMods) {
    env.vars["s"] = s;
    s = cast<float>(buildExpr(mod, env));
  }
  Expr keep = Internal::const_true();
  for (const ScalarExpr &mask : desc.masks)
    keep = keep && buildExpr(mask, env);
  return {s, keep};
}

std::pair<Expr, Expr> attn::halide::keyRange(const KeyBounds &bounds,
                                             const ExprEnv &env, Expr firstRow,
                                             Expr lastRow) {
  Expr lo = 0, hi = env.dims.at("M");
  for (const KeyBound &kb : bounds.lower) {
    Expr atRow = kb.coefI >= 0 ? firstRow : lastRow;
    lo = max(lo, kb.scaledRow(atRow) + buildExpr(kb.rest, env));
  }
  for (const KeyBound &kb : bounds.upper) {
    Expr atRow = kb.coefI >= 0 ? lastRow : firstRow;
    hi = min(hi, kb.scaledRow(atRow) + buildExpr(kb.rest, env));
  }
  return {lo, hi};
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void AttentionPipeline::define() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];

  const int qt = int(knobs.at("query_tile"));
  Expr D = q.dim(0).extent(), N = q.dim(1).extent(), H = q.dim(2).extent();
  Expr M = k.dim(1).extent(), G = k.dim(2).extent();
  Expr groupSize = max(H / max(G, 1), 1);
  Expr hk = h / groupSize;

  // Row i of the tile, and the same row clamped for loads (the last tile
  // may run past N; its extra rows are computed and never stored).
  Expr row = io * qt + ii;
  Expr rowClamped = min(row, N - 1);

  // The key range [lo, hi) of tile io, from the masks' linear bounds.
  KeyBounds bounds = analyzeKeyBounds(desc.masks);
  Expr firstRow = io * qt, lastRow = min(io * qt + qt - 1, N - 1);
  ExprEnv tileEnv = kernelEnv(desc, params);
  tileEnv.vars = {{"b", b}, {"h", h}};
  auto [lo, hi] = keyRange(bounds, tileEnv, firstRow, lastRow);

  // Q tile, transposed (queries innermost) and pre-scaled.
  qTile(ii, d, io, h, b) =
      cast<float>(q(d, rowClamped, h, b)) * float(desc.scale);

  // Register-blocked Q.K^T over the head dim.
  rd = RDom(0, D, "rd");
  Expr keyClamped = min(j, M - 1);
  dot(ii, j, io, h, b) = 0.0f;
  dot(ii, j, io, h, b) +=
      qTile(ii, rd, io, h, b) * cast<float>(k(rd, keyClamped, hk, b));

  // Score modifiers; masks apply in the softmax below.
  ExprEnv elemEnv = tileEnv;
  elemEnv.vars = {{"b", b}, {"h", h}, {"i", row}, {"j", j}};
  auto [s, keep] = modifyScore(desc, elemEnv, dot(ii, j, io, h, b));
  score(ii, j, io, h, b) = s;

  // Softmax over the visible keys: max, exp, sum.  Halide compiles with
  // no-infinities fast math, so "excluded" is the finite lowest float plus
  // explicit selects, never -inf arithmetic.
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  r = RDom(0, M, "r");
  if (!bounds.lower.empty() || !bounds.upper.empty())
    r.where(r.x >= lo && r.x < hi);
  Expr keepAtR = substitute(j.name(), r.x, keep);
  rowMax(ii, io, h, b) = lowest;
  rowMax(ii, io, h, b) = max(rowMax(ii, io, h, b),
                             select(keepAtR, score(ii, r.x, io, h, b), lowest));
  Expr m = rowMax(ii, io, h, b);
  prob(ii, j, io, h, b) =
      select(keep && m > lowest, accurateExp(score(ii, j, io, h, b) - m),
             0.0f);
  rowSum(ii, io, h, b) = 0.0f;
  rowSum(ii, io, h, b) += prob(ii, r.x, io, h, b);

  // P.V and the division; a row with no visible key yields zeros.
  acc(dv, ii, io, h, b) = 0.0f;
  acc(dv, ii, io, h, b) +=
      prob(ii, r.x, io, h, b) * cast<float>(v(dv, r.x, hk, b));
  Expr l = rowSum(ii, io, h, b);
  normed(dv, ii, io, h, b) =
      select(l > 0.0f, acc(dv, ii, io, h, b) / l, 0.0f);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) = cast(outType, normed(dv, i % qt, i / qt, h, b));

  constrainOutput(desc, out);

  algorithmOrder = {qTile, dot, score, rowMax, prob, rowSum, acc, normed, out};
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

void AttentionPipeline::schedule() {
  const int qt = int(knobs.at("query_tile"));
  const int vw = int(knobs.at("vector_width"));
  const int ku = int(knobs.at("key_unroll"));
  const int qu = int(knobs.at("pv_query_unroll"));
  const int qb = int(knobs.at("dot_query_block"));
  auto str = [](int v) { return std::to_string(v); };

  // One task per (query tile, head, batch).
  splitRowsIntoTasks(dv, i, h, b, tile, qt, vw);
  note("out.split(i, io_out, ii_out, " + str(qt) +
       ").reorder(dv, ii_out, io_out, h, b).fuse(io_out, h, tile)"
       ".fuse(tile, b, tile).parallel(tile).vectorize(dv, " + str(vw) + ");");

  // Every per-tile Func covers exactly one tile: bounds inference cannot
  // see through out's i % query_tile and i / query_tile by itself.
  auto perTile = [&](Func &f) -> Func & {
    return f.compute_at(out, tile).bound_extent(io, 1).bound(ii, 0, qt);
  };
  note("// each per-tile Func: .compute_at(out, tile).bound_extent(io, 1)"
       ".bound(ii, 0, " + str(qt) + ")");

  perTile(qTile).vectorize(ii, vw);
  note("q_tile.vectorize(ii, " + str(vw) + ");");

  // Scores: blocks of qb queries (vector lanes) x ku keys (unrolled), the
  // head-dim reduction innermost over register accumulators.
  Var jo("jo"), ji("ji"), iio("iio"), iiv("iiv");
  perTile(score)
      .split(j, jo, ji, ku, TailStrategy::RoundUp)
      .split(ii, iio, iiv, qb)
      .reorder(iiv, ji, iio, jo)
      .vectorize(iiv, vw)
      .unroll(iiv)
      .unroll(ji);
  dot.compute_at(score, iio).vectorize(ii, vw).unroll(ii).unroll(j);
  dot.update()
      .reorder(ii, j, rd.x)
      .vectorize(ii, vw)
      .unroll(ii)
      .unroll(j);
  note("score.split(j, jo, ji, " + str(ku) + ").split(ii, iio, iiv, " +
       str(qb) + ").reorder(iiv, ji, iio, jo).vectorize(iiv, " + str(vw) +
       ").unroll(iiv).unroll(ji);");
  note("dot.compute_at(score, iio); dot.update().reorder(ii, j, rd)"
       ".vectorize(ii, " + str(vw) + ").unroll(ii).unroll(j);");

  // Row statistics and probabilities: queries in vector lanes.
  for (Func *f : {&rowMax, &rowSum}) {
    perTile(*f).vectorize(ii, vw);
    f->update().reorder(ii, r.x).vectorize(ii, vw);
  }
  perTile(prob).reorder(ii, j).vectorize(ii, vw);
  note("row_max.vectorize(ii, " + str(vw) + "); row_max.update().reorder(ii, "
       "r).vectorize(ii, " + str(vw) + ");  // row_sum alike");
  note("prob.reorder(ii, j).vectorize(ii, " + str(vw) + ");");

  // P.V: blocks of qu queries (unrolled) x the value dim (vector lanes),
  // keys in the loop around the register accumulators.
  Var nio("nio"), nii("nii");
  perTile(normed)
      .split(ii, nio, nii, qu)
      .reorder(dv, nii, nio)
      .vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(nii);
  acc.compute_at(normed, nio).vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(ii);
  acc.update()
      .reorder(dv, ii, r.x)
      .vectorize(dv, vw, TailStrategy::GuardWithIf)
      .unroll(ii);
  if (knobs.at("unroll_value_dim")) {
    acc.unroll(dv);
    acc.update().unroll(dv);
  }
  note("normed.split(ii, nio, nii, " + str(qu) +
       ").reorder(dv, nii, nio).vectorize(dv, " + str(vw) +
       ").unroll(nii); acc.compute_at(normed, nio); acc.update()"
       ".reorder(dv, ii, r).vectorize(dv, " + str(vw) + ").unroll(ii)" +
       (knobs.at("unroll_value_dim") ? ".unroll(dv)" : "") + ";");
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

/// Prints `name(args) = value` for a definition.
static void printDefinition(std::ostream &os, const std::string &name,
                            const std::vector<Expr> &args,
                            const std::vector<Expr> &values, bool update) {
  os << "  " << name << "(";
  for (size_t n = 0; n < args.size(); ++n)
    os << (n ? ", " : "") << args[n];
  os << ")" << (update ? " = " : " = ");
  if (values.size() == 1)
    os << values[0];
  else {
    os << "{";
    for (size_t n = 0; n < values.size(); ++n)
      os << (n ? ", " : "") << values[n];
    os << "}";
  }
  os << ";\n";
}

void attn::halide::printHalideDefinition(std::ostream &os,
                                         const std::string &name,
                                         const std::vector<Expr> &args,
                                         const std::vector<Expr> &values) {
  printDefinition(os, name, args, values, false);
}

std::string attn::halide::describePipeline(
    const AttentionKernelDesc &desc, const TargetInfo &target,
    const std::map<std::string, int64_t> &knobs,
    const std::vector<Func> &funcs,
    const std::vector<std::string> &scheduleLog) {
  std::ostringstream os;
  os << "// Halide pipeline for kernel '" << desc.name << "' (form "
     << desc.form << ", target " << target.halideTarget << ")\n";
  os << "// knobs:";
  for (auto &[k, v] : knobs)
    os << " " << k << "=" << v;
  os << "\n";
  os << "void generate() {\n";
  for (const Func &f : funcs) {
    std::vector<Expr> pureArgs;
    for (const Var &a : f.args())
      pureArgs.push_back(a);
    printDefinition(os, f.name(), pureArgs, f.values().as_vector(), false);
    for (int u = 0; u < f.num_update_definitions(); ++u)
      printDefinition(os, f.name(), f.update_args(u),
                      f.update_values(u).as_vector(), true);
  }
  os << "}\n\nvoid schedule() {\n";
  for (const std::string &line : scheduleLog)
    os << "  " << line << "\n";
  os << "}\n";
  return os.str();
}

std::string PipelineBase::describe() const {
  return describePipeline(desc, target, knobs, algorithmOrder, scheduleLog);
}
