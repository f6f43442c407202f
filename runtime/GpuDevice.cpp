//===- GpuDevice.cpp - the GPU a library's kernels would run on -----------===//

#include "runtime/GpuDevice.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <vector>

using namespace attn::rt;

std::string GpuDeviceInfo::describe() const {
  std::string s = name + " (" + api + ", " +
                  std::to_string(maxThreadsPerBlock) + " threads/block, " +
                  std::to_string(sharedBytesPerBlock) + " bytes shared/block";
  if (computeCapability)
    s += ", sm_" + std::to_string(computeCapability);
  return s + ")";
}

namespace {

/// A dlopen'ed driver, closed again when done (the library's own Halide
/// runtime opens the driver itself).
struct Driver {
  explicit Driver(const char *soname) : handle(dlopen(soname, RTLD_NOW)) {}
  ~Driver() {
    if (handle)
      dlclose(handle);
  }
  template <typename F> F get(const char *name) const {
    return reinterpret_cast<F>(dlsym(handle, name));
  }
  void *handle;
};

Result<GpuDeviceInfo> probeCuda() {
  Driver cuda("libcuda.so.1");
  if (!cuda.handle)
    return Status::error(
        "no CUDA driver: libcuda.so.1 is not installed on this machine (CUDA "
        "libraries run where an NVIDIA GPU and its driver are; compile for "
        "--target opencl or a CPU target to run here)");
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int *);
  using GetFn = int (*)(int *, int);
  using NameFn = int (*)(char *, int, int);
  using AttrFn = int (*)(int *, int, int);
  auto init = cuda.get<InitFn>("cuInit");
  auto count = cuda.get<CountFn>("cuDeviceGetCount");
  auto get = cuda.get<GetFn>("cuDeviceGet");
  auto nameOf = cuda.get<NameFn>("cuDeviceGetName");
  auto attr = cuda.get<AttrFn>("cuDeviceGetAttribute");
  if (!init || !count || !get || !nameOf || !attr)
    return Status::error("libcuda.so.1 lacks the CUDA driver API");
  int n = 0, dev = 0;
  if (int rc = init(0))
    return Status::error("the CUDA driver failed to initialize (CUresult " +
                         std::to_string(rc) + "); is a GPU present?");
  if (count(&n) != 0 || n == 0)
    return Status::error("the CUDA driver reports no device");
  if (get(&dev, 0) != 0)
    return Status::error("the CUDA driver cannot open device 0");
  char name[256] = {0};
  nameOf(name, sizeof(name) - 1, dev);
  // CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
  // ..._MAX_SHARED_MEMORY_PER_BLOCK = 8, ..._COMPUTE_CAPABILITY_MAJOR = 75,
  // ..._MINOR = 76.
  int threads = 0, shared = 0, major = 0, minor = 0;
  attr(&threads, 1, dev);
  attr(&shared, 8, dev);
  attr(&major, 75, dev);
  attr(&minor, 76, dev);
  return GpuDeviceInfo{"cuda", name, threads, shared, 10 * major + minor};
}

Result<GpuDeviceInfo> probeOpenCL() {
  Driver cl("libOpenCL.so.1");
  if (!cl.handle)
    return Status::error(
        "no OpenCL loader: libOpenCL.so.1 is not installed (install an "
        "OpenCL driver, e.g. Debian's ocl-icd-libopencl1 and "
        "pocl-opencl-icd, which run OpenCL on the CPU)");
  using PlatformsFn = int (*)(unsigned, void **, unsigned *);
  using PlatformInfoFn = int (*)(void *, unsigned, size_t, void *, size_t *);
  using DevicesFn = int (*)(void *, uint64_t, unsigned, void **, unsigned *);
  using DeviceInfoFn = int (*)(void *, unsigned, size_t, void *, size_t *);
  auto platforms = cl.get<PlatformsFn>("clGetPlatformIDs");
  auto platformInfo = cl.get<PlatformInfoFn>("clGetPlatformInfo");
  auto devices = cl.get<DevicesFn>("clGetDeviceIDs");
  auto deviceInfo = cl.get<DeviceInfoFn>("clGetDeviceInfo");
  if (!platforms || !platformInfo || !devices || !deviceInfo)
    return Status::error("libOpenCL.so.1 lacks the OpenCL API");
  unsigned n = 0;
  if (platforms(0, nullptr, &n) != 0 || n == 0)
    return Status::error(
        "no OpenCL platform is installed (install a driver, e.g. Debian's "
        "pocl-opencl-icd)");
  std::vector<void *> ids(n);
  platforms(n, ids.data(), nullptr);
  const char *wanted = std::getenv("HL_OCL_PLATFORM_NAME");
  for (void *platform : ids) {
    char pname[256] = {0};
    platformInfo(platform, 0x0902 /*CL_PLATFORM_NAME*/, sizeof(pname) - 1,
                 pname, nullptr);
    if (wanted && *wanted && !std::strstr(pname, wanted))
      continue;
    void *device = nullptr;
    unsigned count = 0;
    if (devices(platform, 0xFFFFFFFFull /*CL_DEVICE_TYPE_ALL*/, 1, &device,
                &count) != 0 ||
        count == 0)
      continue;
    char name[256] = {0};
    size_t threads = 0;
    uint64_t local = 0;
    deviceInfo(device, 0x102B /*CL_DEVICE_NAME*/, sizeof(name) - 1, name,
               nullptr);
    deviceInfo(device, 0x1004 /*CL_DEVICE_MAX_WORK_GROUP_SIZE*/,
               sizeof(threads), &threads, nullptr);
    deviceInfo(device, 0x1023 /*CL_DEVICE_LOCAL_MEM_SIZE*/, sizeof(local),
               &local, nullptr);
    return GpuDeviceInfo{"opencl", std::string(pname) + ": " + name,
                         int64_t(threads), int64_t(local), 0};
  }
  return Status::error(std::string("no OpenCL device found") +
                       (wanted && *wanted
                            ? " on a platform named like '" +
                                  std::string(wanted) +
                                  "' (HL_OCL_PLATFORM_NAME)"
                            : ""));
}

/// The compute capability a CUDA library's PTX was generated for (from the
/// Halide target's cuda_capability_NN feature), or 0.
int targetCapability(const std::string &target) {
  const std::string feature = "cuda_capability_";
  size_t at = target.find(feature);
  return at == std::string::npos ? 0
                                 : std::atoi(target.c_str() + at +
                                             feature.size());
}

} // namespace

Result<GpuDeviceInfo> attn::rt::probeGpuDevice(const std::string &api) {
  if (api == "cuda")
    return probeCuda();
  if (api == "opencl")
    return probeOpenCL();
  return Status::error("unknown GPU API '" + api +
                       "' (expected cuda or opencl)");
}

Status attn::rt::checkLaunch(const KernelSpec &kernel,
                             const std::string &target,
                             const GpuDeviceInfo &device) {
  std::string where = "kernel '" + kernel.name + "'";
  if (int needed = targetCapability(target);
      device.api == "cuda" && needed && device.computeCapability &&
      device.computeCapability < needed)
    return Status::error(where + " was compiled for compute capability " +
                         std::to_string(needed / 10) + "." +
                         std::to_string(needed % 10) + "; " + device.name +
                         " has " + std::to_string(device.computeCapability / 10) +
                         "." + std::to_string(device.computeCapability % 10));
  if (kernel.gpuThreads > device.maxThreadsPerBlock)
    return Status::error(
        where + ": its schedule uses " + std::to_string(kernel.gpuThreads) +
        " threads per block; " + device.name + " allows at most " +
        std::to_string(device.maxThreadsPerBlock) +
        "; recompile it with a schedule of fewer threads per block");
  if (kernel.gpuSharedBytes > device.sharedBytesPerBlock)
    return Status::error(
        where + ": its schedule uses " +
        std::to_string(kernel.gpuSharedBytes) +
        " bytes of shared memory per block; " + device.name +
        " has " + std::to_string(device.sharedBytesPerBlock) +
        "; recompile it with smaller shared-memory tiles");
  return Status::success();
}
