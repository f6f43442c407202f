//===- Reference.cpp - Float64 reference for attention kernels ------------===//

#include "runtime/Reference.h"

#include "runtime/BlockReference.h"
#include "runtime/Expr.h"
#include "runtime/StructuralReference.h"
#include "support/RandomFeatures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace attn::rt {

namespace {

/// The argument `name` of the reference, whose role (`query`, `memory`, ...)
/// names it in the error when it is missing.
Result<const Tensor *> findTensor(const TensorMap &args,
                                  const std::string &name, const char *role) {
  auto it = args.find(name);
  if (it == args.end())
    return Status::error(std::string("reference: the ") + role + " argument '" +
                         name + "' is missing");
  return &it->second;
}

Result<const Tensor *> getArg(const TensorMap &args, const std::string &name,
                              const char *role) {
  Result<const Tensor *> t = findTensor(args, name, role);
  if (!t)
    return t;
  if ((*t)->rank() != 4 && std::string(role) != "kv_lengths")
    return Status::error(std::string("reference: the ") + role + " '" + name +
                         "' must have rank 4, got " + (*t)->describe());
  return t;
}

/// The elements of `t` (flat, in order) in precision T.
template <typename T>
std::vector<T> elementsAs(const Tensor &t) {
  std::vector<T> out(size_t(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    out[size_t(i)] = T(t.getDouble(i));
  return out;
}

/// Evaluates `e`, which must give a number, into `out`; errors name the
/// reference field `field` ("reference.scale: ...").
Status evalNumber(const Expr &e, const EvalContext &ctx, std::string_view field,
                  double &out) {
  Result<Value> v = evaluate(e, ctx);
  if (!v)
    return Status::error("reference." + std::string(field) + ": " +
                         v.message());
  if (!v->isNumber())
    return Status::error("reference." + std::string(field) + ": " + e.str() +
                         " gives a boolean, expected a number");
  out = v->asDouble();
  return Status::success();
}

/// Numerically stable softmax-weighted sum of value rows; zeros when no key
/// is kept (or every kept score is -inf).
template <typename T>
void softmaxRow(const std::vector<int64_t> &kept, const std::vector<T> &scores,
                const T *v, int64_t dv, T *out) {
  for (int64_t d = 0; d < dv; ++d)
    out[d] = T(0);
  if (kept.empty())
    return;
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t j : kept)
    mx = std::max(mx, scores[size_t(j)]);
  if (mx == -std::numeric_limits<T>::infinity())
    return;
  T sum = T(0);
  for (int64_t j : kept) {
    T e = std::exp(scores[size_t(j)] - mx);
    sum += e;
    const T *vj = v + j * dv;
    for (int64_t d = 0; d < dv; ++d)
      out[d] += e * vj[d];
  }
  for (int64_t d = 0; d < dv; ++d)
    out[d] /= sum;
}

} // namespace

Result<AttentionShape> attentionShape(const KernelSpec &kernel,
                                      const TensorMap &args) {
  if (!kernel.reference)
    return Status::error("kernel '" + kernel.name +
                         "' has no reference description");
  const ReferenceSpec &ref = *kernel.reference;
  if (ref.isEma() || ref.isBlock())
    return Status::error("reference: kernel '" + kernel.name + "' has kind " +
                         ref.kind +
                         ", which is not an attention (no query, key or "
                         "value)");
  Result<const Tensor *> q = getArg(args, ref.query, "query");
  if (!q)
    return q.status();
  Result<const Tensor *> k = getArg(args, ref.key, "key");
  if (!k)
    return k.status();
  Result<const Tensor *> v = getArg(args, ref.value, "value");
  if (!v)
    return v.status();
  const std::vector<int64_t> &qs = (*q)->shape(), &ks = (*k)->shape(),
                             &vs = (*v)->shape();
  AttentionShape s;
  s.B = qs[0];
  s.H = qs[1];
  s.N = qs[2];
  s.D = qs[3];
  s.G = ks[1];
  s.M = ks[2];
  s.Dv = vs[3];
  auto mismatch = [&](const std::string &what) {
    return Status::error("reference: " + what + " (q " + formatShape(qs) +
                         ", k " + formatShape(ks) + ", v " + formatShape(vs) +
                         ")");
  };
  if (ks[0] != s.B || vs[0] != s.B)
    return mismatch("q, k and v disagree on the batch extent B");
  if (ks[3] != s.D)
    return mismatch("q and k disagree on the head dim D");
  if (vs[1] != s.G || vs[2] != s.M)
    return mismatch("k and v disagree on [B, G, M]");
  if (s.G <= 0 || s.H % s.G != 0)
    return mismatch("the query heads H = " + std::to_string(s.H) +
                    " are not a multiple of the key/value heads G = " +
                    std::to_string(s.G));
  auto out = args.find(ref.out);
  if (out != args.end()) {
    std::vector<int64_t> want = {s.B, s.H, s.N, s.Dv};
    if (out->second.shape() != want)
      return Status::error("reference: the output '" + ref.out + "' is " +
                           out->second.describe() + " but q and v give " +
                           formatShape(want));
  }
  if (ref.kvLengths) {
    Result<const Tensor *> kv = findTensor(args, *ref.kvLengths, "kv_lengths");
    if (!kv)
      return kv.status();
    if ((*kv)->shape() != std::vector<int64_t>{s.B})
      return Status::error("reference: kv_lengths '" + *ref.kvLengths +
                           "' is " + (*kv)->describe() +
                           " but B = " + std::to_string(s.B));
  }
  return s;
}

int64_t linearFeatureWidth(const ReferenceSpec &ref, int64_t headDim) {
  int64_t base = ref.feature.isRandom() ? ref.feature.randomFeatures : headDim;
  return base * std::max<int64_t>(1, int64_t(ref.expand.size()));
}

double attentionFlops(const KernelSpec &kernel, const AttentionShape &s) {
  if (kernel.reference && kernel.reference->isCoupler())
    return couplerFlops(*kernel.reference, s);
  if (kernel.reference && kernel.reference->isEmha())
    return emhaFlops(*kernel.reference, s);
  if (kernel.reference && kernel.reference->isLuna())
    return 4.0 * double(s.B) * double(s.H) * double(kernel.reference->rows) *
           double(s.N + s.M) * double(s.D);
  if (kernel.reference && kernel.reference->isLinear()) {
    double flops = 2.0 * double(s.B) * double(s.H) * double(s.N + s.M) *
                   double(linearFeatureWidth(*kernel.reference, s.D)) *
                   double(s.Dv + 1);
    // FAVOR+ also projects every query and key row on the m x D matrix.
    if (kernel.reference->feature.isRandom())
      flops += 2.0 * double(s.B) * double(s.H) * double(s.N + s.M) *
               double(kernel.reference->feature.randomFeatures) * double(s.D);
    return flops;
  }
  double flops =
      4.0 * double(s.B) * double(s.H) * double(s.N) * double(s.M) * double(s.D);
  if (kernel.reference && kernel.reference->causal)
    flops /= 2;
  return flops;
}

/// An evaluation context with the problem's extents and arguments bound.
static EvalContext problemContext(const AttentionShape &s,
                                  const TensorMap &args) {
  EvalContext ctx;
  ctx.dims[int(DimRole::B)] = s.B;
  ctx.dims[int(DimRole::H)] = s.H;
  ctx.dims[int(DimRole::N)] = s.N;
  ctx.dims[int(DimRole::M)] = s.M;
  ctx.dims[int(DimRole::D)] = s.D;
  ctx.dims[int(DimRole::G)] = s.G;
  ctx.tensors = &args;
  return ctx;
}

/// The visible pairs of a window2d reference: per query, the keys of its
/// window for which every mask holds (O(N w^2) mask evaluations).
static Result<double> windowPairs(const ReferenceSpec &ref,
                                  const AttentionShape &s,
                                  const TensorMap &args) {
  const Window2dSpec &w = *ref.window2d;
  if (w.rows * w.cols != s.N || s.N != s.M)
    return Status::error("reference.window2d: the " + std::to_string(w.rows) +
                         " x " + std::to_string(w.cols) +
                         " grid does not match N = " + std::to_string(s.N) +
                         ", M = " + std::to_string(s.M));
  EvalContext ctx = problemContext(s, args);
  double pairs = 0;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.N; ++i) {
        int64_t r0, r1, c0, c1;
        w.bounds(i, r0, r1, c0, c1);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) {
            ctx.b = b;
            ctx.h = h;
            ctx.i = i;
            ctx.j = r * w.cols + c;
            bool keep = true;
            for (size_t m = 0; m < ref.masks.size() && keep; ++m) {
              Result<Value> v = evaluate(ref.masks[m], ctx);
              if (!v)
                return Status::error("reference.masks[" + std::to_string(m) +
                                     "]: " + v.message());
              keep = v->type == Value::Type::Bool && v->b;
            }
            pairs += keep ? 1 : 0;
          }
      }
  return pairs;
}

Result<double> visibleFlops(const KernelSpec &kernel, const AttentionShape &s,
                            const TensorMap &args) {
  if (kernel.reference && kernel.reference->window2d &&
      kernel.reference->kind == "attention") {
    Result<double> pairs = windowPairs(*kernel.reference, s, args);
    if (!pairs)
      return pairs;
    return 4.0 * double(s.D) * *pairs;
  }
  if (!kernel.reference || !kernel.reference->keyBoundsExact ||
      kernel.reference->isLinear() || kernel.reference->isLuna())
    return attentionFlops(kernel, s);
  const ReferenceSpec &ref = *kernel.reference;
  EvalContext ctx = problemContext(s, args);
  double pairs = 0;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.N; ++i) {
        ctx.b = b;
        ctx.h = h;
        ctx.i = i;
        int64_t lo = 0, hi = s.M;
        double v;
        for (const Expr &e : ref.keyLower) {
          if (Status st = evalNumber(e, ctx, "key_lower", v); !st)
            return st;
          lo = std::max(lo, int64_t(v));
        }
        for (const Expr &e : ref.keyUpper) {
          if (Status st = evalNumber(e, ctx, "key_upper", v); !st)
            return st;
          hi = std::min(hi, int64_t(v));
        }
        pairs += double(std::max<int64_t>(0, hi - lo));
      }
  return 4.0 * double(s.D) * pairs;
}

/// Per batch, the number of keys a query may see: the kv_lengths entry
/// clamped to [0, M], or M without kv_lengths.
static std::vector<int64_t> visibleKeyCounts(const ReferenceSpec &ref,
                                             const TensorMap &args,
                                             const AttentionShape &s) {
  std::vector<int64_t> counts(size_t(s.B), s.M);
  if (ref.kvLengths) {
    const Tensor &len = args.at(*ref.kvLengths); // Checked by attentionShape.
    for (int64_t b = 0; b < s.B; ++b)
      counts[size_t(b)] =
          std::clamp<int64_t>(int64_t(len.getDouble(b)), 0, s.M);
  }
  return counts;
}

/// The outputs of a reference of `shape`, as Tensor::create makes them: the
/// float64 reference and the baseline in the dtype of the kernel's output
/// argument (f32 when the manifest has none); every row evaluated.
static Result<ReferenceOutput>
createOutputs(const KernelSpec &kernel, const std::vector<int64_t> &shape) {
  const ArgSpec *outArg = kernel.findArg(kernel.reference->out);
  DType outType = outArg ? outArg->dtype : DType::F32;
  Result<Tensor> ref64 = Tensor::create(DType::F64, shape);
  if (!ref64)
    return ref64.status();
  Result<Tensor> base = Tensor::create(outType, shape);
  if (!base)
    return base.status();
  return ReferenceOutput{ref64.take(), base.take(), {}};
}

/// Evaluates a reference of `shape` on the rows in `rows` (empty: all) in
/// both precisions: `run(out)` fills `out` (flat, in order) with the float64
/// reference when given a std::vector<double> and with the naive float32
/// baseline when given a std::vector<float>.
template <typename RunFn>
static Result<ReferenceOutput>
evaluateInBothPrecisions(const KernelSpec &kernel,
                         const std::vector<int64_t> &shape,
                         const std::vector<char> &rows, RunFn run) {
  Result<ReferenceOutput> outputs = createOutputs(kernel, shape);
  if (!outputs)
    return outputs;
  {
    std::vector<double> out;
    if (Status st = run(out); !st)
      return st;
    std::copy(out.begin(), out.end(), outputs->ref64.dataAs<double>());
  }
  std::vector<float> out;
  if (Status st = run(out); !st)
    return st;
  for (size_t n = 0; n < out.size(); ++n)
    outputs->baseline.setDouble(int64_t(n), double(out[n]));
  outputs->rowsEvaluated = rows;
  return outputs;
}

//===----------------------------------------------------------------------===//
// Kind "linear" (docs/LinearFamily.md §1 and §4)
//===----------------------------------------------------------------------===//

namespace {

/// What both precisions of the linear reference share: the evaluated
/// expansion, the FAVOR+ matrix, the key lengths and the rpe bias, all in
/// double (each precision rounds them to its own type).
struct LinearInputs {
  int64_t F0 = 0, E = 1, F = 0; ///< Base width, expansion count, F0 * E.
  std::vector<double> omega;    ///< FAVOR+: m x D.
  std::vector<double> gq, gk;   ///< Expansion: [N][E] and [M][E].
  std::vector<int64_t> visibleKeys; ///< Per batch: min(M, kv length).
  std::vector<double> bias;         ///< Rpe: [H][R].
  int64_t R = 0;
};

/// One evaluation of the quadratic form in precision T (double: the
/// reference; float: the naive baseline).  Features are computed once per
/// row; each visible (i, j) pair costs F + Dv.
template <typename T> class LinearEvaluator {
public:
  LinearEvaluator(const ReferenceSpec &ref, const AttentionShape &s,
                  const LinearInputs &in, EvalContext ctx)
      : ref(ref), s(s), in(in), ctx(ctx) {
    for (double w : in.omega)
      omega.push_back(T(w));
    for (double g : in.gq)
      gq.push_back(T(g));
    for (double g : in.gk)
      gk.push_back(T(g));
    for (double b : in.bias)
      expBias.push_back(std::exp(T(b)));
    if (ref.weight.kind == LinearWeightKind::Momentum) {
      // wnum(r) = gamma (1 - beta^(r+1)) / (1 - beta), r = distance >= 0.
      const T beta = T(ref.weight.beta), gamma = T(ref.weight.gamma);
      momentum.resize(size_t(s.M));
      for (int64_t r = 0; r < s.M; ++r) {
        T w;
        if (beta == T(1))
          w = T(r + 1);
        else if (std::is_same<T, double>::value && beta > T(0))
          w = T(-std::expm1(double(r + 1) * std::log(double(beta))) /
                (1.0 - double(beta)));
        else
          w = (T(1) - std::pow(beta, T(r + 1))) / (T(1) - beta);
        momentum[size_t(r)] = gamma * w;
      }
    }
  }

  /// Evaluates every (b, h) and the rows in `rows` (empty: all), writing
  /// out [B,H,N,Dv] in T.
  Status run(const std::vector<T> &q, const std::vector<T> &k,
             const std::vector<T> &v, const std::vector<char> &rows,
             std::vector<T> &out) {
    const int64_t F = in.F, groupSize = s.H / s.G;
    out.assign(size_t(s.B * s.H * s.N * s.Dv), T(0));
    std::vector<T> kf(static_cast<size_t>(s.M * F)),
        qf(static_cast<size_t>(F)), num(static_cast<size_t>(s.Dv));
    for (int64_t b = 0; b < s.B; ++b)
      for (int64_t g = 0; g < s.G; ++g) {
        const int64_t kvBase = (b * s.G + g) * s.M;
        if (Status st = features(k.data() + kvBase * s.D, s.M, gk.data(),
                                 kf.data());
            !st)
          return st;
        const T *vs = v.data() + kvBase * s.Dv;
        for (int64_t h = g * groupSize; h < (g + 1) * groupSize; ++h)
          for (int64_t i = 0; i < s.N; ++i) {
            if (!rows.empty() && !rows[size_t(i)])
              continue;
            const int64_t qRow = (b * s.H + h) * s.N + i;
            if (Status st = features(q.data() + qRow * s.D, 1,
                                     gq.data() + i * in.E, qf.data());
                !st)
              return st;
            // Visible keys: [0, hi).
            int64_t hi = in.visibleKeys[size_t(b)];
            if (ref.causal)
              hi = std::min(hi, i + s.M - s.N + 1);
            std::fill(num.begin(), num.end(), T(0));
            T den = T(0);
            for (int64_t j = 0; j < hi; ++j) {
              const T *kj = kf.data() + j * F;
              T kappa = T(0);
              for (int64_t f = 0; f < F; ++f)
                kappa += qf[size_t(f)] * kj[f];
              T wn = T(1), wd = T(1);
              if (ref.weight.kind == LinearWeightKind::Momentum) {
                wn = momentum[size_t(i + s.M - s.N - j)];
              } else if (ref.weight.kind == LinearWeightKind::Rpe) {
                const int64_t W = (in.R - 1) / 2;
                int64_t r = std::clamp<int64_t>(j - i, -W, W) + W;
                wn = wd = expBias[size_t(h * in.R + r)];
              }
              const T a = wn * kappa;
              const T *vj = vs + j * s.Dv;
              for (int64_t d = 0; d < s.Dv; ++d)
                num[size_t(d)] += a * vj[d];
              den += wd * kappa;
            }
            T *o = out.data() + qRow * s.Dv;
            if (ref.normalize == "none") {
              std::copy(num.begin(), num.end(), o);
              continue;
            }
            const T eps = T(ref.eps);
            const T divisor = ref.clamp ? std::max(den, eps) : den + eps;
            for (int64_t d = 0; d < s.Dv; ++d)
              o[d] = num[size_t(d)] / divisor;
          }
      }
    return Status::success();
  }

private:
  /// φ of `count` consecutive rows x[count][D] at consecutive positions
  /// into out[count][F]: the base map φ0, then the expansion g[count][E].
  /// The FAVOR+ shift c is the max of u over all `count` rows: for the keys
  /// of a (b, g) slice (count = M) the max over every key row and feature,
  /// masks ignored; for one query row (count = 1) its row max.
  Status features(const T *x, int64_t count, const T *g, T *out) {
    const int64_t D = s.D, F0 = in.F0, E = in.E;
    base.resize(size_t(count * F0));
    if (!ref.feature.isRandom()) {
      for (int64_t n = 0; n < count * D; ++n) {
        ctx.x = double(x[n]);
        double r;
        if (Status st =
                evalNumber(ref.feature.pointwise, ctx, "feature.pointwise", r);
            !st)
          return st;
        base[size_t(n)] = T(r);
      }
    } else {
      // u_r = Ω_r · x̃ - |x̃|^2 / 2, x̃ = x D^(-1/4).
      const T inRoot4 = T(std::pow(double(D), -0.25));
      const T invSqrtM = T(1.0 / std::sqrt(double(F0)));
      xs.resize(size_t(D));
      T c = -std::numeric_limits<T>::infinity();
      for (int64_t n = 0; n < count; ++n) {
        T sq = T(0);
        for (int64_t d = 0; d < D; ++d) {
          xs[size_t(d)] = x[n * D + d] * inRoot4;
          sq += xs[size_t(d)] * xs[size_t(d)];
        }
        for (int64_t r = 0; r < F0; ++r) {
          T u = T(0);
          for (int64_t d = 0; d < D; ++d)
            u += omega[size_t(r * D + d)] * xs[size_t(d)];
          u -= sq / T(2);
          base[size_t(n * F0 + r)] = u;
          c = std::max(c, u);
        }
      }
      for (T &u : base)
        u = invSqrtM * (std::exp(u - c) + T(attn::kFavorPlusEpsilon));
    }
    // φ(x, pos) = concat_e φ0(x) g_e(pos).
    for (int64_t n = 0; n < count; ++n)
      for (int64_t e = 0; e < E; ++e) {
        const T ge = g[n * E + e];
        for (int64_t r = 0; r < F0; ++r)
          out[n * in.F + e * F0 + r] = base[size_t(n * F0 + r)] * ge;
      }
    return Status::success();
  }

  const ReferenceSpec &ref;
  const AttentionShape &s;
  const LinearInputs &in;
  EvalContext ctx;
  std::vector<T> omega, gq, gk, expBias, momentum;
  std::vector<T> base, xs;
};

} // namespace

static Result<ReferenceOutput>
computeLinearReference(const KernelSpec &kernel, const TensorMap &args,
                       const AttentionShape &s, std::vector<char> rows) {
  const ReferenceSpec &ref = *kernel.reference;
  EvalContext ctx = problemContext(s, args);
  LinearInputs in;
  in.F0 = ref.feature.isRandom() ? ref.feature.randomFeatures : s.D;
  in.E = std::max<int64_t>(1, int64_t(ref.expand.size()));
  in.F = linearFeatureWidth(ref, s.D);
  if (ref.feature.isRandom())
    in.omega = attn::favorPlusMatrix(ref.feature.randomFeatures, s.D,
                                     ref.feature.seed);

  // The expansion at every query and key position (g = 1 without one).
  auto expandAt = [&](int64_t count, std::vector<double> &g) -> Status {
    g.assign(size_t(count * in.E), 1.0);
    for (int64_t pos = 0; pos < count; ++pos)
      for (size_t e = 0; e < ref.expand.size(); ++e) {
        ctx.i = pos;
        std::string field = "expand[" + std::to_string(e) + "]";
        if (Status st = evalNumber(ref.expand[e], ctx, field,
                                   g[size_t(pos * in.E) + e]);
            !st)
          return st;
      }
    return Status::success();
  };
  if (Status st = expandAt(s.N, in.gq); !st)
    return st;
  if (Status st = expandAt(s.M, in.gk); !st)
    return st;
  ctx.i = 0;

  in.visibleKeys = visibleKeyCounts(ref, args, s);

  if (ref.weight.kind == LinearWeightKind::Rpe) {
    Result<const Tensor *> biasArg =
        findTensor(args, ref.weight.bias, "rpe bias");
    if (!biasArg)
      return biasArg.status();
    const Tensor &bias = **biasArg;
    const std::vector<int64_t> &bs = bias.shape();
    if (bs.size() != 2 || bs[0] != s.H || bs[1] % 2 == 0)
      return Status::error("reference: the rpe bias '" + ref.weight.bias +
                           "' is " + bias.describe() + " but expected [H = " +
                           std::to_string(s.H) + ", R] with R = 2W + 1 odd");
    in.R = bs[1];
    in.bias = elementsAs<double>(bias);
  }

  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  return evaluateInBothPrecisions(
      kernel, {s.B, s.H, s.N, s.Dv}, rows, [&](auto &out) {
        using T = typename std::decay_t<decltype(out)>::value_type;
        LinearEvaluator<T> eval(ref, s, in, ctx);
        return eval.run(elementsAs<T>(qt), elementsAs<T>(kt), elementsAs<T>(vt),
                        rows, out);
      });
}

//===----------------------------------------------------------------------===//
// Kind "luna" (docs/LinearFamily.md §6)
//===----------------------------------------------------------------------===//

namespace {

/// log2(1 + 2^x) without overflow: x + log2(1 + 2^-x) for x > 0.
template <typename T> T softplus2(T x) {
  const T invLn2 = T(1.4426950408889634);
  if (x > T(0))
    return x + std::log1p(std::exp2(-x)) * invLn2;
  return std::log1p(std::exp2(x)) * invLn2;
}

/// In place: w = softmax(w) (max subtracted first).
template <typename T> void softmaxInPlace(std::vector<T> &w) {
  T mx = -std::numeric_limits<T>::infinity();
  for (T x : w)
    mx = std::max(mx, x);
  T sum = T(0);
  for (T &x : w) {
    x = std::exp(x - mx);
    sum += x;
  }
  for (T &x : w)
    x /= sum;
}

/// One evaluation of Luna in precision T (double: the reference; float: the
/// naive baseline) into out [B,H,N,D].  q [B,H,N,D], k and v [B,G,M,D],
/// mem [H,p,D]; keys j >= visibleKeys[b] contribute nothing; only the rows
/// in `rows` (empty: all) are written, though the causal prefix runs over
/// every row.
template <typename T>
void evaluateLuna(const AttentionShape &s, int64_t p, bool causal, T tau,
                  const std::vector<int64_t> &visibleKeys,
                  const std::vector<T> &q, const std::vector<T> &k,
                  const std::vector<T> &v, const std::vector<T> &mem,
                  const std::vector<char> &rows, std::vector<T> &out) {
  const int64_t D = s.D, groupSize = s.H / s.G;
  out.assign(size_t(s.B * s.H * s.N * D), T(0));
  // Non-causal: the packed sequence Ps; causal: the prefix state S.  Both
  // p x D.
  std::vector<T> packed(size_t(p * D)), w(size_t(std::max(p, s.M)));
  auto dot = [D](const T *a, const T *b) {
    T acc = T(0);
    for (int64_t d = 0; d < D; ++d)
      acc += a[d] * b[d];
    return acc;
  };
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h) {
      const int64_t g = h / groupSize, kvBase = (b * s.G + g) * s.M;
      const int64_t kept = visibleKeys[size_t(b)];
      const T *ks = k.data() + kvBase * D, *vs = v.data() + kvBase * D;
      const T *mh = mem.data() + h * p * D;
      std::fill(packed.begin(), packed.end(), T(0));
      // O_i = Σ_l softmax_l(τ' q_i·packed[l]) packed[l] / t, where
      // non-causal: τ' = τ, t = 1; causal: τ' = τ / t, t = i + 1 (s_i =
      // (τ / t) q_i·S[l] and (α_i·π_j) summed with v_j is α_i·S).
      auto readout = [&](int64_t i, T scoreScale, T invCount) {
        const int64_t qRow = (b * s.H + h) * s.N + i;
        w.resize(size_t(p));
        for (int64_t l = 0; l < p; ++l)
          w[size_t(l)] = scoreScale * dot(q.data() + qRow * D,
                                          packed.data() + l * D);
        softmaxInPlace(w);
        T *o = out.data() + qRow * D;
        for (int64_t l = 0; l < p; ++l) {
          const T a = w[size_t(l)] * invCount;
          for (int64_t d = 0; d < D; ++d)
            o[d] += a * packed[size_t(l * D + d)];
        }
      };
      if (!causal) {
        // Pack: Ps[l] = Σ_j softmax_j(τ P[h,l]·k_j) v_j over kept keys.
        if (kept > 0)
          for (int64_t l = 0; l < p; ++l) {
            w.resize(size_t(kept));
            for (int64_t j = 0; j < kept; ++j)
              w[size_t(j)] = tau * dot(mh + l * D, ks + j * D);
            softmaxInPlace(w);
            T *pl = packed.data() + l * D;
            for (int64_t j = 0; j < kept; ++j)
              for (int64_t d = 0; d < D; ++d)
                pl[d] += w[size_t(j)] * vs[j * D + d];
          }
        for (int64_t i = 0; i < s.N; ++i)
          if (rows.empty() || rows[size_t(i)])
            readout(i, tau, T(1));
        continue;
      }
      // Causal (N == M): S += π_i ⊗ v_i for a kept key i, then row i reads.
      for (int64_t i = 0; i < s.N; ++i) {
        if (i < kept)
          for (int64_t l = 0; l < p; ++l) {
            const T pi = softplus2(tau * dot(mh + l * D, ks + i * D));
            T *sl = packed.data() + l * D;
            for (int64_t d = 0; d < D; ++d)
              sl[d] += pi * vs[i * D + d];
          }
        if (rows.empty() || rows[size_t(i)]) {
          const T t = T(i + 1);
          readout(i, tau / t, T(1) / t);
        }
      }
    }
}

} // namespace

static Result<ReferenceOutput>
computeLunaReference(const KernelSpec &kernel, const TensorMap &args,
                     const AttentionShape &s, std::vector<char> rows) {
  const ReferenceSpec &ref = *kernel.reference;
  Result<const Tensor *> memArg = findTensor(args, ref.memory, "memory");
  if (!memArg)
    return memArg.status();
  const Tensor &mem = **memArg;
  if (mem.shape() != std::vector<int64_t>{s.H, ref.rows, s.D})
    return Status::error("reference: the memory '" + ref.memory + "' is " +
                         mem.describe() + " but expected [H, rows, D] = " +
                         formatShape({s.H, ref.rows, s.D}));
  if (s.Dv != s.D)
    return Status::error("reference: luna needs Dv == D (the packed sequence "
                         "is both keys and values), but v has Dv = " +
                         std::to_string(s.Dv) +
                         " and q D = " + std::to_string(s.D));
  if (ref.causal && s.N != s.M)
    return Status::error("reference: causal luna needs N == M, but q has N = " +
                         std::to_string(s.N) +
                         " and k M = " + std::to_string(s.M));
  double tau;
  if (Status st = evalNumber(ref.scale, problemContext(s, args), "scale", tau);
      !st)
    return st;
  if (!std::isfinite(tau))
    return Status::error("reference.scale: " + ref.scale.str() + " gives " +
                         std::to_string(tau) + ", expected a finite number");

  std::vector<int64_t> visibleKeys = visibleKeyCounts(ref, args, s);

  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  return evaluateInBothPrecisions(
      kernel, {s.B, s.H, s.N, s.Dv}, rows, [&](auto &out) {
        using T = typename std::decay_t<decltype(out)>::value_type;
        evaluateLuna<T>(s, ref.rows, ref.causal, T(tau), visibleKeys,
                        elementsAs<T>(qt), elementsAs<T>(kt), elementsAs<T>(vt),
                        elementsAs<T>(mem), rows, out);
        return Status::success();
      });
}

//===----------------------------------------------------------------------===//
// Kind "ema" (docs/LinearFamily.md §7)
//===----------------------------------------------------------------------===//

/// The rows to evaluate out of `n` for `maxRows` (0 or >= n: all, as an
/// empty mask): evenly spaced, always the first and the last.
static std::vector<char> sampledRows(int64_t n, int64_t maxRows) {
  std::vector<char> rows;
  if (maxRows > 0 && maxRows < n) {
    rows.assign(size_t(n), 0);
    int64_t stride = (n + maxRows - 1) / maxRows;
    for (int64_t i = 0; i < n; i += stride)
      rows[size_t(i)] = 1;
    rows[size_t(n - 1)] = 1;
  }
  return rows;
}

Result<EmaShape> emaShape(const KernelSpec &kernel, const TensorMap &args) {
  if (!kernel.reference)
    return Status::error("kernel '" + kernel.name +
                         "' has no reference description");
  const ReferenceSpec &ref = *kernel.reference;
  if (!ref.isEma())
    return Status::error("reference: kernel '" + kernel.name +
                         "' has kind " + ref.kind + ", not ema");
  Result<const Tensor *> x = findTensor(args, ref.input, "input");
  if (!x)
    return x.status();
  if ((*x)->rank() != 3)
    return Status::error("reference: the input '" + ref.input +
                         "' must have rank 3 ([B, L, C]), got " +
                         (*x)->describe());
  EmaShape s;
  s.B = (*x)->shape()[0];
  s.L = (*x)->shape()[1];
  s.C = (*x)->shape()[2];
  Result<const Tensor *> delta = findTensor(args, ref.delta, "delta");
  if (!delta)
    return delta.status();
  if ((*delta)->rank() != 2 || (*delta)->shape()[0] != s.C)
    return Status::error("reference: the delta '" + ref.delta + "' is " +
                         (*delta)->describe() + " but expected [C, n] with C = " +
                         std::to_string(s.C) + " from the input '" +
                         ref.input + "' " + (*x)->describe());
  s.n = (*delta)->shape()[1];
  for (auto [name, role] : {std::pair{&ref.alpha, "alpha"},
                            std::pair{&ref.beta, "beta"},
                            std::pair{&ref.gamma, "gamma"}}) {
    Result<const Tensor *> t = findTensor(args, *name, role);
    if (!t)
      return t.status();
    if ((*t)->shape() != std::vector<int64_t>{s.C, s.n})
      return Status::error(std::string("reference: the ") + role + " '" +
                           *name + "' is " + (*t)->describe() +
                           " but the input and delta give [C, n] = " +
                           formatShape({s.C, s.n}));
  }
  if (ref.emaCodeCompat() && !ref.omega)
    return Status::error("reference: compat code needs omega");
  // Compat code reads omega; with paper a named omega may be absent.
  if (ref.omega && (ref.emaCodeCompat() || args.count(*ref.omega))) {
    Result<const Tensor *> w = findTensor(args, *ref.omega, "omega");
    if (!w)
      return w.status();
    if ((*w)->shape() != std::vector<int64_t>{s.C})
      return Status::error("reference: the omega '" + *ref.omega + "' is " +
                           (*w)->describe() +
                           " but the input gives [C] = " + formatShape({s.C}));
  }
  auto out = args.find(ref.out);
  if (out != args.end() &&
      out->second.shape() != std::vector<int64_t>{s.B, s.L, s.C})
    return Status::error("reference: the output '" + ref.out + "' is " +
                         out->second.describe() + " but the input gives " +
                         formatShape({s.B, s.L, s.C}));
  return s;
}

double emaFlops(const EmaShape &s) {
  return 2.0 * double(s.B) * double(s.L) * double(s.C) * double(s.n) * 2.0;
}

Result<double> referenceFlops(const KernelSpec &kernel, const TensorMap &args) {
  if (kernel.reference && kernel.reference->isBlock())
    return blockFlops(kernel, args);
  if (kernel.reference && kernel.reference->isEma()) {
    Result<EmaShape> s = emaShape(kernel, args);
    if (!s)
      return s.status();
    return emaFlops(*s);
  }
  Result<AttentionShape> s = attentionShape(kernel, args);
  if (!s)
    return s.status();
  return visibleFlops(kernel, *s, args);
}

namespace {

template <typename T> T sigmoid(T z) { return T(1) / (T(1) + std::exp(-z)); }

/// The float64 EMA by its recurrence into y [B, L, C]: per (b, c, k),
/// h = p·beta·x_t + q·h, y_t = Σ_k gamma n^{-1/2} h; then the code gate.
void emaRecurrence(const EmaShape &s, bool code, const std::vector<double> &x,
                   const std::vector<double> &delta,
                   const std::vector<double> &alpha,
                   const std::vector<double> &beta,
                   const std::vector<double> &gamma,
                   const std::vector<double> &omega, double *y) {
  const int64_t C = s.C, n = s.n;
  const double invSqrtN = 1.0 / std::sqrt(double(n));
  std::vector<double> decay(size_t(C * n)), inScale(size_t(C * n)),
      outScale(size_t(C * n)), h(static_cast<size_t>(n));
  for (int64_t ck = 0; ck < C * n; ++ck) {
    const double p = sigmoid(delta[size_t(ck)]), a = sigmoid(alpha[size_t(ck)]);
    decay[size_t(ck)] = 1.0 - p * a;
    inScale[size_t(ck)] = p * beta[size_t(ck)];
    outScale[size_t(ck)] = gamma[size_t(ck)] * invSqrtN;
  }
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      std::fill(h.begin(), h.end(), 0.0);
      const size_t at = size_t(c * n);
      for (int64_t t = 0; t < s.L; ++t) {
        const int64_t idx = (b * s.L + t) * C + c;
        const double xv = x[size_t(idx)];
        double acc = 0;
        for (int64_t k = 0; k < n; ++k) {
          h[size_t(k)] = inScale[at + size_t(k)] * xv +
                         decay[at + size_t(k)] * h[size_t(k)];
          acc += outScale[at + size_t(k)] * h[size_t(k)];
        }
        if (code) {
          const double z = acc + omega[size_t(c)] * xv;
          acc = z * sigmoid(z);
        }
        y[idx] = acc;
      }
    }
}

/// The naive float32 EMA: K[c, t] = Σ_k gamma n^{-1/2} p beta pow(q, t) in
/// float, then y_t = Σ_{s ≤ t} K[t − s] x_s summed in float in order s = 0..t
/// (O(L^2) per (b, c)), then the code gate in float; only the time steps in
/// `rows` (empty: all) are written, through `store(flat index, value)`.
template <typename Store>
void emaToeplitzFloat(const EmaShape &s, bool code,
                      const std::vector<float> &x,
                      const std::vector<float> &delta,
                      const std::vector<float> &alpha,
                      const std::vector<float> &beta,
                      const std::vector<float> &gamma,
                      const std::vector<float> &omega,
                      const std::vector<char> &rows, Store store) {
  const int64_t C = s.C, n = s.n, L = s.L;
  const float invSqrtN = 1.0f / std::sqrt(float(n));
  std::vector<float> K(static_cast<size_t>(L)), xc(static_cast<size_t>(L));
  for (int64_t c = 0; c < C; ++c) {
    std::fill(K.begin(), K.end(), 0.0f);
    for (int64_t k = 0; k < n; ++k) {
      const size_t ck = size_t(c * n + k);
      const float p = sigmoid(delta[ck]), a = sigmoid(alpha[ck]);
      const float q = 1.0f - p * a;
      const float w = gamma[ck] * invSqrtN * p * beta[ck];
      for (int64_t t = 0; t < L; ++t)
        K[size_t(t)] += w * std::pow(q, float(t));
    }
    for (int64_t b = 0; b < s.B; ++b) {
      for (int64_t t = 0; t < L; ++t)
        xc[size_t(t)] = x[size_t((b * L + t) * C + c)];
      for (int64_t t = 0; t < L; ++t) {
        if (!rows.empty() && !rows[size_t(t)])
          continue;
        float acc = 0.0f;
        for (int64_t u = 0; u <= t; ++u)
          acc += K[size_t(t - u)] * xc[size_t(u)];
        if (code) {
          const float z = acc + omega[size_t(c)] * xc[size_t(t)];
          acc = z * sigmoid(z);
        }
        store((b * L + t) * C + c, acc);
      }
    }
  }
}

} // namespace

static Result<ReferenceOutput> computeEmaReference(const KernelSpec &kernel,
                                                   const TensorMap &args,
                                                   int64_t maxRows) {
  Result<EmaShape> shapeOr = emaShape(kernel, args);
  if (!shapeOr)
    return shapeOr.status();
  const EmaShape s = *shapeOr;
  const ReferenceSpec &ref = *kernel.reference;
  const bool code = ref.emaCodeCompat();
  std::vector<char> rows = sampledRows(s.L, maxRows);

  Result<ReferenceOutput> outputs = createOutputs(kernel, {s.B, s.L, s.C});
  if (!outputs)
    return outputs;

  const Tensor &xt = args.at(ref.input), &dt = args.at(ref.delta),
               &at = args.at(ref.alpha), &bt = args.at(ref.beta),
               &gt = args.at(ref.gamma);
  // omega is read only by compat code (emaShape checked it is present).
  const Tensor *ot = code ? &args.at(*ref.omega) : nullptr;
  emaRecurrence(s, code, elementsAs<double>(xt), elementsAs<double>(dt),
                elementsAs<double>(at), elementsAs<double>(bt),
                elementsAs<double>(gt),
                ot ? elementsAs<double>(*ot) : std::vector<double>(),
                outputs->ref64.dataAs<double>());
  Tensor &baseline = outputs->baseline;
  emaToeplitzFloat(
      s, code, elementsAs<float>(xt), elementsAs<float>(dt),
      elementsAs<float>(at), elementsAs<float>(bt), elementsAs<float>(gt),
      ot ? elementsAs<float>(*ot) : std::vector<float>(), rows,
      [&](int64_t idx, float v) { baseline.setDouble(idx, double(v)); });
  outputs->rowsEvaluated = std::move(rows);
  outputs->rowAxis = 1;
  return outputs;
}

Result<ReferenceOutput> computeReference(const KernelSpec &kernel,
                                         const TensorMap &args,
                                         int64_t maxRows) {
  if (kernel.reference && kernel.reference->isEma())
    return computeEmaReference(kernel, args, maxRows);
  if (kernel.reference && kernel.reference->isBlock()) {
    // Every row is evaluated (the ops cost O(rows), not O(rows^2)); the
    // first output (`out`) is returned: computeReferenceOutputs() gives all.
    Result<std::vector<NamedReferenceOutput>> outs =
        computeBlockReference(kernel, args);
    if (!outs)
      return outs.status();
    for (NamedReferenceOutput &o : *outs)
      if (o.name == kernel.reference->out)
        return std::move(o.output);
    return Status::error("reference: kernel '" + kernel.name +
                         "' has no output '" + kernel.reference->out + "'");
  }
  Result<AttentionShape> shapeOr = attentionShape(kernel, args);
  if (!shapeOr)
    return shapeOr.status();
  const AttentionShape s = *shapeOr;
  std::vector<char> rows = sampledRows(s.N, maxRows);
  const ReferenceSpec &ref = *kernel.reference;
  if (ref.isLinear())
    return computeLinearReference(kernel, args, s, std::move(rows));
  if (ref.isLuna())
    return computeLunaReference(kernel, args, s, std::move(rows));
  if (ref.isCoupler())
    return computeCouplerReference(kernel, args, s, std::move(rows));
  if (ref.isEmha())
    return computeEmhaReference(kernel, args, s, std::move(rows));
  if (ref.normalize != "softmax")
    return Status::error(
        "reference: normalize '" + ref.normalize +
        "' is not supported (the reference evaluates softmax)");
  Result<ReferenceOutput> outputs =
      createOutputs(kernel, {s.B, s.H, s.N, s.Dv});
  if (!outputs)
    return outputs;

  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  std::vector<double> q64 = elementsAs<double>(qt),
                      k64 = elementsAs<double>(kt),
                      v64 = elementsAs<double>(vt);
  std::vector<float> q32 = elementsAs<float>(qt), k32 = elementsAs<float>(kt),
                     v32 = elementsAs<float>(vt);

  EvalContext ctx = problemContext(s, args);

  bool constantScale = ref.scale.isConstant();
  double scale64 = 0;
  if (constantScale)
    if (Status st = evalNumber(ref.scale, ctx, "scale", scale64); !st)
      return st;

  const int64_t groupSize = s.H / s.G;
  std::vector<double> s64(size_t(s.M));
  std::vector<float> s32(size_t(s.M));
  std::vector<double> row64(size_t(s.Dv));
  std::vector<float> row32(size_t(s.Dv));
  std::vector<int64_t> kept;
  kept.reserve(size_t(s.M));

  for (int64_t b = 0; b < s.B; ++b) {
    for (int64_t h = 0; h < s.H; ++h) {
      int64_t g = h / groupSize;
      int64_t kvBase = (b * s.G + g) * s.M;
      for (int64_t i = 0; i < s.N; ++i) {
        if (!rows.empty() && !rows[size_t(i)])
          continue;
        int64_t qRow = ((b * s.H + h) * s.N + i) * s.D;
        kept.clear();
        for (int64_t j = 0; j < s.M; ++j) {
          ctx.b = b;
          ctx.h = h;
          ctx.i = i;
          ctx.j = j;
          ctx.s = 0;
          bool keep = true;
          for (size_t m = 0; m < ref.masks.size() && keep; ++m) {
            Result<Value> v = evaluate(ref.masks[m], ctx);
            if (!v)
              return Status::error("reference.masks[" + std::to_string(m) +
                                   "]: " + v.message());
            if (v->type != Value::Type::Bool)
              return Status::error("reference.masks[" + std::to_string(m) +
                                   "]: " + ref.masks[m].str() +
                                   " gives a number, expected a boolean");
            keep = v->b;
          }
          if (!keep)
            continue;
          kept.push_back(j);

          const int64_t kRow = (kvBase + j) * s.D;
          double dot64 = 0;
          float dot32 = 0;
          for (int64_t d = 0; d < s.D; ++d) {
            dot64 += q64[size_t(qRow + d)] * k64[size_t(kRow + d)];
            dot32 += q32[size_t(qRow + d)] * k32[size_t(kRow + d)];
          }
          double sc = scale64;
          if (!constantScale)
            if (Status st = evalNumber(ref.scale, ctx, "scale", sc); !st)
              return st;
          double x64 = sc * dot64;
          float x32 = float(sc) * dot32;
          for (size_t m = 0; m < ref.scoreMods.size(); ++m) {
            std::string field = "score_mods[" + std::to_string(m) + "]";
            double r;
            ctx.s = x64;
            if (Status st = evalNumber(ref.scoreMods[m], ctx, field, r); !st)
              return st;
            x64 = r;
            ctx.s = double(x32);
            if (Status st = evalNumber(ref.scoreMods[m], ctx, field, r); !st)
              return st;
            x32 = float(r);
          }
          s64[size_t(j)] = x64;
          s32[size_t(j)] = x32;
        }
        softmaxRow(kept, s64, v64.data() + kvBase * s.Dv, s.Dv, row64.data());
        softmaxRow(kept, s32, v32.data() + kvBase * s.Dv, s.Dv, row32.data());
        int64_t outRow = ((b * s.H + h) * s.N + i) * s.Dv;
        for (int64_t d = 0; d < s.Dv; ++d) {
          outputs->ref64.dataAs<double>()[outRow + d] = row64[size_t(d)];
          outputs->baseline.setDouble(outRow + d, double(row32[size_t(d)]));
        }
      }
    }
  }
  outputs->rowsEvaluated = std::move(rows);
  return outputs;
}

//===----------------------------------------------------------------------===//
// Helpers shared with StructuralReference.cpp
//===----------------------------------------------------------------------===//

Result<const Tensor *> detail::referenceTensor(const TensorMap &args,
                                               const std::string &name,
                                               const char *role) {
  return findTensor(args, name, role);
}

std::vector<double> detail::tensorAsDoubles(const Tensor &t) {
  return elementsAs<double>(t);
}

std::vector<float> detail::tensorAsFloats(const Tensor &t) {
  return elementsAs<float>(t);
}

Result<double> detail::referenceScale(const ReferenceSpec &ref,
                                      const AttentionShape &s,
                                      const TensorMap &args) {
  double tau;
  if (Status st = evalNumber(ref.scale, problemContext(s, args), "scale", tau);
      !st)
    return st;
  if (!std::isfinite(tau))
    return Status::error("reference.scale: " + ref.scale.str() + " gives " +
                         std::to_string(tau) + ", expected a finite number");
  return tau;
}

Result<ReferenceOutput>
detail::createAttentionOutputs(const KernelSpec &kernel,
                               const AttentionShape &s) {
  return createOutputs(kernel, {s.B, s.H, s.N, s.Dv});
}

} // namespace attn::rt
