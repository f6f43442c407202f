//===- BlockPipelineTest.cpp - block kernels against float64 loops --------===//
//
// Each test describes a block kernel (lowering/BlockDesc.h), JIT-compiles
// its Halide pipeline for this machine, runs it on seeded random inputs and
// compares every output with a plain float64 evaluation of the same ops
// (refRun below: straightforward loops, docs/Architectures.md §2).  Shapes
// are chosen odd on purpose: rows that are no multiple of the register
// block, reductions that are no multiple of the vector width, N = 1.
// The GemmThroughput test prints GFLOP/s of the linear op (no assertion).
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipeline.h"
#include "lowering/halide/HalideBackend.h"

#include "HalideRuntime.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace attn;
using namespace attn::halide;

namespace {

//===----------------------------------------------------------------------===//
// Describing kernels
//===----------------------------------------------------------------------===//

TensorArg arg(const std::string &name, std::vector<int64_t> shape,
              bool isOutput = false, const std::string &dtype = "f32") {
  TensorArg a;
  a.name = name;
  a.dtype = dtype;
  a.shape = shape;
  for (int64_t d : shape)
    a.dims.push_back(std::to_string(d));
  a.isOutput = isOutput;
  return a;
}

BlockOpDesc op(const std::string &name, std::vector<int> inputs, int result,
               std::vector<int64_t> shape, const std::string &mode = "") {
  BlockOpDesc o;
  o.op = name;
  o.inputs = std::move(inputs);
  o.result = result;
  o.shape = std::move(shape);
  o.mode = mode;
  return o;
}

TargetInfo host() {
  TargetInfo t;
  std::string err = resolveTarget("host", t);
  EXPECT_EQ(err, "");
  return t;
}

//===----------------------------------------------------------------------===//
// The float64 reference
//===----------------------------------------------------------------------===//

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

int64_t numel(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// Evaluates every op of `desc` in float64 on `values` (the inputs, by
/// value id); returns all values.
std::map<int, Tensor> refRun(const BlockKernelDesc &desc,
                             std::map<int, Tensor> values) {
  for (const BlockOpDesc &o : desc.ops) {
    Tensor out;
    out.shape = o.shape;
    out.data.assign(numel(o.shape), 0.0);
    const Tensor &x = values.at(o.inputs[0]);
    int64_t C = x.shape.back(), rows = numel(x.shape) / C;
    auto in = [&](size_t p) -> const Tensor & {
      return values.at(o.inputs[p]);
    };
    if (o.op == "linear") {
      const Tensor &w = in(1);
      int64_t F = w.shape[0];
      bool shift = o.mode == "shift";
      const Tensor *b = o.inputs.size() == (shift ? 4u : 3u)
                            ? &in(o.inputs.size() - 1)
                            : nullptr;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t f = 0; f < F; ++f) {
          double acc = 0;
          int64_t iacc = 0;
          for (int64_t k = 0; k < C; ++k) {
            double xv = x.data[r * C + k], wv = w.data[f * C + k];
            if (o.mode == "adder") {
              acc -= std::fabs(xv - wv);
            } else if (shift) {
              double q = std::nearbyint(xv * 65536.0);
              q = std::min(std::max(q, -2147483648.0), 2147483647.0);
              int32_t xq = int32_t(q);
              int32_t s = int32_t(-wv);
              int64_t sg = int64_t(in(2).data[f * C + k]);
              iacc += sg * int64_t(xq >> s);
            } else {
              acc += xv * wv;
            }
          }
          if (shift)
            acc = double(iacc) * (1.0 / 65536.0);
          out.data[r * F + f] = acc + (b ? b->data[f] : 0.0);
        }
    } else if (o.op == "layernorm" || o.op == "rmsnorm") {
      for (int64_t r = 0; r < rows; ++r) {
        const double *row = &x.data[r * C];
        double mean = 0, var = 0;
        if (o.op == "layernorm") {
          for (int64_t e = 0; e < C; ++e)
            mean += row[e];
          mean /= C;
        }
        for (int64_t e = 0; e < C; ++e)
          var += (row[e] - mean) * (row[e] - mean);
        double rstd = 1.0 / std::sqrt(var / C + o.eps);
        for (int64_t e = 0; e < C; ++e) {
          double y = (row[e] - mean) * rstd * in(1).data[e];
          if (o.op == "layernorm")
            y += in(2).data[e];
          out.data[r * C + e] = y;
        }
      }
    } else if (o.op == "gelu" || o.op == "relu" || o.op == "silu" ||
               o.op == "add") {
      for (size_t n = 0; n < x.data.size(); ++n) {
        double v = x.data[n];
        if (o.op == "gelu")
          v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
        else if (o.op == "relu")
          v = std::max(v, 0.0);
        else if (o.op == "silu")
          v = v / (1.0 + std::exp(-v));
        else
          v += in(1).data[n];
        out.data[n] = v;
      }
    } else if (o.op == "split_heads" || o.op == "merge_heads") {
      bool split = o.op == "split_heads";
      int64_t B = x.shape[0];
      int64_t H = split ? o.heads : x.shape[1];
      int64_t N = split ? x.shape[1] : x.shape[2];
      int64_t D = split ? x.shape[2] / H : x.shape[3];
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t t = 0; t < N; ++t)
            for (int64_t d = 0; d < D; ++d) {
              int64_t flat = ((b * N + t) * H + h) * D + d;
              int64_t heads = ((b * H + h) * N + t) * D + d;
              if (split)
                out.data[heads] = x.data[flat];
              else
                out.data[flat] = x.data[heads];
            }
    } else if (o.op == "slice" || o.op == "concat") {
      int64_t Co = o.shape.back();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < Co; ++c) {
          double v;
          if (o.op == "slice") {
            v = x.data[r * C + o.offset + c];
          } else {
            int64_t C2 = in(1).shape.back();
            v = c < C ? x.data[r * C + c] : in(1).data[r * C2 + c - C];
          }
          out.data[r * Co + c] = v;
        }
    } else if (o.op == "conv1d") {
      int64_t B = x.shape[0], N = x.shape[1], K = in(1).shape[1];
      int64_t p = o.padding == "same" ? (K - 1) / 2 : K - 1;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < N; ++t)
          for (int64_t c = 0; c < C; ++c) {
            double acc = o.inputs.size() == 3 ? in(2).data[c] : 0.0;
            for (int64_t k = 0; k < K; ++k) {
              int64_t s = t + k - p;
              double xv = s >= 0 && s < N ? x.data[(b * N + s) * C + c] : 0;
              double wv = in(1).data[c * K + k];
              acc += o.mode == "adder" ? -std::fabs(xv - wv) : xv * wv;
            }
            out.data[(b * N + t) * C + c] = acc;
          }
    } else if (o.op == "conv2d" || o.op == "pool") {
      bool conv = o.op == "conv2d";
      int64_t B = x.shape[0], N = x.shape[1], Hh = o.grid[0],
              Ww = o.grid[1];
      int64_t k = conv ? in(1).shape[1] : o.window, s = o.stride;
      int64_t pad = conv ? k / 2 : 0;
      int64_t Ho = (Hh + 2 * pad - k) / s + 1, Wo = (Ww + 2 * pad - k) / s + 1;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t oy = 0; oy < Ho; ++oy)
          for (int64_t ox = 0; ox < Wo; ++ox)
            for (int64_t c = 0; c < C; ++c) {
              double acc = conv && o.inputs.size() == 3 ? in(2).data[c] : 0;
              if (o.mode == "max")
                acc = -1e300;
              for (int64_t ky = 0; ky < k; ++ky)
                for (int64_t kx = 0; kx < k; ++kx) {
                  int64_t iy = oy * s + ky - pad, ix = ox * s + kx - pad;
                  bool inside = iy >= 0 && iy < Hh && ix >= 0 && ix < Ww;
                  double xv =
                      inside ? x.data[(b * N + iy * Ww + ix) * C + c] : 0;
                  double wv = conv ? in(1).data[(c * k + ky) * k + kx] : 0;
                  if (conv && o.mode == "adder")
                    acc -= std::fabs(xv - wv);
                  else if (conv)
                    acc += xv * wv;
                  else if (o.mode == "max")
                    acc = std::max(acc, xv);
                  else
                    acc += xv / double(k * k);
                }
              out.data[(b * Ho * Wo + oy * Wo + ox) * C + c] = acc;
            }
    } else if (o.op == "scores" || o.op == "attend") {
      // scores: s = scale q·k; attend: o = a·v; head h reads group h/(H/G).
      const Tensor &z = in(1);
      int64_t B = x.shape[0], H = x.shape[1], N = x.shape[2],
              K = x.shape[3], G = z.shape[1], Zr = z.shape[2],
              Zc = z.shape[3], Co = o.shape[3];
      bool scores = o.op == "scores";
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t i = 0; i < N; ++i)
            for (int64_t c = 0; c < Co; ++c) {
              double acc = 0;
              int64_t zb = (b * G + h / (H / G)) * Zr * Zc;
              for (int64_t r = 0; r < K; ++r)
                acc += x.data[((b * H + h) * N + i) * K + r] *
                       z.data[zb + (scores ? c * Zc + r : r * Zc + c)];
              out.data[((b * H + h) * N + i) * Co + c] =
                  scores ? o.scale * acc : acc;
            }
    } else if (o.op == "blend") {
      for (size_t n = 0; n < x.data.size(); ++n)
        out.data[n] = (1 - o.scale) * x.data[n] + o.scale * in(1).data[n];
    } else if (o.op == "map_conv") {
      int64_t B = x.shape[0], H = x.shape[1], N = x.shape[2], M = x.shape[3];
      int64_t k = in(1).shape[3], p = k / 2;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t oh = 0; oh < H; ++oh)
          for (int64_t i = 0; i < N; ++i)
            for (int64_t j = 0; j < M; ++j) {
              double acc = in(2).data[oh];
              for (int64_t c = 0; c < H; ++c)
                for (int64_t a = 0; a < k; ++a)
                  for (int64_t e = 0; e < k; ++e) {
                    int64_t r = i + a - p, t = j + e - p;
                    if (r >= 0 && r < N && t >= 0 && t < M)
                      acc += in(1).data[((oh * H + c) * k + a) * k + e] *
                             x.data[((b * H + c) * N + r) * M + t];
                  }
              if (o.act == "leaky_relu" && acc < 0)
                acc *= 0.01;
              out.data[((b * H + oh) * N + i) * M + j] = acc;
            }
    } else if (o.op == "softmax") {
      int64_t N = x.shape[2], M = x.shape[3];
      for (int64_t r = 0; r < rows; ++r) {
        int64_t i = r % N;
        int64_t kept = o.causal ? std::clamp<int64_t>(i + M - N + 1, 0, M) : M;
        if (kept == 0)
          continue;
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < kept; ++j)
          mx = std::max(mx, x.data[r * M + j]);
        for (int64_t j = 0; j < kept; ++j)
          sum += std::exp(x.data[r * M + j] - mx);
        for (int64_t j = 0; j < kept; ++j)
          out.data[r * M + j] = std::exp(x.data[r * M + j] - mx) / sum;
      }
    } else {
      ADD_FAILURE() << "reference has no op " << o.op;
    }
    values[o.result] = out;
  }
  return values;
}

//===----------------------------------------------------------------------===//
// Running kernels
//===----------------------------------------------------------------------===//

/// Host data of one argument (float or int32, C order).
struct HostArg {
  std::vector<float> f;
  std::vector<int32_t> i;
};

std::vector<int> halideShape(const std::vector<int64_t> &shape) {
  return std::vector<int>(shape.rbegin(), shape.rend());
}

/// Fills inputs: f32 uniform in [-1, 1] (weights of a linear scaled by
/// 1/sqrt(K)), i32 named "shift*" in [-31, 0], others in {-1, 0, 1}.
std::vector<HostArg> randomInputs(const BlockKernelDesc &desc,
                                  unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<HostArg> host(desc.args.size());
  for (size_t a = 0; a < desc.args.size(); ++a) {
    const TensorArg &t = desc.args[a];
    if (t.isOutput)
      continue;
    int64_t n = numel(t.shape);
    if (t.dtype == "i32") {
      bool shift = t.name.rfind("shift", 0) == 0;
      std::uniform_int_distribution<int> d(shift ? -31 : -1, shift ? 0 : 1);
      for (int64_t e = 0; e < n; ++e)
        host[a].i.push_back(d(rng));
    } else {
      double scale = 1.0;
      if (t.name.rfind("w", 0) == 0 && t.shape.size() == 2)
        scale = 1.0 / std::sqrt(double(t.shape[1]));
      std::uniform_real_distribution<double> d(-scale, scale);
      for (int64_t e = 0; e < n; ++e)
        host[a].f.push_back(float(d(rng)));
    }
  }
  return host;
}

/// Halide buffers over `host` (outputs allocated).
std::vector<Halide::Buffer<>> wrap(const BlockKernelDesc &desc,
                                   std::vector<HostArg> &host) {
  std::vector<Halide::Buffer<>> buffers;
  for (size_t a = 0; a < desc.args.size(); ++a) {
    const TensorArg &t = desc.args[a];
    std::vector<int> shape = halideShape(t.shape);
    if (t.isOutput)
      host[a].f.assign(numel(t.shape), std::nanf(""));
    if (t.dtype == "i32")
      buffers.push_back(Halide::Buffer<int32_t>(host[a].i.data(), shape));
    else
      buffers.push_back(Halide::Buffer<float>(host[a].f.data(), shape));
  }
  return buffers;
}

/// JIT-compiles and runs `desc`, compares each output with the float64
/// reference: max |got - ref| <= tol * max(1, max |ref|), or bit equality
/// with float(ref) when `exact`.
void check(const BlockKernelDesc &desc, double tol = 2e-5,
           bool exact = false, unsigned seed = 1,
           std::function<void(std::vector<HostArg> &)> adjust = {}) {
  SCOPED_TRACE("kernel " + desc.name);
  BlockKernelJit jit;
  std::string err = jit.compile(desc, host());
  ASSERT_EQ(err, "");
  std::vector<HostArg> data = randomInputs(desc, seed);
  if (adjust)
    adjust(data);
  std::vector<Halide::Buffer<>> buffers = wrap(desc, data);
  ASSERT_EQ(jit.run(buffers), "");
  std::map<int, Tensor> in;
  for (int a = 0; a < desc.numArgs(); ++a)
    if (!desc.args[a].isOutput) {
      Tensor t;
      t.shape = desc.args[a].shape;
      if (desc.args[a].dtype == "i32")
        t.data.assign(data[a].i.begin(), data[a].i.end());
      else
        t.data.assign(data[a].f.begin(), data[a].f.end());
      in[a] = t;
    }
  std::map<int, Tensor> ref = refRun(desc, in);
  for (int a = 0; a < desc.numArgs(); ++a) {
    if (!desc.args[a].isOutput)
      continue;
    const std::vector<double> &r = ref.at(a).data;
    const std::vector<float> &g = data[a].f;
    double maxRef = 1.0, maxErr = 0.0;
    int64_t worst = 0, mismatches = 0;
    for (size_t n = 0; n < r.size(); ++n)
      maxRef = std::max(maxRef, std::fabs(r[n]));
    for (size_t n = 0; n < r.size(); ++n) {
      double e = std::fabs(double(g[n]) - r[n]);
      if (!(e <= maxErr)) { // NaN counts as the worst
        maxErr = std::isnan(e) ? INFINITY : e;
        worst = int64_t(n);
      }
      if (exact && g[n] != float(r[n]))
        ++mismatches;
    }
    if (exact) {
      EXPECT_EQ(mismatches, 0) << "output " << desc.args[a].name;
      continue;
    }
    EXPECT_LE(maxErr, tol * maxRef)
        << "output " << desc.args[a].name << ": worst element " << worst
        << " got " << g[worst] << " expected " << r[worst];
  }
}

/// One linear: x [shape..., K] -> [shape..., F].
BlockKernelDesc linearKernel(const std::string &mode,
                             std::vector<int64_t> rows, int64_t K, int64_t F,
                             bool bias) {
  BlockKernelDesc d;
  d.name = "lin_" + mode;
  std::vector<int64_t> xs = rows, ys = rows;
  xs.push_back(K);
  ys.push_back(F);
  d.args.push_back(arg("x", xs));
  std::vector<int> inputs = {0, 1};
  if (mode == "shift") {
    d.args.push_back(arg("shift", {F, K}, false, "i32"));
    d.args.push_back(arg("sign", {F, K}, false, "i32"));
    inputs.push_back(2);
  } else {
    d.args.push_back(arg("w", {F, K}));
  }
  if (bias) {
    inputs.push_back(int(d.args.size()));
    d.args.push_back(arg("b", {F}));
  }
  int out = int(d.args.size());
  d.args.push_back(arg("y", ys, true));
  d.ops.push_back(op("linear", inputs, out, ys, mode));
  return d;
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

TEST(BlockPipeline, LinearMulShapes) {
  check(linearKernel("mul", {1, 197}, 384, 1152, true));
  check(linearKernel("mul", {2, 13}, 37, 50, true));   // odd everything
  check(linearKernel("mul", {3, 1}, 64, 96, false));   // N = 1
  check(linearKernel("mul", {5}, 20, 5, true));        // F < vector width
  check(linearKernel("mul", {2, 7, 3}, 16, 17, true)); // rank 4
  check(linearKernel("mul", {}, 33, 40, true));        // a single vector
}

TEST(BlockPipeline, LinearMulLarge) {
  // The benchmark's reduction depth, with two batch elements.
  check(linearKernel("mul", {2, 197}, 1536, 384, true));
}

TEST(BlockPipeline, LinearMulKnobs) {
  for (std::map<std::string, int64_t> s :
       std::vector<std::map<std::string, int64_t>>{
           {{"gemm_col_vectors", 1}, {"gemm_rows", 3}},
           {{"gemm_col_vectors", 4}, {"gemm_rows", 6}},
           {{"gemm_col_vectors", 2}, {"gemm_rows", 12}},
           {{"gemm_min_tasks", 64}},
           {{"parallel", 0}},
           {{"vector_width", 8}, {"gemm_col_vectors", 3}}}) {
    BlockKernelDesc d = linearKernel("mul", {2, 29}, 45, 100, true);
    d.schedule = s;
    check(d);
  }
}

TEST(BlockPipeline, LinearAdder) {
  check(linearKernel("adder", {1, 197}, 64, 96, true));
  check(linearKernel("adder", {2, 11}, 19, 21, false));
}

TEST(BlockPipeline, LinearShiftIsExact) {
  check(linearKernel("shift", {1, 37}, 48, 40, true), 0.0, true);
  check(linearKernel("shift", {2, 5}, 19, 7, false), 0.0, true);
  // Ties round to even, large values clamp to the int32 range, negative
  // values shift arithmetically (toward -inf).
  BlockKernelDesc d = linearKernel("shift", {1, 4}, 8, 16, true);
  check(d, 0.0, true, 3, [](std::vector<HostArg> &h) {
    std::vector<float> &x = h[0].f;
    const float ties[] = {0.5f / 65536, 1.5f / 65536, 2.5f / 65536,
                          -0.5f / 65536, -1.5f / 65536, 1e5f, -1e5f,
                          -3.0f / 65536};
    for (size_t n = 0; n < x.size(); ++n)
      x[n] = ties[n % 8] * float(1 + n / 8 % 2);
  });
}

//===----------------------------------------------------------------------===//
// Other ops, one at a time
//===----------------------------------------------------------------------===//

BlockKernelDesc unary(const std::string &name, std::vector<int64_t> shape) {
  BlockKernelDesc d;
  d.name = name;
  d.args = {arg("x", shape), arg("y", shape, true)};
  d.ops.push_back(op(name, {0}, 1, shape));
  return d;
}

TEST(BlockPipeline, Activations) {
  for (const char *name : {"gelu", "relu", "silu"}) {
    check(unary(name, {2, 13, 37}), 1e-6);
    check(unary(name, {1, 1, 5}), 1e-6);
  }
  // Large magnitudes (gelu and silu tails).
  BlockKernelDesc d = unary("silu", {1, 3, 40});
  check(d, 1e-6, false, 2, [](std::vector<HostArg> &h) {
    for (float &v : h[0].f)
      v *= 120.0f;
  });
  d = unary("gelu", {1, 3, 40});
  check(d, 1e-6, false, 2, [](std::vector<HostArg> &h) {
    for (float &v : h[0].f)
      v *= 8.0f;
  });
}

TEST(BlockPipeline, ErfIsFloatAccurate) {
  const int n = 1 << 20;
  Halide::Buffer<float> xs(n);
  for (int i = 0; i < n; ++i)
    xs(i) = -5.0f + 10.0f * float(i) / float(n - 1);
  Halide::ImageParam x(Halide::Float(32), 1, "x");
  Halide::Func f("erf");
  Halide::Var i("i");
  f(i) = accurateErf(x(i));
  f.vectorize(i, 16);
  x.set(xs);
  Halide::Buffer<float> out = f.realize({n});
  double maxErr = 0;
  float worst = 0;
  for (int k = 0; k < n; ++k) {
    double e = std::fabs(double(out(k)) - std::erf(double(xs(k))));
    if (e > maxErr) {
      maxErr = e;
      worst = xs(k);
    }
  }
  EXPECT_LT(maxErr, 2e-7) << "at x = " << worst;
  EXPECT_EQ(out(n / 2 - 1) == -out(n / 2), true); // odd
}

TEST(BlockPipeline, Norms) {
  for (std::vector<int64_t> shape :
       std::vector<std::vector<int64_t>>{{2, 13, 37}, {1, 197, 384},
                                         {1, 1, 5}, {3, 20}}) {
    int64_t E = shape.back();
    BlockKernelDesc ln;
    ln.name = "ln";
    ln.args = {arg("x", shape), arg("gamma", {E}), arg("beta", {E}),
               arg("y", shape, true)};
    ln.ops.push_back(op("layernorm", {0, 1, 2}, 3, shape));
    ln.ops[0].eps = 1e-6;
    check(ln, 2e-5);
    BlockKernelDesc rms;
    rms.name = "rms";
    rms.args = {arg("x", shape), arg("gamma", {E}), arg("y", shape, true)};
    rms.ops.push_back(op("rmsnorm", {0, 1}, 2, shape));
    rms.ops[0].eps = 1e-5;
    check(rms, 2e-5);
  }
}

TEST(BlockPipeline, AddAndLayouts) {
  BlockKernelDesc add;
  add.name = "add";
  add.args = {arg("a", {2, 7, 19}), arg("b", {2, 7, 19}),
              arg("y", {2, 7, 19}, true)};
  add.ops.push_back(op("add", {0, 1}, 2, {2, 7, 19}));
  check(add, 1e-7);

  BlockKernelDesc split;
  split.name = "split";
  split.args = {arg("x", {2, 9, 48}), arg("y", {2, 3, 9, 16}, true)};
  split.ops.push_back(op("split_heads", {0}, 1, {2, 3, 9, 16}));
  split.ops[0].heads = 3;
  check(split, 0.0);

  BlockKernelDesc merge;
  merge.name = "merge";
  merge.args = {arg("x", {2, 3, 9, 5}), arg("y", {2, 9, 15}, true)};
  merge.ops.push_back(op("merge_heads", {0}, 1, {2, 9, 15}));
  check(merge, 0.0);

  BlockKernelDesc slice;
  slice.name = "slice";
  slice.args = {arg("x", {2, 5, 40}), arg("y", {2, 5, 17}, true)};
  slice.ops.push_back(op("slice", {0}, 1, {2, 5, 17}));
  slice.ops[0].offset = 11;
  slice.ops[0].size = 17;
  check(slice, 0.0);

  BlockKernelDesc concat;
  concat.name = "concat";
  concat.args = {arg("a", {2, 5, 13}), arg("b", {2, 5, 20}),
                 arg("y", {2, 5, 33}, true)};
  concat.ops.push_back(op("concat", {0, 1}, 2, {2, 5, 33}));
  check(concat, 0.0);
}

TEST(BlockPipeline, Conv1d) {
  for (const char *mode : {"mul", "adder"})
    for (const char *padding : {"same", "causal"})
      for (int64_t K : {1, 3, 4, 7}) {
        BlockKernelDesc d;
        d.name = std::string("conv1d_") + mode + "_" + padding;
        d.args = {arg("x", {2, 11, 37}), arg("wc", {37, K}),
                  arg("b", {37}), arg("y", {2, 11, 37}, true)};
        d.ops.push_back(op("conv1d", {0, 1, 2}, 3, {2, 11, 37}, mode));
        d.ops[0].padding = padding;
        check(d, 1e-6);
      }
  BlockKernelDesc d;
  d.name = "conv1d_nobias";
  d.args = {arg("x", {1, 1, 16}), arg("wc", {16, 3}),
            arg("y", {1, 1, 16}, true)};
  d.ops.push_back(op("conv1d", {0, 1}, 2, {1, 1, 16}, "mul"));
  d.ops[0].padding = "same";
  check(d, 1e-6);
}

TEST(BlockPipeline, Conv2dAndPool) {
  struct Case {
    int64_t hh, ww, k, s;
  };
  for (Case c : {Case{7, 7, 3, 1}, Case{14, 14, 3, 2}, Case{5, 9, 5, 1},
                 Case{6, 6, 2, 2}, Case{1, 1, 1, 1}}) {
    int64_t C = 19;
    int64_t pad = c.k / 2;
    int64_t ho = (c.hh + 2 * pad - c.k) / c.s + 1,
            wo = (c.ww + 2 * pad - c.k) / c.s + 1;
    BlockKernelDesc conv;
    conv.name = "conv2d";
    conv.args = {arg("x", {2, c.hh * c.ww, C}), arg("wc", {C, c.k, c.k}),
                 arg("b", {C}), arg("y", {2, ho * wo, C}, true)};
    conv.ops.push_back(op("conv2d", {0, 1, 2}, 3, {2, ho * wo, C}));
    conv.ops[0].grid = {c.hh, c.ww};
    conv.ops[0].window = c.k;
    conv.ops[0].stride = c.s;
    check(conv, 1e-6);
    conv.ops[0].mode = "adder";
    check(conv, 1e-6);

    int64_t po = (c.hh - c.k) / c.s + 1, pw = (c.ww - c.k) / c.s + 1;
    for (const char *mode : {"avg", "max"}) {
      BlockKernelDesc pool;
      pool.name = std::string("pool_") + mode;
      pool.args = {arg("x", {2, c.hh * c.ww, C}),
                   arg("y", {2, po * pw, C}, true)};
      pool.ops.push_back(op("pool", {0}, 1, {2, po * pw, C}, mode));
      pool.ops[0].grid = {c.hh, c.ww};
      pool.ops[0].window = c.k;
      pool.ops[0].stride = c.s;
      check(pool, 1e-6);
    }
  }
}

//===----------------------------------------------------------------------===//
// Fused groups (docs/Architectures.md §3)
//===----------------------------------------------------------------------===//

/// layernorm -> linear + bias -> gelu (a transformer MLP's first half).
BlockKernelDesc lnLinearGelu(int64_t B, int64_t N, int64_t E, int64_t F) {
  BlockKernelDesc d;
  d.name = "ln_fc1_gelu";
  d.args = {arg("x", {B, N, E}), arg("gamma", {E}), arg("beta", {E}),
            arg("w", {F, E}),    arg("b", {F}),     arg("y", {B, N, F}, true)};
  d.ops.push_back(op("layernorm", {0, 1, 2}, 6, {B, N, E}));
  d.ops[0].eps = 1e-6;
  d.ops.push_back(op("linear", {6, 3, 4}, 7, {B, N, F}, "mul"));
  d.ops.push_back(op("gelu", {7}, 5, {B, N, F}));
  return d;
}

TEST(BlockPipeline, FusedLayerNormLinearGelu) {
  check(lnLinearGelu(1, 197, 64, 96));
  check(lnLinearGelu(2, 13, 37, 50));
  check(lnLinearGelu(1, 1, 16, 16));
}

/// merge_heads -> linear + bias -> add residual (attention's output
/// projection).
BlockKernelDesc mergeLinearAdd(int64_t B, int64_t H, int64_t N, int64_t D,
                               int64_t F, const std::string &mode = "mul") {
  BlockKernelDesc d;
  d.name = "merge_proj_add";
  int64_t E = H * D;
  d.args = {arg("o", {B, H, N, D}), arg("w", {F, E}), arg("b", {F}),
            arg("res", {B, N, F}), arg("y", {B, N, F}, true)};
  d.ops.push_back(op("merge_heads", {0}, 5, {B, N, E}));
  d.ops.push_back(op("linear", {5, 1, 2}, 6, {B, N, F}, mode));
  d.ops.push_back(op("add", {6, 3}, 4, {B, N, F}));
  return d;
}

TEST(BlockPipeline, FusedMergeLinearAdd) {
  check(mergeLinearAdd(1, 6, 197, 64, 384));
  check(mergeLinearAdd(2, 3, 11, 5, 15));
  check(mergeLinearAdd(2, 3, 11, 5, 15, "adder"));
}

/// layernorm -> three linears (Q, K, V) -> split_heads, three outputs.
BlockKernelDesc lnQkv(int64_t B, int64_t N, int64_t H, int64_t D) {
  BlockKernelDesc d;
  d.name = "ln_qkv";
  int64_t E = H * D;
  d.args = {arg("x", {B, N, E}),  arg("gamma", {E}), arg("beta", {E}),
            arg("wq", {E, E}),    arg("bq", {E}),    arg("wk", {E, E}),
            arg("bk", {E}),       arg("wv", {E, E}),  arg("bv", {E}),
            arg("q", {B, H, N, D}, true), arg("k", {B, H, N, D}, true),
            arg("v", {B, H, N, D}, true)};
  int t = 12;
  d.ops.push_back(op("layernorm", {0, 1, 2}, t, {B, N, E}));
  d.ops[0].eps = 1e-6;
  for (int p = 0; p < 3; ++p) {
    d.ops.push_back(
        op("linear", {t, 3 + 2 * p, 4 + 2 * p}, t + 1 + p, {B, N, E}, "mul"));
  }
  for (int p = 0; p < 3; ++p) {
    d.ops.push_back(op("split_heads", {t + 1 + p}, 9 + p, {B, H, N, D}));
    d.ops.back().heads = H;
  }
  return d;
}

TEST(BlockPipeline, FusedLayerNormQkvSplitHeads) {
  check(lnQkv(1, 197, 6, 64));
  check(lnQkv(2, 50, 3, 64)); // 3 column tasks: rows split into tasks too
  check(lnQkv(2, 13, 3, 5));
  check(lnQkv(1, 1, 2, 16));
}

TEST(BlockPipeline, FusedSliceConcat) {
  // ShiftAddNAS-style: slice two channel groups, a linear and a shift
  // linear, concat.
  BlockKernelDesc d;
  d.name = "slice_concat";
  d.args = {arg("x", {1, 23, 40}), arg("w", {24, 24}),
            arg("shift", {16, 16}, false, "i32"),
            arg("sign", {16, 16}, false, "i32"), arg("y", {1, 23, 40}, true)};
  d.ops.push_back(op("slice", {0}, 5, {1, 23, 24}));
  d.ops[0].offset = 0;
  d.ops[0].size = 24;
  d.ops.push_back(op("slice", {0}, 6, {1, 23, 16}));
  d.ops[1].offset = 24;
  d.ops[1].size = 16;
  d.ops.push_back(op("linear", {5, 1}, 7, {1, 23, 24}, "mul"));
  d.ops.push_back(op("linear", {6, 2, 3}, 8, {1, 23, 16}, "shift"));
  d.ops.push_back(op("concat", {7, 8}, 4, {1, 23, 40}));
  check(d);
}

TEST(BlockPipeline, SharedValueAndChains) {
  // A value with two consumers (stored), a norm inlined into an output,
  // a linear feeding a convolution (stored GEMM result).
  BlockKernelDesc d;
  d.name = "chains";
  d.args = {arg("x", {2, 16, 24}), arg("g", {24}),      arg("w", {24, 24}),
            arg("wc", {24, 3}),     arg("y", {2, 16, 24}, true),
            arg("z", {2, 16, 24}, true)};
  d.ops.push_back(op("rmsnorm", {0, 1}, 6, {2, 16, 24}));
  d.ops[0].eps = 1e-6;
  d.ops.push_back(op("relu", {6}, 7, {2, 16, 24}));
  d.ops.push_back(op("add", {7, 6}, 4, {2, 16, 24}));
  d.ops.push_back(op("linear", {0, 2}, 8, {2, 16, 24}, "mul"));
  d.ops.push_back(op("conv1d", {8, 3}, 9, {2, 16, 24}, "mul"));
  d.ops[4].padding = "causal";
  d.ops.push_back(op("silu", {9}, 5, {2, 16, 24}));
  check(d);
}

TEST(BlockPipeline, OutputsReadByLaterOps) {
  // An output feeds a linear and an activation of the same kernel.
  BlockKernelDesc d;
  d.name = "outputs_read";
  d.args = {arg("x", {2, 9, 20}), arg("g", {20}), arg("w", {12, 20}),
            arg("n", {2, 9, 20}, true), arg("y", {2, 9, 12}, true),
            arg("z", {2, 9, 20}, true)};
  d.ops.push_back(op("rmsnorm", {0, 1}, 3, {2, 9, 20}));
  d.ops[0].eps = 1e-6;
  d.ops.push_back(op("linear", {3, 2}, 4, {2, 9, 12}, "mul"));
  d.ops.push_back(op("gelu", {3}, 5, {2, 9, 20}));
  check(d);
}

//===----------------------------------------------------------------------===//
// Materialized maps (evolving attention)
//===----------------------------------------------------------------------===//

/// s = scale q k^T: q [B, H, N, D], k [B, G, M, D].
BlockKernelDesc scoresKernel(int64_t B, int64_t H, int64_t G, int64_t N,
                             int64_t M, int64_t D) {
  BlockKernelDesc d;
  d.name = "scores";
  d.args = {arg("q", {B, H, N, D}), arg("k", {B, G, M, D}),
            arg("s", {B, H, N, M}, true)};
  d.ops.push_back(op("scores", {0, 1}, 2, {B, H, N, M}));
  d.ops[0].scale = 1.0 / std::sqrt(double(D));
  return d;
}

/// o = a v: a [B, H, N, M], v [B, G, M, Dv].
BlockKernelDesc attendKernel(int64_t B, int64_t H, int64_t G, int64_t N,
                             int64_t M, int64_t Dv) {
  BlockKernelDesc d;
  d.name = "attend";
  d.args = {arg("a", {B, H, N, M}), arg("v", {B, G, M, Dv}),
            arg("o", {B, H, N, Dv}, true)};
  d.ops.push_back(op("attend", {0, 1}, 2, {B, H, N, Dv}));
  return d;
}

/// One map_conv: x [B, H, N, M], w [H, H, k, k], bias [H].
BlockKernelDesc mapConvKernel(int64_t B, int64_t H, int64_t N, int64_t M,
                              int64_t k, const std::string &act) {
  BlockKernelDesc d;
  d.name = "map_conv";
  d.args = {arg("x", {B, H, N, M}), arg("wc", {H, H, k, k}),
            arg("bias", {H}), arg("y", {B, H, N, M}, true)};
  d.ops.push_back(op("map_conv", {0, 1, 2}, 3, {B, H, N, M}));
  d.ops[0].act = act;
  d.ops[0].window = k;
  return d;
}

BlockKernelDesc softmaxKernel(std::vector<int64_t> shape, bool causal) {
  BlockKernelDesc d = unary("softmax", shape);
  d.ops[0].causal = causal;
  return d;
}

/// The first evolving layer's kernel: S = scores(q, k) exported, O =
/// attend(softmax(S), v).
BlockKernelDesc firstLayer(int64_t B, int64_t H, int64_t G, int64_t N,
                           int64_t M, int64_t D, bool causal = false) {
  BlockKernelDesc d;
  d.name = "evo_first";
  std::vector<int64_t> map = {B, H, N, M};
  d.args = {arg("q", {B, H, N, D}), arg("k", {B, G, M, D}),
            arg("v", {B, G, M, D}), arg("S", map, true),
            arg("O", {B, H, N, D}, true)};
  d.ops.push_back(op("scores", {0, 1}, 3, map));
  d.ops[0].scale = 1.0 / std::sqrt(double(D));
  d.ops.push_back(op("softmax", {3}, 5, map));
  d.ops[1].causal = causal;
  d.ops.push_back(op("attend", {5, 2}, 4, {B, H, N, D}));
  return d;
}

/// A later evolving layer (the elaborator's group): A = blend(scores(q, k),
/// prev, beta), L = blend(A, leaky_relu(map_conv(A)), alpha), O =
/// attend(softmax(L), v); outputs (L, O) or O alone (the last layer).
BlockKernelDesc evolvingLayer(int64_t B, int64_t H, int64_t G, int64_t N,
                              int64_t M, int64_t D, int64_t k, double alpha,
                              double beta, bool exportMap,
                              bool causal = false) {
  BlockKernelDesc d;
  d.name = exportMap ? "evo_layer" : "evo_last";
  std::vector<int64_t> map = {B, H, N, M};
  d.args = {arg("q", {B, H, N, D}), arg("k", {B, G, M, D}),
            arg("prev", map),       arg("wc", {H, H, k, k}),
            arg("bias", {H}),       arg("v", {B, G, M, D})};
  int L = -1;
  if (exportMap) {
    L = int(d.args.size());
    d.args.push_back(arg("L", map, true));
  }
  int O = int(d.args.size());
  d.args.push_back(arg("O", {B, H, N, D}, true));
  int t = int(d.args.size());
  if (!exportMap)
    L = t + 3;
  d.ops.push_back(op("scores", {0, 1}, t, map));
  d.ops.back().scale = 1.0 / std::sqrt(double(D));
  d.ops.push_back(op("blend", {t, 2}, t + 1, map));
  d.ops.back().scale = beta;
  d.ops.push_back(op("map_conv", {t + 1, 3, 4}, t + 2, map));
  d.ops.back().act = "leaky_relu";
  d.ops.back().window = k;
  d.ops.push_back(op("blend", {t + 1, t + 2}, L, map));
  d.ops.back().scale = alpha;
  d.ops.push_back(op("softmax", {L}, t + 4, map));
  d.ops.back().causal = causal;
  d.ops.push_back(op("attend", {t + 4, 5}, O, {B, H, N, D}));
  return d;
}

TEST(BlockPipeline, MapScoresAndAttend) {
  check(scoresKernel(1, 4, 2, 7, 19, 5));   // G < H, odd everything
  check(scoresKernel(2, 3, 3, 13, 70, 16)); // several panels, B = 2
  check(scoresKernel(1, 2, 1, 1, 1, 3));    // N = M = 1
  check(attendKernel(1, 4, 2, 7, 19, 12));  // Dv no multiple of the lanes
  check(attendKernel(2, 2, 1, 20, 33, 64)); // several register blocks
  check(attendKernel(1, 1, 1, 1, 1, 1));
}

TEST(BlockPipeline, MapBlendAndConv) {
  BlockKernelDesc blend;
  blend.name = "blend";
  blend.args = {arg("a", {1, 3, 5, 19}), arg("b", {1, 3, 5, 19}),
                arg("y", {1, 3, 5, 19}, true)};
  blend.ops.push_back(op("blend", {0, 1}, 2, {1, 3, 5, 19}));
  blend.ops[0].scale = 0.3;
  check(blend, 1e-6);
  for (int64_t k : {1, 3, 5})
    for (const char *act : {"none", "leaky_relu"}) {
      check(mapConvKernel(1, 3, 7, 19, k, act));
      check(mapConvKernel(2, 2, 11, 40, k, act)); // several chunks, B = 2
    }
  check(mapConvKernel(1, 4, 1, 1, 3, "none")); // only the centre tap
  check(mapConvKernel(1, 4, 2, 3, 5, "leaky_relu")); // window > map
}

TEST(BlockPipeline, MapSoftmax) {
  // Scaled logits (random inputs in [-1, 1] times 8).
  auto wide = [](std::vector<HostArg> &data) {
    for (float &x : data[0].f)
      x *= 8;
  };
  for (bool causal : {false, true}) {
    check(softmaxKernel({1, 3, 7, 19}, causal), 2e-5, false, 3, wide);
    // N > M: causal rows i < N - M keep nothing (zeros).
    check(softmaxKernel({2, 2, 9, 4}, causal), 2e-5, false, 3, wide);
    check(softmaxKernel({1, 1, 1, 1}, causal));
  }
}

TEST(BlockPipeline, FusedEvolvingFirstLayer) {
  check(firstLayer(1, 4, 2, 7, 7, 8));
  check(firstLayer(1, 4, 4, 17, 17, 16, true));
  check(firstLayer(2, 2, 1, 9, 13, 5));
  check(firstLayer(1, 2, 2, 1, 1, 8));
  // The softmax and the attend are fused, the map is read back from S.
  std::string text;
  ASSERT_EQ(printHalide(firstLayer(1, 4, 2, 33, 33, 16), host(), text), "");
  EXPECT_NE(text.find("_exp"), std::string::npos) << text;
}

TEST(BlockPipeline, FusedEvolvingLayer) {
  for (int64_t k : {3, 5}) {
    check(evolvingLayer(1, 4, 2, 17, 17, 8, k, 0.3, 0.6, true));
    check(evolvingLayer(1, 4, 2, 17, 17, 8, k, 0.3, 0.6, false));
  }
  check(evolvingLayer(2, 3, 1, 13, 21, 5, 3, 0.5, 0.5, true)); // N != M
  check(evolvingLayer(1, 2, 2, 1, 1, 8, 3, 0.3, 0.6, true));   // N = 1
  check(evolvingLayer(1, 4, 4, 9, 5, 8, 3, 0.3, 0.6, false, true)); // causal
  check(evolvingLayer(1, 8, 8, 64, 64, 16, 3, 0.3, 0.6, true));
  // Tile sizes: one row, not dividing N, larger than N.
  for (int64_t rows : {1, 3, 64}) {
    BlockKernelDesc d = evolvingLayer(1, 4, 2, 17, 17, 8, 3, 0.3, 0.6, true);
    d.schedule = {{"map_rows", rows}};
    check(d);
  }
  // Every intermediate map stays in the row tiles (computed at the tile
  // loop, never at the root): only the kernel's outputs reach memory.
  std::string text;
  ASSERT_EQ(printHalide(evolvingLayer(1, 4, 2, 33, 33, 16, 3, 0.3, 0.6,
                                      false),
                        host(), text),
            "");
  EXPECT_NE(text.find(".compute_at(O"), std::string::npos) << text;
  EXPECT_EQ(text.find(".compute_root()"), std::string::npos) << text;
}

/// Runs `desc` on `data` (inputs filled), returning every output.
std::vector<HostArg> runKernel(const BlockKernelDesc &desc,
                               std::vector<HostArg> data) {
  BlockKernelJit jit;
  EXPECT_EQ(jit.compile(desc, host()), "");
  std::vector<Halide::Buffer<>> buffers = wrap(desc, data);
  EXPECT_EQ(jit.run(buffers), "");
  return data;
}

TEST(BlockPipeline, EvolvingIdentity) {
  // Spec V6: alpha = beta = 0 is plain softmax attention, whatever the
  // carried map and the convolution; the exported map is the scores.
  const int64_t H = 4, G = 2, N = 13, M = 13, D = 8;
  BlockKernelDesc evo = evolvingLayer(1, H, G, N, M, D, 3, 0.0, 0.0, true);
  BlockKernelDesc plain = firstLayer(1, H, G, N, M, D);
  std::vector<HostArg> in = randomInputs(evo, 5);
  std::vector<HostArg> pin(plain.args.size());
  pin[0] = in[0]; // q
  pin[1] = in[1]; // k
  pin[2] = in[5]; // v
  std::vector<HostArg> a = runKernel(evo, in), b = runKernel(plain, pin);
  for (size_t n = 0; n < a[6].f.size(); ++n)
    ASSERT_NEAR(a[6].f[n], b[3].f[n], 1e-6) << "map element " << n;
  for (size_t n = 0; n < a[7].f.size(); ++n)
    ASSERT_NEAR(a[7].f[n], b[4].f[n], 1e-6) << "output element " << n;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

std::string compileError(const BlockKernelDesc &d) {
  BlockKernelJit jit;
  return jit.compile(d, host());
}

TEST(BlockPipeline, Errors) {
  BlockKernelDesc d = unary("relu", {2, 3});
  d.ops[0].op = "dropout";
  EXPECT_NE(compileError(d).find("unsupported block op 'dropout'"),
            std::string::npos);

  d = linearKernel("mul", {2, 5}, 8, 4, true);
  d.args[1].shape = {4, 9};
  EXPECT_NE(compileError(d).find("weight shape [4, 9]"), std::string::npos)
      << compileError(d);

  d = linearKernel("mul", {2, 5}, 8, 4, true);
  d.ops[0].shape = {2, 5, 5};
  EXPECT_NE(compileError(d), "");

  BlockKernelDesc add;
  add.name = "add";
  add.args = {arg("a", {2, 3}), arg("b", {3, 2}), arg("y", {2, 3}, true)};
  add.ops.push_back(op("add", {0, 1}, 2, {2, 3}));
  EXPECT_NE(compileError(add).find("differ"), std::string::npos);

  d = unary("gelu", {2, 3});
  d.ops[0].inputs = {7};
  EXPECT_NE(compileError(d).find("not defined"), std::string::npos);

  d = unary("gelu", {2, 3});
  d.ops.clear();
  EXPECT_NE(compileError(d).find("never written"), std::string::npos);

  d = linearKernel("mul", {2, 5}, 8, 4, true);
  d.ops[0].mode = "div";
  EXPECT_NE(compileError(d).find("unknown mode"), std::string::npos);

  d = linearKernel("mul", {2, 5}, 8, 4, true);
  d.schedule = {{"tile", 3}};
  EXPECT_NE(compileError(d).find("unknown schedule knob 'tile'"),
            std::string::npos);
  d.schedule = {{"gemm_rows", 0}};
  EXPECT_NE(compileError(d).find("outside"), std::string::npos);
  d.schedule = {{"gemm_rows", 32}, {"gemm_col_vectors", 4}};
  EXPECT_NE(compileError(d).find("registers"), std::string::npos);

  BlockKernelDesc split;
  split.name = "split";
  split.args = {arg("x", {2, 9, 48}), arg("y", {2, 5, 9, 16}, true)};
  split.ops.push_back(op("split_heads", {0}, 1, {2, 5, 9, 16}));
  split.ops[0].heads = 5;
  EXPECT_NE(compileError(split), "");

  BlockKernelDesc pool;
  pool.name = "pool";
  pool.args = {arg("x", {1, 10, 4}), arg("y", {1, 4, 4}, true)};
  pool.ops.push_back(op("pool", {0}, 1, {1, 4, 4}, "avg"));
  pool.ops[0].grid = {3, 3}; // 9 != 10 tokens
  pool.ops[0].window = 2;
  EXPECT_NE(compileError(pool).find("grid"), std::string::npos);

  BlockKernelDesc conv;
  conv.name = "conv";
  conv.args = {arg("x", {1, 8, 4}), arg("wc", {4, 3}),
               arg("y", {1, 8, 4}, true)};
  conv.ops.push_back(op("conv1d", {0, 1}, 2, {1, 8, 4}, "mul"));
  conv.ops[0].padding = "same";
  conv.ops[0].window = 5;
  EXPECT_NE(compileError(conv).find("window 5"), std::string::npos);
  conv.ops[0].window = 3;
  conv.ops[0].padding = "valid";
  EXPECT_NE(compileError(conv).find("unknown padding"), std::string::npos);

  // The backend API reports the same errors.
  std::string text;
  EXPECT_NE(printHalide(pool, host(), text), "");
  EXPECT_NE(compileObject({}, {pool}, host(), "never-written.o"), "");
}

TEST(BlockPipeline, PrintHalide) {
  std::string text;
  ASSERT_EQ(printHalide(lnQkv(1, 197, 6, 64), host(), text), "");
  EXPECT_NE(text.find("block kernel 'ln_qkv'"), std::string::npos);
  EXPECT_NE(text.find("_acc"), std::string::npos);
  EXPECT_NE(text.find("register block"), std::string::npos);
  std::map<std::string, int64_t> knobs;
  ASSERT_EQ(resolveSchedule(lnQkv(1, 197, 6, 64), host(), knobs), "");
  EXPECT_EQ(knobs.size(), ScheduleSpace::blockKnobSpecs().size());
}

//===----------------------------------------------------------------------===//
// GPU schedules (docs/gpu/block-kernels.md): knobs, limits, the template
//===----------------------------------------------------------------------===//

TargetInfo opencl() {
  TargetInfo t;
  std::string err = resolveTarget("opencl", t);
  EXPECT_EQ(err, "");
  return t;
}

TEST(BlockPipelineGpu, DefaultKnobsAndSpace) {
  std::map<std::string, int64_t> knobs;
  ASSERT_EQ(resolveSchedule(lnQkv(1, 16, 2, 8), opencl(), knobs), "");
  ScheduleSpace space =
      ScheduleSpace::gpuBlockKernel(opencl().gpuLimits, true, false);
  EXPECT_TRUE(space.isGpu());
  EXPECT_EQ(knobs, space.heuristic());
  EXPECT_EQ(knobs.at("tile_rows"), 32);
  EXPECT_EQ(knobs.at("k_tile"), 16);
  GpuFootprint f = space.footprint(knobs);
  EXPECT_EQ(f.threads, 128); // (32 / 4) x (64 / 4), row_threads 128
  EXPECT_EQ(f.sharedBytes, 4 * (32 * 64 + 16 * (32 + 64)));
  // Every candidate point the tuner may draw fits the limits.
  for (const SchedulePoint &p : space.enumerate()) {
    EXPECT_LE(space.footprint(p).threads, 1024);
    EXPECT_LE(space.footprint(p).sharedBytes, 48 * 1024);
  }
  // Knobs a kernel does not read have one candidate.
  ScheduleSpace rows =
      ScheduleSpace::gpuBlockKernel(opencl().gpuLimits, false, false);
  for (const KnobSpec &k : rows.knobs()) {
    if (k.name != "row_threads") {
      EXPECT_EQ(k.candidates.size(), 1u) << k.name;
    }
  }
}

TEST(BlockPipelineGpu, HandSetKnobs) {
  BlockKernelDesc d = lnQkv(1, 16, 2, 8);
  d.schedule = {{"tile_rows", 8},  {"tile_cols", 16}, {"thread_rows", 2},
                {"thread_cols", 2}, {"k_tile", 8},     {"row_threads", 64},
                {"gemm_rows", 3}};
  std::map<std::string, int64_t> knobs;
  ASSERT_EQ(resolveSchedule(d, opencl(), knobs), "");
  EXPECT_EQ(knobs.at("tile_rows"), 8);
  EXPECT_EQ(knobs.count("gemm_rows"), 0u); // CPU knobs are ignored
  std::string text;
  ASSERT_EQ(printHalide(d, opencl(), text), "");
  EXPECT_NE(text.find("8 x 8 outputs per block, 2 x 2 per thread, 16 "
                      "threads"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("store_in(MemoryType::GPUShared)"), std::string::npos);
  EXPECT_NE(text.find("_part.compute_at("), std::string::npos);
  EXPECT_NE(text.find("_x_slice.compute_at("), std::string::npos);
  EXPECT_NE(text.find("_w_slice.compute_at("), std::string::npos);
}

TEST(BlockPipelineGpu, LimitsAndRules) {
  auto error = [](SchedulePoint schedule) {
    BlockKernelDesc d = lnQkv(1, 16, 2, 8);
    d.schedule = std::move(schedule);
    std::map<std::string, int64_t> knobs;
    return resolveSchedule(d, opencl(), knobs);
  };
  EXPECT_NE(error({{"tile_rows", 256}, {"tile_cols", 256},
                   {"thread_rows", 4}, {"thread_cols", 4}, {"k_tile", 8}})
                .find("the schedule uses 4096 threads per block; the target "
                      "allows at most 1024"),
            std::string::npos);
  EXPECT_NE(error({{"tile_rows", 128}, {"tile_cols", 128},
                   {"thread_rows", 8}, {"thread_cols", 8}, {"k_tile", 32}})
                .find("bytes of shared memory per block; the target allows "
                      "at most 49152"),
            std::string::npos);
  EXPECT_NE(error({{"row_threads", 2048}}).find("outside [1, 1024]"),
            std::string::npos);
  EXPECT_NE(error({{"tile_rows", 30}}).find("must be a multiple of "
                                            "'thread_rows'"),
            std::string::npos);
  EXPECT_NE(error({{"thread_rows", 16}, {"thread_cols", 16},
                   {"tile_rows", 32}, {"tile_cols", 32}})
                .find("exceeds the 64 register accumulators"),
            std::string::npos);
  EXPECT_NE(error({{"bogus", 1}}).find("unknown schedule knob 'bogus'"),
            std::string::npos);
}

TEST(BlockPipelineGpu, EveryStageOnTheDevice) {
  // Compiling for a GPU target checks that every stage has GPU blocks
  // (Backend.cpp's requireDeviceStages); the object needs no device.
  const char *tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp ? tmp : "/tmp") + "/attn_gpu_block.o";
  for (const BlockKernelDesc &d :
       {lnQkv(2, 9, 2, 8), lnLinearGelu(1, 5, 12, 20),
        mergeLinearAdd(1, 2, 5, 4, 8), firstLayer(1, 2, 1, 7, 7, 4)}) {
    EXPECT_EQ(compileKernelObject(d, opencl(), d.name, path), "") << d.name;
  }
  std::remove(path.c_str());
}

//===----------------------------------------------------------------------===//
// AOT: one object, attention and block kernels, the _argv ABI
//===----------------------------------------------------------------------===//

TEST(BlockPipeline, CompileObjectAbi) {
  TargetInfo t = host();
  const char *tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") +
                        "/attn_block_XXXXXX";
  std::vector<char> dirBuf(pattern.begin(), pattern.end());
  dirBuf.push_back('\0');
  char *dir = dirBuf.data();
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string obj = std::string(dir) + "/k.o", lib = std::string(dir) + "/k.so";

  AttentionKernelDesc att;
  att.name = "att";
  att.args = {arg("q", {1, 2, 16, 16}), arg("k", {1, 2, 16, 16}),
              arg("v", {1, 2, 16, 16}), arg("o", {1, 2, 16, 16}, true)};
  att.query = 0;
  att.key = 1;
  att.value = 2;
  att.out = 3;
  att.scale = 0.25;
  BlockKernelDesc blk = lnLinearGelu(1, 7, 16, 24);
  BlockKernelDesc qkv = lnQkv(1, 5, 2, 8);
  ASSERT_EQ(compileObject({att}, {blk, qkv}, t, obj), "");
  std::string cmd = "cc -shared -o " + lib + " " + obj +
                    " -lpthread -ldl -lm 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  void *h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  EXPECT_NE(dlsym(h, "att_argv"), nullptr);
  auto entry = reinterpret_cast<int (*)(void **)>(dlsym(h, "ln_qkv_argv"));
  ASSERT_NE(entry, nullptr);
  EXPECT_NE(dlsym(h, "ln_fc1_gelu_argv"), nullptr);

  // Run ln_qkv through its _argv entry and compare with the reference.
  std::vector<HostArg> data = randomInputs(qkv, 5);
  std::vector<Halide::Buffer<>> buffers = wrap(qkv, data);
  std::vector<void *> argv;
  for (Halide::Buffer<> &b : buffers)
    argv.push_back(b.raw_buffer());
  ASSERT_EQ(entry(argv.data()), 0);
  std::map<int, Tensor> in;
  for (int a = 0; a < qkv.numArgs(); ++a)
    if (!qkv.args[a].isOutput)
      in[a] = Tensor{qkv.args[a].shape, std::vector<double>(
                                            data[a].f.begin(), data[a].f.end())};
  std::map<int, Tensor> ref = refRun(qkv, in);
  for (int a = 9; a < 12; ++a)
    for (size_t n = 0; n < ref[a].data.size(); ++n)
      ASSERT_NEAR(data[a].f[n], ref[a].data[n], 1e-4) << "output " << a;
  dlclose(h);
  std::remove(obj.c_str());
  std::remove(lib.c_str());
  rmdir(dir);
}

//===----------------------------------------------------------------------===//
// Throughput (printed, not asserted: the machine is shared)
//===----------------------------------------------------------------------===//

/// Median seconds of `reps` runs of `jit` on `buffers` after a warm-up.
double timeRuns(BlockKernelJit &jit, std::vector<Halide::Buffer<>> &buffers,
                int reps) {
  std::string err = jit.run(buffers);
  EXPECT_EQ(err, "");
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    jit.run(buffers);
    times.push_back(std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

TEST(BlockPipelinePerf, GemmThroughput) {
  const char *env = std::getenv("ATTNC_BLOCK_BENCH_REPS");
  int reps = env ? std::max(1, std::atoi(env)) : 5;
  struct Shape {
    int64_t B, N, K, F;
  };
  for (Shape s : {Shape{1, 197, 384, 1152}, Shape{1, 197, 1536, 384},
                  Shape{8, 197, 384, 1152}, Shape{8, 197, 1536, 384}}) {
    BlockKernelDesc d = linearKernel("mul", {s.B, s.N}, s.K, s.F, true);
    BlockKernelJit jit;
    ASSERT_EQ(jit.compile(d, host()), "");
    std::vector<HostArg> data = randomInputs(d, 9);
    std::vector<Halide::Buffer<>> buffers = wrap(d, data);
    double sec = timeRuns(jit, buffers, reps);
    double flops = 2.0 * s.B * s.N * s.K * s.F;
    std::printf("linear [%lldx%lld] x [%lldx%lld]^T: %.3f ms, %.1f GFLOP/s "
                "(gemm_col_vectors %lld, gemm_rows %lld)\n",
                (long long)(s.B * s.N), (long long)s.K, (long long)s.F,
                (long long)s.K, sec * 1e3, flops / sec * 1e-9,
                (long long)jit.knobs().at("gemm_col_vectors"),
                (long long)jit.knobs().at("gemm_rows"));
  }
}

/// Halide's profiler over 30 runs of one evolving kernel, single-threaded
/// with HL_NUM_THREADS=1 (EVO_K = first, middle or last; EVO_N; EVO_ROWS
/// sets map_rows): where the time goes, per Func.
TEST(BlockPipelinePerf, DISABLED_EvolvingProfile) {
  const char *env = std::getenv("EVO_N");
  int64_t N = env ? std::atoi(env) : 512;
  const char *which = std::getenv("EVO_K");
  std::string w = which ? which : "middle";
  BlockKernelDesc d = w == "first" ? firstLayer(1, 8, 8, N, N, 64)
                                   : evolvingLayer(1, 8, 8, N, N, 64, 3, 0.3,
                                                   0.6, w == "middle");
  if (const char *rows = std::getenv("EVO_ROWS"); rows && *rows)
    d.schedule = {{"map_rows", std::atoi(rows)}};
  TargetInfo t = host();
  t.halideTarget += "-profile";
  BlockKernelJit jit;
  ASSERT_EQ(jit.compile(d, t), "");
  std::vector<HostArg> data = randomInputs(d, 9);
  std::vector<Halide::Buffer<>> buffers = wrap(d, data);
  for (int r = 0; r < 30; ++r)
    jit.run(buffers);
}

TEST(BlockPipelinePerf, EvolvingThroughput) {
  // B = 1, H = 8, D = 64, k = 3: the first layer's kernel (S exported),
  // a middle layer's (L exported) and the last layer's (nothing exported).
  // GFLOP/s count every op (BlockReference.h); "attention-equivalent"
  // counts only 4·H·N·M·D, the plain softmax attention kernel's measure.
  const char *env = std::getenv("ATTNC_BLOCK_BENCH_REPS");
  int reps = env ? std::max(1, std::atoi(env)) : 5;
  const int64_t H = 8, D = 64, k = 3;
  for (int64_t N : {512, 1024}) {
    const double cells = double(H) * N * N;
    const double attn = 4.0 * cells * D;
    struct Case {
      const char *what;
      BlockKernelDesc desc;
      double flops;
    };
    const double conv = 2.0 * cells * H * k * k;
    std::vector<Case> cases = {
        {"first layer (S out)", firstLayer(1, H, H, N, N, D), attn + 3 * cells},
        {"middle layer (L out)",
         evolvingLayer(1, H, H, N, N, D, k, 0.3, 0.6, true),
         attn + 9 * cells + conv},
        {"last layer", evolvingLayer(1, H, H, N, N, D, k, 0.3, 0.6, false),
         attn + 9 * cells + conv},
        // Each op alone (the --no-fusion kernels).
        {"op scores", scoresKernel(1, H, H, N, N, D), attn / 2},
        {"op map_conv", mapConvKernel(1, H, N, N, k, "leaky_relu"), conv},
        {"op softmax", softmaxKernel({1, H, N, N}, false), 3 * cells},
        {"op attend", attendKernel(1, H, H, N, N, D), attn / 2}};
    for (Case &c : cases) {
      BlockKernelJit jit;
      ASSERT_EQ(jit.compile(c.desc, host()), "");
      std::vector<HostArg> data = randomInputs(c.desc, 9);
      std::vector<Halide::Buffer<>> buffers = wrap(c.desc, data);
      double sec = timeRuns(jit, buffers, reps);
      std::printf("evolving %-22s N = %4lld: %8.3f ms, %6.1f GFLOP/s "
                  "(attention-equivalent %6.1f)\n",
                  c.what, (long long)N, sec * 1e3, c.flops / sec * 1e-9,
                  attn / sec * 1e-9);
    }
  }
}

} // namespace
