//===- BlockOps.cpp - norms, elementwise, layout and window ops -----------===//
//
// The definitions of block kernels' norms (with per-row statistics),
// activations, residual adds, layout changes (split/merge heads, slice,
// concat), depthwise convolutions (conv1d, conv2d) and pooling.  They are
// stored row by row by the driver's row schedule (BlockPipeline.cpp).
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipelineImpl.h"

#include "lowering/halide/ExprBuilder.h"

#include <cmath>

using namespace Halide;
using namespace attn;
using namespace attn::halide;
using namespace attn::halide::blockdetail;

namespace {

/// Horner evaluation of `coeffs` (highest degree first) at `t`.
Expr horner(const std::vector<float> &coeffs, Expr t) {
  Expr p = coeffs[0];
  for (size_t n = 1; n < coeffs.size(); ++n)
    p = p * t + coeffs[n];
  return p;
}

} // namespace

/// erf(x) for float32, vectorizable (Halide 14 has no erf).  |x| < 0.75:
/// x P(x^2) with P of degree 6 (Chebyshev fit of erf(sqrt(z))/sqrt(z),
/// relative error 1e-9); 0.75 <= |x| < 3.92: 1 - Q(|x| - 2.335) with Q of
/// degree 14 (Chebyshev fit of erfc, error 2e-8); beyond, +-1 (1 - erf(3.92)
/// is below half an ulp of 1).  Measured max abs error 1.1e-7 in float
/// (BlockPipelineTest checks < 2e-7 against std::erf).

Expr attn::halide::accurateErf(Expr x) {
  static const std::vector<float> small = {
      9.470462100580335e-05f, -0.0008356928010471165f,
      0.005216789431869984f,  -0.02686477266252041f,
      0.1128377839922905f,    -0.37612637877464294f,
      1.128379225730896f};
  static const std::vector<float> large = {
      -1.5422972410306102e-06f, 2.5342421849927632e-06f,
      1.880910713225603e-05f,   -5.4439598898170516e-05f,
      -3.159378684358671e-05f,  0.00037624576361849904f,
      -0.0007265949388965964f,  6.843379378551617e-05f,
      0.003124105278402567f,    -0.009097715839743614f,
      0.014878662303090096f,    -0.015971556305885315f,
      0.011294657364487648f,    -0.004836953245103359f,
      0.0009593350114300847f};
  Expr ax = abs(x);
  Expr z = ax * ax;
  Expr nearZero = ax * horner(small, z);
  Expr body = 1.0f - horner(large, ax - 2.3350000381469727f);
  Expr y = select(ax < 0.75f, nearZero, select(ax < 3.92f, body, 1.0f));
  return select(x < 0.0f, -y, y);
}

void BlockPipeline::Impl::defineNorm(int n) {
  const BlockOpDesc &op = desc.ops[n];
  bool layer = op.op == "layernorm";
  size_t arity = layer ? 3 : 2;
  if (op.inputs.size() != arity)
    fail(opLabel(n) + ": takes " + std::to_string(arity) + " inputs, got " +
         std::to_string(op.inputs.size()));
  int x = op.inputs[0];
  const std::vector<int64_t> &xs = shapeOf(x);
  int64_t E = xs.back();
  for (size_t p = 1; p < arity; ++p)
    if (shapeOf(op.inputs[p]) != std::vector<int64_t>{E})
      fail(opLabel(n) + ": " + (p == 1 ? "gamma" : "beta") + " shape " +
           shapeText(shapeOf(op.inputs[p])) + " is not [" +
           std::to_string(E) + "]");
  if (xs != op.shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " differs from its input's " + shapeText(xs));
  if (op.eps < 0)
    fail(opLabel(n) + ": eps must not be negative");

  Value &res = values[op.result];
  std::string name = res.func.name();
  size_t rank = xs.size();
  std::vector<Expr> pure = pureArgs(rank), rows = pureArgs(rank, 1);
  Var l = vars[0];
  // Partial sums over the row in `lanes` vector lanes, then their sum.
  int lanes = int(std::min<int64_t>(vw, E));
  int chunks = int((E + lanes - 1) / lanes);
  RDom rj(0, chunks, name + "_rj");
  Expr e = l + lanes * rj.x;
  std::vector<Expr> idx = {min(e, int(E - 1))};
  idx.insert(idx.end(), rows.begin(), rows.end());
  Expr xe = at(x, idx);
  Expr inRow = e < int(E);
  std::vector<Expr> lane = {l};
  lane.insert(lane.end(), rows.begin(), rows.end());
  auto laneSum = [&](Func partial) {
    Expr s = 0.0f;
    for (int q = 0; q < lanes; ++q) {
      std::vector<Expr> at = {q};
      at.insert(at.end(), rows.begin(), rows.end());
      s = s + partial(at);
    }
    return s;
  };
  NormStats st;
  st.result = op.result;
  Func rstd(name + "_rstd");
  Expr center = 0.0f;
  Expr xAt = at(x, pure);
  if (layer) {
    Func psum(name + "_psum"), mean(name + "_mean");
    psum(lane) = 0.0f;
    psum(lane) += select(inRow, xe, 0.0f);
    mean(rows) = laneSum(psum) * float(1.0 / double(E));
    center = mean(rows);
    st.partial.push_back(psum);
    st.perRow.push_back(mean);
    algorithmOrder.push_back(psum);
    algorithmOrder.push_back(mean);
  }
  Func psq(name + "_psq");
  Expr dev = layer ? xe - center : xe;
  psq(lane) = 0.0f;
  psq(lane) += select(inRow, dev * dev, 0.0f);
  rstd(rows) =
      1.0f / sqrt(laneSum(psq) * float(1.0 / double(E)) + float(op.eps));
  st.partial.push_back(psq);
  st.perRow.push_back(rstd);
  algorithmOrder.push_back(psq);
  algorithmOrder.push_back(rstd);
  Expr y = (xAt - center) * rstd(rows) * at(op.inputs[1], {l});
  if (layer)
    y = y + at(op.inputs[2], {l});
  if (desc.isArg(op.result))
    y = cast(halideType(desc.args[op.result].dtype), y);
  res.func(pure) = y;
  norms.push_back(st);
}

Expr BlockPipeline::Impl::defineSimple(int n, std::vector<int64_t> &shape) {
  const BlockOpDesc &op = desc.ops[n];
  auto arity = [&](size_t count) {
    if (op.inputs.size() != count)
      fail(opLabel(n) + ": takes " + std::to_string(count) +
           " input(s), got " + std::to_string(op.inputs.size()));
  };
  if (op.inputs.empty())
    fail(opLabel(n) + ": has no input");
  int x = op.inputs[0];
  const std::vector<int64_t> &xs = shapeOf(x);
  size_t rank = xs.size();
  std::vector<Expr> pure = pureArgs(rank), rest = pureArgs(rank, 1);
  Expr v0 = vars[0];
  if (op.op == "gelu" || op.op == "relu" || op.op == "silu") {
    arity(1);
    shape = xs;
    Expr a = at(x, pure);
    if (op.op == "relu")
      return max(a, 0.0f);
    if (op.op == "gelu")
      return 0.5f * a * (1.0f + accurateErf(a * 0.70710678118654752f));
    // silu: x * sigmoid(x) with exp of -|x| only (no overflow).
    Expr e = accurateExp(-abs(a));
    return a * select(a >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));
  }
  if (op.op == "add") {
    arity(2);
    if (shapeOf(op.inputs[1]) != xs)
      fail(opLabel(n) + ": operand shapes " + shapeText(xs) + " and " +
           shapeText(shapeOf(op.inputs[1])) + " differ");
    shape = xs;
    return at(x, pure) + at(op.inputs[1], pure);
  }
  if (op.op == "split_heads") {
    arity(1);
    if (rank != 3 || op.heads <= 0 || xs[2] % op.heads != 0)
      fail(opLabel(n) + ": input " + shapeText(xs) +
           " is not [B, N, H*D] with heads = " + std::to_string(op.heads));
    int64_t D = xs[2] / op.heads;
    shape = {xs[0], op.heads, xs[1], D};
    return at(x, {vars[2] * int(D) + vars[0], vars[1], vars[3]});
  }
  if (op.op == "merge_heads") {
    arity(1);
    if (rank != 4)
      fail(opLabel(n) + ": input " + shapeText(xs) + " is not [B, H, N, D]");
    int D = int(xs[3]);
    shape = {xs[0], xs[2], xs[1] * xs[3]};
    return at(x, {v0 % D, vars[1], v0 / D, vars[2]});
  }
  if (op.op == "slice") {
    arity(1);
    if (op.offset < 0 || op.size <= 0 || op.offset + op.size > xs.back())
      fail(opLabel(n) + ": range [" + std::to_string(op.offset) + ", " +
           std::to_string(op.offset + op.size) + ") is outside the last " +
           "axis of " + shapeText(xs));
    shape = xs;
    shape.back() = op.size;
    std::vector<Expr> idx = pure;
    idx[0] = v0 + int(op.offset);
    return at(x, idx);
  }
  if (op.op == "concat") {
    arity(2);
    const std::vector<int64_t> &ys = shapeOf(op.inputs[1]);
    if (ys.size() != rank ||
        !std::equal(xs.begin(), xs.end() - 1, ys.begin()))
      fail(opLabel(n) + ": operands " + shapeText(xs) + " and " +
           shapeText(ys) + " differ outside the last axis");
    int64_t c1 = xs.back();
    shape = xs;
    shape.back() = c1 + ys.back();
    std::vector<Expr> first = pure, second = pure;
    first[0] = min(v0, int(c1 - 1));
    second[0] = max(v0 - int(c1), 0);
    return select(v0 < int(c1), at(x, first), at(op.inputs[1], second));
  }
  fail(opLabel(n) + ": unsupported block op '" + op.op + "'");
}

void BlockPipeline::Impl::defineConv1d(int n) {
  const BlockOpDesc &op = desc.ops[n];
  std::string mode = op.mode.empty() ? "mul" : op.mode;
  if (mode != "mul" && mode != "adder")
    fail(opLabel(n) + ": unknown mode '" + op.mode +
         "' (expected mul or adder)");
  if (op.padding != "same" && op.padding != "causal")
    fail(opLabel(n) + ": unknown padding '" + op.padding +
         "' (expected same or causal)");
  if (op.inputs.size() != 2 && op.inputs.size() != 3)
    fail(opLabel(n) + ": takes 2 or 3 inputs, got " +
         std::to_string(op.inputs.size()));
  const std::vector<int64_t> &xs = shapeOf(op.inputs[0]),
                             &ws = shapeOf(op.inputs[1]);
  if (xs.size() != 3)
    fail(opLabel(n) + ": input " + shapeText(xs) + " is not [B, N, C]");
  int64_t C = xs[2], N = xs[1];
  if (ws.size() != 2 || ws[0] != C)
    fail(opLabel(n) + ": weight " + shapeText(ws) + " is not [" +
         std::to_string(C) + ", K]");
  int64_t K = ws[1];
  if (op.window > 0 && op.window != K)
    fail(opLabel(n) + ": window " + std::to_string(op.window) +
         " differs from the weight's kernel size " + std::to_string(K));
  if (K > kMaxWindowTerms)
    fail(opLabel(n) + ": kernel size " + std::to_string(K) +
         " exceeds the supported " + std::to_string(kMaxWindowTerms));
  if (op.inputs.size() == 3 &&
      shapeOf(op.inputs[2]) != std::vector<int64_t>{C})
    fail(opLabel(n) + ": bias " + shapeText(shapeOf(op.inputs[2])) +
         " is not [" + std::to_string(C) + "]");
  if (op.shape != xs)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " differs from its input's " + shapeText(xs));
  Value &res = values[op.result];
  Var c = vars[0], t = vars[1], b = vars[2];
  Func wT(res.func.name() + "_w_t");
  wT(c, t) = at(op.inputs[1], {t, c});
  smallRoots.push_back(wT);
  algorithmOrder.push_back(wT);
  int64_t pad = op.padding == "same" ? (K - 1) / 2 : K - 1;
  Expr sum = op.inputs.size() == 3 ? at(op.inputs[2], {c}) : Expr(0.0f);
  for (int64_t k = 0; k < K; ++k) {
    Expr pos = t + int(k - pad);
    Expr xk = select(pos >= 0 && pos < int(N),
                     at(op.inputs[0], {c, clamp(pos, 0, int(N - 1)), b}),
                     0.0f);
    Expr w = wT(c, int(k));
    sum = sum + (mode == "mul" ? xk * w : -abs(xk - w));
  }
  if (desc.isArg(op.result))
    sum = cast(halideType(desc.args[op.result].dtype), sum);
  res.func(c, t, b) = sum;
}

void BlockPipeline::Impl::defineGrid(int n) {
  const BlockOpDesc &op = desc.ops[n];
  bool conv = op.op == "conv2d";
  const std::vector<int64_t> &xs = shapeOf(op.inputs[0]);
  if (conv && op.inputs.size() != 2 && op.inputs.size() != 3)
    fail(opLabel(n) + ": takes 2 or 3 inputs, got " +
         std::to_string(op.inputs.size()));
  if (!conv && op.inputs.size() != 1)
    fail(opLabel(n) + ": takes 1 input, got " +
         std::to_string(op.inputs.size()));
  if (xs.size() != 3)
    fail(opLabel(n) + ": input " + shapeText(xs) +
         " is not [B, Hh*Ww, C]");
  if (op.grid.size() != 2 || op.grid[0] <= 0 || op.grid[1] <= 0 ||
      op.grid[0] * op.grid[1] != xs[1])
    fail(opLabel(n) + ": grid " + shapeText(op.grid) +
         " does not cover the " + std::to_string(xs[1]) + " tokens of " +
         shapeText(xs));
  if (op.stride < 1)
    fail(opLabel(n) + ": stride must be at least 1");
  int64_t C = xs[2], Hh = op.grid[0], Ww = op.grid[1];
  int64_t k = op.window;
  bool adder = op.mode == "adder";
  if (conv) {
    if (op.mode != "" && op.mode != "mul" && !adder)
      fail(opLabel(n) + ": unknown mode '" + op.mode +
           "' (expected mul or adder)");
    const std::vector<int64_t> &ws = shapeOf(op.inputs[1]);
    if (ws.size() != 3 || ws[0] != C || ws[1] != ws[2] ||
        (k > 0 && ws[1] != k))
      fail(opLabel(n) + ": weight " + shapeText(ws) + " is not [" +
           std::to_string(C) + ", k, k]" +
           (k > 0 ? " with k = " + std::to_string(k) : ""));
    k = ws[1];
    if (op.inputs.size() == 3 &&
        shapeOf(op.inputs[2]) != std::vector<int64_t>{C})
      fail(opLabel(n) + ": bias " + shapeText(shapeOf(op.inputs[2])) +
           " is not [" + std::to_string(C) + "]");
  } else if (op.mode != "avg" && op.mode != "max") {
    fail(opLabel(n) + ": unknown mode '" + op.mode + "' (expected avg or max)");
  }
  if (k < 1 || k * k > kMaxWindowTerms)
    fail(opLabel(n) + ": window " + std::to_string(k) + " is not in [1, " +
         std::to_string(int(std::sqrt(double(kMaxWindowTerms)))) + "]");
  int64_t pad = conv ? k / 2 : 0;
  int64_t Ho = (Hh + 2 * pad - k) / op.stride + 1,
          Wo = (Ww + 2 * pad - k) / op.stride + 1;
  if (Hh + 2 * pad < k || Ww + 2 * pad < k)
    fail(opLabel(n) + ": window " + std::to_string(k) +
         " is larger than the grid " + shapeText(op.grid));
  std::vector<int64_t> shape = {xs[0], Ho * Wo, C};
  if (op.shape != shape)
    fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
         " does not match " + shapeText(shape));

  Value &res = values[op.result];
  Var c = vars[0], t = vars[1], b = vars[2];
  Expr oy = t / int(Wo), ox = t % int(Wo);
  Func wT;
  if (conv) {
    wT = Func(res.func.name() + "_w_t");
    wT(c, vars[1], vars[2]) = at(op.inputs[1], {vars[1], vars[2], c});
    smallRoots.push_back(wT);
    algorithmOrder.push_back(wT);
  }
  Expr acc = conv ? (op.inputs.size() == 3 ? at(op.inputs[2], {c})
                                           : Expr(0.0f))
                  : Expr();
  for (int64_t ky = 0; ky < k; ++ky)
    for (int64_t kx = 0; kx < k; ++kx) {
      Expr iy = oy * int(op.stride) + int(ky - pad);
      Expr ix = ox * int(op.stride) + int(kx - pad);
      Expr token = clamp(iy * int(Ww) + ix, 0, int(Hh * Ww - 1));
      Expr xv = at(op.inputs[0], {c, token, b});
      if (conv) {
        Expr inside = iy >= 0 && iy < int(Hh) && ix >= 0 && ix < int(Ww);
        Expr xz = select(inside, xv, 0.0f), w = wT(c, int(kx), int(ky));
        acc = adder ? acc - abs(xz - w) : acc + xz * w;
      } else if (!acc.defined()) {
        acc = xv;
      } else {
        acc = op.mode == "max" ? max(acc, xv) : acc + xv;
      }
    }
  if (!conv && op.mode == "avg")
    acc = acc * float(1.0 / double(k * k));
  if (desc.isArg(op.result))
    acc = cast(halideType(desc.args[op.result].dtype), acc);
  res.func(c, t, b) = acc;
}

