//===- StructuralReference.cpp - References of coupler and emha -----------===//

#include "runtime/StructuralReference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace attn::rt {

double couplerFlops(const ReferenceSpec &ref, const AttentionShape &s) {
  const double sides = ref.grid.size() == 2
                           ? double(ref.grid[0] + ref.grid[1])
                           : 0.0;
  return 2.0 * double(s.B) * double(s.H) * double(s.N) * sides *
         double(s.D + s.Dv);
}

double emhaFlops(const ReferenceSpec &ref, const AttentionShape &s) {
  const double k2 = double(ref.kernelSize) * double(ref.kernelSize);
  return 2.0 * double(s.B) * double(s.H) * double(s.N) * double(s.M) *
         (double(s.H) * double(s.D) + 2.0 * double(s.H) * k2 + double(s.Dv));
}

namespace {

/// In place: each row of `rows` x `width` values becomes its softmax (the
/// max subtracted first).
template <typename T> void softmaxRows(T *x, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r) {
    T *row = x + r * width;
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t c = 0; c < width; ++c)
      mx = std::max(mx, row[c]);
    T sum = T(0);
    for (int64_t c = 0; c < width; ++c) {
      row[c] = std::exp(row[c] - mx);
      sum += row[c];
    }
    for (int64_t c = 0; c < width; ++c)
      row[c] /= sum;
  }
}

/// Couplformer in precision T into out [B, H, N, Dv]: the two maps, then
/// the explicit quadratic form of A ⊗ Bm on the rows in `rows`.
template <typename T>
void evaluateCoupler(const AttentionShape &s, int64_t R, int64_t C, T tau,
                     const std::vector<T> &q, const std::vector<T> &k,
                     const std::vector<T> &v, const std::vector<char> &rows,
                     std::vector<T> &out) {
  const int64_t D = s.D, Dv = s.Dv, groupSize = s.H / s.G;
  out.assign(size_t(s.B * s.H * s.N * Dv), T(0));
  std::vector<T> A(size_t(R * R)), Bm(size_t(C * C));
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h) {
      const int64_t g = h / groupSize;
      const T *qs = q.data() + (b * s.H + h) * s.N * D;
      const T *ks = k.data() + (b * s.G + g) * s.M * D;
      const T *vs = v.data() + (b * s.G + g) * s.M * Dv;
      // Row map: grid rows flattened over (width, channels).
      for (int64_t r1 = 0; r1 < R; ++r1)
        for (int64_t r2 = 0; r2 < R; ++r2) {
          T acc = T(0);
          for (int64_t c = 0; c < C; ++c)
            for (int64_t d = 0; d < D; ++d)
              acc += qs[(r1 * C + c) * D + d] * ks[(r2 * C + c) * D + d];
          A[size_t(r1 * R + r2)] = tau * acc;
        }
      // Column map: grid columns flattened over (height, channels).
      for (int64_t c1 = 0; c1 < C; ++c1)
        for (int64_t c2 = 0; c2 < C; ++c2) {
          T acc = T(0);
          for (int64_t r = 0; r < R; ++r)
            for (int64_t d = 0; d < D; ++d)
              acc += qs[(r * C + c1) * D + d] * ks[(r * C + c2) * D + d];
          Bm[size_t(c1 * C + c2)] = tau * acc;
        }
      softmaxRows(A.data(), R, R);
      softmaxRows(Bm.data(), C, C);
      // O_i = Σ_j (A ⊗ Bm)[i, j] v_j.
      for (int64_t i = 0; i < s.N; ++i) {
        if (!rows.empty() && !rows[size_t(i)])
          continue;
        T *o = out.data() + ((b * s.H + h) * s.N + i) * Dv;
        const int64_t r1 = i / C, c1 = i % C;
        for (int64_t j = 0; j < s.M; ++j) {
          const T w = A[size_t(r1 * R + j / C)] * Bm[size_t(c1 * C + j % C)];
          for (int64_t e = 0; e < Dv; ++e)
            o[e] += w * vs[j * Dv + e];
        }
      }
    }
}

/// EIT's enhanced multi-head attention in precision T into out [B, H, N,
/// Dv] (G = H), on the rows in `rows`.
template <typename T>
void evaluateEmha(const AttentionShape &s, int64_t kSize, T tau,
                  const std::vector<T> &q, const std::vector<T> &k,
                  const std::vector<T> &v, const std::vector<T> &isi,
                  const std::vector<T> &csi, const std::vector<char> &rows,
                  std::vector<T> &out) {
  const int64_t H = s.H, N = s.N, M = s.M, D = s.D, Dv = s.Dv;
  const int64_t p = (kSize - 1) / 2, area = N * M;
  out.assign(size_t(s.B * H * N * Dv), T(0));
  std::vector<T> pair(size_t(H * area)), A(size_t(H * area)),
      mixed(static_cast<size_t>(area));
  // w[i, j, a, e] of an [H, H, k, k] weight.
  auto weight = [&](const std::vector<T> &w, int64_t i, int64_t j, int64_t a,
                    int64_t e) {
    return w[size_t(((i * H + j) * kSize + a) * kSize + e)];
  };
  // y[n, m] += Σ_{a,e} w[a, e] x[n + a − p, m + e − p] (zero padding).
  auto convolveInto = [&](const T *x, const std::vector<T> &w, int64_t i,
                          int64_t j, T *y, int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t a = 0; a < kSize; ++a) {
        const int64_t ns = n + a - p;
        if (ns < 0 || ns >= N)
          continue;
        for (int64_t e = 0; e < kSize; ++e) {
          const T we = weight(w, i, j, a, e);
          if (we == T(0))
            continue;
          const int64_t lo = std::max<int64_t>(0, p - e),
                        hi = std::min<int64_t>(M, M + p - e);
          const T *xr = x + ns * M + (e - p);
          T *yr = y + n * M;
          for (int64_t m = lo; m < hi; ++m)
            yr[m] += we * xr[m];
        }
      }
  };
  for (int64_t b = 0; b < s.B; ++b) {
    // A_i = softmax(ISI_i * {S_ij}_j), one query head at a time.
    for (int64_t i = 0; i < H; ++i) {
      const T *qi = q.data() + (b * H + i) * N * D;
      for (int64_t j = 0; j < H; ++j) {
        const T *kj = k.data() + (b * H + j) * M * D;
        T *sij = pair.data() + j * area;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t m = 0; m < M; ++m) {
            T acc = T(0);
            for (int64_t d = 0; d < D; ++d)
              acc += qi[n * D + d] * kj[m * D + d];
            sij[n * M + m] = tau * acc;
          }
      }
      std::fill(mixed.begin(), mixed.end(), T(0));
      for (int64_t j = 0; j < H; ++j)
        convolveInto(pair.data() + j * area, isi, i, j, mixed.data(), 0, N);
      softmaxRows(mixed.data(), N, M);
      std::copy(mixed.begin(), mixed.end(), A.begin() + i * area);
    }
    // Ã_i = CSI_i * {A_j}_j on the evaluated rows, then O_i = Ã_i V_i.
    for (int64_t i = 0; i < H; ++i) {
      std::fill(mixed.begin(), mixed.end(), T(0));
      for (int64_t n = 0; n < N; ++n) {
        if (!rows.empty() && !rows[size_t(n)])
          continue;
        for (int64_t j = 0; j < H; ++j)
          convolveInto(A.data() + j * area, csi, i, j, mixed.data(), n, n + 1);
      }
      const T *vi = v.data() + (b * H + i) * M * Dv;
      for (int64_t n = 0; n < N; ++n) {
        if (!rows.empty() && !rows[size_t(n)])
          continue;
        T *o = out.data() + ((b * H + i) * N + n) * Dv;
        for (int64_t m = 0; m < M; ++m) {
          const T w = mixed[size_t(n * M + m)];
          for (int64_t e = 0; e < Dv; ++e)
            o[e] += w * vi[m * Dv + e];
        }
      }
    }
  }
}

/// Runs `run(out)` for double and float into both outputs of a reference of
/// shape [B, H, N, Dv].
template <typename RunFn>
Result<ReferenceOutput> inBothPrecisions(const KernelSpec &kernel,
                                         const AttentionShape &s,
                                         std::vector<char> rows, RunFn run) {
  Result<ReferenceOutput> outputs = detail::createAttentionOutputs(kernel, s);
  if (!outputs)
    return outputs;
  std::vector<double> out64;
  run(out64);
  std::copy(out64.begin(), out64.end(), outputs->ref64.dataAs<double>());
  std::vector<float> out32;
  run(out32);
  for (size_t n = 0; n < out32.size(); ++n)
    outputs->baseline.setDouble(int64_t(n), double(out32[n]));
  outputs->rowsEvaluated = std::move(rows);
  return outputs;
}

} // namespace

Result<ReferenceOutput> computeCouplerReference(const KernelSpec &kernel,
                                                const TensorMap &args,
                                                const AttentionShape &s,
                                                std::vector<char> rows) {
  const ReferenceSpec &ref = *kernel.reference;
  const int64_t R = ref.grid[0], C = ref.grid[1];
  if (R * C != s.N || s.N != s.M)
    return Status::error("reference: the " + std::to_string(R) + " x " +
                         std::to_string(C) + " grid of coupler has " +
                         std::to_string(R * C) + " tokens but N = " +
                         std::to_string(s.N) + " and M = " +
                         std::to_string(s.M));
  Result<double> tau = detail::referenceScale(ref, s, args);
  if (!tau)
    return tau.status();
  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  return inBothPrecisions(kernel, s, rows, [&](auto &out) {
    using T = typename std::decay_t<decltype(out)>::value_type;
    if constexpr (std::is_same_v<T, double>)
      evaluateCoupler<double>(s, R, C, *tau, detail::tensorAsDoubles(qt),
                              detail::tensorAsDoubles(kt),
                              detail::tensorAsDoubles(vt), rows, out);
    else
      evaluateCoupler<float>(s, R, C, float(*tau), detail::tensorAsFloats(qt),
                             detail::tensorAsFloats(kt),
                             detail::tensorAsFloats(vt), rows, out);
  });
}

Result<ReferenceOutput> computeEmhaReference(const KernelSpec &kernel,
                                             const TensorMap &args,
                                             const AttentionShape &s,
                                             std::vector<char> rows) {
  const ReferenceSpec &ref = *kernel.reference;
  if (s.G != s.H)
    return Status::error("reference: emha needs as many key heads as query "
                         "heads, but G = " + std::to_string(s.G) +
                         " and H = " + std::to_string(s.H));
  const int64_t kSize = ref.kernelSize;
  const std::vector<int64_t> want = {s.H, s.H, kSize, kSize};
  const Tensor *weights[2];
  for (int n = 0; n < 2; ++n) {
    const std::string &name = n ? ref.csi : ref.isi;
    Result<const Tensor *> w =
        detail::referenceTensor(args, name, n ? "csi" : "isi");
    if (!w)
      return w.status();
    if ((*w)->shape() != want)
      return Status::error("reference: the " + std::string(n ? "CSI" : "ISI") +
                           " weights '" + name + "' are " + (*w)->describe() +
                           " but expected [H, H, k, k] = " + formatShape(want));
    weights[n] = *w;
  }
  Result<double> tau = detail::referenceScale(ref, s, args);
  if (!tau)
    return tau.status();
  const Tensor &qt = args.at(ref.query), &kt = args.at(ref.key),
               &vt = args.at(ref.value);
  return inBothPrecisions(kernel, s, rows, [&](auto &out) {
    using T = typename std::decay_t<decltype(out)>::value_type;
    if constexpr (std::is_same_v<T, double>)
      evaluateEmha<double>(s, kSize, *tau, detail::tensorAsDoubles(qt),
                           detail::tensorAsDoubles(kt),
                           detail::tensorAsDoubles(vt),
                           detail::tensorAsDoubles(*weights[0]),
                           detail::tensorAsDoubles(*weights[1]), rows, out);
    else
      evaluateEmha<float>(s, kSize, float(*tau), detail::tensorAsFloats(qt),
                          detail::tensorAsFloats(kt),
                          detail::tensorAsFloats(vt),
                          detail::tensorAsFloats(*weights[0]),
                          detail::tensorAsFloats(*weights[1]), rows, out);
  });
}

} // namespace attn::rt
