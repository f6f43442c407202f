//===- BenchBaselines.cpp - attn-bench-baselines: attention vs vendor SGEMM ===//
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
// Environment: libgomp reads OMP_WAIT_POLICY in a load-time constructor, so a
// setenv() in main() comes too late.  When OMP_WAIT_POLICY is unset the
// program sets it to "passive" (and OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
// HL_NUM_THREADS to --threads where unset) and re-executes itself once
// (--no-reexec disables this).
//
//===----------------------------------------------------------------------===//
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
/// system (printed as "n/a").
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

std::vector<System> makeSystems() {
  std::vector<System> systems = makeBaselineSystems();
  // More systems (e.g. the attnc kernels through the runtime API) are
  // appended here: systems.push_back({"attnc", runFn, prepareFn});
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
      "  --no-reexec     do not re-execute with OMP_WAIT_POLICY=passive\n",
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

// Sets the wait policy and thread counts in the environment and re-executes
// the program so that libgomp and OpenBLAS see them at load time.
void maybeReexec(const Options &o, char **argv) {
  if (!o.reexec || std::getenv("OMP_WAIT_POLICY") ||
      std::getenv("ATTNC_BENCH_REEXEC"))
    return;
  std::string t = std::to_string(o.threads);
  setenv("OMP_WAIT_POLICY", "passive", 1);
  setenv("ATTNC_BENCH_REEXEC", "1", 1);
  setenv("OPENBLAS_NUM_THREADS", t.c_str(), 0);
  setenv("OMP_NUM_THREADS", t.c_str(), 0);
  setenv("HL_NUM_THREADS", t.c_str(), 0);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  std::perror("attn-bench-baselines: re-exec failed, continuing; set "
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
  return Buffer(static_cast<float *>(std::aligned_alloc(64, bytes)));
}

bool keep(const Options &o, const std::string &name) {
  if (o.filters.empty())
    return true;
  for (auto &f : o.filters)
    if (name.find(f) != std::string::npos)
      return true;
  return false;
}

} // namespace

int main(int argc, char **argv) {
  Options opt;
  if (!parseOptions(argc, argv, opt))
    return 2;
  maybeReexec(opt, argv);
  setBaselineThreads(opt.threads);

  std::vector<System> systems;
  for (auto &s : makeSystems())
    if (keep(opt, s.name))
      systems.push_back(std::move(s));
  if (systems.empty()) {
    std::fprintf(stderr, "no system matches --systems\n");
    return 2;
  }

  const char *wp = std::getenv("OMP_WAIT_POLICY");
  std::printf("# attn-bench-baselines: fp32 attention, threads=%d, "
              "OMP_WAIT_POLICY=%s, rounds=%d\n",
              opt.threads, wp ? wp : "(unset)", opt.rounds);
  std::printf("# %s\n# %s\n", backendVersion(Backend::OneDNN),
              backendVersion(Backend::OpenBLAS));
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

  // 2. Library sgemm 2048^3, interleaved rounds.
  if (opt.sgemm) {
    std::vector<double> g[2];
    for (int r = 0; r < opt.rounds; ++r)
      for (int b = 0; b < 2; ++b)
        g[b].push_back(sgemmGflops(b ? Backend::OpenBLAS : Backend::OneDNN,
                                   2048, 4));
    std::printf("\n# sgemm 2048^3, %d threads, GFLOP/s (median of %d rounds "
                "of best-of-4): oneDNN %.1f  OpenBLAS %.1f\n",
                opt.threads, opt.rounds, median(g[0]), median(g[1]));
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

  // 3. Attention shapes.
  std::printf("\n%5s %3s %5s %4s %-6s %-24s %9s %8s %17s %9s\n", "B", "H", "N",
              "D", "causal", "system", "ms", "GFLOP/s", "min..max GFLOP/s",
              "max_err");
  std::vector<bool> masks;
  if (opt.doNonCausal)
    masks.push_back(false);
  if (opt.doCausal)
    masks.push_back(true);
  for (int N : opt.ns)
    for (bool causal : masks) {
      const Shape sh{opt.B, opt.H, N, opt.D, causal};
      const size_t n = size_t(sh.B) * sh.H * sh.N * sh.D;
      const double flop =
          4.0 * sh.B * sh.H * double(N) * N * sh.D * (causal ? 0.5 : 1.0);
      Buffer q = allocBuffer(n), k = allocBuffer(n), v = allocBuffer(n);
      fillUniform(q.get(), n, 1, 2.f);
      fillUniform(k.get(), n, 2, 2.f);
      fillUniform(v.get(), n, 3, 1.f);

      const size_t ns = systems.size();
      std::vector<bool> active(ns, true);
      std::vector<Buffer> outs;
      std::vector<int> reps(ns, 1);
      std::vector<std::vector<double>> best(ns);
      for (size_t s = 0; s < ns; ++s) {
        outs.push_back(allocBuffer(n));
        if (systems[s].prepare && !systems[s].prepare(sh)) {
          active[s] = false;
          continue;
        }
        double t0 = now(); // warm-up, also sizes k
        systems[s].run(q.get(), k.get(), v.get(), outs[s].get(), sh.B, sh.H,
                       N, sh.D, causal);
        double dt = now() - t0;
        reps[s] = std::max(
            2, std::min(opt.maxReps, int(std::ceil(opt.budget / dt))));
      }
      for (int r = 0; r < opt.rounds; ++r)
        for (size_t i = 0; i < ns; ++i) {
          size_t s = (i + size_t(r)) % ns; // rotate the order per round
          if (!active[s])
            continue;
          double b = 1e30;
          for (int rep = 0; rep < reps[s]; ++rep) {
            double t0 = now();
            systems[s].run(q.get(), k.get(), v.get(), outs[s].get(), sh.B,
                           sh.H, N, sh.D, causal);
            b = std::min(b, now() - t0);
          }
          best[s].push_back(b);
        }
      for (size_t s = 0; s < ns; ++s) {
        const char *cm = causal ? "yes" : "no";
        if (!active[s]) {
          std::printf("%5d %3d %5d %4d %-6s %-24s %9s\n", sh.B, sh.H, N, sh.D,
                      cm, systems[s].name.c_str(), "n/a");
          continue;
        }
        double t = median(best[s]);
        double lo = *std::max_element(best[s].begin(), best[s].end());
        double hi = *std::min_element(best[s].begin(), best[s].end());
        double err = maxErrorVsReference(q.get(), k.get(), v.get(),
                                         outs[s].get(), sh.B, sh.H, N, sh.D,
                                         causal, 8);
        allOk &= err < 1e-4;
        char range[32];
        std::snprintf(range, sizeof range, "%.1f..%.1f", flop / lo * 1e-9,
                      flop / hi * 1e-9);
        std::printf("%5d %3d %5d %4d %-6s %-24s %9.3f %8.1f %17s %9.1e%s\n",
                    sh.B, sh.H, N, sh.D, cm, systems[s].name.c_str(), t * 1e3,
                    flop / t * 1e-9, range, err, err < 1e-4 ? "" : " FAIL");
        if (csv)
          std::fprintf(csv, "%d,%d,%d,%d,%d,%s,%.4f,%.2f,%.2f,%.2f,%.3e\n",
                       sh.B, sh.H, N, sh.D, int(causal),
                       systems[s].name.c_str(), t * 1e3, flop / t * 1e-9,
                       flop / lo * 1e-9, flop / hi * 1e-9, err);
      }
      std::fflush(stdout);
    }
  if (csv)
    std::fclose(csv);
  if (!allOk) {
    std::printf("\n# some outputs FAILED the float64 check\n");
    return 1;
  }
  return 0;
}
