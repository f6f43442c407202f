//===- GpuAttentionPipeline.cpp - softmax attention on GPUs ---------------===//

#include "lowering/halide/GpuAttentionPipeline.h"

#include "lowering/KeyRange.h"
#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

using namespace Halide;
using namespace attn;
using namespace attn::halide;

void GpuAttentionPipeline::build() {
  define();
  schedule();
}

void GpuAttentionPipeline::define() {
  params = makeInputParams(desc);
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];
  headDim = gpuStaticDim(desc, desc.query, "softmax attention",
                         "query/key head dim", GpuDimUse::Registers);
  valueDim = gpuStaticDim(desc, desc.value, "softmax attention",
                          "value head dim", GpuDimUse::Registers);
  const int D = headDim, Dv = valueDim;

  Expr H = q.dim(2).extent(), M = k.dim(1).extent(), G = k.dim(2).extent();
  Expr groupSize = max(H / max(G, 1), 1);
  Expr hk = h / groupSize;

  // The visible key range [lo, hi) of row i, from the masks' linear bounds.
  KeyBounds bounds = analyzeKeyBounds(desc.masks);
  ExprEnv env = kernelEnv(desc, params, D);
  env.vars = {{"b", b}, {"h", h}};
  auto [lo, hi] = keyRange(bounds, env, i, i);

  // The query row, pre-scaled (registers of its thread).
  qRow(d, i, h, b) = cast<float>(q(d, i, h, b)) * float(desc.scale);

  // One score: Q.K^T over the head dim, then the score modifiers.
  rd = RDom(0, D, "rd");
  dot(j, i, h, b) = 0.0f;
  dot(j, i, h, b) += qRow(rd, i, h, b) * cast<float>(k(rd, j, hk, b));
  ExprEnv elemEnv = env;
  elemEnv.vars = {{"b", b}, {"h", h}, {"i", i}, {"j", j}};
  auto [s, keep] = modifyScore(desc, elemEnv, dot(j, i, h, b));

  // The online softmax over the visible keys (defineOnlineSoftmax); the
  // update runs over (column, key) with the column innermost.
  r = RDom(0, Dv + 2, 0, M, "r");
  RVar col = r.x, key = r.y;
  if (!bounds.lower.empty() || !bounds.upper.empty())
    r.where(key >= lo && key < hi);
  defineOnlineSoftmax(
      state, c, {i, h, b}, r, Dv, substitute(j.name(), key, s),
      substitute(j.name(), key, keep),
      cast<float>(v(clamp(Expr(col), 0, Dv - 1), key, hk, b)));

  // The division; a row with no visible key yields zeros.
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) =
      cast(outType, onlineSoftmaxResult(state, dv, {i, h, b}, Dv));
  constrainOutput(desc, out);

  algorithmOrder = {qRow, dot, state, out};
}

/// Head dims up to this are unrolled fully (the query row in registers);
/// longer rows live in the thread's local memory.
static constexpr int kMaxUnrolledHeadDim = 128;

void GpuAttentionPipeline::schedule() {
  const int rows = int(knobs.at("block_rows"));
  const int ku = int(knobs.at("key_unroll"));
  auto str = [](int v) { return std::to_string(v); };

  // Blocks of `rows` query rows of one (head, batch); a thread per row.
  Var io("io"), ii("ii");
  out.split(i, io, ii, rows, TailStrategy::GuardWithIf)
      .reorder(dv, ii, io, h, b)
      .gpu_blocks(io, h, b)
      .gpu_threads(ii)
      .bound(dv, 0, valueDim)
      .unroll(dv);
  note("out.split(i, io, ii, " + str(rows) +
       ").reorder(dv, ii, io, h, b).gpu_blocks(io, h, b).gpu_threads(ii)"
       ".unroll(dv);");

  // The thread's state and query row, in registers.
  state.compute_at(out, ii)
      .bound(c, 0, valueDim + 2)
      .store_in(MemoryType::Register)
      .unroll(c);
  RVar ro("ro"), ri("ri");
  state.update()
      .split(r.y, ro, ri, ku, TailStrategy::GuardWithIf)
      .reorder(r.x, ri, ro)
      .unroll(r.x)
      .unroll(ri);
  qRow.compute_at(out, ii)
      .bound(d, 0, headDim)
      .store_in(headDim <= kMaxUnrolledHeadDim ? MemoryType::Register
                                               : MemoryType::Stack)
      .unroll(d);
  note("state.compute_at(out, ii).bound(c, 0, Dv + 2)"
       ".store_in(MemoryType::Register).unroll(c);");
  note("state.update().split(r.key, ro, ri, " + str(ku) +
       ").reorder(r.col, ri, ro).unroll(r.col).unroll(ri);");
  note("q_row.compute_at(out, ii).store_in(MemoryType::Register).unroll(d);");

  // One score per key, computed once for all Dv + 2 columns; the head dim
  // is unrolled so the query row stays in registers (constant indices).
  dot.compute_at(state, ri).unroll(j);
  if (headDim <= kMaxUnrolledHeadDim) {
    dot.update().unroll(rd.x);
    note("dot.compute_at(state, ri); dot.update().unroll(rd);");
  } else {
    dot.update().unroll(rd.x, 8, TailStrategy::GuardWithIf);
    note("dot.compute_at(state, ri); dot.update().unroll(rd, 8);");
  }
}
