//===- membw.cpp - attn-membw: the machine's bandwidth and sgemm rate -----===//
//
// The two ceilings the efficient-attention benchmark (scripts/bench-linear.sh)
// compares its kernels with, measured in the same run:
//
//   * memory bandwidth: STREAM copy (c = a) and triad (a = b + s*c) over
//     three arrays of --mib MiB each (default 256, far beyond any cache),
//     OpenMP over --threads threads, static schedule, first-touch
//     initialization by the same threads; best of --reps (default 5).
//     Bytes counted the STREAM way: 2 arrays per copy, 3 per triad (the
//     write-allocate read of the destination is not counted).
//   * sgemm: OpenBLAS cblas_sgemm, 2048^3 by default (--sgemm-n), row-major,
//     --threads threads, one untimed warm-up, best of --reps; 2 n^3 FLOPs.
//
// Output, one "name: value unit" line each (the script parses them):
//   copy: 51.2 GB/s
//   triad: 55.0 GB/s
//   sgemm: 480.3 GFLOP/s
//
// OpenBLAS reads OPENBLAS_CORETYPE (the sandbox pins "Haswell", which halves
// its sgemm on AVX-512 machines) and OPENBLAS_NUM_THREADS when it loads, so,
// as attn-bench does (both through bench/OpenBlasCore.h), the program forces
// the AVX-512 core type ("Cooperlake" with AVX512-BF16, else "SkylakeX") and
// the thread counts in the environment and re-executes itself once
// (--openblas-core env keeps the environment's value; NAME forces NAME).
//
//===----------------------------------------------------------------------===//

#include "bench/OpenBlasCore.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  int threads = 2;
  size_t mib = 256;
  int reps = 5;
  int sgemmN = 2048;
  std::string openblasCore = "auto";
};

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void maybeReexec(const Options &o, char **argv) {
  if (std::getenv("ATTNC_MEMBW_REEXEC"))
    return;
  const char *core = attnc::bench::openblasCoreToForce(o.openblasCore);
  const char *envCore = std::getenv("OPENBLAS_CORETYPE");
  std::string t = std::to_string(o.threads);
  if (core && !(envCore && std::strcmp(envCore, core) == 0)) {
    setenv("ATTNC_MEMBW_ENV_CORETYPE", envCore ? envCore : "(unset)", 1);
    setenv("OPENBLAS_CORETYPE", core, 1);
  }
  setenv("OPENBLAS_NUM_THREADS", t.c_str(), 1);
  setenv("OMP_NUM_THREADS", t.c_str(), 1);
  setenv("ATTNC_MEMBW_REEXEC", "1", 1);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  std::perror("attn-membw: re-exec failed, continuing");
}

int usage(const char *argv0, int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: %s [--threads T] [--mib S] [--reps R] [--sgemm-n N]\n"
               "          [--openblas-core auto|env|NAME]\n"
               "STREAM copy and triad over 3 arrays of S MiB (default 256) "
               "and OpenBLAS\nsgemm N^3 (default 2048), T threads (default "
               "2), best of R (default 5).\n",
               argv0);
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "attn-membw: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--threads")
      o.threads = std::atoi(next());
    else if (a == "--mib")
      o.mib = size_t(std::atoll(next()));
    else if (a == "--reps")
      o.reps = std::atoi(next());
    else if (a == "--sgemm-n")
      o.sgemmN = std::atoi(next());
    else if (a == "--openblas-core")
      o.openblasCore = next();
    else if (a == "--help" || a == "-h")
      return usage(argv[0], 0);
    else
      return usage(argv[0], 1);
  }
  if (o.threads <= 0 || o.mib == 0 || o.reps <= 0 || o.sgemmN <= 0)
    return usage(argv[0], 1);
  maybeReexec(o, argv);
  omp_set_num_threads(o.threads);
  openblas_set_num_threads(o.threads);

  const char *core = std::getenv("OPENBLAS_CORETYPE");
  const char *envCore = std::getenv("ATTNC_MEMBW_ENV_CORETYPE");
  std::printf("# attn-membw: %d threads, STREAM arrays 3 x %zu MiB, sgemm "
              "%d^3, best of %d; OPENBLAS_CORETYPE=%s%s%s%s\n",
              o.threads, o.mib, o.sgemmN, o.reps, core ? core : "(unset)",
              envCore ? " (set here; the environment had " : "",
              envCore ? envCore : "", envCore ? ")" : "");

  // STREAM.
  const size_t n = o.mib * 1024 * 1024 / sizeof(double);
  const long ln = long(n);
  double *a = static_cast<double *>(std::aligned_alloc(64, n * sizeof(double)));
  double *b = static_cast<double *>(std::aligned_alloc(64, n * sizeof(double)));
  double *c = static_cast<double *>(std::aligned_alloc(64, n * sizeof(double)));
  if (!a || !b || !c) {
    std::fprintf(stderr, "attn-membw: cannot allocate 3 x %zu MiB\n", o.mib);
    return 1;
  }
#pragma omp parallel for schedule(static)
  for (long i = 0; i < ln; ++i) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.5;
  }
  const double s = 3.0;
  double bestCopy = 1e30, bestTriad = 1e30;
  for (int r = 0; r < o.reps; ++r) {
    double t0 = now();
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < ln; ++i)
      c[i] = a[i];
    double t1 = now();
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < ln; ++i)
      a[i] = b[i] + s * c[i];
    double t2 = now();
    bestCopy = std::min(bestCopy, t1 - t0);
    bestTriad = std::min(bestTriad, t2 - t1);
  }
  // Keep the loops: a checksum the compiler cannot drop.
  volatile double sink = 0;
  for (size_t i = 0; i < n; i += 4096)
    sink = sink + a[i] + c[i];
  std::free(a);
  std::free(b);
  std::free(c);
  const double bytes = double(n) * sizeof(double);
  std::printf("copy: %.1f GB/s\n", 2 * bytes / bestCopy / 1e9);
  std::printf("triad: %.1f GB/s\n", 3 * bytes / bestTriad / 1e9);

  // sgemm.
  const int m = o.sgemmN;
  std::vector<float> A(size_t(m) * m), B(size_t(m) * m), C(size_t(m) * m);
  for (size_t i = 0; i < A.size(); ++i) {
    A[i] = float(int(i % 17) - 8) / 16.0f;
    B[i] = float(int(i % 13) - 6) / 16.0f;
  }
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f,
                A.data(), m, B.data(), m, 0.0f, C.data(), m);
  };
  gemm(); // warm-up: thread start, packing buffers
  double bestGemm = 1e30;
  for (int r = 0; r < o.reps; ++r) {
    double t0 = now();
    gemm();
    bestGemm = std::min(bestGemm, now() - t0);
  }
  std::printf("sgemm: %.1f GFLOP/s\n",
              2.0 * double(m) * double(m) * double(m) / bestGemm / 1e9);
  return 0;
}
