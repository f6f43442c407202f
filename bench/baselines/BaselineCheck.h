//===- BaselineCheck.h - float64 reference for attention outputs -*- C++ -*-===//
//
// Self check used by attn-bench-baselines (no gtest): runs an attention
// implementation on given or generated inputs and compares with a naive
// float64 softmax attention.  Works for any callable with the benchmark's
// signature, so the same check covers the vendor baselines and the attnc
// kernels.  Layout everywhere: contiguous [B, H, N, D], scale 1/sqrt(D).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_BENCH_BASELINES_BASELINECHECK_H
#define ATTNC_BENCH_BASELINES_BASELINECHECK_H

#include "bench/baselines/UnfusedAttention.h"

#include <cstddef>
#include <functional>

namespace attnc {
namespace bench {

/// (q, k, v, out, B, H, N, D, causal)
using AttentionFn = std::function<void(const float *, const float *,
                                       const float *, float *, int, int, int,
                                       int, bool)>;

/// Deterministic inputs uniform in [-amp, amp).
void fillUniform(float *p, size_t n, unsigned seed, float amp = 1.f);

/// float64 reference of one query row: outRow[D] for head bh (= b*H + h).
void referenceRow(const float *q, const float *k, const float *v, int N, int D,
                  bool causal, long bh, int row, double *outRow);

/// Max |out - reference| over `rowsPerHead` query rows of every head (first,
/// last and evenly spaced rows; all rows when rowsPerHead >= N).  Cheap enough
/// for the full benchmark shapes.
double maxErrorVsReference(const float *q, const float *k, const float *v,
                           const float *out, int B, int H, int N, int D,
                           bool causal, int rowsPerHead);

/// Runs `fn` on generated inputs of the given shape and returns the max abs
/// error against the float64 reference over all rows.
double checkAttention(const AttentionFn &fn, int B, int H, int N, int D,
                      bool causal);

/// checkAttention for one vendor baseline; the default shape has N not a
/// multiple of the 64-row block and of the causal panel.
double checkBaseline(Backend backend, Strategy strategy, bool causal,
                     int B = 1, int H = 3, int N = 203, int D = 64);

} // namespace bench
} // namespace attnc

#endif // ATTNC_BENCH_BASELINES_BASELINECHECK_H
