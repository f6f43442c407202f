//===- GpuDevice.h - the GPU a library's kernels would run on ---*- C++ -*-===//
//
// Libraries compiled for a GPU target (manifest `device` "cuda" or
// "opencl") run through the driver the Halide runtime in the library loads.
// Before anything is launched, the runtime asks that driver (dlopen, no link
// dependency) for the device the Halide runtime will pick and its per-block
// limits, so a missing driver, a device older than the PTX, or a schedule
// that needs more threads or shared memory than the device has is a clear
// error instead of a failure inside a launch (docs/GPU.md §5).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_GPUDEVICE_H
#define ATTN_RUNTIME_GPUDEVICE_H

#include "runtime/Manifest.h"
#include "runtime/Status.h"

#include <cstdint>
#include <string>

namespace attn::rt {

/// A GPU (or OpenCL device) and the limits of one block on it.
struct GpuDeviceInfo {
  std::string api;  ///< "cuda" or "opencl".
  std::string name; ///< As the driver reports it.
  int64_t maxThreadsPerBlock = 0;
  int64_t sharedBytesPerBlock = 0;
  /// CUDA: compute capability as 10 * major + minor (0 for OpenCL).
  int computeCapability = 0;

  /// "NAME (api, N threads/block, M bytes shared/block[, sm_XY])".
  std::string describe() const;
};

/// Asks the driver of `api` ("cuda" or "opencl") for the device the Halide
/// runtime uses (CUDA device 0; OpenCL: the first device of the first
/// platform that has one, honouring HL_OCL_PLATFORM_NAME).  Errors say
/// which driver or device is missing.
Result<GpuDeviceInfo> probeGpuDevice(const std::string &api);

/// Checks `kernel`'s recorded footprint (threads and shared memory per
/// block) and a CUDA library's compute capability (from `target`, the
/// manifest's Halide target) against `device`.
Status checkLaunch(const KernelSpec &kernel, const std::string &target,
                   const GpuDeviceInfo &device);

} // namespace attn::rt

#endif // ATTN_RUNTIME_GPUDEVICE_H
