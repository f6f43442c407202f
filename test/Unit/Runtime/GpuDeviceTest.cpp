//===- GpuDeviceTest.cpp - GPU device probing and launch checks -----------===//

#include "runtime/GpuDevice.h"

#include <gtest/gtest.h>

using namespace attn::rt;

namespace {

KernelSpec kernelWith(int64_t threads, int64_t shared) {
  KernelSpec k;
  k.name = "k";
  k.gpuThreads = threads;
  k.gpuSharedBytes = shared;
  return k;
}

GpuDeviceInfo h100() { return {"cuda", "H100", 1024, 49152, 90}; }

TEST(GpuDeviceTest, LaunchWithinLimitsIsAccepted) {
  Status s = checkLaunch(kernelWith(1024, 49152),
                         "x86-64-linux-cuda-cuda_capability_86", h100());
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(GpuDeviceTest, TooManyThreadsOrTooMuchSharedMemoryIsRefused) {
  Status threads = checkLaunch(kernelWith(2048, 0), "x86-64-linux-cuda",
                               h100());
  EXPECT_EQ(threads.message(),
            "kernel 'k': its schedule uses 2048 threads per block; H100 "
            "allows at most 1024; recompile it with a schedule of fewer "
            "threads per block");
  Status shared = checkLaunch(kernelWith(32, 65536), "x86-64-linux-cuda",
                              h100());
  EXPECT_EQ(shared.message(),
            "kernel 'k': its schedule uses 65536 bytes of shared memory per "
            "block; H100 has 49152; recompile it with smaller shared-memory "
            "tiles");
}

TEST(GpuDeviceTest, PtxNewerThanTheDeviceIsRefused) {
  GpuDeviceInfo a100{"cuda", "A100", 1024, 49152, 80};
  Status s = checkLaunch(kernelWith(64, 0),
                         "x86-64-linux-cuda-cuda_capability_86", a100);
  EXPECT_EQ(s.message(), "kernel 'k' was compiled for compute capability "
                         "8.6; A100 has 8.0");
  EXPECT_TRUE(checkLaunch(kernelWith(64, 0),
                          "x86-64-linux-cuda-cuda_capability_80", a100)
                  .ok());
}

TEST(GpuDeviceTest, UnknownApiIsAnError) {
  Result<GpuDeviceInfo> r = probeGpuDevice("metal");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "unknown GPU API 'metal' (expected cuda or opencl)");
}

TEST(GpuDeviceTest, ProbesGiveADeviceOrSayWhatIsMissing) {
  // Whatever this machine has: a device with positive limits, or an error
  // naming the API.
  for (const char *api : {"opencl", "cuda"}) {
    Result<GpuDeviceInfo> r = probeGpuDevice(api);
    if (r.ok()) {
      EXPECT_EQ(r->api, api);
      EXPECT_GT(r->maxThreadsPerBlock, 0);
      EXPECT_GT(r->sharedBytesPerBlock, 0);
      EXPECT_FALSE(r->name.empty());
    } else {
      EXPECT_NE(r.message().find(std::string(api) == "cuda" ? "CUDA"
                                                            : "OpenCL"),
                std::string::npos)
          << r.message();
    }
  }
}

} // namespace
