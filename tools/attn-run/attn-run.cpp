//===- attn-run.cpp - Run, check and time a compiled attnc library --------===//
//
// attn-run LIB [--kernel NAME | --arch NAME] [--input NAME=FILE.npy ...]
//              [--output FILE.npy] [--seed S] [--check reference] [--bench]
//              [--threads T] [--dim NAME=VALUE ...]
//              [--weights FILE.safetensors] [--save-weights FILE]
//
// Loads LIB and its manifest, fills inputs not given with seeded random data,
// runs each selected kernel, and optionally writes the output, checks it
// against the float64 reference (tolerance rule of DESIGN.md §3) and times
// it.  When the manifest has architectures (docs/Architectures.md) and no
// --kernel is given, it runs an architecture instead: its calls in order,
// with weights from a safetensors file or seeded random ones; --check
// reference checks every call and the whole program end to end.  Bad input
// gets a message on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "runtime/ArchRunner.h"
#include "runtime/ArchStats.h"
#include "runtime/Benchmark.h"
#include "runtime/Binding.h"
#include "runtime/BlockReference.h"
#include "runtime/Check.h"
#include "runtime/Library.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"
#include "runtime/Reference.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using namespace attn::rt;

namespace {

const char *const kUsage =
    "usage: attn-run LIB [options]\n"
    "       attn-run --gpu-info cuda|opencl\n"
    "\n"
    "Runs the kernels of LIB, a shared library built by `attnc compile`\n"
    "(its manifest LIB.manifest.json must sit next to it).  A library with\n"
    "architectures runs its (first) architecture unless --kernel is given.\n"
    "\n"
    "options:\n"
    "  --kernel NAME          run only kernel NAME (default: every kernel)\n"
    "  --arch NAME            run architecture NAME (default: the first)\n"
    "  --weights FILE         read the architecture's weights from a\n"
    "                         .safetensors file (default: seeded random)\n"
    "  --save-weights FILE    write the weights used to a .safetensors file\n"
    "  --input NAME=FILE.npy  read argument NAME from a NumPy file; inputs "
    "not\n"
    "                         given are filled with seeded random data\n"
    "  --output FILE.npy      write the kernel's output (NAME=FILE.npy picks\n"
    "                         one output of a kernel with several)\n"
    "  --seed S               seed of the random inputs (default 0)\n"
    "  --input-range LO:HI    range of the random float inputs (default "
    "-1:1)\n"
    "  --check reference      compare with the float64 reference; exit 1 on "
    "FAIL\n"
    "                         (architectures: every call and end to end)\n"
    "  --check-rows R         check about R query rows per attention (not end\n"
    "                         to end)\n"
    "  --bench                time the kernel (median of repeated runs, "
    "GFLOP/s)\n"
    "  --profile              architectures: time every call alone and print\n"
    "                         the time per call and per kernel\n"
    "  --bench-seconds S      time each measurement for about S seconds\n"
    "                         (default 0.5; at least 5 runs)\n"
    "  --json FILE            architectures: write what --bench and --profile\n"
    "                         measured, with the parameters, FLOPs and\n"
    "                         memory, as one JSON object (docs/Search.md)\n"
    "  --threads T            size of the Halide thread pool\n"
    "  --dim NAME=VALUE       value of a symbolic dim no input determines\n"
    "  --gpu-info API         print the device GPU libraries of API (cuda or\n"
    "                         opencl) run on and its per-block limits; exit\n"
    "                         status 1 when there is none\n"
    "  --help                 print this help\n";

struct Options {
  std::string library;
  std::optional<std::string> gpuInfo;
  std::optional<std::string> kernel;
  std::optional<std::string> arch;
  std::optional<std::string> weights, saveWeights;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::vector<std::string> outputs;
  uint64_t seed = 0;
  /// Range of the random float inputs.
  double inputLo = -1.0, inputHi = 1.0;
  bool check = false;
  int64_t checkRows = 0; // 0: every query row
  bool bench = false;
  bool profile = false;
  std::optional<std::string> json;
  BenchmarkOptions benchOptions;
  int threads = 0;
  std::map<std::string, int64_t> dims;
};

void error(const std::string &msg) {
  std::cerr << "attn-run: error: " << msg << "\n";
}

bool parseInt(const std::string &text, int64_t &out) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    return false;
  out = v;
  return true;
}

bool splitAssignment(const std::string &text, std::string &name,
                     std::string &value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return false;
  name = text.substr(0, eq);
  value = text.substr(eq + 1);
  return true;
}

/// Parses argv; returns 0 to go on, 1 on a usage error, 2 after --help.
int parseOptions(int argc, char **argv, Options &opts) {
  std::vector<std::string> positional;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    std::string value;
    bool hasInlineValue = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto takeValue = [&](std::string &out) -> bool {
      if (hasInlineValue) {
        out = value;
        return true;
      }
      if (a + 1 >= argc) {
        error(arg + " needs a value (see --help)");
        return false;
      }
      out = argv[++a];
      return true;
    };
    auto noValue = [&]() -> bool {
      if (hasInlineValue)
        error(arg + " takes no value");
      return !hasInlineValue;
    };

    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 2;
    }
    if (arg == "--kernel") {
      std::string v;
      if (!takeValue(v))
        return 1;
      opts.kernel = v;
    } else if (arg == "--gpu-info") {
      std::string v;
      if (!takeValue(v))
        return 1;
      opts.gpuInfo = v;
    } else if (arg == "--arch" || arg == "--weights" ||
               arg == "--save-weights") {
      std::string v;
      if (!takeValue(v))
        return 1;
      if (v.empty()) {
        error(arg + " needs a non-empty value");
        return 1;
      }
      (arg == "--arch"      ? opts.arch
       : arg == "--weights" ? opts.weights
                            : opts.saveWeights) = v;
    } else if (arg == "--input") {
      std::string v, name, file;
      if (!takeValue(v))
        return 1;
      if (!splitAssignment(v, name, file)) {
        error("--input expects NAME=FILE.npy, got '" + v + "'");
        return 1;
      }
      opts.inputs.emplace_back(name, file);
    } else if (arg == "--output") {
      std::string v;
      if (!takeValue(v))
        return 1;
      opts.outputs.push_back(v);
    } else if (arg == "--seed") {
      std::string v;
      int64_t s;
      if (!takeValue(v))
        return 1;
      if (!parseInt(v, s) || s < 0) {
        error("--seed expects a non-negative integer, got '" + v + "'");
        return 1;
      }
      opts.seed = uint64_t(s);
    } else if (arg == "--input-range") {
      std::string v;
      if (!takeValue(v))
        return 1;
      size_t colon = v.find(':');
      char *end = nullptr;
      bool ok = colon != std::string::npos;
      double lo = 0, hi = 0;
      if (ok) {
        std::string a = v.substr(0, colon), b = v.substr(colon + 1);
        lo = std::strtod(a.c_str(), &end);
        ok = !a.empty() && *end == 0;
        if (ok) {
          hi = std::strtod(b.c_str(), &end);
          ok = !b.empty() && *end == 0;
        }
      }
      if (!ok || !(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) {
        error("--input-range expects LO:HI with finite LO <= HI, got '" + v +
              "'");
        return 1;
      }
      opts.inputLo = lo;
      opts.inputHi = hi;
    } else if (arg == "--check") {
      std::string v;
      if (!takeValue(v))
        return 1;
      if (v != "reference") {
        error("--check expects 'reference', got '" + v + "'");
        return 1;
      }
      opts.check = true;
    } else if (arg == "--check-rows") {
      std::string v;
      int64_t rows;
      if (!takeValue(v))
        return 1;
      if (!parseInt(v, rows) || rows < 1) {
        error("--check-rows expects a positive integer, got '" + v + "'");
        return 1;
      }
      opts.checkRows = rows;
    } else if (arg == "--bench") {
      if (!noValue())
        return 1;
      opts.bench = true;
    } else if (arg == "--profile") {
      if (!noValue())
        return 1;
      opts.profile = true;
    } else if (arg == "--bench-seconds") {
      std::string v;
      if (!takeValue(v))
        return 1;
      char *end = nullptr;
      double seconds = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(seconds > 0) || seconds > 3600) {
        error("--bench-seconds expects a number of seconds in (0, 3600], "
              "got '" + v + "'");
        return 1;
      }
      opts.benchOptions.targetSeconds = seconds;
    } else if (arg == "--json") {
      std::string v;
      if (!takeValue(v))
        return 1;
      opts.json = v;
    } else if (arg == "--threads") {
      std::string v;
      int64_t t;
      if (!takeValue(v))
        return 1;
      if (!parseInt(v, t) || t < 1 || t > 4096) {
        error("--threads expects a positive integer, got '" + v + "'");
        return 1;
      }
      opts.threads = int(t);
    } else if (arg == "--dim") {
      std::string v, name, text;
      int64_t n;
      if (!takeValue(v))
        return 1;
      if (!splitAssignment(v, name, text) || !parseInt(text, n)) {
        error("--dim expects NAME=INTEGER, got '" + v + "'");
        return 1;
      }
      if (n <= 0) {
        error("--dim " + v + ": dims must be positive");
        return 1;
      }
      if (opts.dims.count(name) && opts.dims[name] != n) {
        error("--dim " + name + " is given twice with different values");
        return 1;
      }
      opts.dims[name] = n;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error("unknown option '" + arg + "' (see --help)");
      return 1;
    } else {
      positional.push_back(arg);
    }
  }
  if (opts.gpuInfo && positional.empty())
    return 0;
  if (positional.empty()) {
    error("no library given\n" + std::string(kUsage));
    return 1;
  }
  if (positional.size() > 1) {
    error("expected one library, got '" + positional[0] + "' and '" +
          positional[1] + "'");
    return 1;
  }
  opts.library = positional[0];
  return 0;
}

std::string joinStrings(const std::vector<std::string> &v,
                        const std::string &sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? sep : "") + v[i];
  return s;
}

/// Runs one kernel; returns false on any failure (already reported).
bool runKernel(const Library &lib, const KernelSpec &kernel,
               const Options &opts, const TensorMap &inputs) {
  auto fail = [&](const std::string &msg) {
    // Messages from Library already start with "kernel 'NAME'".
    std::string prefix = "kernel '" + kernel.name + "'";
    error(msg.rfind(prefix, 0) == 0 ? msg : prefix + ": " + msg);
    return false;
  };

  TensorMap args;
  for (const ArgSpec &arg : kernel.args) {
    auto it = inputs.find(arg.name);
    if (it != inputs.end() && arg.role == ArgRole::Input)
      args.emplace(arg.name, it->second.clone());
  }
  std::map<std::string, int64_t> dims;
  for (const auto &[name, value] : opts.dims)
    if (kernel.hasDim(name))
      dims[name] = value;

  Result<DimBindings> bindings = bindDims(kernel, args, dims);
  if (!bindings)
    return fail(bindings.message());
  std::vector<std::string> unbound = unboundDims(kernel, *bindings);
  if (!unbound.empty()) {
    std::vector<std::string> flags;
    for (const std::string &d : unbound)
      flags.push_back("--dim " + d + "=...");
    if (unbound.size() == 1)
      return fail("dim " + unbound[0] + " is symbolic: give " + flags[0] +
                  " or an input that has it");
    return fail("dims " + joinStrings(unbound, ", ") + " are symbolic: give " +
                joinStrings(flags, " ") + " or inputs that have them");
  }
  for (const ArgSpec &arg : kernel.args) {
    if (arg.role != ArgRole::Input || args.count(arg.name))
      continue;
    Result<Tensor> t = makeRandomInput(kernel, arg, *bindings, opts.seed,
                                       opts.inputLo, opts.inputHi);
    if (!t)
      return fail(t.message());
    // The shift and sign weights of a block kernel's shift-mode linear.
    if (auto range = blockIntegerInputRange(kernel, arg.name)) {
      Rng rng(argumentSeed(opts.seed, arg.name));
      for (int64_t i = 0; i < t->numElements(); ++i)
        t->setDouble(i, double(rng.uniformInt(range->first, range->second)));
    }
    args.emplace(arg.name, t.take());
  }

  Result<PreparedCall> call = lib.prepare(kernel, args, dims);
  if (!call)
    return fail(call.message());
  if (Status s = call->run(); !s)
    return fail(s.message());

  bool ok = true;
  std::vector<const ArgSpec *> outs;
  for (const ArgSpec &arg : kernel.args)
    if (arg.role == ArgRole::Output)
      outs.push_back(&arg);
  for (const std::string &spec : opts.outputs) {
    const ArgSpec *which = nullptr;
    std::string file = spec, name, rest;
    if (splitAssignment(spec, name, rest))
      if (const ArgSpec *a = kernel.findArg(name);
          a && a->role == ArgRole::Output) {
        which = a;
        file = rest;
      }
    if (!which) {
      if (outs.size() != 1) {
        std::vector<std::string> names;
        for (const ArgSpec *a : outs)
          names.push_back(a->name);
        return fail("it has several outputs (" + joinStrings(names, ", ") +
                    "): use --output NAME=FILE.npy");
      }
      which = outs[0];
    }
    if (Status s = writeNpy(file, args.at(which->name)); !s)
      return fail(s.message());
  }

  if (opts.check) {
    if (!kernel.reference)
      return fail("the manifest has no reference description, so --check "
                  "reference cannot check it");
    // One line per output; a block kernel may have several.
    Result<std::vector<NamedReferenceOutput>> refs =
        computeReferenceOutputs(kernel, args, opts.checkRows);
    if (!refs)
      return fail(refs.message());
    for (const NamedReferenceOutput &ref : *refs) {
      Result<CheckResult> r =
          checkAgainstReference(args.at(ref.name), ref.output);
      if (!r)
        return fail(r.message());
      std::string name =
          refs->size() == 1 ? kernel.name : kernel.name + "." + ref.name;
      std::cout << formatCheckLine(name, *r) << std::endl;
      ok = ok && r->pass;
    }
  }

  if (opts.bench) {
    double flops = 0;
    if (kernel.reference)
      if (Result<double> counted = referenceFlops(kernel, args))
        flops = *counted;
    PreparedCall &prepared = *call;
    // GPU kernels are timed device-resident, as peers like PyTorch SDPA
    // are: inputs copied once, outputs left on the device (docs/GPU.md §7).
    prepared.keepOnDevice(true);
    Result<BenchmarkStats> stats = benchmark([&] { return prepared.run(); },
                                             opts.benchOptions);
    if (Status s = prepared.copyOutputsToHost(); !s)
      return fail(s.message());
    prepared.keepOnDevice(false);
    if (!stats)
      return fail(stats.message());
    std::cout << formatBenchLine(kernel.name, *stats, flops) << std::endl;
  }

  if (!opts.check && !opts.bench) {
    std::vector<std::string> shapes;
    for (const ArgSpec *a : outs)
      shapes.push_back(a->name + " " + args.at(a->name).describe());
    std::cout << kernel.name << ": ran, " << joinStrings(shapes, ", ")
              << std::endl;
  }
  return ok;
}

/// The time of one call, alone.
struct CallProfile {
  std::string kernel;
  BenchmarkStats stats;
  double flops = 0;
};

/// The calls of one kernel, summed.
struct KernelProfile {
  std::string kernel;
  int64_t calls = 0;
  double totalMs = 0, flops = 0;
};

/// The per-kernel sums of `calls`, in the order kernels are first called.
std::vector<KernelProfile> perKernel(const std::vector<CallProfile> &calls) {
  std::vector<KernelProfile> out;
  std::map<std::string, size_t> index;
  for (const CallProfile &c : calls) {
    auto [it, inserted] = index.try_emplace(c.kernel, out.size());
    if (inserted)
      out.push_back({c.kernel});
    KernelProfile &k = out[it->second];
    k.calls += 1;
    k.totalMs += c.stats.medianMs;
    k.flops += c.flops;
  }
  return out;
}

/// Times every call of `runner` alone (after one full run, so each call
/// reads real inputs) and prints a line per call and per kernel; the per
/// kernel lines sum the calls of that kernel and give their share of the
/// summed time.
bool profileArch(ArchRunner &runner, const std::string &archName,
                 const BenchmarkOptions &benchOptions,
                 std::vector<CallProfile> &calls) {
  if (Status s = runner.run(); !s) {
    std::cerr << "attn-run: error: " << s.message() << "\n";
    return false;
  }
  double totalMs = 0;
  for (size_t i = 0; i < runner.numCalls(); ++i) {
    Result<BenchmarkStats> stats =
        benchmark([&] { return runner.runCall(i); }, benchOptions);
    if (!stats) {
      std::cerr << "attn-run: error: " << stats.message() << "\n";
      return false;
    }
    Result<double> flops = runner.callFlops(i);
    const std::string &kernel = runner.callKernel(i);
    calls.push_back({kernel, *stats, flops ? *flops : 0.0});
    std::cout << formatBenchLine("call " + std::to_string(i) + " " + kernel,
                                 *stats, flops ? *flops : 0.0)
              << "\n";
    totalMs += stats->medianMs;
  }
  for (const KernelProfile &k : perKernel(calls)) {
    const std::string &kernel = k.kernel;
    double ms = k.totalMs, flops = k.flops;
    char line[256];
    std::snprintf(line, sizeof(line),
                  "kernel %s: %.3f ms (%.1f%% of %.3f ms summed over the %zu "
                  "calls of %s) %.1f GFLOP/s",
                  kernel.c_str(), ms, totalMs > 0 ? 100 * ms / totalMs : 0.0,
                  totalMs, runner.numCalls(), archName.c_str(),
                  ms > 0 ? flops / (ms * 1e6) : 0.0);
    std::cout << line << "\n";
  }
  std::cout.flush();
  return true;
}

/// Writes --json: the architecture's stats (ArchStats.h), the end-to-end
/// timing when measured and the per-call and per-kernel profile when
/// measured.
Status writeArchJson(const std::string &path, const Library &lib,
                     const ArchSpec &arch,
                     const std::optional<BenchmarkStats> &endToEnd,
                     const std::vector<CallProfile> &calls) {
  Result<ArchStats> stats = archStats(lib.manifest(), arch);
  if (!stats)
    return stats.status();
  nlohmann::json j;
  j["arch"] = arch.name;
  j["calls"] = arch.calls.size();
  j["params"] = stats->params;
  j["flops"] = stats->flops;
  j["memory_bytes"] = stats->memoryBytes;
  j["weight_bytes"] = stats->weightBytes;
  j["peak_value_bytes"] = stats->peakValueBytes;
  // p10/p90 of the timed runs: one preempted run moves max - min, not them.
  auto percentile = [](std::vector<double> v, double q) {
    if (v.empty())
      return 0.0;
    std::sort(v.begin(), v.end());
    return v[size_t(q * double(v.size() - 1) + 0.5)];
  };
  auto timing = [&](const BenchmarkStats &s) {
    return nlohmann::json{{"median_ms", s.medianMs},
                          {"min_ms", s.minMs},
                          {"max_ms", s.maxMs},
                          {"p10_ms", percentile(s.samplesMs, 0.1)},
                          {"p90_ms", percentile(s.samplesMs, 0.9)},
                          {"spread_ms", s.maxMs - s.minMs},
                          {"runs", s.runs}};
  };
  j["end_to_end"] = endToEnd ? timing(*endToEnd) : nlohmann::json(nullptr);
  nlohmann::json perCall = nlohmann::json::array();
  for (const CallProfile &c : calls) {
    nlohmann::json t = timing(c.stats);
    t["kernel"] = c.kernel;
    t["flops"] = c.flops;
    perCall.push_back(t);
  }
  nlohmann::json kernels = nlohmann::json::array();
  for (const KernelProfile &k : perKernel(calls))
    kernels.push_back({{"kernel", k.kernel},
                       {"calls", k.calls},
                       {"total_ms", k.totalMs},
                       {"flops", k.flops}});
  j["per_call"] = perCall;
  j["per_kernel"] = kernels;
  std::ofstream os(path);
  os << j.dump(1) << "\n";
  os.close();
  if (!os)
    return Status::error("cannot write " + path);
  return Status::success();
}

/// Runs architecture `arch` of `lib`; returns false on any failure (already
/// reported).
bool runArch(const Library &lib, const ArchSpec &arch, const Options &opts) {
  auto fail = [&](const std::string &msg) {
    error(msg);
    return false;
  };
  Result<std::unique_ptr<ArchRunner>> runnerOr = ArchRunner::create(lib, arch);
  if (!runnerOr)
    return fail(runnerOr.message());
  ArchRunner &runner = **runnerOr;

  runner.randomInputs(opts.seed, opts.inputLo, opts.inputHi);
  std::vector<std::string> inputNames;
  for (const ArchTensorSpec &t : arch.inputs)
    inputNames.push_back(t.name);
  for (const auto &[name, file] : opts.inputs) {
    if (std::find(inputNames.begin(), inputNames.end(), name) ==
        inputNames.end())
      return fail("--input " + name + "=" + file + ": arch '" + arch.name +
                  "' has no input named '" + name + "' (its inputs are " +
                  joinStrings(inputNames, ", ") + ")");
    Result<Tensor> t = readNpy(file);
    if (!t)
      return fail(t.message());
    if (Status s = runner.setInput(name, *t); !s)
      return fail(file + ": " + s.message());
  }
  if (opts.weights) {
    if (Status s = runner.loadWeights(*opts.weights); !s)
      return fail(s.message());
  } else {
    runner.randomWeights(opts.seed);
  }
  if (opts.saveWeights)
    if (Status s = runner.saveWeights(*opts.saveWeights); !s)
      return fail(s.message());

  bool ok = true;
  std::optional<BenchmarkStats> endToEnd;
  if (opts.check) {
    Result<ArchCheckReport> report = runner.runAndCheck(opts.checkRows);
    if (!report)
      return fail(report.message());
    size_t failed = 0, total = 0;
    for (const auto *lines : {&report->calls, &report->endToEnd})
      for (const ArchCheckLine &l : *lines) {
        std::cout << l.format(arch.name) << std::endl;
        ++total;
        failed += l.result.pass ? 0 : 1;
      }
    std::cout << arch.name << ": " << arch.calls.size() << " calls, " << total
              << " checks, "
              << (failed ? std::to_string(failed) + " FAIL" : "all PASS")
              << std::endl;
    ok = failed == 0;
  } else if (Status s = runner.run(); !s) {
    return fail(s.message());
  }

  std::vector<std::string> outNames;
  for (const ArchTensorSpec &t : arch.outputs)
    outNames.push_back(t.name);
  for (const std::string &spec : opts.outputs) {
    std::string file = spec, name, rest;
    std::string which;
    if (splitAssignment(spec, name, rest) &&
        std::find(outNames.begin(), outNames.end(), name) != outNames.end()) {
      which = name;
      file = rest;
    } else if (outNames.size() == 1) {
      which = outNames[0];
    } else {
      return fail("arch '" + arch.name + "' has several outputs (" +
                  joinStrings(outNames, ", ") +
                  "): use --output NAME=FILE.npy");
    }
    if (Status s = writeNpy(file, *runner.tensor(which)); !s)
      return fail(s.message());
  }

  if (opts.bench) {
    Result<double> flops = runner.flops();
    if (!flops)
      std::cerr << "attn-run: warning: no FLOP count: " << flops.message()
                << "\n";
    Result<BenchmarkStats> stats =
        benchmark([&] { return runner.run(); }, opts.benchOptions);
    if (!stats)
      return fail(stats.message());
    endToEnd = *stats;
    std::cout << formatBenchLine(arch.name + " (" +
                                     std::to_string(arch.calls.size()) +
                                     " calls)",
                                 *stats, flops ? *flops : 0.0)
              << std::endl;
  }

  std::vector<CallProfile> calls;
  if (opts.profile)
    if (!profileArch(runner, arch.name, opts.benchOptions, calls))
      return false;
  if (opts.json)
    if (Status s = writeArchJson(*opts.json, lib, arch, endToEnd, calls); !s)
      return fail(s.message());

  if (!opts.check && !opts.bench && !opts.profile) {
    std::vector<std::string> shapes;
    for (const std::string &n : outNames)
      shapes.push_back(n + " " + runner.tensor(n)->describe());
    std::cout << arch.name << ": ran " << arch.calls.size() << " calls, "
              << joinStrings(shapes, ", ") << std::endl;
  }
  return ok;
}

int runMain(int argc, char **argv) {
  Options opts;
  if (int rc = parseOptions(argc, argv, opts))
    return rc == 2 ? 0 : 1;
  if (opts.gpuInfo) {
    Result<GpuDeviceInfo> device = probeGpuDevice(*opts.gpuInfo);
    if (!device) {
      error(device.message());
      return 1;
    }
    std::cout << *opts.gpuInfo << ": " << device->describe() << "\n";
    return 0;
  }

  // The thread pool reads HL_NUM_THREADS when it starts; set it before the
  // library loads, and call halide_set_num_threads as well below.
  if (opts.threads > 0)
    setenv("HL_NUM_THREADS", std::to_string(opts.threads).c_str(), 1);

  Result<std::unique_ptr<Library>> libOr = Library::open(opts.library);
  if (!libOr) {
    error(libOr.message());
    return 1;
  }
  const Library &lib = **libOr;
  if (const GpuDeviceInfo *device = lib.gpuDevice(); device && opts.bench)
    std::cout << "device: " << device->describe() << "\n";
  if (opts.threads > 0 && !lib.setNumThreads(opts.threads))
    std::cerr << "attn-run: warning: " << opts.library
              << " does not export halide_set_num_threads; --threads only "
                 "sets HL_NUM_THREADS\n";

  const Manifest &manifest = lib.manifest();
  if (opts.kernel && opts.arch) {
    error("--kernel and --arch exclude each other (run one kernel or one "
          "architecture)");
    return 1;
  }
  if (opts.arch || (!opts.kernel && !manifest.archs.empty())) {
    const ArchSpec *arch = nullptr;
    if (opts.arch) {
      arch = manifest.findArch(*opts.arch);
      if (!arch) {
        std::vector<std::string> names;
        for (const ArchSpec &a : manifest.archs)
          names.push_back(a.name);
        error("library " + opts.library + " has no architecture named '" +
              *opts.arch + "'" +
              (names.empty() ? std::string(" (it has none)")
                             : " (it has " + joinStrings(names, ", ") + ")"));
        return 1;
      }
    } else {
      arch = &manifest.archs.front();
    }
    if (!opts.dims.empty()) {
      error("--dim does not apply to an architecture (its shapes are fixed "
            "by the manifest)");
      return 1;
    }
    return runArch(lib, *arch, opts) ? 0 : 1;
  }
  if (opts.weights || opts.saveWeights) {
    error(std::string(opts.weights ? "--weights" : "--save-weights") +
          " applies to architectures, and " +
          (manifest.archs.empty() ? "library " + opts.library + " has none"
                                  : std::string("--kernel runs one kernel")));
    return 1;
  }

  std::vector<const KernelSpec *> kernels;
  if (opts.kernel) {
    Result<const KernelSpec *> k = lib.findKernel(*opts.kernel);
    if (!k) {
      error(k.message());
      return 1;
    }
    kernels.push_back(*k);
  } else {
    for (const KernelSpec &k : lib.manifest().kernels)
      kernels.push_back(&k);
  }
  if (!opts.outputs.empty() && kernels.size() > 1) {
    error("--output needs --kernel: " + opts.library + " has " +
          std::to_string(kernels.size()) + " kernels");
    return 1;
  }

  // Every --input and --dim must mean something to some selected kernel.
  auto describeArgs = [&]() {
    std::vector<std::string> parts;
    for (const KernelSpec *k : kernels)
      parts.push_back(k->name + ": " + k->argNames());
    return joinStrings(parts, "; ");
  };
  TensorMap inputs;
  for (const auto &[name, file] : opts.inputs) {
    bool known = false;
    for (const KernelSpec *k : kernels)
      if (const ArgSpec *a = k->findArg(name)) {
        if (a->role == ArgRole::Output) {
          error("--input " + name + "=" + file + ": '" + name +
                "' is an output of kernel '" + k->name + "'");
          return 1;
        }
        known = true;
      }
    if (!known) {
      error("--input " + name + "=" + file +
            ": no selected kernel has an argument named '" + name + "' (" +
            describeArgs() + ")");
      return 1;
    }
    if (inputs.count(name)) {
      error("--input " + name + " is given twice");
      return 1;
    }
    Result<Tensor> t = readNpy(file);
    if (!t) {
      error(t.message());
      return 1;
    }
    inputs.emplace(name, t.take());
  }
  for (const auto &entry : opts.dims) {
    bool known = false;
    for (const KernelSpec *k : kernels)
      known = known || k->hasDim(entry.first);
    if (!known) {
      error("--dim " + entry.first + ": no selected kernel has a dim named '" +
            entry.first + "'");
      return 1;
    }
  }

  bool ok = true;
  for (const KernelSpec *k : kernels)
    ok = runKernel(lib, *k, opts, inputs) && ok;
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::exception &e) {
    error(std::string("internal error: ") + e.what());
  } catch (...) {
    error("internal error");
  }
  return 1;
}
