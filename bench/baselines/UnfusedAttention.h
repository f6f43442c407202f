//===- UnfusedAttention.h - fp32 unfused attention on vendor SGEMM -*- C++ -*-===//
//
// Peer baselines for the attention benchmark: softmax attention computed as
//   S = scale * Q K^T   (vendor SGEMM)
//   P = row_softmax(S)  (vectorized here, libmvec expf)
//   O = P V             (vendor SGEMM)
// on OpenBLAS (cblas_sgemm) or oneDNN 2.6 (dnnl_sgemm), fp32 throughout.
//
// Layout: C-order q, k, v, out of shape [B, H, N, D] (self-attention: the key
// length equals the query length N).  scale = 1/sqrt(D).  causal masks key
// j > query i.
//
// Strategies (see reference/performance.md, section 2.2):
//  * FullS:      per head, an N x N score matrix; multi-threaded library GEMMs,
//                OpenMP softmax.  Causal: the head is cut into row panels of
//                max(128, N/8) rows and each panel's GEMMs stop at the panel's
//                last key: with P panels the GEMMs do (P+1)/P of the useful
//                work (12.5 % extra at P = 8).
//  * RowBlocked: OpenMP over (head, 64-row block); single-threaded GEMM calls;
//                the 64 x N score block stays in cache.  Causal: the block
//                skips key columns beyond its last row.
//
// Threads: call setBaselineThreads(n) (OpenMP, OpenBLAS and, through OpenMP,
// oneDNN).  When OpenBLAS-pthread and OpenMP share a process, run with
// OMP_WAIT_POLICY=passive in the environment *before* the process starts
// (libgomp reads it in a load-time constructor), otherwise 2-thread runs can
// lose up to 2x.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_BENCH_BASELINES_UNFUSEDATTENTION_H
#define ATTNC_BENCH_BASELINES_UNFUSEDATTENTION_H

namespace attnc {
namespace bench {

enum class Backend { OpenBLAS, OneDNN };
enum class Strategy { FullS, RowBlocked };

const char *backendName(Backend b);   // "OpenBLAS", "oneDNN"
const char *strategyName(Strategy s); // "full-S", "row-blocked"

/// Sets the thread count used by both libraries and by the OpenMP regions
/// of the baselines (omp_set_num_threads + openblas_set_num_threads).
void setBaselineThreads(int n);

/// out[b,h,i,:] = softmax_j(scale * q[b,h,i,:] . k[b,h,j,:]) v[b,h,j,:],
/// j <= i when causal.  All pointers: contiguous [B, H, N, D] fp32.
/// Thread-compatible (not meant to be called concurrently with itself).
void unfusedAttention(Backend backend, Strategy strategy, const float *q,
                      const float *k, const float *v, float *out, int B, int H,
                      int N, int D, bool causal);

/// GFLOP/s (2 n^3 FLOP) of one n x n x n row-major sgemm on the backend with
/// the current thread settings; best of `reps` timed calls after one warm-up.
double sgemmGflops(Backend backend, int n = 2048, int reps = 5);

/// Library version strings for the report, e.g. "OpenBLAS 0.3.21 ... Cooperlake".
const char *backendVersion(Backend backend);

} // namespace bench
} // namespace attnc

#endif // ATTNC_BENCH_BASELINES_UNFUSEDATTENTION_H
