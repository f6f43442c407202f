//===- OpenBlasCore.h - The OpenBLAS kernel of the benchmarks ---*- C++ -*-===//
//
// Shared by attn-bench (bench/BenchBaselines.cpp) and attn-membw
// (bench/linear/membw.cpp), which set OPENBLAS_CORETYPE to this choice and
// re-execute themselves so that OpenBLAS sees it when it loads.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BENCH_OPENBLASCORE_H
#define ATTN_BENCH_OPENBLASCORE_H

#include <string>

namespace attnc::bench {

/// The OpenBLAS kernel choice (OPENBLAS_CORETYPE) for --openblas-core
/// `choice`, or nullptr to leave the environment alone.  On this project's
/// Zen 4 / Zen 5 machines the AVX-512 kernels ("Cooperlake", what OpenBLAS
/// 0.3.21 detects there) run sgemm about twice as fast as the AVX2 "Haswell"
/// ones on Zen 5 (2048^3, 2 threads: ~510 vs ~270 GFLOP/s), and the sandbox
/// environment may pin OPENBLAS_CORETYPE=Haswell.  A peer must be measured
/// at its best, so by default ("auto") an AVX-512 F/BW/DQ/VL CPU gets
/// "Cooperlake" (with AVX512-BF16) or "SkylakeX", overriding the
/// environment; "env" keeps the environment's value, NAME forces NAME.
inline const char *openblasCoreToForce(const std::string &choice) {
  if (choice == "env")
    return nullptr;
  if (choice != "auto")
    return choice.c_str();
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl")))
    return nullptr;
  return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
}

} // namespace attnc::bench

#endif // ATTN_BENCH_OPENBLASCORE_H
