//===- BenchBaselines.cpp - attn-bench: attention vs vendor SGEMM ===//
//
// Times fp32 softmax attention, B=1, H=8, D=64 by default, N in
// {512,...,8192}, causal and not, for every registered "system":
// attnc's fused kernels (default schedule), the unfused vendor baselines
// (oneDNN / OpenBLAS, full-S / row-blocked, bench/baselines/UnfusedAttention.h),
// Halide's autoschedulers on the same algorithm (`attnc --schedule auto:NAME`,
// compiled per (N, causal) with estimates for that shape, since they
// specialize to them), and PyTorch's scaled_dot_product_attention on the CPU
// (a Python helper, bench/torch_sdpa.py, started once and driven over a pipe,
// so it too runs interleaved in the same run; --torch-python).
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
#include "bench/OpenBlasCore.h"
#include "bench/baselines/BaselineCheck.h"
#include "bench/baselines/UnfusedAttention.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <tuple>
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
  /// Optional: the system times itself (the PyTorch helper, whose calls
  /// cross a pipe): runs the shape `reps` times on the given arrays, leaves
  /// the output in `o`, and returns the best time in seconds (< 0: failed).
  std::function<double(const float *q, const float *k, const float *v,
                       float *o, const Shape &, int reps)>
      selfTimed;
};

/// The attnc that compiles the attnc and Halide-autoscheduler columns.
std::string attncBin = ATTNC_BIN;

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
        kernels = AttncKernels::build(attncBin, dir, headDim, threads, error);
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

/// Creates a fresh temporary directory; "" on failure.
std::string makeTempDir() {
  char dir[] = "/tmp/attn-bench-XXXXXX";
  return mkdtemp(dir) ? std::string(dir) : std::string();
}

/// Runs the "full" or "causal" kernel of a per-shape column's library; a
/// failure ends the benchmark (a timed run must not be skipped silently).
void runColumnKernel(AttncKernels *kernels, const std::string &column,
                     const float *q, const float *k, const float *v, float *o,
                     int B, int H, int N, int D, bool causal) {
  std::string err;
  if (!kernels ||
      !kernels->run(causal ? "causal" : "full", q, k, v, o, B, H, N, D, err)) {
    std::fprintf(stderr, "%s kernel failed: %s\n", column.c_str(),
                 kernels ? err.c_str() : "not compiled");
    std::exit(1);
  }
}

/// One Halide autoscheduler column: `attnc --schedule auto:NAME`, one
/// library per (N, causal) compiled with estimates for that shape (the
/// autoschedulers specialize to them).  Shapes off the benchmark's N list
/// (the self check) use the library of the nearest listed N.
struct AutoState {
  std::string scheduler; // mullapudi2016 | adams2019 | li2018
  std::string label;     // Mullapudi2016 | Adams2019 | Li2018
  int headDim = 64, threads = 2;
  double timeout = 60;
  std::vector<int> ns;
  struct Entry {
    std::unique_ptr<AttncKernels> kernels;
    double compileSeconds = 0, autoscheduleSeconds = 0;
    bool failed = false;
  };
  std::map<std::tuple<int, int, int, bool>, Entry> libs; // B, H, N, causal

  int nearestN(int n) const {
    int best = ns.empty() ? n : ns[0];
    for (int m : ns)
      if (std::abs(m - n) < std::abs(best - n))
        best = m;
    return best;
  }

  Entry &ensure(const Shape &sh) {
    auto key = std::make_tuple(sh.B, sh.H, nearestN(sh.N), sh.causal);
    auto it = libs.find(key);
    if (it != libs.end())
      return it->second;
    Entry &e = libs[key];
    int n = std::get<2>(key);
    // The plain algorithm materializes the [B, H, N, N] scores; Halide
    // buffers are limited to 2 GiB, so that shape cannot run at all.
    if (double(sh.B) * sh.H * double(n) * double(n) * 4.0 >= 2147483648.0) {
      std::printf("# Halide %s: N=%d %s skipped: the plain algorithm's "
                  "score tensor (%.1f GiB) exceeds Halide's 2 GiB buffer "
                  "limit\n",
                  label.c_str(), n, sh.causal ? "causal" : "non-causal",
                  double(sh.B) * sh.H * double(n) * double(n) * 4.0 /
                      (1 << 30));
      e.failed = true;
      return e;
    }
    std::string dir = makeTempDir();
    std::string error = "cannot create a temporary directory";
    if (!dir.empty()) {
      BuildOptions opts;
      opts.kernels = {sh.causal ? "causal" : "full"};
      opts.extraArgs = {"--schedule", "auto:" + scheduler, "-v",
                        "--estimate", "B=" + std::to_string(sh.B),
                        "--estimate", "H=" + std::to_string(sh.H),
                        "--estimate", "N=" + std::to_string(n)};
      opts.timeoutSeconds = timeout;
      opts.logPath = dir + "/attnc.log";
      BuildStatus st;
      std::fprintf(stderr, "# compiling Halide %s for N=%d%s ...\n",
                   label.c_str(), n, sh.causal ? " causal" : "");
      e.kernels = AttncKernels::build(attncBin, dir, headDim, threads, opts,
                                      error, &st);
      e.compileSeconds = st.seconds;
      // attnc -v says "kernel K: NAME took S s" per kernel.
      std::ifstream log(opts.logPath);
      std::string line;
      std::regex took(" took ([0-9.]+) s");
      std::smatch m;
      while (std::getline(log, line))
        if (std::regex_search(line, m, took))
          e.autoscheduleSeconds += std::atof(m[1].str().c_str());
      if (!e.kernels && st.timedOut)
        std::printf("# Halide %s: compiling N=%d %s ran past %.0f s; column "
                    "skipped for that shape\n",
                    label.c_str(), n, sh.causal ? "causal" : "non-causal",
                    timeout);
      else if (!e.kernels)
        std::printf("# Halide %s: N=%d %s: %s (log: %s); column skipped for "
                    "that shape\n",
                    label.c_str(), n, sh.causal ? "causal" : "non-causal",
                    error.c_str(), opts.logPath.c_str());
    } else {
      std::printf("# Halide %s: %s\n", label.c_str(), error.c_str());
    }
    e.failed = !e.kernels;
    return e;
  }

  void run(const float *q, const float *k, const float *v, float *o, int B,
           int H, int N, int D, bool causal) {
    runColumnKernel(ensure(Shape{B, H, N, D, causal}).kernels.get(),
                    "Halide " + label, q, k, v, o, B, H, N, D, causal);
  }
};
std::vector<std::unique_ptr<AutoState>> autoStates;

/// The "attnc tuned" column: per (B, H, N, causal) the kernel is written
/// with static shapes, tuned with `attnc tune` for `budget` seconds into the
/// tuning database `db` (unless the database already has an entry for it),
/// and compiled with that entry.  Only the benchmark's own shapes run.
struct TunedState {
  int headDim = 64, threads = 2;
  double budget = 0; // seconds per kernel; 0 = no tuned column
  std::string db;
  std::vector<int> ns;
  struct Entry {
    std::unique_ptr<AttncKernels> kernels;
    bool failed = false;
  };
  std::map<std::tuple<int, int, int, bool>, Entry> libs;

  static bool logSays(const std::string &path, const std::string &what) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
      if (line.find(what) != std::string::npos)
        return true;
    return false;
  }

  Entry &ensure(const Shape &sh) {
    auto key = std::make_tuple(sh.B, sh.H, sh.N, sh.causal);
    auto it = libs.find(key);
    if (it != libs.end())
      return it->second;
    Entry &e = libs[key];
    e.failed = true;
    if (std::find(ns.begin(), ns.end(), sh.N) == ns.end())
      return e; // not a benchmark shape (the self check)
    std::string dir = makeTempDir();
    if (dir.empty())
      return e;
    BuildOptions opts;
    opts.kernels = {sh.causal ? "causal" : "full"};
    opts.staticB = sh.B;
    opts.staticH = sh.H;
    opts.staticN = sh.N;
    opts.extraArgs = {"--db", db, "-v"};
    opts.logPath = dir + "/attnc.log";
    std::string error;
    e.kernels = AttncKernels::build(attncBin, dir, headDim, threads, opts,
                                    error);
    if (e.kernels &&
        !logSays(opts.logPath, "schedule from the tuning database")) {
      std::fprintf(stderr, "# tuning attnc for N=%d%s (%.0f s) ...\n", sh.N,
                   sh.causal ? " causal" : "", budget);
      std::string cmd = AttncKernels::shellQuote(attncBin) + " tune " +
                        AttncKernels::shellQuote(dir + "/bench_attention.attn") +
                        " --db " + AttncKernels::shellQuote(db) + " --time-budget " +
                        std::to_string(int(budget)) + "s > " +
                        AttncKernels::shellQuote(dir + "/tune.out") + " 2> " +
                        AttncKernels::shellQuote(dir + "/tune.log");
      if (std::system(cmd.c_str()) == 0) {
        std::ifstream out(dir + "/tune.out");
        std::string line;
        while (std::getline(out, line))
          std::printf("# attnc tune N=%d%s: %s\n", sh.N,
                      sh.causal ? " causal" : "", line.c_str());
      } else {
        std::printf("# attnc tune N=%d%s failed (log: %s/tune.log)\n", sh.N,
                    sh.causal ? " causal" : "", dir.c_str());
      }
      e.kernels = AttncKernels::build(attncBin, dir, headDim, threads, opts,
                                      error);
    }
    if (!e.kernels)
      std::printf("# attnc tuned: N=%d: %s\n", sh.N, error.c_str());
    e.failed = !e.kernels;
    return e;
  }

  void run(const float *q, const float *k, const float *v, float *o, int B,
           int H, int N, int D, bool causal) {
    runColumnKernel(ensure(Shape{B, H, N, D, causal}).kernels.get(),
                    "attnc tuned", q, k, v, o, B, H, N, D, causal);
  }
};
TunedState tunedState;

/// The PyTorch column: bench/torch_sdpa.py, started once, reads commands on
/// a pipe; the arrays travel through a file in /dev/shm that both map.
struct TorchState {
  std::string python, script, error;
  int threads = 2;
  bool tried = false, ok = false;
  pid_t pid = -1;
  FILE *to = nullptr, *from = nullptr;
  std::string version;
  std::string shmPath;
  float *map = nullptr;
  size_t mapCount = 0; // floats per array in the mapping
  // What the helper has loaded (the timed arrays are the Case's buffers).
  const float *loadedQ = nullptr;
  Shape loadedShape{};

  ~TorchState() { stop(); }

  void stop() {
    if (to) {
      std::fprintf(to, "quit\n");
      std::fclose(to);
      to = nullptr;
    }
    if (from) {
      std::fclose(from);
      from = nullptr;
    }
    if (pid > 0) {
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
    unmap();
  }

  void unmap() {
    if (map) {
      munmap(map, 4 * mapCount * sizeof(float));
      map = nullptr;
    }
    if (!shmPath.empty()) {
      unlink(shmPath.c_str());
      shmPath.clear();
    }
  }

  std::string readLine() {
    std::string line;
    int c;
    while (from && (c = std::fgetc(from)) != EOF && c != '\n')
      line += char(c);
    return line;
  }

  /// Sends one command; returns the reply ("" when the helper is gone).
  std::string command(const std::string &cmd) {
    if (!to)
      return "";
    std::fprintf(to, "%s\n", cmd.c_str());
    std::fflush(to);
    return readLine();
  }

  bool ensure() {
    if (tried)
      return ok;
    tried = true;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
      error = "pipe failed";
    } else {
      std::fflush(nullptr);
      pid = fork();
      if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        std::string t = std::to_string(threads);
        execlp(python.c_str(), python.c_str(), script.c_str(), t.c_str(),
               (char *)nullptr);
        std::fprintf(stderr, "cannot execute %s: %s\n", python.c_str(),
                     std::strerror(errno));
        _exit(127);
      }
      close(in[0]);
      close(out[1]);
      to = fdopen(in[1], "w");
      from = fdopen(out[0], "r");
      std::string hello = readLine();
      if (hello.rfind("ready ", 0) == 0) {
        version = hello.substr(6);
        ok = true;
      } else {
        error = hello.empty() ? "the helper " + script + " did not start"
                              : hello;
        stop();
      }
    }
    if (!ok)
      std::printf("# PyTorch column skipped: %s\n", error.c_str());
    return ok;
  }

  /// Copies q, k, v into the shared file and has the helper load them.
  bool load(const float *q, const float *k, const float *v, const Shape &sh) {
    size_t count = size_t(sh.B) * sh.H * sh.N * sh.D;
    if (count != mapCount || !map) {
      unmap();
      shmPath = "/dev/shm/attn-bench-torch-" + std::to_string(getpid()) +
                "-" + std::to_string(count);
      int fd = open(shmPath.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
      size_t bytes = 4 * count * sizeof(float);
      if (fd < 0 || ftruncate(fd, off_t(bytes)) != 0) {
        error = "cannot create " + shmPath;
        if (fd >= 0)
          close(fd);
        return false;
      }
      void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      close(fd);
      if (p == MAP_FAILED) {
        error = "cannot map " + shmPath;
        return false;
      }
      map = static_cast<float *>(p);
      mapCount = count;
    }
    std::memcpy(map, q, count * sizeof(float));
    std::memcpy(map + count, k, count * sizeof(float));
    std::memcpy(map + 2 * count, v, count * sizeof(float));
    char cmd[512];
    std::snprintf(cmd, sizeof cmd, "load %s %d %d %d %d", shmPath.c_str(),
                  sh.B, sh.H, sh.N, sh.D);
    std::string r = command(cmd);
    if (r != "ok") {
      error = r.empty() ? "the helper exited" : r;
      return false;
    }
    loadedQ = q;
    loadedShape = sh;
    return true;
  }

  /// Times `reps` runs in the helper; the output lands in `o`.  < 0: failed.
  double time(const float *q, const float *k, const float *v, float *o,
              const Shape &sh, int reps, bool forceLoad) {
    bool same = !forceLoad && loadedQ == q && loadedShape.B == sh.B &&
                loadedShape.H == sh.H && loadedShape.N == sh.N &&
                loadedShape.D == sh.D;
    if (!same && !load(q, k, v, sh))
      return -1;
    std::string r = command(std::string("time ") + (sh.causal ? "1" : "0") +
                            " " + std::to_string(reps));
    if (r.rfind("ok ", 0) != 0) {
      error = r.empty() ? "the helper exited" : r;
      return -1;
    }
    std::memcpy(o, map + 3 * mapCount, mapCount * sizeof(float));
    return std::atof(r.c_str() + 3);
  }
};
TorchState torchState;

std::vector<System> makeSystems() {
  std::vector<System> systems = makeBaselineSystems();
  for (auto &a : autoStates) {
    AutoState *st = a.get();
    System sys;
    sys.name = "Halide " + st->label;
    sys.run = [st](const float *q, const float *k, const float *v, float *o,
                   int B, int H, int N, int D, bool causal) {
      st->run(q, k, v, o, B, H, N, D, causal);
    };
    sys.prepare = [st](const Shape &sh) {
      return sh.D == st->headDim && !st->ensure(sh).failed;
    };
    systems.push_back(std::move(sys));
  }
  if (!torchState.python.empty()) {
    System sys;
    sys.name = "PyTorch SDPA";
    sys.run = [](const float *q, const float *k, const float *v, float *o,
                 int B, int H, int N, int D, bool causal) {
      // Untimed uses (the self check): always reload, arrays may be reused.
      if (torchState.time(q, k, v, o, Shape{B, H, N, D, causal}, 1, true) <
          0) {
        std::fprintf(stderr, "PyTorch SDPA failed: %s\n",
                     torchState.error.c_str());
        std::exit(1);
      }
    };
    sys.prepare = [](const Shape &) { return torchState.ensure(); };
    sys.selfTimed = [](const float *q, const float *k, const float *v,
                       float *o, const Shape &sh, int reps) {
      return torchState.time(q, k, v, o, sh, reps, false);
    };
    systems.push_back(std::move(sys));
  }
  if (tunedState.budget > 0) {
    System sys;
    sys.name = "attnc tuned";
    sys.run = [](const float *q, const float *k, const float *v, float *o,
                 int B, int H, int N, int D, bool causal) {
      tunedState.run(q, k, v, o, B, H, N, D, causal);
    };
    sys.prepare = [](const Shape &sh) {
      return sh.D == tunedState.headDim && !tunedState.ensure(sh).failed;
    };
    systems.insert(systems.begin(), std::move(sys));
  }
  System attnc;
  attnc.name = "attnc heuristic";
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
  std::vector<std::string> autoschedulers = {"mullapudi2016", "adams2019",
                                             "li2018"};
  double autoTimeout = 60; // seconds per autoscheduled compile
  double tuneBudget = 0;    // seconds of `attnc tune` per shape; 0: none
  std::string tuneDb;       // tuning database of the tuned column
  std::string torchPython;  // empty: no PyTorch column
  std::string torchScript = ATTNC_BENCH_DIR "/torch_sdpa.py";
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
      "                  OPENBLAS_CORETYPE set (see the file header)\n"
      "  --auto LIST     Halide autoschedulers to compare (default\n"
      "                  mullapudi2016,adams2019,li2018; none: no column)\n"
      "  --auto-timeout S  skip an autoscheduler's column for a shape when\n"
      "                  its compile runs past S seconds (default 60)\n"
      "  --tune S        add the \"attnc tuned\" column: tune each shape for S\n"
      "                  seconds (attnc tune) unless --tune-db has it already\n"
      "  --tune-db PATH  tuning database of that column (required with --tune)\n"
      "  --attnc PATH    the attnc to compile with (default: the one built)\n"
      "  --torch-python P  python with torch: adds the PyTorch SDPA column\n"
      "  --torch-script F  the helper (default bench/torch_sdpa.py)\n",
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
    } else if (a == "--auto") {
      std::string v = next("--auto");
      o.autoschedulers = v == "none" ? std::vector<std::string>{}
                                     : splitComma(v);
    } else if (a == "--auto-timeout") {
      o.autoTimeout = std::atof(next("--auto-timeout"));
    } else if (a == "--tune") {
      o.tuneBudget = std::atof(next("--tune"));
    } else if (a == "--tune-db") {
      o.tuneDb = next("--tune-db");
    } else if (a == "--attnc") {
      attncBin = next("--attnc");
    } else if (a == "--torch-python") {
      o.torchPython = next("--torch-python");
    } else if (a == "--torch-script") {
      o.torchScript = next("--torch-script");
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

// Sets the wait policy, the OpenBLAS kernel choice (openblasCoreToForce in
// bench/OpenBlasCore.h; the header line prints what was used) and the thread
// counts in the environment and re-executes the program, so that libgomp and
// OpenBLAS see them at load time.
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

bool isUnfusedBaseline(const std::string &name) {
  return name.rfind("oneDNN", 0) == 0 || name.rfind("OpenBLAS", 0) == 0;
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
  const char *labels[][2] = {{"mullapudi2016", "Mullapudi2016"},
                             {"adams2019", "Adams2019"},
                             {"li2018", "Li2018"}};
  for (const std::string &a : opt.autoschedulers) {
    auto st = std::make_unique<AutoState>();
    st->scheduler = a;
    st->label = a;
    for (auto &l : labels)
      if (a == l[0])
        st->label = l[1];
    st->headDim = opt.D;
    st->threads = opt.threads;
    st->timeout = opt.autoTimeout;
    st->ns = opt.ns;
    autoStates.push_back(std::move(st));
  }
  if (opt.tuneBudget > 0 && opt.tuneDb.empty()) {
    std::fprintf(stderr, "--tune needs --tune-db PATH\n");
    return 2;
  }
  tunedState.budget = opt.tuneBudget;
  tunedState.db = opt.tuneDb;
  tunedState.headDim = opt.D;
  tunedState.threads = opt.threads;
  tunedState.ns = opt.ns;
  torchState.python = opt.torchPython;
  torchState.script = opt.torchScript;
  torchState.threads = opt.threads;

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
      double dt;
      if (systems[s].selfTimed) {
        dt = systems[s].selfTimed(c.q.get(), c.k.get(), c.v.get(),
                                  c.outs[s].get(), sh, 1);
        if (dt < 0) {
          std::printf("# %s: N=%d: failed (%s); skipped\n",
                      systems[s].name.c_str(), sh.N,
                      torchState.error.c_str());
          c.active[s] = false;
          continue;
        }
      } else {
        double t0 = now();
        systems[s].run(c.q.get(), c.k.get(), c.v.get(), c.outs[s].get(), sh.B,
                       sh.H, sh.N, sh.D, sh.causal);
        dt = now() - t0;
      }
      // Systems that need over a second per run (the slower Halide
      // autoschedulers at large N) run once per round: R rounds still give
      // R samples, and the benchmark stays within minutes.
      c.reps[s] = dt > 1.0 ? 1
                           : std::max(2, std::min(opt.maxReps,
                                                  int(std::ceil(opt.budget /
                                                                dt))));
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
        if (systems[s].selfTimed) {
          b = systems[s].selfTimed(c.q.get(), c.k.get(), c.v.get(),
                                   c.outs[s].get(), sh, c.reps[s]);
          if (b < 0) {
            std::printf("# %s: N=%d: failed (%s); skipped\n",
                        systems[s].name.c_str(), sh.N,
                        torchState.error.c_str());
            c.active[s] = false;
            continue;
          }
        }
        for (int rep = 0; rep < c.reps[s] && !systems[s].selfTimed; ++rep) {
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
  if (systems.front().name == "attnc heuristic") {
    double bestSgemm = opt.sgemm ? std::max(median(sgemm[0]), median(sgemm[1]))
                                 : 0.0;
    std::printf("\n# attnc heuristic against the best unfused baseline and the "
                "best sgemm (%.1f GFLOP/s), same run\n",
                bestSgemm);
    std::printf("%5s %-6s %10s %-24s %10s %8s %9s\n", "N", "causal",
                "attnc", "best baseline", "GFLOP/s", "ratio", "of sgemm");
    for (Case &c : cases) {
      if (!c.active[0])
        continue;
      size_t bestIdx = 0;
      for (size_t s = 1; s < ns; ++s)
        if (c.active[s] && isUnfusedBaseline(systems[s].name) &&
            (bestIdx == 0 || c.gflops[s] > c.gflops[bestIdx]))
          bestIdx = s;
      if (bestIdx == 0)
        continue;
      std::printf("%5d %-6s %10.1f %-24s %10.1f %7.2fx %8.0f%%\n", c.sh.N,
                  c.sh.causal ? "yes" : "no", c.gflops[0],
                  systems[bestIdx].name.c_str(), c.gflops[bestIdx],
                  c.gflops[0] / c.gflops[bestIdx],
                  bestSgemm > 0 ? 100.0 * c.gflops[0] / bestSgemm : 0.0);
    }

    // attnc against every other system, one column each.
    std::printf("\n# attnc heuristic against each system, same run: attnc "
                "GFLOP/s / system GFLOP/s (n/a: not run)\n");
    std::printf("%5s %-6s %8s", "N", "causal", "attnc");
    for (size_t s = 1; s < ns; ++s)
      std::printf("  %*s", int(std::max<size_t>(8, systems[s].name.size())),
                  systems[s].name.c_str());
    std::printf("\n");
    for (Case &c : cases) {
      if (!c.active[0])
        continue;
      std::printf("%5d %-6s %8.1f", c.sh.N, c.sh.causal ? "yes" : "no",
                  c.gflops[0]);
      for (size_t s = 1; s < ns; ++s) {
        int w = int(std::max<size_t>(8, systems[s].name.size()));
        if (c.active[s] && c.gflops[s] > 0)
          std::printf("  %*.2fx", w - 1, c.gflops[0] / c.gflops[s]);
        else
          std::printf("  %*s", w, "n/a");
      }
      std::printf("\n");
    }
  }

  // What the autoschedulers cost: attnc compile (autoschedule + Halide code
  // generation + link) per shape, and the time inside auto_schedule.
  if (!autoStates.empty()) {
    std::printf("\n# Halide autoschedulers: attnc compile time per shape, "
                "s (in parentheses: inside Pipeline::auto_schedule)\n");
    std::printf("%5s %-6s", "N", "causal");
    for (auto &a : autoStates)
      std::printf(" %22s", a->label.c_str());
    std::printf("\n");
    for (Case &c : cases) {
      std::printf("%5d %-6s", c.sh.N, c.sh.causal ? "yes" : "no");
      for (auto &a : autoStates) {
        auto it = a->libs.find(
            std::make_tuple(c.sh.B, c.sh.H, c.sh.N, c.sh.causal));
        char cell[64];
        if (it == a->libs.end())
          std::snprintf(cell, sizeof cell, "n/a");
        else if (it->second.failed)
          std::snprintf(cell, sizeof cell, "failed %.1f",
                        it->second.compileSeconds);
        else
          std::snprintf(cell, sizeof cell, "%.1f (%.2f)",
                        it->second.compileSeconds,
                        it->second.autoscheduleSeconds);
        std::printf(" %22s", cell);
      }
      std::printf("\n");
    }
  }
  if (torchState.ok)
    std::printf("\n# PyTorch %s, threads=%s (bench/torch_sdpa.py, "
                "torch.nn.functional.scaled_dot_product_attention, fp32, "
                "CPU)\n",
                torchState.version.substr(0, torchState.version.find(' '))
                    .c_str(),
                torchState.version.find(' ') == std::string::npos
                    ? "?"
                    : torchState.version.substr(torchState.version.find(' ') +
                                                1)
                          .c_str());

  // Masked key tiles are skipped: causal and sliding windows against full
  // attention, by time (the work each needs differs; see docs).
  if (systems.front().name == "attnc heuristic" && attncState.kernels) {
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
