//===- BenchBaselines.cpp - attn-bench: attention vs vendor SGEMM ===//
//
// Times fp32 softmax attention, B=1, H=8, D=64 by default, N in
// {512,...,8192}, causal and not, for every registered "system":
// today the unfused vendor baselines (oneDNN / OpenBLAS, full-S / row-blocked,
// bench/baselines/UnfusedAttention.h); the attnc kernels are meant to be added
// as one more System (see makeSystems()).
//
// Measurement (reference/performance.md section 2.5): R interleaved rounds
// (default 3); in each round every system runs best-of-k (k from a time
// budget, 2..--reps); the table shows the median over rounds of those bests,
// and the min..max spread over rounds.  FLOPs = 4*B*H*N^2*D, half when causal.
// Every system is first checked against a float64 reference on a small shape,
// and each timed output is checked on sampled rows.
//
// Environment: libgomp reads OMP_WAIT_POLICY and OpenBLAS reads
// OPENBLAS_CORETYPE in load-time constructors, so a setenv() in main() comes
// too late.  When OMP_WAIT_POLICY is unset, or OPENBLAS_CORETYPE differs from
// the AVX-512 core chosen by openblasCoreToForce(), the program sets
// OMP_WAIT_POLICY=passive, OPENBLAS_CORETYPE, and OPENBLAS_NUM_THREADS,
// OMP_NUM_THREADS, HL_NUM_THREADS to --threads (these three only where
// unset), and re-executes itself once (--no-reexec disables this).
//
//===----------------------------------------------------------------------===//
#include "bench/AttncKernels.h"
#include "bench/baselines/BaselineCheck.h"
#include "bench/baselines/UnfusedAttention.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace attnc::bench;

namespace {

struct Shape {
  int B, H, N, D;
  bool causal;
};

/// One column of the benchmark.  `run` must compute the whole attention for
/// the shape (layout [B,H,N,D], scale 1/sqrt(D)); it is what gets timed.
/// `prepare` (optional) runs untimed before a shape is measured, e.g. to
/// JIT-compile or look up a kernel; returning false skips that shape for the
/// system (printed as "n/a").  It is called again before every block of timed
/// runs (shapes are interleaved across rounds), so it should cache per shape.
struct System {
  std::string name;
  AttentionFn run;
  std::function<bool(const Shape &)> prepare;
};

std::vector<System> makeBaselineSystems() {
  std::vector<System> systems;
  for (Backend b : {Backend::OneDNN, Backend::OpenBLAS})
    for (Strategy s : {Strategy::FullS, Strategy::RowBlocked}) {
      System sys;
      sys.name = std::string(backendName(b)) + " " + strategyName(s);
      sys.run = [b, s](const float *q, const float *k, const float *v,
                       float *o, int B, int H, int N, int D, bool causal) {
        unfusedAttention(b, s, q, k, v, o, B, H, N, D, causal);
      };
      systems.push_back(std::move(sys));
    }
  return systems;
}

/// The attnc column: kernels compiled once (B, H, N symbolic) by the attnc
/// next to this binary, called through the runtime on the same arrays.
struct AttncState {
  int headDim = 64, threads = 2;
  std::unique_ptr<AttncKernels> kernels;
  std::string error;
  bool tried = false;

  bool ensure() {
    if (!tried) {
      tried = true;
      char dir[] = "/tmp/attn-bench-XXXXXX";
      if (!mkdtemp(dir)) {
        error = "cannot create a temporary directory";
      } else {
        kernels = AttncKernels::build(ATTNC_BIN, dir, headDim, threads, error);
      }
      if (!kernels)
        std::fprintf(stderr, "attnc column skipped: %s\n", error.c_str());
    }
    return kernels != nullptr;
  }

  void run(const std::string &kernel, const float *q, const float *k,
           const float *v, float *o, int B, int H, int N, int D) {
    std::string err;
    if (!kernels->run(kernel, q, k, v, o, B, H, N, D, err)) {
      std::fprintf(stderr, "attnc kernel '%s' failed: %s\n", kernel.c_str(),
                   err.c_str());
      std::exit(1);
    }
  }
};
AttncState attncState;

std::vector<System> makeSystems() {
  std::vector<System> systems = makeBaselineSystems();
  System attnc;
  attnc.name = "attnc fused";
  attnc.run = [](const float *q, const float *k, const float *v, float *o,
                 int B, int H, int N, int D, bool causal) {
    attncState.run(causal ? "causal" : "full", q, k, v, o, B, H, N, D);
  };
  attnc.prepare = [](const Shape &sh) {
    return sh.D == attncState.headDim && attncState.ensure();
  };
  systems.insert(systems.begin(), std::move(attnc));
  return systems;
}

struct Options {
  std::vector<int> ns = {512, 1024, 2048, 4096, 8192};
  int B = 1, H = 8, D = 64;
  int rounds = 3;
  int threads = 2;
  int maxReps = 10;
  double budget = 0.3; // seconds per system per round (sets k)
  bool doNonCausal = true, doCausal = true;
  bool sgemm = true, check = true, reexec = true;
  std::vector<std::string> filters; // substrings of system names
  std::string csv;
  std::string openblasCore = "auto"; // auto | env | a core name
};

void usage(const char *argv0) {
  std::printf(
      "usage: %s [options]\n"
      "  --n LIST        comma-separated N values (default 512,...,8192)\n"
      "  --quick         N in {512,1024} only\n"
      "  --rounds R      interleaved rounds, median reported (default 3)\n"
      "  --reps K        max timed runs per system per round (default 10)\n"
      "  --budget S      target seconds per system per round (default 0.3)\n"
      "  --threads T     threads for every library (default 2)\n"
      "  --b B --h H --d D   shape (default 1, 8, 64)\n"
      "  --mask M        both | causal | none (default both)\n"
      "  --systems LIST  comma-separated substrings of system names to keep\n"
      "  --csv FILE      also write the results as CSV\n"
      "  --no-sgemm      skip the 2048^3 sgemm reference\n"
      "  --no-check      skip the float64 self check\n"
      "  --openblas-core C  auto (AVX-512 kernels when the CPU has them,\n"
      "                  overriding OPENBLAS_CORETYPE; default) | env | NAME\n"
      "  --no-reexec     do not re-execute with OMP_WAIT_POLICY=passive and\n"
      "                  OPENBLAS_CORETYPE set (see the file header)\n",
      argv0);
}

std::vector<std::string> splitComma(const std::string &s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string::npos)
      c = s.size();
    if (c > pos)
      out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

bool parseOptions(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char *what) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--n") {
      o.ns.clear();
      for (auto &s : splitComma(next("--n")))
        o.ns.push_back(std::atoi(s.c_str()));
    } else if (a == "--quick") {
      o.ns = {512, 1024};
    } else if (a == "--rounds") {
      o.rounds = std::max(1, std::atoi(next("--rounds")));
    } else if (a == "--reps") {
      o.maxReps = std::max(1, std::atoi(next("--reps")));
    } else if (a == "--budget") {
      o.budget = std::atof(next("--budget"));
    } else if (a == "--threads") {
      o.threads = std::max(1, std::atoi(next("--threads")));
    } else if (a == "--b") {
      o.B = std::atoi(next("--b"));
    } else if (a == "--h") {
      o.H = std::atoi(next("--h"));
    } else if (a == "--d") {
      o.D = std::atoi(next("--d"));
    } else if (a == "--mask") {
      std::string m = next("--mask");
      o.doNonCausal = m == "both" || m == "none";
      o.doCausal = m == "both" || m == "causal";
      if (!o.doNonCausal && !o.doCausal) {
        std::fprintf(stderr, "--mask: expected both, causal or none\n");
        return false;
      }
    } else if (a == "--systems") {
      o.filters = splitComma(next("--systems"));
    } else if (a == "--csv") {
      o.csv = next("--csv");
    } else if (a == "--no-sgemm") {
      o.sgemm = false;
    } else if (a == "--no-check") {
      o.check = false;
    } else if (a == "--openblas-core") {
      o.openblasCore = next("--openblas-core");
    } else if (a == "--no-reexec") {
      o.reexec = false;
    } else if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage(argv[0]);
      return false;
    }
  }
  for (int n : o.ns)
    if (n <= 0) {
      std::fprintf(stderr, "bad N in --n\n");
      return false;
    }
  if (o.B <= 0 || o.H <= 0 || o.D <= 0) {
    std::fprintf(stderr, "bad shape\n");
    return false;
  }
  return true;
}

// OpenBLAS kernel choice.  On this project's Zen 4 / Zen 5 machines the
// AVX-512 kernels ("Cooperlake", what OpenBLAS 0.3.21 detects there) run sgemm
// about twice as fast as the AVX2 "Haswell" ones on Zen 5 (2048^3, 2 threads:
// ~510 vs ~270 GFLOP/s), and the sandbox environment may pin
// OPENBLAS_CORETYPE=Haswell.  A peer must be measured at its best, so by
// default (--openblas-core auto) an AVX-512 F/BW/DQ/VL CPU gets "Cooperlake"
// (with AVX512-BF16) or "SkylakeX", overriding the environment; the header
// line prints what was used.  --openblas-core env keeps the environment's
// value, --openblas-core NAME forces NAME.  Returns nullptr: leave it alone.
const char *openblasCoreToForce(const std::string &choice) {
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

// Sets the wait policy, the OpenBLAS kernel choice and the thread counts in
// the environment and re-executes the program, so that libgomp and OpenBLAS
// see them at load time.
void maybeReexec(const Options &o, char **argv) {
  if (!o.reexec || std::getenv("ATTNC_BENCH_REEXEC"))
    return;
  const char *core = openblasCoreToForce(o.openblasCore);
  const char *envCore = std::getenv("OPENBLAS_CORETYPE");
  const bool coreOk = !core || (envCore && std::strcmp(envCore, core) == 0);
  if (std::getenv("OMP_WAIT_POLICY") && coreOk)
    return;
  std::string t = std::to_string(o.threads);
  setenv("OMP_WAIT_POLICY", "passive", 0);
  if (!coreOk) {
    setenv("ATTNC_BENCH_ENV_CORETYPE", envCore ? envCore : "(unset)", 1);
    setenv("OPENBLAS_CORETYPE", core, 1);
  }
  setenv("ATTNC_BENCH_REEXEC", "1", 1);
  setenv("OPENBLAS_NUM_THREADS", t.c_str(), 0);
  setenv("OMP_NUM_THREADS", t.c_str(), 0);
  setenv("HL_NUM_THREADS", t.c_str(), 0);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  std::perror("attn-bench: re-exec failed, continuing; set "
              "OMP_WAIT_POLICY=passive yourself");
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct AlignedFree {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], AlignedFree>;
Buffer allocBuffer(size_t n) {
  size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  float *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!p) {
    std::fprintf(stderr, "cannot allocate %zu bytes\n", bytes);
    std::exit(1);
  }
  return Buffer(p);
}

bool keep(const Options &o, const std::string &name) {
  if (o.filters.empty())
    return true;
  for (auto &f : o.filters)
    if (name.find(f) != std::string::npos)
      return true;
  return false;
}

/// One (shape, mask) of the table with its inputs and per-system results.
struct Case {
  Shape sh{};
  double flop = 0;
  Buffer q, k, v;
  std::vector<Buffer> outs;
  std::vector<bool> active;
  std::vector<int> reps;
  std::vector<std::vector<double>> best; // per system, one per round
  std::vector<double> gflops;            // per system, the reported median
};

} // namespace

int main(int argc, char **argv) {
  Options opt;
  if (!parseOptions(argc, argv, opt))
    return 2;
  maybeReexec(opt, argv);
  setBaselineThreads(opt.threads);
  attncState.headDim = opt.D;
  attncState.threads = opt.threads;

  std::vector<System> systems;
  for (auto &s : makeSystems())
    if (keep(opt, s.name))
      systems.push_back(std::move(s));
  if (systems.empty()) {
    std::fprintf(stderr, "no system matches --systems\n");
    return 2;
  }

  const char *wp = std::getenv("OMP_WAIT_POLICY");
  const char *ct = std::getenv("OPENBLAS_CORETYPE");
  std::printf("# attn-bench: fp32 attention, threads=%d, "
              "OMP_WAIT_POLICY=%s, OPENBLAS_CORETYPE=%s, rounds=%d\n",
              opt.threads, wp ? wp : "(unset)", ct ? ct : "(unset)",
              opt.rounds);
  std::printf("# %s\n# %s\n", backendVersion(Backend::OneDNN),
              backendVersion(Backend::OpenBLAS));
  if (const char *orig = std::getenv("ATTNC_BENCH_ENV_CORETYPE"))
    std::printf("# OPENBLAS_CORETYPE set by the benchmark (environment had "
                "%s; --openblas-core env keeps it)\n",
                orig);
  if (!wp || std::strcmp(wp, "passive") != 0)
    std::printf("# warning: OMP_WAIT_POLICY is not passive; OpenBLAS-pthread "
                "and OpenMP will fight for the cores\n");

  // 1. Correctness against float64 on a small odd shape.
  bool allOk = true;
  if (opt.check) {
    const Shape cs{1, 3, 203, opt.D, false};
    std::printf("\n# self check vs float64 reference, B=%d H=%d N=%d D=%d "
                "(max abs error)\n",
                cs.B, cs.H, cs.N, cs.D);
    for (auto &s : systems)
      for (bool causal : {false, true}) {
        Shape sh = cs;
        sh.causal = causal;
        if (s.prepare && !s.prepare(sh)) {
          std::printf("  %-24s %-9s n/a\n", s.name.c_str(),
                      causal ? "causal" : "noncausal");
          continue;
        }
        double err = checkAttention(s.run, sh.B, sh.H, sh.N, sh.D, causal);
        bool ok = err < 1e-4;
        allOk &= ok;
        std::printf("  %-24s %-9s %.2e %s\n", s.name.c_str(),
                    causal ? "causal" : "noncausal", err, ok ? "ok" : "FAIL");
      }
  }

  FILE *csv = nullptr;
  if (!opt.csv.empty()) {
    csv = std::fopen(opt.csv.c_str(), "w");
    if (!csv)
      std::perror(opt.csv.c_str());
    else
      std::fprintf(csv, "B,H,N,D,causal,system,ms,gflops,gflops_min,"
                        "gflops_max,max_err\n");
  }

  // 3. Attention shapes.  Rounds are the outer loop, so the R samples of a
  // (shape, system) pair are spread over the whole run and a burst of load
  // from elsewhere on the machine spoils at most one of them.
  std::vector<bool> masks;
  if (opt.doNonCausal)
    masks.push_back(false);
  if (opt.doCausal)
    masks.push_back(true);
  const size_t ns = systems.size();
  std::vector<Case> cases;
  for (int N : opt.ns)
    for (bool causal : masks) {
      Case c;
      c.sh = Shape{opt.B, opt.H, N, opt.D, causal};
      c.flop = 4.0 * opt.B * opt.H * double(N) * N * opt.D * (causal ? 0.5 : 1);
      cases.push_back(std::move(c));
    }
  // Inputs, outputs, untimed warm-up (which also sizes k).
  for (Case &c : cases) {
    const Shape &sh = c.sh;
    const size_t n = size_t(sh.B) * sh.H * sh.N * sh.D;
    c.q = allocBuffer(n);
    c.k = allocBuffer(n);
    c.v = allocBuffer(n);
    fillUniform(c.q.get(), n, 1, 2.f);
    fillUniform(c.k.get(), n, 2, 2.f);
    fillUniform(c.v.get(), n, 3, 1.f);
    c.active.assign(ns, true);
    c.reps.assign(ns, 2);
    c.best.resize(ns);
    c.gflops.assign(ns, 0.0);
    for (size_t s = 0; s < ns; ++s) {
      c.outs.push_back(allocBuffer(n));
      if (systems[s].prepare && !systems[s].prepare(sh)) {
        c.active[s] = false;
        continue;
      }
      double t0 = now();
      systems[s].run(c.q.get(), c.k.get(), c.v.get(), c.outs[s].get(), sh.B,
                     sh.H, sh.N, sh.D, sh.causal);
      double dt = now() - t0;
      c.reps[s] =
          std::max(2, std::min(opt.maxReps, int(std::ceil(opt.budget / dt))));
    }
  }
  // Library sgemm 2048^3 (best of 3), once per round as well.
  std::vector<double> sgemm[2];
  for (int r = 0; r < opt.rounds; ++r) {
    std::fprintf(stderr, "# round %d/%d\n", r + 1, opt.rounds);
    if (opt.sgemm)
      for (int b = 0; b < 2; ++b)
        sgemm[b].push_back(
            sgemmGflops(b ? Backend::OpenBLAS : Backend::OneDNN, 2048, 3));
    for (Case &c : cases) {
      const Shape &sh = c.sh;
      for (size_t i = 0; i < ns; ++i) {
        size_t s = (i + size_t(r)) % ns; // rotate the order per round
        if (!c.active[s])
          continue;
        if (systems[s].prepare)
          systems[s].prepare(sh); // untimed; cached after the first call
        double b = 1e30;
        for (int rep = 0; rep < c.reps[s]; ++rep) {
          double t0 = now();
          systems[s].run(c.q.get(), c.k.get(), c.v.get(), c.outs[s].get(),
                         sh.B, sh.H, sh.N, sh.D, sh.causal);
          b = std::min(b, now() - t0);
        }
        c.best[s].push_back(b);
      }
    }
  }

  if (opt.sgemm)
    std::printf("\n# sgemm 2048^3, %d threads, GFLOP/s (median over %d rounds "
                "of best-of-3): oneDNN %.1f  OpenBLAS %.1f\n",
                opt.threads, opt.rounds, median(sgemm[0]), median(sgemm[1]));
  std::printf("\n# attention, %d threads: median over %d rounds of each "
              "round's best-of-k; min..max over rounds; max_err vs float64 on "
              "8 rows per head\n",
              opt.threads, opt.rounds);
  std::printf("%5s %3s %5s %4s %-6s %-24s %9s %8s %17s %9s\n", "B", "H", "N",
              "D", "causal", "system", "ms", "GFLOP/s", "min..max GFLOP/s",
              "max_err");
  for (Case &c : cases) {
    const Shape &sh = c.sh;
    const char *cm = sh.causal ? "yes" : "no";
    for (size_t s = 0; s < ns; ++s) {
      if (!c.active[s]) {
        std::printf("%5d %3d %5d %4d %-6s %-24s %9s\n", sh.B, sh.H, sh.N,
                    sh.D, cm, systems[s].name.c_str(), "n/a");
        continue;
      }
      const double t = median(c.best[s]);
      const double slow = *std::max_element(c.best[s].begin(), c.best[s].end());
      const double fast = *std::min_element(c.best[s].begin(), c.best[s].end());
      const double err =
          maxErrorVsReference(c.q.get(), c.k.get(), c.v.get(), c.outs[s].get(),
                              sh.B, sh.H, sh.N, sh.D, sh.causal, 8);
      allOk &= err < 1e-4;
      char range[32];
      std::snprintf(range, sizeof range, "%.1f..%.1f", c.flop / slow * 1e-9,
                    c.flop / fast * 1e-9);
      std::printf("%5d %3d %5d %4d %-6s %-24s %9.3f %8.1f %17s %9.1e%s\n",
                  sh.B, sh.H, sh.N, sh.D, cm, systems[s].name.c_str(), t * 1e3,
                  c.flop / t * 1e-9, range, err, err < 1e-4 ? "" : " FAIL");
      c.gflops[s] = c.flop / t * 1e-9;
      if (csv)
        std::fprintf(csv, "%d,%d,%d,%d,%d,%s,%.4f,%.2f,%.2f,%.2f,%.3e\n",
                     sh.B, sh.H, sh.N, sh.D, int(sh.causal),
                     systems[s].name.c_str(), t * 1e3, c.flop / t * 1e-9,
                     c.flop / slow * 1e-9, c.flop / fast * 1e-9, err);
    }
  }
  if (csv)
    std::fclose(csv);

  // Ratios: attnc against the best unfused baseline of the same run and
  // against the best sgemm of the same run.
  if (systems.front().name == "attnc fused") {
    double bestSgemm = opt.sgemm ? std::max(median(sgemm[0]), median(sgemm[1]))
                                 : 0.0;
    std::printf("\n# attnc fused against the best unfused baseline and the "
                "best sgemm (%.1f GFLOP/s), same run\n",
                bestSgemm);
    std::printf("%5s %-6s %10s %-24s %10s %8s %9s\n", "N", "causal",
                "attnc", "best baseline", "GFLOP/s", "ratio", "of sgemm");
    for (Case &c : cases) {
      if (!c.active[0])
        continue;
      size_t bestIdx = 0;
      for (size_t s = 1; s < ns; ++s)
        if (c.active[s] && (bestIdx == 0 || c.gflops[s] > c.gflops[bestIdx]))
          bestIdx = s;
      if (bestIdx == 0)
        continue;
      std::printf("%5d %-6s %10.1f %-24s %10.1f %7.2fx %8.0f%%\n", c.sh.N,
                  c.sh.causal ? "yes" : "no", c.gflops[0],
                  systems[bestIdx].name.c_str(), c.gflops[bestIdx],
                  c.gflops[0] / c.gflops[bestIdx],
                  bestSgemm > 0 ? 100.0 * c.gflops[0] / bestSgemm : 0.0);
    }
  }

  // Masked key tiles are skipped: causal and sliding windows against full
  // attention, by time (the work each needs differs; see docs).
  if (systems.front().name == "attnc fused" && attncState.kernels) {
    std::printf("\n# attnc: time of masked kernels against full attention "
                "(median of 5 runs, ms; ratio to full)\n");
    std::printf("%5s %10s %16s %16s %16s\n", "N", "full", "causal",
                "window 256", "window 1024");
    for (int n : opt.ns) {
      size_t elems = size_t(opt.B) * opt.H * n * opt.D;
      std::vector<float> q(elems), k(elems), v(elems), o(elems);
      fillUniform(q.data(), elems, 1);
      fillUniform(k.data(), elems, 2);
      fillUniform(v.data(), elems, 3);
      double ms[4];
      const char *names[4] = {"full", "causal", "window256", "window1024"};
      for (int kk = 0; kk < 4; ++kk) {
        std::vector<double> ts;
        for (int rep = 0; rep < 6; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          attncState.run(names[kk], q.data(), k.data(), v.data(), o.data(),
                         opt.B, opt.H, n, opt.D);
          auto t1 = std::chrono::steady_clock::now();
          if (rep > 0) // the first run warms up
            ts.push_back(std::chrono::duration<double>(t1 - t0).count());
        }
        ms[kk] = median(ts) * 1e3;
      }
      std::printf("%5d %10.3f %9.3f (%4.2f) %9.3f (%4.2f) %9.3f (%4.2f)\n",
                  n, ms[0], ms[1], ms[1] / ms[0], ms[2], ms[2] / ms[0], ms[3],
                  ms[3] / ms[0]);
    }
  }
  if (!allOk) {
    std::printf("\n# some outputs FAILED the float64 check\n");
    return 1;
  }
  return 0;
}
