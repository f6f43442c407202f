//===- EmaPipeline.cpp - Mega's EMA SeqMix in Halide ----------------------===//

#include "lowering/halide/EmaPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"

using namespace Halide;
using namespace attn;
using namespace attn::halide;

static Expr sigmoid(Expr x) { return 1.0f / (1.0f + accurateExp(-x)); }

void EmaPipeline::build() {
  params = makeInputParams(desc);
  ImageParam &x = params[desc.emaInput];
  ImageParam &delta = params[desc.emaDelta], &alpha = params[desc.emaAlpha],
             &beta = params[desc.emaBeta], &gamma = params[desc.emaGamma];
  if (x.dimensions() != 3 || delta.dimensions() != 2)
    throw CompileError("ema needs x: [B, L, C] and parameters [C, n]");
  const int vw = int(knobs.at("vector_width"));
  const int ch = int(knobs.at("chunk"));
  const int64_t fftMin = knobs.at("fft_min_length");
  Expr C = x.dim(0).extent(), L = x.dim(1).extent(), B = x.dim(2).extent();
  Expr n = delta.dim(0).extent();

  // Per (order k, channel c): p * beta, the decay q = 1 - p a and its log,
  // and the readout weight gamma n^-1/2.
  Func pb("p_beta"), logq("log_q"), gs("gamma_scaled");
  Expr p = sigmoid(delta(k, c)), a = sigmoid(alpha(k, c));
  pb(k, c) = p * beta(k, c);
  logq(k, c) = log(1.0f - p * a);
  gs(k, c) = gamma(k, c) / sqrt(cast<float>(n));
  // q^r = exp(r log q) (never q^-r) for r in [0, chunk], tabulated.
  Func powTable("pow_table");
  powTable(k, c, r) = accurateExp(cast<float>(r) * logq(k, c));
  auto power = [&](Expr rr) { return powTable(k, c, rr); };
  RDom rk(0, n, "rk");

  // ---- Scan branch ----------------------------------------------------
  Expr T = (L + ch - 1) / ch;
  Func xc("x_chunk"), endState("end_state"), carry("carry"),
      kernelTable("kernel_table"), yScan("y_scan");
  Expr pos = t * ch + s;
  xc(c, s, t, b) = select(pos < L, x(c, min(pos, L - 1), b), 0.0f);
  RDom rs(0, ch, "rs");
  endState(k, c, t, b) = 0.0f;
  endState(k, c, t, b) += power(ch - 1 - rs) * pb(k, c) * xc(c, rs, t, b);
  RDom rt(1, max(T - 1, 0), "rt");
  carry(k, c, t, b) = 0.0f;
  carry(k, c, rt, b) = power(ch) * carry(k, c, rt - 1, b) +
                       endState(k, c, rt - 1, b);
  // K[c, r] for r in [0, chunk].
  kernelTable(c, r) = 0.0f;
  kernelTable(c, r) += gs(rk, c) * pb(rk, c) * powTable(rk, c, r);
  RDom rd(0, ch, "rd");
  rd.where(rd <= s);
  Func direct("direct"), carried("carried");
  direct(c, s, t, b) = 0.0f;
  direct(c, s, t, b) += kernelTable(c, s - rd) * xc(c, rd, t, b);
  carried(c, s, t, b) = 0.0f;
  carried(c, s, t, b) +=
      gs(rk, c) * powTable(rk, c, s + 1) * carry(rk, c, t, b);
  yScan(c, s, t, b) = direct(c, s, t, b) + carried(c, s, t, b);

  // ---- FFT branch -----------------------------------------------------
  Func kernelFull("kernel_full"), yFft("y_fft");
  kernelFull(c, t) = 0.0f;
  kernelFull(c, t) += gs(rk, c) * pb(rk, c) *
                      accurateExp(cast<float>(t) * logq(rk, c));
  std::vector<ExternFuncArgument> args = {x, kernelFull, cast<int>(L),
                                          cast<int>(C), cast<int>(B)};
  yFft.define_extern("attn_causal_conv", args, Float(32), {c, t, b});

  // ---- Output ---------------------------------------------------------
  Expr useFft = L >= int(std::min<int64_t>(fftMin, (int64_t(1) << 31) - 1));
  Expr y = select(useFft, yFft(c, t, b), yScan(c, t % ch, t / ch, b));
  Expr value = y;
  if (desc.emaCompat == "code") {
    Expr z = y + params[desc.emaOmega](c) * x(c, t, b);
    value = z * sigmoid(z);
  }
  Func res("normalized");
  res(c, t, b) = value;
  out(c, t, b) = cast(halideType(desc.args[desc.out].dtype), res(c, t, b));
  constrainOutput(desc, out);
  algorithmOrder = {pb,     logq,  gs,   powTable,     xc,    endState,
                    carry,  kernelTable, direct, carried, yScan,
                    kernelFull, res,   out};

  // ---- Schedule -------------------------------------------------------
  // Small per-(k, c) tables first; then, inside each specialization of out
  // (so only the chosen branch runs), the branch's stages.
  for (Func f : {pb, logq, gs})
    f.compute_root();
  powTable.compute_root().vectorize(k, vw, TailStrategy::GuardWithIf);
  Var tb("tb");
  out.fuse(t, b, tb)
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  out.specialize(useFft);
  res.compute_at(out, tb).vectorize(c, vw, TailStrategy::GuardWithIf);
  // Scan stages.
  kernelTable.compute_at(out, Var::outermost())
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  kernelTable.update().reorder(c, rk.x, r)
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  endState.compute_at(out, Var::outermost())
      .vectorize(k, vw, TailStrategy::GuardWithIf);
  endState.update().reorder(k, rs.x, c, t, b)
      .vectorize(k, vw, TailStrategy::GuardWithIf)
      .parallel(t);
  carry.compute_at(out, Var::outermost())
      .vectorize(k, vw, TailStrategy::GuardWithIf);
  carry.update().reorder(k, rt.x, c, b)
      .vectorize(k, vw, TailStrategy::GuardWithIf)
      .parallel(c);
  yScan.compute_at(out, Var::outermost())
      .vectorize(c, vw, TailStrategy::GuardWithIf)
      .parallel(t);
  direct.compute_at(yScan, t).vectorize(c, vw, TailStrategy::GuardWithIf);
  direct.update().reorder(c, rd.x, s)
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  carried.compute_at(yScan, t).vectorize(c, vw, TailStrategy::GuardWithIf);
  carried.update().reorder(c, rk.x, s)
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  xc.in(direct).compute_at(yScan, t)
      .vectorize(c, vw, TailStrategy::GuardWithIf);
  // FFT stages.
  kernelFull.compute_at(out, Var::outermost())
      .vectorize(c, vw, TailStrategy::GuardWithIf)
      .parallel(t, 256);
  kernelFull.update().reorder(c, rk.x, t)
      .vectorize(c, vw, TailStrategy::GuardWithIf)
      .parallel(t, 256);
  yFft.compute_at(out, Var::outermost());
  scheduleLog = {
      "out.specialize(L >= " + std::to_string(fftMin) +
          ");  // FFT branch, else the scan branch",
      "end_state.update().reorder(k, rs, c, t).parallel(t); carry (prefix "
      "over chunks).parallel(c); y_scan.parallel(t) with direct and carried "
      "per chunk (chunk = " + std::to_string(ch) + "), vectorized over c",
      "kernel_full.parallel(t); y_fft = attn_causal_conv (FFTW extern)"};
}

