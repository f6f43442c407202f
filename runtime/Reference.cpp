//===- Reference.cpp - Float64 reference for attention kernels ------------===//

#include "runtime/Reference.h"

#include "runtime/Expr.h"

#include <cmath>
#include <limits>
#include <vector>

namespace attn::rt {

namespace {

Result<const Tensor *> getArg(const TensorMap &args, const std::string &name,
                              const char *role) {
  auto it = args.find(name);
  if (it == args.end())
    return Status::error(std::string("reference: the ") + role + " argument '" +
                         name + "' is missing");
  if (it->second.rank() != 4 && std::string(role) != "kv_lengths")
    return Status::error(std::string("reference: the ") + role + " '" + name +
                         "' must have rank 4, got " + it->second.describe());
  return &it->second;
}

std::vector<double> toDoubles(const Tensor &t) {
  std::vector<double> out(size_t(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    out[size_t(i)] = t.getDouble(i);
  return out;
}

std::vector<float> toFloats(const Tensor &t) {
  std::vector<float> out(size_t(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    out[size_t(i)] = float(t.getDouble(i));
  return out;
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
    auto kv = args.find(*ref.kvLengths);
    if (kv == args.end())
      return Status::error("reference: the kv_lengths argument '" +
                           *ref.kvLengths + "' is missing");
    if (kv->second.shape() != std::vector<int64_t>{s.B})
      return Status::error("reference: kv_lengths '" + *ref.kvLengths +
                           "' is " + kv->second.describe() +
                           " but B = " + std::to_string(s.B));
  }
  return s;
}

double attentionFlops(const KernelSpec &kernel, const AttentionShape &s) {
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

Result<double> visibleFlops(const KernelSpec &kernel, const AttentionShape &s,
                            const TensorMap &args) {
  if (!kernel.reference || !kernel.reference->keyBoundsExact)
    return attentionFlops(kernel, s);
  const ReferenceSpec &ref = *kernel.reference;
  EvalContext ctx = problemContext(s, args);
  auto bound = [&](const Expr &e, const std::string &what,
                   int64_t &out) -> Status {
    Result<Value> v = evaluate(e, ctx);
    if (!v)
      return Status::error("reference." + what + ": " + v.message());
    if (!v->isNumber())
      return Status::error("reference." + what + ": " + e.str() +
                           " gives a boolean, expected a number");
    out = int64_t(v->asDouble());
    return Status::success();
  };
  double pairs = 0;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.N; ++i) {
        ctx.b = b;
        ctx.h = h;
        ctx.i = i;
        int64_t lo = 0, hi = s.M, v;
        for (const Expr &e : ref.keyLower) {
          if (Status st = bound(e, "key_lower", v); !st)
            return st;
          lo = std::max(lo, v);
        }
        for (const Expr &e : ref.keyUpper) {
          if (Status st = bound(e, "key_upper", v); !st)
            return st;
          hi = std::min(hi, v);
        }
        pairs += double(std::max<int64_t>(0, hi - lo));
      }
  return 4.0 * double(s.D) * pairs;
}

Result<ReferenceOutput> computeReference(const KernelSpec &kernel,
                                         const TensorMap &args,
                                         int64_t maxRows) {
  Result<AttentionShape> shapeOr = attentionShape(kernel, args);
  if (!shapeOr)
    return shapeOr.status();
  const AttentionShape s = *shapeOr;
  std::vector<char> rows;
  if (maxRows > 0 && maxRows < s.N) {
    rows.assign(size_t(s.N), 0);
    int64_t stride = (s.N + maxRows - 1) / maxRows;
    for (int64_t i = 0; i < s.N; i += stride)
      rows[size_t(i)] = 1;
    rows[size_t(s.N - 1)] = 1;
  }
  const ReferenceSpec &ref = *kernel.reference;
  if (ref.normalize != "softmax")
    return Status::error(
        "reference: normalize '" + ref.normalize +
        "' is not supported (the reference evaluates softmax)");
  const ArgSpec *outArg = kernel.findArg(ref.out);
  DType outType = outArg ? outArg->dtype : DType::F32;

  Result<Tensor> ref64 = Tensor::create(DType::F64, {s.B, s.H, s.N, s.Dv});
  if (!ref64)
    return ref64.status();
  Result<Tensor> base = Tensor::create(outType, {s.B, s.H, s.N, s.Dv});
  if (!base)
    return base.status();

  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  std::vector<double> q64 = toDoubles(qt), k64 = toDoubles(kt),
                      v64 = toDoubles(vt);
  std::vector<float> q32 = toFloats(qt), k32 = toFloats(kt), v32 = toFloats(vt);

  EvalContext ctx = problemContext(s, args);

  auto evalNumber = [&](const Expr &e, const std::string &field,
                        double &out) -> Status {
    Result<Value> v = evaluate(e, ctx);
    if (!v)
      return Status::error("reference." + field + ": " + v.message());
    if (!v->isNumber())
      return Status::error("reference." + field + ": " + e.str() +
                           " gives a boolean, expected a number");
    out = v->asDouble();
    return Status::success();
  };

  bool constantScale = ref.scale.isConstant();
  double scale64 = 0;
  if (constantScale)
    if (Status st = evalNumber(ref.scale, "scale", scale64); !st)
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
            if (Status st = evalNumber(ref.scale, "scale", sc); !st)
              return st;
          double x64 = sc * dot64;
          float x32 = float(sc) * dot32;
          for (size_t m = 0; m < ref.scoreMods.size(); ++m) {
            std::string field = "score_mods[" + std::to_string(m) + "]";
            double r;
            ctx.s = x64;
            if (Status st = evalNumber(ref.scoreMods[m], field, r); !st)
              return st;
            x64 = r;
            ctx.s = double(x32);
            if (Status st = evalNumber(ref.scoreMods[m], field, r); !st)
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
          ref64->dataAs<double>()[outRow + d] = row64[size_t(d)];
          base->setDouble(outRow + d, double(row32[size_t(d)]));
        }
      }
    }
  }
  return ReferenceOutput{ref64.take(), base.take(), std::move(rows)};
}

} // namespace attn::rt
