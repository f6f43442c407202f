//===- Backend.cpp - schedules, text and AOT compilation ------------------===//
//
// Entry points of HalideBackend.h.  Every Halide error (Halide throws) is
// caught here and returned as a message.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/AttentionPipeline.h"
#include "lowering/halide/BlockPipeline.h"
#include "lowering/halide/GpuAttentionPipeline.h"
#include "lowering/halide/HalideBackend.h"
#include "lowering/halide/LinearPipeline.h"
#include "lowering/halide/EmaPipeline.h"
#include "lowering/halide/LunaPipeline.h"
#include "lowering/halide/HaloPipeline.h"
#include "lowering/halide/SeparablePipeline.h"
#include "lowering/halide/WindowPipeline.h"

#include "lowering/halide/Guarded.h"

#include "Halide.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace attn;
using namespace attn::halide;

namespace {

/// One kernel's pipeline, built in the lowering of its form.
struct BuiltPipeline {
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> arguments;
  std::string text;
};

template <typename PipelineT>
BuiltPipeline buildWith(const AttentionKernelDesc &desc,
                        const TargetInfo &target,
                        const std::map<std::string, int64_t> &knobs) {
  PipelineT p(desc, target, knobs);
  p.build();
  return {p.pipeline(), p.arguments(), p.describe()};
}

/// The pipeline of `desc`'s form (the GPU lowering of the softmax form on
/// GPU targets; the other forms schedule themselves for the target).
BuiltPipeline buildForm(const AttentionKernelDesc &desc,
                        const TargetInfo &target,
                        const std::map<std::string, int64_t> &knobs) {
  if (desc.isEma())
    return buildWith<EmaPipeline>(desc, target, knobs);
  if (desc.isLuna())
    return buildWith<LunaPipeline>(desc, target, knobs);
  if (desc.isLinear())
    return buildWith<LinearPipeline>(desc, target, knobs);
  if (desc.form == "window_tiled")
    return buildWith<WindowPipeline>(desc, target, knobs);
  if (desc.isCoupler())
    return buildWith<SeparablePipeline>(desc, target, knobs);
  if (desc.isEmha())
    return buildWith<HaloPipeline>(desc, target, knobs);
  if (target.isGpu())
    return buildWith<GpuAttentionPipeline>(desc, target, knobs);
  return buildWith<AttentionPipeline>(desc, target, knobs);
}

/// Throws when an argument's dtype has no GPU path on `target`: bf16 on
/// every GPU target (Halide 14's NVPTX backend aborts on bf16 loads, and
/// OpenCL C has no bf16; measured), f16 on OpenCL (it needs cl_khr_fp16,
/// which PoCL's CPU device does not compile; measured).  f16 on CUDA is
/// supported.
void requireGpuDtypes(const std::vector<TensorArg> &args,
                      const TargetInfo &target) {
  for (const TensorArg &a : args) {
    bool bad = a.dtype == "bf16" ||
               (a.dtype == "f16" && target.gpu == GpuApi::OpenCL);
    if (bad)
      throw Halide::CompileError(
          "argument '" + a.name + "' is " + a.dtype + ", which the " +
          target.deviceName() + " target does not support (GPU kernels take "
          "f32, and f16 on cuda; docs/GPU.md §2)");
  }
}

/// Throws unless every stage the pipeline of `outputs` computes at root
/// (each definition of it) runs in GPU blocks: a GPU target must never run
/// part of a kernel on the host CPU without saying so.
void requireDeviceStages(const std::vector<Halide::Func> &outputs) {
  std::map<std::string, Halide::Internal::Function> all;
  for (const Halide::Func &f : outputs) {
    all.emplace(f.name(), f.function());
    for (auto &[name, fn] : Halide::Internal::find_transitive_calls(
             f.function()))
      all.emplace(name, fn);
  }
  for (auto &[name, fn] : all) {
    bool isOutput =
        std::any_of(outputs.begin(), outputs.end(),
                    [&](const Halide::Func &o) { return o.name() == name; });
    Halide::LoopLevel level = fn.schedule().compute_level();
    if (!isOutput && !level.lock().is_root())
      continue;
    auto onDevice = [](const Halide::Internal::Definition &def) {
      for (const Halide::Internal::Dim &d : def.schedule().dims())
        if (d.for_type == Halide::Internal::ForType::GPUBlock)
          return true;
      return false;
    };
    bool ok = onDevice(fn.definition());
    for (const Halide::Internal::Definition &u : fn.updates())
      ok = ok && onDevice(u);
    if (!ok)
      throw Halide::CompileError(
          "stage '" + name +
          "' has no GPU schedule (it would run on the host CPU); every "
          "stage of a kernel compiled for a GPU target must run on the "
          "device");
  }
}

BuiltPipeline buildPipeline(const AttentionKernelDesc &desc,
                            const TargetInfo &target,
                            const std::map<std::string, int64_t> &knobs) {
  if (target.isGpu())
    requireGpuDtypes(desc.args, target);
  BuiltPipeline built = buildForm(desc, target, knobs);
  if (target.isGpu())
    requireDeviceStages(built.pipeline.outputs());
  return built;
}


/// Writes `module` as an object, without the Halide runtime (the library
/// links one standalone runtime object).
void writeObjectWithoutRuntime(Halide::Module module,
                               const std::string &objectPath) {
  module.compile({{Halide::OutputFileType::object, objectPath}});
}

/// `target` with the no_runtime feature.
Halide::Target withoutRuntime(const TargetInfo &target) {
  return Halide::Target(target.halideTarget)
      .with_feature(Halide::Target::NoRuntime);
}

/// Writes GPU `modules` (compiled without the runtime) and one runtime as
/// one relocatable object.  Halide 14's link_modules names every module's
/// embedded device source alike, so linked GPU modules would all load the
/// first one's kernels; separate objects keep them apart (measured:
/// CL_INVALID_KERNEL_NAME on PoCL).  `ld -r` joins them.
void writeGpuObject(const std::vector<Halide::Module> &modules,
                    const TargetInfo &target, const std::string &objectPath) {
  std::vector<std::string> parts;
  auto removeParts = [&] {
    for (const std::string &p : parts)
      std::remove(p.c_str());
  };
  for (size_t n = 0; n < modules.size(); ++n) {
    parts.push_back(objectPath + ".part" + std::to_string(n) + ".o");
    writeObjectWithoutRuntime(modules[n], parts.back());
  }
  parts.push_back(objectPath + ".runtime.o");
  Halide::compile_standalone_runtime(parts.back(),
                                     Halide::Target(target.halideTarget));
  std::vector<std::string> args{"ld", "-r", "-o", objectPath};
  args.insert(args.end(), parts.begin(), parts.end());
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  bool ok = posix_spawnp(&pid, "ld", nullptr, nullptr, argv.data(),
                         environ) == 0 &&
            waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0;
  removeParts();
  if (!ok)
    throw Halide::CompileError("cannot join the GPU kernels' objects into " +
                               objectPath + " ('ld -r' failed)");
}
} // namespace

std::string attn::halide::resolveSchedule(
    const AttentionKernelDesc &desc, const TargetInfo &target,
    std::map<std::string, int64_t> &knobs) {
  return spaceFor(desc, target).resolve(desc.schedule, knobs);
}

ScheduleSpace attn::halide::spaceFor(const AttentionKernelDesc &desc,
                                     const TargetInfo &target) {
  int64_t headDim = -1;
  if (desc.value >= 0 && !desc.args[desc.value].shape.empty())
    headDim = desc.args[desc.value].shape.back();
  if (target.isGpu())
    return ScheduleSpace::gpuForm(desc.form, target.gpuLimits, headDim);
  return ScheduleSpace::forForm(desc.form, target.vectorLanes,
                                target.vectorRegisters, headDim);
}

GpuFootprint attn::halide::gpuFootprint(
    const AttentionKernelDesc &desc, const TargetInfo &target,
    const std::map<std::string, int64_t> &knobs) {
  return spaceFor(desc, target).footprint(knobs);
}

GpuFootprint attn::halide::gpuFootprint(
    const BlockKernelDesc &desc, const TargetInfo &target,
    const std::map<std::string, int64_t> &knobs) {
  return ScheduleSpace::gpuBlockKernel(target.gpuLimits, desc.hasGemm(),
                                       desc.hasMaps())
      .footprint(knobs);
}

std::string attn::halide::printHalide(const AttentionKernelDesc &desc,
                                      const TargetInfo &target,
                                      std::string &text) {
  std::map<std::string, int64_t> knobs;
  if (std::string err = resolveSchedule(desc, target, knobs); !err.empty())
    return err;
  return guarded([&] { text = buildPipeline(desc, target, knobs).text; });
}

std::string
attn::halide::compileObject(const std::vector<AttentionKernelDesc> &kernels,
                            const TargetInfo &target,
                            const std::string &objectPath) {
  return compileObject(kernels, {}, target, objectPath);
}

std::string attn::halide::resolveSchedule(
    const BlockKernelDesc &desc, const TargetInfo &target,
    std::map<std::string, int64_t> &knobs) {
  return resolveBlockKnobs(desc, target, knobs);
}

std::string attn::halide::printHalide(const BlockKernelDesc &desc,
                                      const TargetInfo &target,
                                      std::string &text) {
  std::map<std::string, int64_t> knobs;
  if (std::string err = resolveSchedule(desc, target, knobs); !err.empty())
    return err;
  return guarded([&] {
    BlockPipeline p(desc, target, knobs);
    p.build();
    text = p.describe();
  });
}

std::string
attn::halide::compileObject(const std::vector<AttentionKernelDesc> &kernels,
                            const std::vector<BlockKernelDesc> &blocks,
                            const TargetInfo &target,
                            const std::string &objectPath) {
  std::vector<std::map<std::string, int64_t>> knobs(kernels.size());
  for (size_t n = 0; n < kernels.size(); ++n)
    if (std::string err = resolveSchedule(kernels[n], target, knobs[n]);
        !err.empty())
      return "kernel '" + kernels[n].name + "': " + err;
  std::vector<std::map<std::string, int64_t>> blockKnobs(blocks.size());
  for (size_t n = 0; n < blocks.size(); ++n)
    if (std::string err = resolveSchedule(blocks[n], target, blockKnobs[n]);
        !err.empty())
      return "kernel '" + blocks[n].name + "': " + err;
  // The block kernel being built, for messages (Halide's do not name it).
  std::string current;
  std::string err = guarded([&] {
    // GPU kernels are compiled module by module (see writeGpuObject).
    Halide::Target t = target.isGpu() ? withoutRuntime(target)
                                      : Halide::Target(target.halideTarget);
    std::vector<Halide::Module> modules;
    for (size_t n = 0; n < kernels.size(); ++n) {
      BuiltPipeline p = buildPipeline(kernels[n], target, knobs[n]);
      modules.push_back(
          p.pipeline.compile_to_module(p.arguments, kernels[n].name, t));
    }
    for (size_t n = 0; n < blocks.size(); ++n) {
      current = blocks[n].name;
      if (target.isGpu())
        requireGpuDtypes(blocks[n].args, target);
      BlockPipeline p(blocks[n], target, blockKnobs[n]);
      p.build();
      if (target.isGpu())
        requireDeviceStages(p.pipeline().outputs());
      modules.push_back(
          p.pipeline().compile_to_module(p.arguments(), blocks[n].name, t));
    }
    current.clear();
    if (target.isGpu()) {
      writeGpuObject(modules, target, objectPath);
      return;
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
  if (!err.empty() && !current.empty())
    return "kernel '" + current + "': " + err;
  return err;
}

/// Resolves `desc`'s schedule and writes the module `build(knobs)` returns
/// as an object without the runtime.
template <typename Desc, typename Build>
static std::string compileOneKernel(const Desc &desc, const TargetInfo &target,
                                    const std::string &objectPath,
                                    Build build) {
  std::map<std::string, int64_t> knobs;
  if (std::string err = resolveSchedule(desc, target, knobs); !err.empty())
    return "kernel '" + desc.name + "': " + err;
  std::string err =
      guarded([&] { writeObjectWithoutRuntime(build(knobs), objectPath); });
  return err.empty() ? err : "kernel '" + desc.name + "': " + err;
}

std::string attn::halide::compileKernelObject(const AttentionKernelDesc &desc,
                                              const TargetInfo &target,
                                              const std::string &entry,
                                              const std::string &objectPath) {
  return compileOneKernel(desc, target, objectPath, [&](const auto &knobs) {
    BuiltPipeline p = buildPipeline(desc, target, knobs);
    return p.pipeline.compile_to_module(p.arguments, entry,
                                        withoutRuntime(target));
  });
}

std::string attn::halide::compileKernelObject(const BlockKernelDesc &desc,
                                              const TargetInfo &target,
                                              const std::string &entry,
                                              const std::string &objectPath) {
  return compileOneKernel(desc, target, objectPath, [&](const auto &knobs) {
    if (target.isGpu())
      requireGpuDtypes(desc.args, target);
    BlockPipeline p(desc, target, knobs);
    p.build();
    if (target.isGpu())
      requireDeviceStages(p.pipeline().outputs());
    return p.pipeline().compile_to_module(p.arguments(), entry,
                                          withoutRuntime(target));
  });
}

std::string attn::halide::compileRuntimeObject(const TargetInfo &target,
                                               const std::string &objectPath) {
  return guarded([&] {
    Halide::compile_standalone_runtime(objectPath,
                                       Halide::Target(target.halideTarget));
  });
}
