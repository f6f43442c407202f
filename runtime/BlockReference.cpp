//===- BlockReference.cpp - Reference of "block" kernels ------------------===//

#include "runtime/BlockReference.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <type_traits>

namespace attn::rt {

namespace {

using Shape = std::vector<int64_t>;

int64_t product(const Shape &s, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    n *= s[i];
  return n;
}

/// "reference.ops[1] (linear -> '%1')".
std::string opWhere(size_t index, const BlockOpSpec &op) {
  return "reference.ops[" + std::to_string(index) + "] (" + op.op + " -> '" +
         op.out + "')";
}

/// True when input `slot` of `op` is an i32 weight (shift and sign).
bool isIntSlot(const BlockOpSpec &op, size_t slot) {
  return op.op == "linear" && op.mode == "shift" && (slot == 1 || slot == 2);
}

// The attributes of the materialized-map ops.
double mapScale(const BlockOpSpec &op) { return op.scale; }
bool leakyRelu(const BlockOpSpec &op) { return op.act == "leaky_relu"; }
bool causalSoftmax(const BlockOpSpec &op) { return op.causal; }

/// Infers the result shape of `op` from its input shapes (`names` for the
/// messages); errors say what is wrong without the op's name.
Result<Shape> inferShape(const BlockOpSpec &op, const std::vector<Shape> &in,
                         const std::vector<std::string> &names) {
  auto desc = [&](size_t i) {
    return "'" + names[i] + "' " + formatShape(in[i]);
  };
  auto bad = [&](const std::string &msg) { return Status::error(msg); };
  auto needRank = [&](size_t i, size_t rank, const char *layout) -> Status {
    if (in[i].size() != rank)
      return bad("input " + desc(i) + " must have rank " +
                 std::to_string(rank) + " (" + layout + ")");
    return Status::success();
  };
  auto needShape = [&](size_t i, const Shape &want,
                       const char *layout) -> Status {
    if (in[i] != want)
      return bad("input " + desc(i) + " must be " + formatShape(want) + " (" +
                 layout + ")");
    return Status::success();
  };
  const std::string &o = op.op;
  if (o == "gelu" || o == "relu" || o == "silu")
    return in[0];
  if (o == "add") {
    if (in[0] != in[1])
      return bad("the inputs " + desc(0) + " and " + desc(1) +
                 " have different shapes");
    return in[0];
  }
  if (o == "blend") {
    if (in[0] != in[1])
      return bad("the inputs " + desc(0) + " and " + desc(1) +
                 " have different shapes");
    return in[0];
  }
  if (o == "scores" || o == "attend") {
    // q [B, H, N, D] x k [B, G, M, D]; a [B, H, N, M] x v [B, G, M, Dv].
    const bool scores = o == "scores";
    if (Status s = needRank(0, 4, scores ? "[B, H, N, D]" : "[B, H, N, M]");
        !s)
      return s;
    if (Status s = needRank(1, 4, scores ? "[B, G, M, D]" : "[B, G, M, Dv]");
        !s)
      return s;
    const int64_t B = in[0][0], H = in[0][1], N = in[0][2], G = in[1][1];
    if (in[1][0] != B)
      return bad("the batch of " + desc(1) + " differs from " + desc(0));
    if (G < 1 || H % G != 0)
      return bad("the heads of " + desc(0) + " are no multiple of the " +
                 "groups of " + desc(1));
    if (scores && in[1][3] != in[0][3])
      return bad("the head dims of " + desc(0) + " and " + desc(1) +
                 " differ");
    if (!scores && in[1][2] != in[0][3])
      return bad("the keys of " + desc(1) + " differ from the columns of " +
                 desc(0));
    return Shape{B, H, N, scores ? in[1][2] : in[1][3]};
  }
  if (o == "map_conv") {
    if (Status s = needRank(0, 4, "[B, H, N, M]"); !s)
      return s;
    const int64_t H = in[0][1];
    if (Status s = needRank(1, 4, "[H, H, k, k]"); !s)
      return s;
    const int64_t k = in[1][3];
    if (Status s = needShape(1, {H, H, k, k}, "[H, H, k, k], H from x"); !s)
      return s;
    if (op.window && op.window != k)
      return bad("window = " + std::to_string(op.window) + " but the weight " +
                 desc(1) + " is " + std::to_string(k) + "x" +
                 std::to_string(k));
    if (Status s = needShape(2, {H}, "the bias [H]"); !s)
      return s;
    return in[0];
  }
  if (o == "softmax") {
    if (Status s = needRank(0, 4, "[B, H, N, M]"); !s)
      return s;
    return in[0];
  }
  if (in[0].empty())
    return bad("input " + desc(0) + " must have rank 1 or more");
  const int64_t last = in[0].back();
  Shape lead(in[0].begin(), in[0].end() - 1);
  if (o == "linear") {
    if (Status s = needRank(1, 2, "[F, K]"); !s)
      return s;
    const int64_t F = in[1][0];
    if (Status s = needShape(1, {F, last}, "[F, K], K from x"); !s)
      return s;
    size_t bias = 2;
    if (op.mode == "shift") {
      if (Status s = needShape(2, in[1], "the sign is shaped like the shift");
          !s)
        return s;
      bias = 3;
    }
    if (in.size() > bias)
      if (Status s = needShape(bias, {F}, "the bias [F]"); !s)
        return s;
    lead.push_back(F);
    return lead;
  }
  if (o == "layernorm" || o == "rmsnorm") {
    for (size_t i = 1; i < in.size(); ++i)
      if (Status s = needShape(i, {last}, "[E], E from x"); !s)
        return s;
    return in[0];
  }
  if (o == "split_heads") {
    if (Status s = needRank(0, 3, "[B, N, H*D]"); !s)
      return s;
    if (last % op.heads != 0)
      return bad("input " + desc(0) + ": the last extent is not a multiple " +
                 "of heads = " + std::to_string(op.heads));
    return Shape{in[0][0], op.heads, in[0][1], last / op.heads};
  }
  if (o == "merge_heads") {
    if (Status s = needRank(0, 4, "[B, H, N, D]"); !s)
      return s;
    return Shape{in[0][0], in[0][2], in[0][1] * in[0][3]};
  }
  if (o == "slice") {
    if (op.offset + op.size > last)
      return bad("the range [" + std::to_string(op.offset) + ", " +
                 std::to_string(op.offset + op.size) + ") exceeds the last " +
                 "extent of " + desc(0));
    lead.push_back(op.size);
    return lead;
  }
  if (o == "concat") {
    if (in[1].size() != in[0].size() ||
        !std::equal(lead.begin(), lead.end(), in[1].begin()))
      return bad("the inputs " + desc(0) + " and " + desc(1) +
                 " differ in more than the last extent");
    lead.push_back(last + in[1].back());
    return lead;
  }
  // conv1d, conv2d, pool: x [B, tokens, C].
  if (Status s = needRank(0, 3, "[B, tokens, C]"); !s)
    return s;
  if (o == "conv1d") {
    if (Status s = needRank(1, 2, "[C, K]"); !s)
      return s;
    if (Status s = needShape(1, {last, in[1][1]}, "[C, K], C from x"); !s)
      return s;
    if (in.size() > 2)
      if (Status s = needShape(2, {last}, "the bias [C]"); !s)
        return s;
    return in[0];
  }
  const int64_t Hh = op.grid[0], Ww = op.grid[1];
  if (Hh * Ww != in[0][1])
    return bad("the grid [" + std::to_string(Hh) + ", " + std::to_string(Ww) +
               "] has " + std::to_string(Hh * Ww) + " tokens but " + desc(0) +
               " has " + std::to_string(in[0][1]));
  int64_t k = op.window, pad = 0;
  if (o == "conv2d") {
    if (Status s = needRank(1, 3, "[C, k, k]"); !s)
      return s;
    k = in[1][1];
    if (Status s = needShape(1, {last, k, k}, "[C, k, k], C from x"); !s)
      return s;
    if (op.window && op.window != k)
      return bad("window = " + std::to_string(op.window) + " but the weight " +
                 desc(1) + " is " + std::to_string(k) + "x" +
                 std::to_string(k));
    if (in.size() > 2)
      if (Status s = needShape(2, {last}, "the bias [C]"); !s)
        return s;
    pad = k / 2;
  } else if (k > Hh || k > Ww) {
    return bad("the window " + std::to_string(k) + " exceeds the grid [" +
               std::to_string(Hh) + ", " + std::to_string(Ww) + "]");
  }
  const int64_t Ho = (Hh + 2 * pad - k) / op.stride + 1,
                Wo = (Ww + 2 * pad - k) / op.stride + 1;
  return Shape{in[0][0], Ho * Wo, last};
}

/// The shapes of every value, checked (the implementation of blockShapes).
Result<std::map<std::string, Shape>> inferAll(const KernelSpec &kernel,
                                              const TensorMap &args) {
  const std::string kernelWhere = "kernel '" + kernel.name + "': ";
  if (!kernel.reference || !kernel.reference->isBlock())
    return Status::error(kernelWhere + "not a block reference");
  std::map<std::string, Shape> shapes;
  const std::vector<BlockOpSpec> &ops = kernel.reference->ops;
  for (size_t n = 0; n < ops.size(); ++n) {
    const BlockOpSpec &op = ops[n];
    const std::string where = kernelWhere + opWhere(n, op) + ": ";
    std::vector<Shape> in;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const std::string &name = op.inputs[i];
      if (auto it = shapes.find(name); it != shapes.end()) {
        in.push_back(it->second);
        continue;
      }
      auto t = args.find(name);
      if (t == args.end())
        return Status::error(where + "the input '" + name + "' is missing");
      bool wantInt = isIntSlot(op, i);
      if (wantInt != (t->second.dtype() == DType::I32))
        return Status::error(where + "the input '" + name + "' is " +
                             t->second.describe() + ", expected " +
                             (wantInt ? "i32" : "a floating-point dtype"));
      in.push_back(t->second.shape());
    }
    Result<Shape> shape = inferShape(op, in, op.inputs);
    if (!shape)
      return Status::error(where + shape.message());
    if (*shape != op.shape)
      return Status::error(where + "the result '" + op.out + "' is " +
                           formatShape(*shape) + " but the op's shape is " +
                           formatShape(op.shape));
    if (auto out = args.find(op.out);
        out != args.end() && out->second.shape() != op.shape)
      return Status::error(where + "the output '" + op.out + "' is " +
                           out->second.describe() + " but the op gives " +
                           formatShape(op.shape));
    shapes[op.out] = *shape;
  }
  return shapes;
}

/// Rounds x·2^16 half to even into the int32 range (NaN gives 0).
template <typename T>
int64_t quantize(T x) {
  T v = std::nearbyint(x * T(65536));
  if (std::isnan(v))
    return 0;
  if (v >= T(2147483647.0))
    return INT32_MAX;
  if (v <= T(-2147483648.0))
    return INT32_MIN;
  return int64_t(v);
}

/// One evaluation of the ops in precision T (double: the reference; float:
/// the naive baseline).
template <typename T>
class BlockEvaluator {
public:
  BlockEvaluator(const KernelSpec &kernel, const TensorMap &args,
                 const std::map<std::string, Shape> &shapes)
      : kernel(kernel), args(args), shapes(shapes) {}

  Status run() {
    const std::vector<BlockOpSpec> &ops = kernel.reference->ops;
    for (size_t n = 0; n < ops.size(); ++n)
      if (Status s = runOp(ops[n]); !s)
        return Status::error("kernel '" + kernel.name +
                             "': " + opWhere(n, ops[n]) + ": " + s.message());
    return Status::success();
  }

  const std::vector<T> &value(const std::string &name) {
    auto it = vals.find(name);
    if (it != vals.end())
      return it->second;
    const Tensor &t = args.at(name);
    std::vector<T> v(size_t(t.numElements()));
    for (int64_t i = 0; i < t.numElements(); ++i)
      v[size_t(i)] = T(t.getDouble(i));
    return vals.emplace(name, std::move(v)).first->second;
  }

private:
  Shape shapeOf(const std::string &name) const {
    auto it = shapes.find(name);
    return it != shapes.end() ? it->second : args.at(name).shape();
  }

  Status runOp(const BlockOpSpec &op) {
    const Shape &outShape = op.shape;
    std::vector<T> y(size_t(product(outShape)), T(0));
    const Shape xs = shapeOf(op.inputs[0]);
    const std::vector<T> &x = value(op.inputs[0]);
    const std::string &o = op.op;
    const int64_t last = xs.empty() ? 1 : xs.back();
    const int64_t rows = last ? product(xs) / last : 0;
    if (o == "linear") {
      if (Status s = linear(op, x, rows, last, y); !s)
        return s;
    } else if (o == "layernorm" || o == "rmsnorm") {
      norm(op, x, rows, last, y);
    } else if (o == "gelu" || o == "relu" || o == "silu") {
      for (size_t i = 0; i < x.size(); ++i)
        y[i] = activation(o, x[i]);
    } else if (o == "add") {
      const std::vector<T> &b = value(op.inputs[1]);
      for (size_t i = 0; i < x.size(); ++i)
        y[i] = x[i] + b[i];
    } else if (o == "split_heads" || o == "merge_heads") {
      // split: x [B, N, H*D] -> y [B, H, N, D]; merge: the inverse.
      const bool split = o == "split_heads";
      const Shape &s4 = split ? outShape : xs;
      const int64_t B = s4[0], H = s4[1], N = s4[2], D = s4[3];
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t t = 0; t < N; ++t)
            for (int64_t d = 0; d < D; ++d) {
              const size_t heads = size_t(((b * H + h) * N + t) * D + d),
                           tokens = size_t((b * N + t) * H * D + h * D + d);
              if (split)
                y[heads] = x[tokens];
              else
                y[tokens] = x[heads];
            }
    } else if (o == "slice") {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < op.size; ++c)
          y[size_t(r * op.size + c)] = x[size_t(r * last + op.offset + c)];
    } else if (o == "concat") {
      const std::vector<T> &b = value(op.inputs[1]);
      const int64_t c2 = shapeOf(op.inputs[1]).back(), c = last + c2;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t i = 0; i < last; ++i)
          y[size_t(r * c + i)] = x[size_t(r * last + i)];
        for (int64_t i = 0; i < c2; ++i)
          y[size_t(r * c + last + i)] = b[size_t(r * c2 + i)];
      }
    } else if (o == "conv1d") {
      conv1d(op, x, xs, y);
    } else if (o == "scores" || o == "attend") {
      headsProduct(op, x, xs, y);
    } else if (o == "blend") {
      const std::vector<T> &b = value(op.inputs[1]);
      const T w = T(mapScale(op)), keep = T(1) - w;
      for (size_t i = 0; i < x.size(); ++i)
        y[i] = keep * x[i] + w * b[i];
    } else if (o == "map_conv") {
      mapConv(op, x, xs, y);
    } else if (o == "softmax") {
      softmax(op, x, xs, y);
    } else {
      grid2d(op, x, xs, y);
    }
    vals[op.out] = std::move(y);
    return Status::success();
  }

  static T activation(const std::string &o, T v) {
    if (o == "relu")
      return v > T(0) ? v : T(0);
    if (o == "silu")
      return v / (T(1) + std::exp(-v));
    return T(0.5) * v * (T(1) + std::erf(v * T(0.70710678118654752440)));
  }

  Status linear(const BlockOpSpec &op, const std::vector<T> &x, int64_t rows,
                int64_t K, std::vector<T> &y) {
    const bool shift = op.mode == "shift";
    const int64_t F = op.shape.back();
    const size_t biasSlot = shift ? 3 : 2;
    const std::vector<T> *bias =
        op.inputs.size() > biasSlot ? &value(op.inputs[biasSlot]) : nullptr;
    if (shift) {
      // The integer weights, checked: shift in [-31, 0], sign in {-1, 0, 1}.
      const Tensor &st = args.at(op.inputs[1]), &gt = args.at(op.inputs[2]);
      std::vector<int64_t> sh(size_t(F * K)), sg(size_t(F * K));
      for (int64_t i = 0; i < F * K; ++i) {
        sh[size_t(i)] = int64_t(st.getDouble(i));
        sg[size_t(i)] = int64_t(gt.getDouble(i));
        if (sh[size_t(i)] < -31 || sh[size_t(i)] > 0)
          return Status::error("the shift '" + op.inputs[1] + "' is " +
                               std::to_string(sh[size_t(i)]) + " at [" +
                               std::to_string(i / K) + ", " +
                               std::to_string(i % K) + "], outside [-31, 0]");
        if (sg[size_t(i)] < -1 || sg[size_t(i)] > 1)
          return Status::error("the sign '" + op.inputs[2] + "' is " +
                               std::to_string(sg[size_t(i)]) + " at [" +
                               std::to_string(i / K) + ", " +
                               std::to_string(i % K) + "], outside {-1, 0, 1}");
      }
      std::vector<int64_t> xq(x.size());
      for (size_t i = 0; i < x.size(); ++i)
        xq[i] = quantize(x[i]);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t f = 0; f < F; ++f) {
          int64_t acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const size_t w = size_t(f * K + k);
            acc += sg[w] * (xq[size_t(r * K + k)] >> -sh[w]);
          }
          T v = T(acc) * T(1.0 / 65536.0);
          y[size_t(r * F + f)] = bias ? v + (*bias)[size_t(f)] : v;
        }
      return Status::success();
    }
    const std::vector<T> &w = value(op.inputs[1]);
    const bool adder = op.mode == "adder";
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t f = 0; f < F; ++f) {
        const T *xr = x.data() + r * K, *wf = w.data() + f * K;
        T acc = T(0);
        if (adder)
          for (int64_t k = 0; k < K; ++k)
            acc += std::fabs(xr[k] - wf[k]);
        else
          for (int64_t k = 0; k < K; ++k)
            acc += xr[k] * wf[k];
        if (adder)
          acc = -acc;
        y[size_t(r * F + f)] = bias ? acc + (*bias)[size_t(f)] : acc;
      }
    return Status::success();
  }

  void norm(const BlockOpSpec &op, const std::vector<T> &x, int64_t rows,
            int64_t E, std::vector<T> &y) {
    const bool layer = op.op == "layernorm";
    const std::vector<T> &gamma = value(op.inputs[1]);
    const std::vector<T> *beta = layer ? &value(op.inputs[2]) : nullptr;
    const T eps = T(op.eps);
    for (int64_t r = 0; r < rows; ++r) {
      const T *xr = x.data() + r * E;
      T mean = T(0);
      if (layer) {
        for (int64_t e = 0; e < E; ++e)
          mean += xr[e];
        mean /= T(E);
      }
      T var = T(0);
      for (int64_t e = 0; e < E; ++e)
        var += (xr[e] - mean) * (xr[e] - mean);
      var /= T(E);
      const T inv = T(1) / std::sqrt(var + eps);
      for (int64_t e = 0; e < E; ++e) {
        T v = (xr[e] - mean) * inv * gamma[size_t(e)];
        y[size_t(r * E + e)] = layer ? v + (*beta)[size_t(e)] : v;
      }
    }
  }

  void conv1d(const BlockOpSpec &op, const std::vector<T> &x, const Shape &xs,
              std::vector<T> &y) {
    const int64_t B = xs[0], N = xs[1], C = xs[2];
    const Shape ws = shapeOf(op.inputs[1]);
    const int64_t K = ws[1];
    const std::vector<T> &w = value(op.inputs[1]);
    const std::vector<T> *bias =
        op.inputs.size() > 2 ? &value(op.inputs[2]) : nullptr;
    const int64_t p = op.padding == "causal" ? K - 1 : (K - 1) / 2;
    const bool adder = op.mode == "adder";
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < N; ++t)
        for (int64_t c = 0; c < C; ++c) {
          T acc = T(0);
          for (int64_t k = 0; k < K; ++k) {
            const int64_t s = t + k - p;
            const T xv =
                s >= 0 && s < N ? x[size_t((b * N + s) * C + c)] : T(0);
            const T wv = w[size_t(c * K + k)];
            acc += adder ? std::fabs(xv - wv) : wv * xv;
          }
          if (adder)
            acc = -acc;
          y[size_t((b * N + t) * C + c)] =
              bias ? acc + (*bias)[size_t(c)] : acc;
        }
  }

  /// scores: y[b,h,i,j] = scale·Σ_d x[b,h,i,d]·k[b,g,j,d]; attend:
  /// y[b,h,i,d] = Σ_j x[b,h,i,j]·v[b,g,j,d]; g = h / (H / G).
  void headsProduct(const BlockOpSpec &op, const std::vector<T> &x,
                    const Shape &xs, std::vector<T> &y) {
    const bool scores = op.op == "scores";
    const Shape zs = shapeOf(op.inputs[1]);
    const std::vector<T> &z = value(op.inputs[1]);
    const int64_t B = xs[0], H = xs[1], N = xs[2], K = xs[3], G = zs[1],
                  C = op.shape[3];
    const T scale = scores ? T(mapScale(op)) : T(1);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t g = h / (H / G);
        const T *zg = z.data() + (b * G + g) * zs[2] * zs[3];
        for (int64_t i = 0; i < N; ++i) {
          const T *xr = x.data() + ((b * H + h) * N + i) * K;
          T *yr = y.data() + ((b * H + h) * N + i) * C;
          for (int64_t c = 0; c < C; ++c) {
            T acc = T(0);
            for (int64_t r = 0; r < K; ++r)
              acc += xr[r] * (scores ? zg[c * K + r] : zg[r * C + c]);
            yr[c] = scale * acc;
          }
        }
      }
  }

  /// y[b,o,i,j] = act(bias[o] + Σ_{c,a,e} w[o,c,a,e]·x[b,c,i+a−k/2,j+e−k/2]),
  /// x zero outside the map.
  void mapConv(const BlockOpSpec &op, const std::vector<T> &x,
               const Shape &xs, std::vector<T> &y) {
    const int64_t B = xs[0], H = xs[1], N = xs[2], M = xs[3];
    const int64_t k = shapeOf(op.inputs[1])[3], p = k / 2;
    const std::vector<T> &w = value(op.inputs[1]);
    const std::vector<T> &bias = value(op.inputs[2]);
    const bool leaky = leakyRelu(op);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < H; ++o)
        for (int64_t i = 0; i < N; ++i)
          for (int64_t j = 0; j < M; ++j) {
            T acc = bias[size_t(o)];
            for (int64_t c = 0; c < H; ++c)
              for (int64_t a = 0; a < k; ++a) {
                const int64_t r = i + a - p;
                if (r < 0 || r >= N)
                  continue;
                for (int64_t e = 0; e < k; ++e) {
                  const int64_t s = j + e - p;
                  if (s < 0 || s >= M)
                    continue;
                  acc += w[size_t(((o * H + c) * k + a) * k + e)] *
                         x[size_t(((b * H + c) * N + r) * M + s)];
                }
              }
            if (leaky && acc < T(0))
              acc *= T(0.01);
            y[size_t(((b * H + o) * N + i) * M + j)] = acc;
          }
  }

  /// Softmax over j, max-subtracted; causal keeps j <= i + M − N (a row
  /// keeping nothing is zero).
  void softmax(const BlockOpSpec &op, const std::vector<T> &x,
               const Shape &xs, std::vector<T> &y) {
    const int64_t N = xs[2], M = xs[3], rows = product(xs) / M;
    const bool causal = causalSoftmax(op);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r % N;
      const int64_t kept = causal ? std::clamp<int64_t>(i + M - N + 1, 0, M)
                                  : M;
      const T *xr = x.data() + r * M;
      T *yr = y.data() + r * M;
      if (kept == 0)
        continue;
      T mx = xr[0];
      for (int64_t j = 1; j < kept; ++j)
        mx = std::max(mx, xr[j]);
      T sum = T(0);
      for (int64_t j = 0; j < kept; ++j) {
        yr[j] = std::exp(xr[j] - mx);
        sum += yr[j];
      }
      for (int64_t j = 0; j < kept; ++j)
        yr[j] /= sum;
    }
  }

  /// conv2d and pool over the grid.
  void grid2d(const BlockOpSpec &op, const std::vector<T> &x, const Shape &xs,
              std::vector<T> &y) {
    const bool conv = op.op == "conv2d";
    const int64_t B = xs[0], C = xs[2], Hh = op.grid[0], Ww = op.grid[1],
                  s = op.stride;
    const int64_t k = conv ? shapeOf(op.inputs[1])[1] : op.window;
    const int64_t pad = conv ? k / 2 : 0;
    const int64_t Ho = (Hh + 2 * pad - k) / s + 1,
                  Wo = (Ww + 2 * pad - k) / s + 1;
    const std::vector<T> *w = conv ? &value(op.inputs[1]) : nullptr;
    const std::vector<T> *bias =
        conv && op.inputs.size() > 2 ? &value(op.inputs[2]) : nullptr;
    const bool adder = op.mode == "adder", isMax = op.mode == "max";
    for (int64_t b = 0; b < B; ++b)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow)
          for (int64_t c = 0; c < C; ++c) {
            T acc = isMax ? -std::numeric_limits<T>::infinity() : T(0);
            for (int64_t i = 0; i < k; ++i)
              for (int64_t j = 0; j < k; ++j) {
                const int64_t ih = oh * s + i - pad, iw = ow * s + j - pad;
                const bool inside = ih >= 0 && ih < Hh && iw >= 0 && iw < Ww;
                const T xv =
                    inside ? x[size_t((b * Hh * Ww + ih * Ww + iw) * C + c)]
                           : T(0);
                if (!conv) {
                  acc = isMax ? std::max(acc, xv) : acc + xv;
                  continue;
                }
                const T wv = (*w)[size_t((c * k + i) * k + j)];
                acc += adder ? std::fabs(xv - wv) : wv * xv;
              }
            if (adder)
              acc = -acc;
            if (!conv && !isMax)
              acc /= T(k * k);
            if (bias)
              acc += (*bias)[size_t(c)];
            y[size_t((b * Ho * Wo + oh * Wo + ow) * C + c)] = acc;
          }
  }

  const KernelSpec &kernel;
  const TensorMap &args;
  const std::map<std::string, Shape> &shapes;
  std::map<std::string, std::vector<T>> vals;
};

} // namespace

Result<std::map<std::string, std::vector<int64_t>>>
blockShapes(const KernelSpec &kernel, const TensorMap &args) {
  return inferAll(kernel, args);
}

Result<std::vector<NamedReferenceOutput>>
computeBlockReference(const KernelSpec &kernel, const TensorMap &args,
                      ReferencePrecision precision) {
  Result<std::map<std::string, Shape>> shapes = inferAll(kernel, args);
  if (!shapes)
    return shapes.status();
  std::vector<NamedReferenceOutput> outs;
  for (const ArgSpec &a : kernel.args)
    if (a.role == ArgRole::Output)
      outs.push_back({a.name, {}});
  if (precision != ReferencePrecision::Float32Only) {
    BlockEvaluator<double> eval(kernel, args, *shapes);
    if (Status s = eval.run(); !s)
      return s;
    for (NamedReferenceOutput &o : outs) {
      Result<Tensor> t = Tensor::create(DType::F64, shapes->at(o.name));
      if (!t)
        return t.status();
      const std::vector<double> &v = eval.value(o.name);
      std::copy(v.begin(), v.end(), t->dataAs<double>());
      o.output.ref64 = t.take();
    }
  }
  if (precision != ReferencePrecision::Float64Only) {
    BlockEvaluator<float> eval(kernel, args, *shapes);
    if (Status s = eval.run(); !s)
      return s;
    for (NamedReferenceOutput &o : outs) {
      Result<Tensor> t =
          Tensor::create(kernel.findArg(o.name)->dtype, shapes->at(o.name));
      if (!t)
        return t.status();
      const std::vector<float> &v = eval.value(o.name);
      for (size_t i = 0; i < v.size(); ++i)
        t->setDouble(int64_t(i), double(v[i]));
      o.output.baseline = t.take();
    }
  }
  return outs;
}

Result<double> blockFlops(const KernelSpec &kernel, const TensorMap &args) {
  Result<std::map<std::string, Shape>> shapes = inferAll(kernel, args);
  if (!shapes)
    return shapes.status();
  auto shapeOf = [&](const std::string &name) {
    auto it = shapes->find(name);
    return it != shapes->end() ? it->second : args.at(name).shape();
  };
  double flops = 0;
  for (const BlockOpSpec &op : kernel.reference->ops) {
    const Shape xs = shapeOf(op.inputs[0]);
    const double out = double(product(op.shape));
    const std::string &o = op.op;
    if (o == "linear")
      flops += 2.0 * out * double(xs.empty() ? 1 : xs.back());
    else if (o == "conv1d")
      flops += 2.0 * out * double(shapeOf(op.inputs[1])[1]);
    else if (o == "conv2d") {
      const double k = double(shapeOf(op.inputs[1])[1]);
      flops += 2.0 * out * k * k;
    } else if (o == "pool")
      flops += out * double(op.window) * double(op.window);
    else if (o == "layernorm")
      flops += 7.0 * out;
    else if (o == "rmsnorm")
      flops += 4.0 * out;
    else if (o == "gelu" || o == "relu" || o == "silu" || o == "add")
      flops += out;
    else if (o == "scores" || o == "attend")
      // 2 per term of the reduction: over D (the query's last extent) or
      // over M (the map's last extent).
      flops += 2.0 * out * double(xs.back());
    else if (o == "blend" || o == "softmax")
      flops += 3.0 * out;
    else if (o == "map_conv") {
      const Shape ws = shapeOf(op.inputs[1]);
      flops += 2.0 * out * double(ws[1]) * double(ws[2]) * double(ws[3]);
    }
  }
  return flops;
}

Result<std::vector<NamedReferenceOutput>>
computeReferenceOutputs(const KernelSpec &kernel, const TensorMap &args,
                        int64_t maxRows, ReferencePrecision precision) {
  if (kernel.reference && kernel.reference->isBlock())
    return computeBlockReference(kernel, args, precision);
  Result<ReferenceOutput> r = computeReference(kernel, args, maxRows);
  if (!r)
    return r.status();
  std::vector<NamedReferenceOutput> outs;
  outs.push_back({kernel.reference->out, r.take()});
  return outs;
}

std::optional<std::pair<int64_t, int64_t>>
blockIntegerInputRange(const KernelSpec &kernel, const std::string &argName) {
  if (!kernel.reference || !kernel.reference->isBlock())
    return std::nullopt;
  for (const BlockOpSpec &op : kernel.reference->ops)
    for (size_t i = 0; i < op.inputs.size(); ++i)
      if (op.inputs[i] == argName && isIntSlot(op, i))
        return i == 1 ? std::pair<int64_t, int64_t>{-14, 0}
                      : std::pair<int64_t, int64_t>{-1, 1};
  return std::nullopt;
}

} // namespace attn::rt
