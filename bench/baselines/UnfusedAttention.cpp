//===- UnfusedAttention.cpp - fp32 unfused attention on vendor SGEMM ------===//
//
// Compiled with -O3 -march=native -ffast-math -fopenmp (bench/CMakeLists.txt):
// the softmax loops below rely on GCC vectorizing expf through libmvec
// (_ZGVeN16v_expf) and the max/sum reductions, which needs -ffast-math.
//
//===----------------------------------------------------------------------===//
#include "bench/baselines/UnfusedAttention.h"

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace attnc {
namespace bench {
namespace {

// Row-major C = alpha * A * op(B) + beta * C, A is M x K.
using GemmFn = void (*)(bool transB, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc);

void gemmOpenBLAS(bool transB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemmOneDNN(bool transB, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C,
                int ldc) {
  dnnl_status_t st = dnnl_sgemm('N', transB ? 'T' : 'N', M, N, K, alpha, A,
                                lda, B, ldb, beta, C, ldc);
  if (st != dnnl_success) {
    std::fprintf(stderr, "dnnl_sgemm failed with status %d\n", int(st));
    std::abort();
  }
}

GemmFn gemmFor(Backend b) {
  return b == Backend::OpenBLAS ? gemmOpenBLAS : gemmOneDNN;
}

// Scratch kept across calls: fresh 256 MiB score matrices would otherwise be
// page-faulted in on every call (glibc mmaps and unmaps big blocks).
struct Workspace {
  float *data = nullptr;
  size_t size = 0; // floats
  float *get(size_t n) {
    if (n > size) {
      std::free(data);
      size_t bytes = ((n * sizeof(float) + 4095) / 4096) * 4096;
      data = static_cast<float *>(std::aligned_alloc(4096, bytes));
      if (!data) {
        std::fprintf(stderr, "unfusedAttention: cannot allocate %zu bytes\n",
                     bytes);
        std::abort();
      }
      size = bytes / sizeof(float);
    }
    return data;
  }
  ~Workspace() { std::free(data); }
};
Workspace gScores;

// In place: s[j] <- exp(s[j] - max_j s), returns the sum.  n >= 1.
inline float expRowInPlace(float *__restrict s, int n) {
  float m = s[0];
  for (int j = 1; j < n; ++j)
    m = s[j] > m ? s[j] : m;
  float sum = 0.f;
  for (int j = 0; j < n; ++j) {
    float e = std::exp(s[j] - m);
    s[j] = e;
    sum += e;
  }
  return sum;
}

// Softmax numerators of row `r` of a score block whose first query row is
// i0, with `cols` computed key columns; returns 1/sum.  Causal: key columns
// j > i0 + r are zeroed so the following P V GEMM ignores them.
inline float softmaxRow(float *__restrict row, int i0, int r, int cols,
                        bool causal) {
  int len = causal ? std::min(cols, i0 + r + 1) : cols;
  float sum = expRowInPlace(row, len);
  if (len < cols)
    std::memset(row + len, 0, size_t(cols - len) * sizeof(float));
  return 1.f / sum;
}

inline void scaleRows(float *__restrict o, const float *__restrict inv,
                      int rows, int D) {
  for (int r = 0; r < rows; ++r) {
    float s = inv[r];
    for (int d = 0; d < D; ++d)
      o[size_t(r) * D + d] *= s;
  }
}

// Full-S: per head (per row panel when causal), library-threaded GEMMs and an
// OpenMP softmax over the rows.  The 1/rowsum scaling of a panel's output is
// done inside the next panel's softmax region (one parallel region fewer per
// panel: waking passive OpenMP threads is not free), the last one at the end.
void runFullS(GemmFn gemm, const float *q, const float *k, const float *v,
              float *out, int BH, int N, int D, bool causal) {
  const float scale = 1.f / std::sqrt(float(D));
  int panel = N;
  if (causal)
    panel = std::max(128, ((N / 8 + 63) / 64) * 64);
  panel = std::min(panel, N);
  float *S = gScores.get(size_t(panel) * N + 2 * size_t(panel));
  float *invBuf[2] = {S + size_t(panel) * N, S + size_t(panel) * N + panel};
  const size_t headStride = size_t(N) * D;
  float *pendingO = nullptr; // output rows still to be scaled by pendingInv
  const float *pendingInv = nullptr;
  int pendingRows = 0;
  int parity = 0;
  for (int bh = 0; bh < BH; ++bh) {
    const float *Q = q + bh * headStride;
    const float *K = k + bh * headStride;
    const float *V = v + bh * headStride;
    float *O = out + bh * headStride;
    for (int i0 = 0; i0 < N; i0 += panel) {
      const int rows = std::min(panel, N - i0);
      const int cols = causal ? i0 + rows : N;
      float *inv = invBuf[parity];
      parity ^= 1;
      gemm(/*transB=*/true, rows, cols, D, scale, Q + size_t(i0) * D, D, K, D,
           0.f, S, cols);
#pragma omp parallel
      {
#pragma omp for schedule(static) nowait
        for (int r = 0; r < rows; ++r)
          inv[r] = softmaxRow(S + size_t(r) * cols, i0, r, cols, causal);
#pragma omp for schedule(static) nowait
        for (int r = 0; r < pendingRows; ++r)
          scaleRows(pendingO + size_t(r) * D, pendingInv + r, 1, D);
      }
      gemm(/*transB=*/false, rows, D, cols, 1.f, S, cols, V, D, 0.f,
           O + size_t(i0) * D, D);
      pendingO = O + size_t(i0) * D;
      pendingInv = inv;
      pendingRows = rows;
    }
  }
#pragma omp parallel for schedule(static)
  for (int r = 0; r < pendingRows; ++r)
    scaleRows(pendingO + size_t(r) * D, pendingInv + r, 1, D);
}

constexpr int kRowBlock = 64;

// Row-blocked: OpenMP over (head, 64-row block); each task does
// single-threaded GEMMs on a 64 x cols score block private to the thread.
void runRowBlocked(GemmFn gemm, const float *q, const float *k,
                   const float *v, float *out, int BH, int N, int D,
                   bool causal) {
  const float scale = 1.f / std::sqrt(float(D));
  const int nblk = (N + kRowBlock - 1) / kRowBlock;
  const long ntask = long(BH) * nblk;
  const int nthr = omp_get_max_threads();
  // Per thread: 64 x N scores, then 64 inverse sums; rounded to 4 KiB.
  const size_t perThread =
      ((size_t(kRowBlock) * N + kRowBlock + 1023) / 1024) * 1024;
  float *ws = gScores.get(perThread * size_t(nthr));
  const size_t headStride = size_t(N) * D;
#pragma omp parallel
  {
    float *S = ws + perThread * size_t(omp_get_thread_num());
    float *inv = S + size_t(kRowBlock) * N;
#pragma omp for schedule(dynamic, 1)
    for (long t = 0; t < ntask; ++t) {
      const long bh = t / nblk;
      int blk = int(t % nblk);
      if (causal) // heavy blocks first: the tail of the schedule is light
        blk = nblk - 1 - blk;
      const int i0 = blk * kRowBlock;
      const int rows = std::min(kRowBlock, N - i0);
      const int cols = causal ? i0 + rows : N;
      const float *Q = q + bh * headStride + size_t(i0) * D;
      const float *K = k + bh * headStride;
      const float *V = v + bh * headStride;
      float *O = out + bh * headStride + size_t(i0) * D;
      gemm(/*transB=*/true, rows, cols, D, scale, Q, D, K, D, 0.f, S, cols);
      for (int r = 0; r < rows; ++r)
        inv[r] = softmaxRow(S + size_t(r) * cols, i0, r, cols, causal);
      gemm(/*transB=*/false, rows, D, cols, 1.f, S, cols, V, D, 0.f, O, D);
      scaleRows(O, inv, rows, D);
    }
  }
}

// Fill with values in [-1, 1).
void fillRandom(float *p, size_t n, unsigned seed) {
  unsigned x = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = float(x >> 8) * (1.f / 8388608.f) - 1.f;
  }
}

} // namespace

const char *backendName(Backend b) {
  return b == Backend::OpenBLAS ? "OpenBLAS" : "oneDNN";
}

const char *strategyName(Strategy s) {
  return s == Strategy::FullS ? "full-S" : "row-blocked";
}

void setBaselineThreads(int n) {
  if (n < 1)
    n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

void unfusedAttention(Backend backend, Strategy strategy, const float *q,
                      const float *k, const float *v, float *out, int B, int H,
                      int N, int D, bool causal) {
  if (B <= 0 || H <= 0 || N <= 0 || D <= 0)
    return;
  GemmFn gemm = gemmFor(backend);
  const int BH = B * H;
  if (strategy == Strategy::FullS) {
    runFullS(gemm, q, k, v, out, BH, N, D, causal);
    return;
  }
  // Row-blocked: the GEMMs run inside OpenMP threads and must be
  // single-threaded.  oneDNN sees omp_in_parallel() and stays on one thread;
  // OpenBLAS-pthread has to be told.
  int saved = 0;
  if (backend == Backend::OpenBLAS) {
    saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
  }
  runRowBlocked(gemm, q, k, v, out, BH, N, D, causal);
  if (backend == Backend::OpenBLAS)
    openblas_set_num_threads(saved);
}

double sgemmGflops(Backend backend, int n, int reps) {
  const size_t nn = size_t(n) * n;
  float *a = static_cast<float *>(std::aligned_alloc(64, nn * 4));
  float *b = static_cast<float *>(std::aligned_alloc(64, nn * 4));
  float *c = static_cast<float *>(std::aligned_alloc(64, nn * 4));
  fillRandom(a, nn, 1);
  fillRandom(b, nn, 2);
  std::memset(c, 0, nn * 4);
  GemmFn gemm = gemmFor(backend);
  gemm(false, n, n, n, 1.f, a, n, b, n, 0.f, c, n); // warm-up
  double best = 1e30;
  for (int r = 0; r < std::max(1, reps); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    gemm(false, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  std::free(a);
  std::free(b);
  std::free(c);
  return 2.0 * double(n) * n * n / best * 1e-9;
}

const char *backendVersion(Backend backend) {
  static std::string blas, dnnl;
  if (backend == Backend::OpenBLAS) {
    if (blas.empty()) {
      blas = std::string("OpenBLAS ") + openblas_get_config();
      const char *core = openblas_get_corename();
      if (core)
        blas += std::string(" core=") + core;
    }
    return blas.c_str();
  }
  if (dnnl.empty()) {
    const dnnl_version_t *ver = dnnl_version();
    char buf[128];
    std::snprintf(buf, sizeof buf, "oneDNN %d.%d.%d (cpu runtime %s)",
                  ver->major, ver->minor, ver->patch,
                  ver->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
    dnnl = buf;
  }
  return dnnl.c_str();
}

} // namespace bench
} // namespace attnc
