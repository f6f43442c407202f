//===- AutoSchedule.cpp - Halide's autoschedulers as baselines ------------===//
//
// `attnc compile --schedule auto:NAME` compiles every kernel with one of the
// autoschedulers Debian ships with Halide 14 (Mullapudi2016, Adams2019,
// Li2018), so each kernel can be compared with what Halide gives for free.
//
// The autoscheduler gets the plain algorithm a Halide user would write, not
// the tiled form of AttentionPipeline.cpp (whose bound() and i % tile tricks
// are part of our schedule): scores S(j, i, h, b) over the whole key range,
// row max, exp, row sum, P.V and the division.  Semantics are those of the
// tiled form: the same score modifiers and masks (ExprBuilder), the same
// "excluded is the lowest finite float" softmax.  Masks are applied as
// selects over all keys; ATTNC_AUTO_KEY_RANGE=1 also narrows the reductions
// to the key range [lo(i), hi(i)) the masks' linear bounds allow
// (KeyRange.h), per row instead of per tile (see define() for why that is
// not the default).
//
// Autoscheduled kernels assume the extents they were planned for: far below
// the estimates (e.g. N smaller than a split factor) Halide's ShiftInwards
// splits can make them fail with an out-of-bounds error on the output.
//
// Every input and the output carry estimates: static dims as declared,
// symbolic dims from the caller's map (`--estimate N=2048`), else 1024.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/HalideBackend.h"

#include "lowering/KeyRange.h"

#include "lowering/halide/Guarded.h"

#include "Halide.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <sys/stat.h>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

namespace {

struct SchedulerInfo {
  const char *name;       // as the user spells it
  const char *registered; // the name the plugin registers
};
const SchedulerInfo kSchedulers[] = {{"mullapudi2016", "Mullapudi2016"},
                                     {"adams2019", "Adams2019"},
                                     {"li2018", "Li2018"}};

/// Where the plugins live: Debian's Halide 14 path, or
/// $ATTNC_HALIDE_PLUGIN_DIR.
std::string pluginDir() {
  if (const char *d = std::getenv("ATTNC_HALIDE_PLUGIN_DIR"); d && *d)
    return d;
  return ATTNC_HALIDE_PLUGIN_DIR;
}

/// Loads the plugin of `name` (once per process; dlopen returns the same
/// handle on later calls, so the autoscheduler registers once).  Sets
/// `registered` to the name Halide knows it by.
std::string loadAutoscheduler(const std::string &name,
                              std::string &registered) {
  const SchedulerInfo *info = nullptr;
  for (const SchedulerInfo &s : kSchedulers)
    if (name == s.name)
      info = &s;
  if (!info) {
    std::string known;
    for (const SchedulerInfo &s : kSchedulers)
      known += std::string(known.empty() ? "" : ", ") + s.name;
    return "unknown autoscheduler '" + name + "' (known: " + known + ")";
  }
  registered = info->registered;
  static std::set<std::string> loaded;
  if (loaded.count(name))
    return "";
  std::string path = pluginDir() + "/libautoschedule_" + name + ".so";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return "the Halide autoscheduler plugin " + path +
           " is missing (Debian: apt-get install libhalide14-dev; or set "
           "ATTNC_HALIDE_PLUGIN_DIR to the directory holding "
           "libautoschedule_" + name + ".so)";
  std::string err = guarded([&] { Halide::load_plugin(path); });
  if (!err.empty())
    return "cannot load the Halide autoscheduler plugin " + path + ": " + err;
  loaded.insert(name);
  return "";
}

/// ATTNC_AUTO_KEY_RANGE=1: narrow the reductions to the masks' key range.
bool useKeyRange() {
  const char *e = std::getenv("ATTNC_AUTO_KEY_RANGE");
  return e && *e && std::string(e) != "0";
}

/// The plain (untiled) softmax attention of one kernel, with estimates.
class PlainAttention {
public:
  PlainAttention(const AttentionKernelDesc &desc,
                 const std::map<std::string, int64_t> &estimates)
      : desc(desc), estimates(estimates) {}

  void define();
  Pipeline pipeline() const { return Pipeline(out); }
  std::vector<Argument> arguments() const {
    std::vector<Argument> args;
    for (const ImageParam &p : params)
      args.push_back(p);
    return args;
  }
  std::string describe(const std::string &scheduler,
                       const std::string &targetName,
                       const std::string &scheduleSource) const;

private:
  /// The extent the autoscheduler assumes for C-order dim `n` of `a`.
  int estimateOf(const TensorArg &a, size_t n) const {
    if (a.shape[n] >= 0)
      return int(a.shape[n]);
    auto it = estimates.find(a.dims[n]);
    return it == estimates.end() ? 1024 : int(it->second);
  }

  const AttentionKernelDesc &desc;
  const std::map<std::string, int64_t> &estimates;
  std::vector<ImageParam> params;
  Var d{"d"}, dv{"dv"}, j{"j"}, i{"i"}, h{"h"}, b{"b"};
  Func dot{"dot"}, score{"score"}, rowMax{"row_max"}, prob{"prob"},
      rowSum{"row_sum"}, acc{"acc"}, out{"out"};
};

void PlainAttention::define() {
  // The same inputs as the fused form, plus the autoscheduler's estimates.
  params = makeInputParams(desc);
  size_t input = 0;
  for (const TensorArg &a : desc.args) {
    if (a.isOutput)
      continue;
    ImageParam &p = params[input++];
    for (size_t n = 0; n < a.shape.size(); ++n)
      p.dim(int(a.shape.size() - 1 - n)).set_estimate(0, estimateOf(a, n));
  }
  ImageParam &q = params[desc.query], &k = params[desc.key],
             &v = params[desc.value];

  Expr D = q.dim(0).extent(), N = q.dim(1).extent(), H = q.dim(2).extent();
  Expr B = q.dim(3).extent(), M = k.dim(1).extent(), G = k.dim(2).extent();
  Expr groupSize = max(H / max(G, 1), 1);
  Expr hk = h / groupSize;

  ExprEnv env;
  env.dims = {{"B", B}, {"H", H}, {"N", N}, {"M", M}, {"D", D}, {"G", G}};
  env.vars = {{"b", b}, {"h", h}, {"i", i}, {"j", j}};
  env.load = argumentLoader(desc, params);

  // The keys row i can see: [lo, hi), from the masks' linear bounds.
  KeyBounds bounds = analyzeKeyBounds(desc.masks);
  Expr lo = 0, hi = M;
  for (const KeyBound &kb : bounds.lower)
    lo = max(lo, kb.scaledRow(Expr(i)) + buildExpr(kb.rest, env));
  for (const KeyBound &kb : bounds.upper)
    hi = min(hi, kb.scaledRow(Expr(i)) + buildExpr(kb.rest, env));

  // S = scale * Q.K^T, then the score modifiers.  Query and key indices are
  // clamped (a Halide user's repeat_edge): a schedule may compute a few
  // scores past the visible range (ShiftInwards splits of short ranges).
  RDom rd(0, D, "rd");
  Expr iIn = clamp(i, 0, N - 1), jIn = clamp(j, 0, M - 1);
  dot(j, i, h, b) = 0.0f;
  dot(j, i, h, b) +=
      cast<float>(q(rd, iIn, h, b)) * cast<float>(k(rd, jIn, hk, b));
  Expr s = dot(j, i, h, b) * float(desc.scale);
  for (const ScalarExpr &mod : desc.scoreMods) {
    env.vars["s"] = s;
    s = cast<float>(buildExpr(mod, env));
  }
  env.vars.erase("s");
  score(j, i, h, b) = s;
  Expr keep = Internal::const_true();
  for (const ScalarExpr &mask : desc.masks)
    keep = keep && buildExpr(mask, env);

  // Softmax over the visible keys; "excluded" is the lowest finite float
  // (Halide compiles with no-infinities fast math).
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  RDom r(0, M, "r");
  // Masks are selects over every key, as a Halide user would write them.
  // Narrowing the reductions to [lo(i), hi(i)) with RDom::where
  // (ATTNC_AUTO_KEY_RANGE=1) skips masked keys but costs the
  // autoschedulers more than it saves on causal attention (measured at
  // N = 1024: Adams2019 8.1 vs 20.8 GFLOP/s, Mullapudi2016 15.4 vs 17.0),
  // so the baseline gets the variant they do best on.
  if ((!bounds.lower.empty() || !bounds.upper.empty()) && useKeyRange())
    r.where(r.x >= lo && r.x < hi);
  Expr keepAtR = substitute(j.name(), r.x, keep);
  rowMax(i, h, b) = lowest;
  rowMax(i, h, b) =
      max(rowMax(i, h, b), select(keepAtR, score(r.x, i, h, b), lowest));
  Expr m = rowMax(i, h, b);
  prob(j, i, h, b) =
      select(keep && m > lowest, accurateExp(score(j, i, h, b) - m), 0.0f);
  rowSum(i, h, b) = 0.0f;
  rowSum(i, h, b) += prob(r.x, i, h, b);

  // P.V and the division; a row with no visible key yields zeros.
  acc(dv, i, h, b) = 0.0f;
  acc(dv, i, h, b) += prob(r.x, i, h, b) * cast<float>(v(dv, r.x, hk, b));
  Expr l = rowSum(i, h, b);
  Type outType = halideType(desc.args[desc.out].dtype);
  out(dv, i, h, b) =
      cast(outType, select(l > 0.0f, acc(dv, i, h, b) / l, 0.0f));

  const TensorArg &o = desc.args[desc.out];
  if (o.shape.size() != 4)
    throw CompileError("the output must be a rank-4 tensor");
  for (int n = 0; n < out.dimensions(); ++n)
    out.output_buffer().dim(n).set_min(0);
  Region outEstimates(4);
  for (size_t n = 0; n < o.shape.size(); ++n) {
    int hd = int(o.shape.size() - 1 - n);
    if (o.shape[n] >= 0)
      out.output_buffer().dim(hd).set_extent(int(o.shape[n]));
    outEstimates[hd] = Range(0, estimateOf(o, n));
  }
  out.set_estimates(outEstimates);
}

std::string PlainAttention::describe(const std::string &scheduler,
                                     const std::string &targetName,
                                     const std::string &scheduleSource) const {
  std::ostringstream os;
  os << "// Halide pipeline for kernel '" << desc.name
     << "' (plain algorithm, schedule by the " << scheduler
     << " autoscheduler, target " << targetName << ")\n";
  os << "// estimates:";
  for (const TensorArg &a : desc.args) {
    os << " " << a.name << "[";
    for (size_t n = 0; n < a.shape.size(); ++n)
      os << (n ? ", " : "") << estimateOf(a, n);
    os << "]";
  }
  os << "\nvoid generate() {\n";
  for (const Func &f : {dot, score, rowMax, prob, rowSum, acc, out}) {
    std::vector<Expr> pureArgs;
    for (const Var &a : f.args())
      pureArgs.push_back(a);
    printHalideDefinition(os, f.name(), pureArgs, f.values().as_vector());
    for (int u = 0; u < f.num_update_definitions(); ++u)
      printHalideDefinition(os, f.name(), f.update_args(u),
                            f.update_values(u).as_vector());
  }
  os << "}\n\n// The autoscheduler's schedule:\n" << scheduleSource;
  if (!scheduleSource.empty() && scheduleSource.back() != '\n')
    os << "\n";
  return os.str();
}

/// Builds, autoschedules and (when `module` is set) compiles one kernel.
std::string autoscheduleOne(const AttentionKernelDesc &desc,
                            const TargetInfo &target,
                            const std::string &registered,
                            const std::map<std::string, int64_t> &estimates,
                            AutoScheduleReport &report, Module *module,
                            std::string *text) {
  return guarded([&] {
    Target t(target.halideTarget);
    PlainAttention p(desc, estimates);
    p.define();
    Pipeline pipe = p.pipeline();
    auto t0 = std::chrono::steady_clock::now();
    AutoSchedulerResults res = pipe.auto_schedule(
        registered, t, MachineParams(2, 32ull << 20, 40.0f));
    report.kernel = desc.name;
    report.seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - t0)
                         .count();
    report.scheduleSource = res.schedule_source;
    if (text)
      *text = p.describe(registered, target.halideTarget, res.schedule_source);
    if (module)
      *module = pipe.compile_to_module(p.arguments(), desc.name, t);
  });
}

} // namespace

const std::vector<std::string> &attn::halide::autoschedulerNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const SchedulerInfo &s : kSchedulers)
      v.push_back(s.name);
    return v;
  }();
  return names;
}

std::string attn::halide::checkEstimates(
    const std::vector<AttentionKernelDesc> &kernels,
    const std::map<std::string, int64_t> &estimates) {
  std::set<std::string> dims;
  for (const AttentionKernelDesc &d : kernels) {
    for (auto &[name, extent] : d.dims)
      dims.insert(name);
    for (const TensorArg &a : d.args)
      for (const std::string &n : a.dims)
        dims.insert(n);
  }
  for (auto &[name, value] : estimates) {
    if (!dims.count(name)) {
      std::string known;
      for (const std::string &n : dims)
        if (!n.empty() && !std::isdigit(static_cast<unsigned char>(n[0])))
          known += std::string(known.empty() ? "" : ", ") + n;
      return "--estimate " + name + "=" + std::to_string(value) +
             ": no kernel has a dim named '" + name + "' (dims: " + known +
             ")";
    }
    if (value < 1 || value > std::numeric_limits<int32_t>::max())
      return "--estimate " + name + "=" + std::to_string(value) +
             ": the estimate must be in [1, 2^31 - 1]";
  }
  return "";
}

std::string attn::halide::compileObjectAuto(
    const std::vector<AttentionKernelDesc> &kernels, const TargetInfo &target,
    const std::string &autoscheduler,
    const std::map<std::string, int64_t> &estimates,
    const std::string &objectPath, std::vector<AutoScheduleReport> *reports) {
  for (const AttentionKernelDesc &k : kernels)
    if (k.isLinear() || k.isLuna() || k.isEma())
      return "kernel '" + k.name + "' (form " + k.form +
             "): the Halide autoschedulers are wired to the softmax form "
             "only; compile it with attnc's own schedule";
  std::string registered;
  if (std::string err = loadAutoscheduler(autoscheduler, registered);
      !err.empty())
    return err;
  if (std::string err = checkEstimates(kernels, estimates); !err.empty())
    return err;
  std::vector<Module> modules;
  for (const AttentionKernelDesc &desc : kernels) {
    AutoScheduleReport report;
    modules.emplace_back(desc.name, Target(target.halideTarget));
    if (std::string err = autoscheduleOne(desc, target, registered, estimates,
                                          report, &modules.back(), nullptr);
        !err.empty())
      return "kernel '" + desc.name + "': " + autoscheduler + ": " + err;
    if (reports)
      reports->push_back(std::move(report));
  }
  return guarded([&] {
    Module all = link_modules("attnc_kernels", modules);
    std::map<OutputFileType, std::string> outputs{
        {OutputFileType::object, objectPath}};
    if (const char *stmt = std::getenv("ATTNC_HALIDE_STMT"); stmt && *stmt)
      outputs[OutputFileType::stmt] = stmt;
    all.compile(outputs);
  });
}

std::string attn::halide::printHalideAuto(
    const AttentionKernelDesc &desc, const TargetInfo &target,
    const std::string &autoscheduler,
    const std::map<std::string, int64_t> &estimates, std::string &text) {
  if (desc.isLinear() || desc.isLuna() || desc.isEma())
    return "kernel '" + desc.name + "' (form " + desc.form +
           "): the Halide autoschedulers are wired to the softmax form only";
  std::string registered;
  if (std::string err = loadAutoscheduler(autoscheduler, registered);
      !err.empty())
    return err;
  AutoScheduleReport report;
  return autoscheduleOne(desc, target, registered, estimates, report, nullptr,
                         &text);
}
