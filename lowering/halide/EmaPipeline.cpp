//===- EmaPipeline.cpp - Mega's EMA SeqMix in Halide ----------------------===//

#include "lowering/halide/EmaPipeline.h"

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/GpuSchedule.h"

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
  if (target.isGpu()) {
    buildGpu();
    return;
  }
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


//===----------------------------------------------------------------------===//
// GPU (docs/gpu/efficient-forms.md)
//===----------------------------------------------------------------------===//

// The scan branch for every length: FFTW (the FFT branch's extern) cannot
// run on the device, and the chunked scan computes the same causal
// convolution directly (spec §6.3: FFT = recurrence = direct Toeplitz sum).
void EmaPipeline::buildGpu() {
  ImageParam &x = params[desc.emaInput];
  ImageParam &delta = params[desc.emaDelta], &alpha = params[desc.emaAlpha],
             &beta = params[desc.emaBeta], &gamma = params[desc.emaGamma];
  const int ch = int(knobs.at("chunk"));
  const int cb = int(knobs.at("channel_block"));
  const int st = int(knobs.at("block_steps"));
  const TailStrategy guard = TailStrategy::GuardWithIf;
  auto str = [](int v) { return std::to_string(v); };
  Expr L = x.dim(1).extent();
  Expr n = delta.dim(0).extent();

  Func pb("p_beta"), logq("log_q"), gs("gamma_scaled"), powTable("pow_table");
  Expr p = sigmoid(delta(k, c)), a = sigmoid(alpha(k, c));
  pb(k, c) = p * beta(k, c);
  logq(k, c) = log(1.0f - p * a);
  gs(k, c) = gamma(k, c) / sqrt(cast<float>(n));
  powTable(k, c, r) = accurateExp(cast<float>(r) * logq(k, c));
  RDom rk(0, n, "rk");

  // The chunked scan (as the CPU's scan branch), indexed by time step t
  // for the output: chunk t / chunk, step t % chunk.
  Expr T = (L + ch - 1) / ch;
  Func xc("x_chunk"), endState("end_state"), carry("carry"),
      kernelTable("kernel_table"), direct("direct"), carried("carried");
  Expr pos = t * ch + s;
  xc(c, s, t, b) = select(pos < L, x(c, min(pos, L - 1), b), 0.0f);
  RDom rs(0, ch, "rs");
  endState(k, c, t, b) = 0.0f;
  endState(k, c, t, b) +=
      powTable(k, c, ch - 1 - rs) * pb(k, c) * xc(c, rs, t, b);
  // At least one step (a state past the end, never read): no device buffer
  // may be empty.
  RDom rt(1, max(T - 1, 1), "rt");
  carry(k, c, t, b) = 0.0f;
  carry(k, c, rt, b) = powTable(k, c, ch) * carry(k, c, rt - 1, b) +
                       endState(k, c, rt - 1, b);
  kernelTable(c, r) = 0.0f;
  kernelTable(c, r) += gs(rk, c) * pb(rk, c) * powTable(rk, c, r);
  Expr chunkOf = t / ch, step = t % ch;
  RDom rd(0, ch, "rd");
  rd.where(rd <= step);
  direct(c, t, b) = 0.0f;
  direct(c, t, b) += kernelTable(c, step - rd) * xc(c, rd, chunkOf, b);
  carried(c, t, b) = 0.0f;
  carried(c, t, b) +=
      gs(rk, c) * powTable(rk, c, step + 1) * carry(rk, c, chunkOf, b);
  Expr y = direct(c, t, b) + carried(c, t, b);
  Expr value = y;
  if (desc.emaCompat == "code") {
    Expr z = y + params[desc.emaOmega](c) * x(c, t, b);
    value = z * sigmoid(z);
  }
  out(c, t, b) = cast(halideType(desc.args[desc.out].dtype), value);
  constrainOutput(desc, out);
  algorithmOrder = {pb,    logq,        gs,     powTable, xc, endState,
                    carry, kernelTable, direct, carried,  out};

  // Tables, chunk end states and the carried prefix at the root (a thread
  // per element; the prefix over chunks serial per thread).
  gpuRoot(pb, {8, 32});
  gpuRoot(logq, {8, 32});
  gpuRoot(gs, {8, 32});
  gpuRoot(powTable, {8, 32});
  gpuRoot(endState, {8, 32});
  gpuRoot(carry, {8, 32});
  gpuRoot(kernelTable, {32, 8});
  // Output: a block per (channel_block channels, block_steps steps of one
  // chunk, b), a thread per (channel, step) accumulating in registers; the
  // chunk's inputs and the kernel K[c, 0..chunk] of the block's channels in
  // shared memory.
  Var co("co"), ci("ci"), to("to"), ti("ti"), ro("ro"), ri("ri");
  out.split(c, co, ci, cb, guard)
      .split(t, to, ti, st, guard)
      .reorder(ci, ti, co, to, b)
      .gpu_blocks(co, to, b)
      .gpu_threads(ci, ti);
  Func xS = xc.in(direct), kS = kernelTable.in(direct);
  xS.compute_at(out, co)
      .store_in(MemoryType::GPUShared)
      .bound(s, 0, ch)
      .split(s, ro, ri, st, guard)
      .reorder(c, ri, ro)
      .gpu_threads(c, ri);
  kS.compute_at(out, co)
      .store_in(MemoryType::GPUShared)
      .split(r, ro, ri, st, guard)
      .reorder(c, ri, ro)
      .gpu_threads(c, ri);
  direct.compute_at(out, ci).store_in(MemoryType::Register);
  carried.compute_at(out, ci).store_in(MemoryType::Register);
  scheduleLog = {
      "// no FFT on the device: the chunked scan for every length "
      "(fft_min_length does not apply)",
      "p_beta, log_q, gamma_scaled, pow_table, end_state, carry (the prefix "
      "over chunks, serial per thread), kernel_table: compute_root on the "
      "device",
      "out.split(c, co, ci, " + str(cb) + ").split(t, to, ti, " + str(st) +
          ").gpu_blocks(co, to, b).gpu_threads(ci, ti);  // chunk " +
          str(ch),
      "x_chunk.in(direct), kernel_table.in(direct): compute_at(out, co)"
      ".store_in(GPUShared); direct, carried: compute_at(out, ci)"
      ".store_in(Register)"};
}
