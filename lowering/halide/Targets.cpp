//===- Targets.cpp - user target names to Halide targets ------------------===//

#include "lowering/halide/HalideBackend.h"

#include "Halide.h"

using namespace attn::halide;

namespace {

/// The Halide feature for a CUDA compute capability.  Halide 14 knows
/// capabilities up to 8.6; sm_90 devices run its 8.6 PTX (PTX is forward
/// compatible; the driver compiles it for the device), and `ptxas` checks
/// that PTX for sm_90 (docs/GPU.md §2).
const char *cudaFeature(int capability) {
  return capability >= 86 ? "cuda_capability_86" : "cuda_capability_80";
}

} // namespace

std::string attn::halide::resolveTarget(const std::string &name,
                                        TargetInfo &out) {
  out = TargetInfo();
  out.requested = name;
  std::string spelled;
  if (name.empty() || name == "host") {
    spelled = Halide::get_host_target().to_string();
  } else if (name == "x86-64-avx2") {
    spelled = "x86-64-linux-sse41-avx-f16c-fma-avx2";
  } else if (name == "x86-64-avx512") {
    spelled = "x86-64-linux-sse41-avx-f16c-fma-avx2-avx512-avx512_skylake";
  } else if (name == "arm-64-linux") {
    spelled = "arm-64-linux";
  } else if (name == "cuda" || name == "cuda-80" || name == "cuda-86" ||
             name == "cuda-90") {
    out.cudaCapability = name == "cuda" ? 80 : std::stoi(name.substr(5));
    spelled = Halide::get_host_target().to_string() + "-cuda-" +
              cudaFeature(out.cudaCapability);
  } else if (name == "opencl") {
    spelled = Halide::get_host_target().to_string() + "-opencl";
  } else if (name.rfind("cuda-", 0) == 0) {
    return "unknown CUDA target '" + name +
           "'; expected cuda-80, cuda-86 or cuda-90 (compute capability "
           "8.0, 8.6 or 9.0)";
  } else if (Halide::Target::validate_target_string(name)) {
    spelled = name;
  } else {
    return "unknown target '" + name +
           "'; expected host, x86-64-avx2, x86-64-avx512, arm-64-linux, "
           "cuda, cuda-80, cuda-86, cuda-90, opencl or a Halide target "
           "string";
  }
  Halide::Target t(spelled);
  Halide::Target host = Halide::get_host_target();
  out.halideTarget = t.to_string();
  out.isNative = t.arch == host.arch && t.bits == host.bits && t.os == host.os;
  if (t.has_feature(Halide::Target::CUDA)) {
    out.gpu = GpuApi::Cuda;
    if (!out.cudaCapability)
      out.cudaCapability = t.has_feature(Halide::Target::CUDACapability86) ? 86
                                                                           : 80;
  } else if (t.has_feature(Halide::Target::OpenCL)) {
    out.gpu = GpuApi::OpenCL;
  } else if (t.has_gpu_feature()) {
    return "target '" + name +
           "' uses a GPU API attnc does not support; GPU targets are cuda "
           "and opencl";
  }
  if (t.arch == Halide::Target::X86) {
    bool avx512 = t.has_feature(Halide::Target::AVX512);
    out.vectorLanes = avx512 ? 16 : 8;
    out.vectorRegisters = avx512 ? 32 : 16;
  } else {
    out.vectorLanes = 4; // NEON: 32 registers of 4 floats
    out.vectorRegisters = 32;
  }
  return "";
}
