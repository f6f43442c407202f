//===- BaselineCheck.cpp - float64 reference for attention outputs --------===//
//
// Compiled without -ffast-math: this is the reference.
//
//===----------------------------------------------------------------------===//
#include "bench/baselines/BaselineCheck.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace attnc {
namespace bench {

void fillUniform(float *p, size_t n, unsigned seed, float amp) {
  unsigned x = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = amp * (float(x >> 8) * (1.f / 8388608.f) - 1.f);
  }
}

void referenceRow(const float *q, const float *k, const float *v, int N, int D,
                  bool causal, long bh, int row, double *outRow) {
  const size_t head = size_t(bh) * N * D;
  const float *Q = q + head + size_t(row) * D;
  const int len = causal ? row + 1 : N;
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> s(len);
  double m = -INFINITY;
  for (int j = 0; j < len; ++j) {
    const float *K = k + head + size_t(j) * D;
    double acc = 0;
    for (int d = 0; d < D; ++d)
      acc += double(Q[d]) * double(K[d]);
    s[j] = acc * scale;
    m = std::max(m, s[j]);
  }
  double sum = 0;
  for (int j = 0; j < len; ++j) {
    s[j] = std::exp(s[j] - m);
    sum += s[j];
  }
  for (int d = 0; d < D; ++d)
    outRow[d] = 0;
  for (int j = 0; j < len; ++j) {
    const float *V = v + head + size_t(j) * D;
    const double p = s[j] / sum;
    for (int d = 0; d < D; ++d)
      outRow[d] += p * double(V[d]);
  }
}

double maxErrorVsReference(const float *q, const float *k, const float *v,
                           const float *out, int B, int H, int N, int D,
                           bool causal, int rowsPerHead) {
  std::vector<int> rows;
  if (rowsPerHead >= N) {
    for (int i = 0; i < N; ++i)
      rows.push_back(i);
  } else {
    const int n = std::max(rowsPerHead, 2);
    for (int t = 0; t < n; ++t)
      rows.push_back(int((long(N - 1) * t) / (n - 1)));
  }
  std::vector<double> ref(D);
  double err = 0;
  for (long bh = 0; bh < long(B) * H; ++bh)
    for (int i : rows) {
      referenceRow(q, k, v, N, D, causal, bh, i, ref.data());
      const float *o = out + (size_t(bh) * N + i) * D;
      for (int d = 0; d < D; ++d) {
        double e = std::fabs(double(o[d]) - ref[d]);
        if (!(e <= err)) // also catches NaN
          err = std::isnan(e) ? INFINITY : e;
      }
    }
  return err;
}

double checkAttention(const AttentionFn &fn, int B, int H, int N, int D,
                      bool causal) {
  const size_t n = size_t(B) * H * N * D;
  std::vector<float> q(n), k(n), v(n), out(n, NAN);
  // Scores of magnitude up to ~4 after scaling: softmax neither flat nor
  // one-hot.
  fillUniform(q.data(), n, 11, 2.f);
  fillUniform(k.data(), n, 12, 2.f);
  fillUniform(v.data(), n, 13, 1.f);
  fn(q.data(), k.data(), v.data(), out.data(), B, H, N, D, causal);
  return maxErrorVsReference(q.data(), k.data(), v.data(), out.data(), B, H,
                             N, D, causal, N);
}

double checkBaseline(Backend backend, Strategy strategy, bool causal, int B,
                     int H, int N, int D) {
  return checkAttention(
      [&](const float *q, const float *k, const float *v, float *o, int b,
          int h, int n, int d, bool c) {
        unfusedAttention(backend, strategy, q, k, v, o, b, h, n, d, c);
      },
      B, H, N, D, causal);
}

} // namespace bench
} // namespace attnc
