//===- Backend.cpp - schedules, text and AOT compilation ------------------===//
//
// Entry points of HalideBackend.h.  Every Halide error (Halide throws) is
// caught here and returned as a message.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/HalideBackend.h"

#include "Halide.h"

#include <cstdlib>

using namespace attn;
using namespace attn::halide;

namespace {

/// A knob: its default for this kernel and target, and its valid range.
struct KnobSpec {
  const char *name;
  int64_t minValue, maxValue;
  const char *help;
};

const KnobSpec kKnobs[] = {
    {"query_tile", 1, 512, "query rows per task (multiple of "
                           "dot_query_block and pv_query_unroll)"},
    {"vector_width", 1, 64, "float lanes per vector"},
    {"key_unroll", 1, 32, "keys per register block of Q.K^T"},
    {"dot_query_block", 1, 128,
     "queries per register block of Q.K^T (multiple of vector_width)"},
    {"pv_query_unroll", 1, 32, "queries per register block of P.V"},
    {"unroll_value_dim", 0, 1, "fully unroll the value dim in P.V"},
};

/// Runs `fn`, turning Halide exceptions into a message.
template <typename Fn> std::string guarded(Fn &&fn) {
  try {
    fn();
  } catch (const Halide::CompileError &e) {
    return std::string("Halide compile error: ") + e.what();
  } catch (const Halide::InternalError &e) {
    return std::string("Halide internal error: ") + e.what();
  } catch (const Halide::RuntimeError &e) {
    return std::string("Halide error: ") + e.what();
  } catch (const std::exception &e) {
    return std::string("error: ") + e.what();
  }
  return "";
}

} // namespace

std::string attn::halide::resolveSchedule(
    const AttentionKernelDesc &desc, const TargetInfo &target,
    std::map<std::string, int64_t> &knobs) {
  const TensorArg &v = desc.args[desc.value];
  int64_t headDim = v.shape.empty() ? -1 : v.shape.back();
  int vw = target.vectorLanes;
  // Measured on the project machine (docs/Performance.md): 48x8 Q.K^T and
  // 64x6 P.V register tiles (24 accumulators each), 48-row query tiles so
  // the two per-tile buffers stay in L2 up to N = 4096.
  knobs = {{"query_tile", vw >= 16 ? 48 : 32},
           {"vector_width", vw},
           {"key_unroll", 8},
           {"dot_query_block", vw >= 16 ? 48 : 16},
           {"pv_query_unroll", 6},
           {"unroll_value_dim", headDim > 0 && headDim <= 128 ? 1 : 0}};
  for (auto &[name, value] : desc.schedule) {
    const KnobSpec *spec = nullptr;
    for (const KnobSpec &s : kKnobs)
      if (name == s.name)
        spec = &s;
    if (!spec) {
      std::string known;
      for (const KnobSpec &s : kKnobs)
        known += std::string(known.empty() ? "" : ", ") + s.name;
      return "unknown schedule knob '" + name + "' (known: " + known + ")";
    }
    if (value < spec->minValue || value > spec->maxValue)
      return "schedule knob '" + name + "' = " + std::to_string(value) +
             " is outside [" + std::to_string(spec->minValue) + ", " +
             std::to_string(spec->maxValue) + "]: " + spec->help;
    knobs[name] = value;
  }
  int64_t qt = knobs["query_tile"], qb = knobs["dot_query_block"];
  if (qb % knobs["vector_width"] != 0)
    return "schedule knob 'dot_query_block' (" + std::to_string(qb) +
           ") must be a multiple of 'vector_width' (" +
           std::to_string(knobs["vector_width"]) + ")";
  if (qt % qb != 0)
    return "schedule knob 'query_tile' (" + std::to_string(qt) +
           ") must be a multiple of 'dot_query_block' (" +
           std::to_string(qb) + ")";
  if (knobs["unroll_value_dim"] && headDim < 0)
    return "schedule knob 'unroll_value_dim' needs a static value head dim";
  return "";
}

std::string attn::halide::printHalide(const AttentionKernelDesc &desc,
                                      const TargetInfo &target,
                                      std::string &text) {
  std::map<std::string, int64_t> knobs;
  if (std::string err = resolveSchedule(desc, target, knobs); !err.empty())
    return err;
  return guarded([&] {
    AttentionPipeline p(desc, target, knobs);
    p.build();
    text = p.describe();
  });
}

std::string
attn::halide::compileObject(const std::vector<AttentionKernelDesc> &kernels,
                            const TargetInfo &target,
                            const std::string &objectPath) {
  std::vector<std::map<std::string, int64_t>> knobs(kernels.size());
  for (size_t n = 0; n < kernels.size(); ++n)
    if (std::string err = resolveSchedule(kernels[n], target, knobs[n]);
        !err.empty())
      return "kernel '" + kernels[n].name + "': " + err;
  return guarded([&] {
    Halide::Target t(target.halideTarget);
    std::vector<Halide::Module> modules;
    for (size_t n = 0; n < kernels.size(); ++n) {
      AttentionPipeline p(kernels[n], target, knobs[n]);
      p.build();
      modules.push_back(
          p.pipeline().compile_to_module(p.arguments(), kernels[n].name, t));
    }
    Halide::Module all = Halide::link_modules("attnc_kernels", modules);
    std::map<Halide::OutputFileType, std::string> outputs{
        {Halide::OutputFileType::object, objectPath}};
    // ATTNC_HALIDE_STMT=FILE also writes Halide's lowered statement, the
    // loop nest as Halide will emit it (for schedule debugging).
    if (const char *stmt = std::getenv("ATTNC_HALIDE_STMT"); stmt && *stmt)
      outputs[Halide::OutputFileType::stmt] = stmt;
    all.compile(outputs);
  });
}
