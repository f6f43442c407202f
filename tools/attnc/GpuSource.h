//===- GpuSource.h - the device code of GPU kernels -------------*- C++ -*-===//
//
// `attnc -emit=gpu-src --target cuda-NN|opencl -o DIR` writes the device
// code Halide generated for every kernel: DIR/<kernel>.ptx (CUDA) or
// DIR/<kernel>.cl (OpenCL C).  The PTX is what `ptxas` checks in the test
// suite (lit feature `ptxas`, docs/GPU.md §6) and what the CUDA driver
// JIT-compiles at run time.  Halide 14 embeds the device code as a string
// in the host object; it is read back from there.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_GPUSOURCE_H
#define ATTN_TOOLS_ATTNC_GPUSOURCE_H

#include "lowering/BlockDesc.h"
#include "lowering/KernelDesc.h"
#include "lowering/halide/HalideBackend.h"

#include <string>
#include <vector>

namespace attn::driver {

/// Every device-code module (PTX or OpenCL C) embedded in the object file
/// `objectPath`, in order.  Returns an error message on failure.
std::string readGpuSources(const std::string &objectPath,
                           std::vector<std::string> &sources);

/// Compiles every kernel for GPU `target` and writes its device code to
/// `dir` (created if needed); `written` gets the paths.  Returns an error
/// message on failure.
std::string emitGpuSources(const std::vector<AttentionKernelDesc> &kernels,
                           const std::vector<BlockKernelDesc> &blocks,
                           const halide::TargetInfo &target,
                           const std::string &dir,
                           std::vector<std::string> &written);

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_GPUSOURCE_H
