//===- Library.cpp - Loading and calling compiled kernel libraries --------===//

#include "runtime/Library.h"

#include <dlfcn.h>

#include <climits>
#include <mutex>

namespace attn::rt {

namespace {

/// The last error message reported by a library's Halide runtime.  Halide
/// calls the handler without a per-call context, so calls that overlap in
/// time may see each other's messages.
std::mutex lastErrorMutex;
std::string lastHalideError;

extern "C" void attnRtCaptureHalideError(void *, const char *msg) {
  std::lock_guard<std::mutex> lock(lastErrorMutex);
  std::string m = msg ? msg : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' '))
    m.pop_back();
  if (!lastHalideError.empty())
    lastHalideError += "; ";
  lastHalideError += m;
}

std::string takeHalideError() {
  std::lock_guard<std::mutex> lock(lastErrorMutex);
  std::string m = std::move(lastHalideError);
  lastHalideError.clear();
  return m;
}

halide_type_t halideType(DType t) {
  switch (t) {
  case DType::F16:
    return halide_type_t(halide_type_float, 16);
  case DType::BF16:
    return halide_type_t(halide_type_bfloat, 16);
  case DType::F32:
    return halide_type_t(halide_type_float, 32);
  case DType::F64:
    return halide_type_t(halide_type_float, 64);
  case DType::I32:
    return halide_type_t(halide_type_int, 32);
  }
  return halide_type_t(halide_type_float, 32);
}

} // namespace

const char *halideErrorName(int code) {
  static const char *names[] = {
      "halide_error_code_success",
      "halide_error_code_generic_error",
      "halide_error_code_explicit_bounds_too_small",
      "halide_error_code_bad_type",
      "halide_error_code_access_out_of_bounds",
      "halide_error_code_buffer_allocation_too_large",
      "halide_error_code_buffer_extents_too_large",
      "halide_error_code_constraints_make_required_region_smaller",
      "halide_error_code_constraint_violated",
      "halide_error_code_param_too_small",
      "halide_error_code_param_too_large",
      "halide_error_code_out_of_memory",
      "halide_error_code_buffer_argument_is_null",
      "halide_error_code_debug_to_file_failed",
      "halide_error_code_copy_to_host_failed",
      "halide_error_code_copy_to_device_failed",
      "halide_error_code_device_malloc_failed",
      "halide_error_code_device_sync_failed",
      "halide_error_code_device_free_failed",
      "halide_error_code_no_device_interface",
  };
  if (code <= 0 && -code < int(sizeof(names) / sizeof(names[0])))
    return names[-code];
  if (code == halide_error_code_unaligned_host_ptr)
    return "halide_error_code_unaligned_host_ptr";
  if (code == halide_error_code_bad_dimensions)
    return "halide_error_code_bad_dimensions";
  if (code == halide_error_code_device_run_failed)
    return "halide_error_code_device_run_failed";
  if (code == halide_error_code_requirement_failed)
    return "halide_error_code_requirement_failed";
  return "unknown error";
}

Status makeHalideBuffer(Tensor &tensor, halide_buffer_t &buffer,
                        std::vector<halide_dimension_t> &dims) {
  int64_t rank = tensor.rank();
  std::vector<int64_t> strides = tensor.strides();
  dims.assign(size_t(rank), halide_dimension_t());
  for (int64_t d = 0; d < rank; ++d) {
    int64_t c = rank - 1 - d; // C-order index of Halide dim d.
    int64_t extent = tensor.shape()[c];
    if (extent > INT32_MAX || strides[c] > INT32_MAX)
      return Status::error("a " + tensor.describe() +
                           " tensor is too large for a Halide buffer (extents "
                           "and strides must fit in 32 bits)");
    dims[d] = halide_dimension_t(0, int32_t(extent), int32_t(strides[c]));
  }
  buffer = halide_buffer_t();
  buffer.device = 0;
  buffer.device_interface = nullptr;
  buffer.host = static_cast<uint8_t *>(tensor.data());
  buffer.flags = 0;
  buffer.type = halideType(tensor.dtype());
  buffer.dimensions = int32_t(rank);
  buffer.dim = dims.empty() ? nullptr : dims.data();
  buffer.padding = nullptr;
  return Status::success();
}

//===----------------------------------------------------------------------===//
// PreparedCall
//===----------------------------------------------------------------------===//

PreparedCall::PreparedCall(PreparedCall &&other) noexcept
    : library(other.library), kernel(other.kernel), entry(other.entry),
      dimBindings(std::move(other.dimBindings)),
      buffers(std::move(other.buffers)), shapes(std::move(other.shapes)),
      argv(std::move(other.argv)), isOutput(std::move(other.isOutput)),
      resident(other.resident) {
  other.library = nullptr;
  other.buffers.clear();
  // The dims vectors moved with their heap storage, so buffer.dim pointers
  // stay valid; argv must point at this object's buffers.
  for (size_t i = 0; i < buffers.size(); ++i)
    argv[i] = &buffers[i];
}

PreparedCall::~PreparedCall() {
  if (!library || !library->deviceFree)
    return;
  for (halide_buffer_t &buf : buffers)
    if (buf.device)
      library->deviceFree(nullptr, &buf);
}

Status PreparedCall::run() {
  bool onDevice = library->gpuDevice() != nullptr;
  if (onDevice && !resident)
    for (size_t i = 0; i < buffers.size(); ++i)
      if (!isOutput[i])
        buffers[i].set_host_dirty(true);
  takeHalideError();
  int rc = entry(argv.data());
  if (rc != 0) {
    std::string msg = takeHalideError();
    return Status::error("kernel '" + kernel->name + "' (" + kernel->entry +
                         "_argv) failed with " + halideErrorName(rc) + " (" +
                         std::to_string(rc) + ")" +
                         (msg.empty() ? "" : ": " + msg));
  }
  if (!resident)
    return copyOutputsToHost();
  for (size_t i = 0; i < buffers.size(); ++i)
    if (isOutput[i] && buffers[i].device && library->deviceSync)
      if (int crc = library->deviceSync(nullptr, &buffers[i]))
        return Status::error("kernel '" + kernel->name +
                             "': waiting for the device failed with " +
                             halideErrorName(crc) + ": " + takeHalideError());
  return Status::success();
}

Status PreparedCall::copyOutputsToHost() {
  for (size_t i = 0; i < buffers.size(); ++i) {
    halide_buffer_t &buf = buffers[i];
    if (!isOutput[i] || !buf.device ||
        !(buf.flags & halide_buffer_flag_device_dirty))
      continue;
    if (!library->copyToHost)
      return Status::error("kernel '" + kernel->name +
                           "' left its output on the device and the library "
                           "does not export halide_copy_to_host");
    if (int crc = library->copyToHost(nullptr, &buf))
      return Status::error("kernel '" + kernel->name + "': copying output '" +
                           kernel->args[i].name + "' to the host failed with " +
                           halideErrorName(crc) + ": " + takeHalideError());
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Library
//===----------------------------------------------------------------------===//

std::string Library::manifestPathFor(const std::string &libraryPath) {
  const std::string so = ".so";
  if (libraryPath.size() > so.size() &&
      libraryPath.compare(libraryPath.size() - so.size(), so.size(), so) == 0)
    return libraryPath.substr(0, libraryPath.size() - so.size()) +
           ".manifest.json";
  return libraryPath + ".manifest.json";
}

Library::~Library() {
  if (handle)
    dlclose(handle);
}

void *Library::symbol(const std::string &name) const {
  return handle ? dlsym(handle, name.c_str()) : nullptr;
}

Result<std::unique_ptr<Library>> Library::open(const std::string &path) {
  std::unique_ptr<Library> lib(new Library());
  lib->libPath = path;
  std::string manifestPath = manifestPathFor(path);
  Result<Manifest> manifest = loadManifest(manifestPath);
  if (!manifest)
    return Status::error("cannot use library " + path + ": " +
                         manifest.message());
  lib->manifestData = manifest.take();

  // dlopen needs a slash to load a file rather than search the system paths.
  std::string dlPath = path.find('/') == std::string::npos ? "./" + path : path;
  lib->handle = dlopen(dlPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char *err = dlerror();
    return Status::error("cannot load library " + path + ": " +
                         (err ? err : "unknown dlopen error"));
  }

  using HashFn = const char *(*)();
  auto hashFn = reinterpret_cast<HashFn>(lib->symbol("attnc_source_hash"));
  if (!hashFn)
    return Status::error(
        "library " + path +
        " does not export attnc_source_hash(); was it built by attnc?");
  const char *hash = hashFn();
  std::string libHash = hash ? hash : "";
  if (libHash != lib->manifestData.sourceHash)
    return Status::error("library " + path + " has source hash '" + libHash +
                         "' but its manifest " + manifestPath + " says '" +
                         lib->manifestData.sourceHash +
                         "'; the two files come from different builds");

  for (const KernelSpec &k : lib->manifestData.kernels) {
    auto fn =
        reinterpret_cast<int (*)(void **)>(lib->symbol(k.entry + "_argv"));
    if (!fn)
      return Status::error("library " + path + " does not export " + k.entry +
                           "_argv, the entry point of kernel '" + k.name +
                           "' named in its manifest");
    lib->entries[k.name] = fn;
  }

  // A GPU library needs its driver and a device; say so before any launch.
  if (lib->manifestData.device != "cpu") {
    Result<GpuDeviceInfo> device = probeGpuDevice(lib->manifestData.device);
    if (!device)
      return Status::error("cannot run library " + path + " (device " +
                           lib->manifestData.device +
                           "): " + device.message());
    lib->device = device.take();
  }

  using SetHandlerFn = halide_error_handler_t (*)(halide_error_handler_t);
  if (auto setHandler = reinterpret_cast<SetHandlerFn>(
          lib->symbol("halide_set_error_handler")))
    setHandler(&attnRtCaptureHalideError);
  lib->copyToHost = reinterpret_cast<int (*)(void *, halide_buffer_t *)>(
      lib->symbol("halide_copy_to_host"));
  lib->deviceFree = reinterpret_cast<int (*)(void *, halide_buffer_t *)>(
      lib->symbol("halide_device_free"));
  lib->deviceSync = reinterpret_cast<int (*)(void *, halide_buffer_t *)>(
      lib->symbol("halide_device_sync"));
  return Result<std::unique_ptr<Library>>(std::move(lib));
}

Result<const KernelSpec *> Library::findKernel(const std::string &name) const {
  if (const KernelSpec *k = manifestData.findKernel(name))
    return k;
  std::string names;
  for (const KernelSpec &k : manifestData.kernels)
    names += (names.empty() ? "" : ", ") + k.name;
  return Status::error("library " + libPath + " has no kernel named '" + name +
                       "' (it has " + names + ")");
}

bool Library::setNumThreads(int threads) const {
  auto fn = reinterpret_cast<int (*)(int)>(symbol("halide_set_num_threads"));
  if (!fn)
    return false;
  fn(threads);
  return true;
}

Result<PreparedCall>
Library::prepare(const KernelSpec &kernel, TensorMap &args,
                 const std::map<std::string, int64_t> &given) const {
  auto entryIt = entries.find(kernel.name);
  if (entryIt == entries.end() ||
      manifestData.findKernel(kernel.name) != &kernel)
    return Status::error("kernel '" + kernel.name +
                         "' does not belong to library " + libPath);
  std::string where = "kernel '" + kernel.name + "'";
  if (device)
    if (Status s = checkLaunch(kernel, manifestData.target, *device); !s)
      return s;
  Result<DimBindings> bindings = bindDims(kernel, args, given);
  if (!bindings)
    return bindings.status().withContext(where);

  PreparedCall call;
  call.library = this;
  call.kernel = &kernel;
  call.entry = entryIt->second;
  call.dimBindings = bindings.take();
  for (const ArgSpec &arg : kernel.args) {
    if (args.count(arg.name))
      continue;
    if (arg.role == ArgRole::Input)
      return Status::error(where + ": input '" + arg.name + "' is missing");
    Result<std::vector<int64_t>> shape = resolveShape(arg, call.dimBindings);
    if (!shape)
      return shape.status().withContext(where);
    Result<Tensor> out = Tensor::create(arg.dtype, shape.take());
    if (!out)
      return out.status().withContext(where + ": output '" + arg.name + "'");
    args.emplace(arg.name, out.take());
  }

  size_t n = kernel.args.size();
  call.buffers.resize(n);
  call.shapes.resize(n);
  call.argv.resize(n);
  call.isOutput.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const ArgSpec &arg = kernel.args[i];
    Tensor &t = args.at(arg.name);
    if (Status s = makeHalideBuffer(t, call.buffers[i], call.shapes[i]); !s)
      return s.withContext(where + ": argument '" + arg.name + "'");
    call.isOutput[i] = arg.role == ArgRole::Output;
    if (!call.isOutput[i])
      call.buffers[i].set_host_dirty(true);
    call.argv[i] = &call.buffers[i];
  }
  return Result<PreparedCall>(std::move(call));
}

Status Library::call(const KernelSpec &kernel, TensorMap &args,
                     const std::map<std::string, int64_t> &given) const {
  Result<PreparedCall> call = prepare(kernel, args, given);
  if (!call)
    return call.status();
  return call->run();
}

} // namespace attn::rt
