//===- Targets.cpp - user target names to Halide targets ------------------===//

#include "lowering/halide/HalideBackend.h"

#include "Halide.h"

using namespace attn::halide;

std::string attn::halide::resolveTarget(const std::string &name,
                                        TargetInfo &out) {
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
  } else if (Halide::Target::validate_target_string(name)) {
    spelled = name;
  } else {
    return "unknown target '" + name +
           "'; expected host, x86-64-avx2, x86-64-avx512, arm-64-linux or a "
           "Halide target string";
  }
  Halide::Target t(spelled);
  Halide::Target host = Halide::get_host_target();
  out.halideTarget = t.to_string();
  out.isNative = t.arch == host.arch && t.bits == host.bits && t.os == host.os;
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
