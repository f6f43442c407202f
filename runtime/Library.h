//===- Library.h - Loading and calling compiled kernel libraries -*- C++
//-*-===//
//
// A Library is a shared object built by `attnc compile` together with its
// manifest (`x.so` -> `x.manifest.json`).  Opening checks that the library's
// exported `attnc_source_hash()` equals the manifest's `source_hash` and that
// every kernel's `<entry>_argv` symbol exists.  Calling binds symbolic dims
// from the argument shapes (see Binding.h), allocates missing outputs, builds
// one halide_buffer_t per argument and calls the entry point; Halide errors
// are captured and returned as Status messages.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_LIBRARY_H
#define ATTN_RUNTIME_LIBRARY_H

#include "runtime/Binding.h"
#include "runtime/GpuDevice.h"
#include "runtime/Manifest.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <HalideRuntime.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attn::rt {

class Library;

/// Fills `buffer` and `dims` so that `buffer` describes `tensor` (dim[0] is
/// the innermost C-order dim, stride 1).  Errors when an extent or stride
/// does not fit in the 32 bits Halide uses.  `dims` must outlive `buffer`.
Status makeHalideBuffer(Tensor &tensor, halide_buffer_t &buffer,
                        std::vector<halide_dimension_t> &dims);

/// Returns the name of a Halide error code ("halide_error_code_..."), or
/// "unknown error" for codes this runtime does not know.
const char *halideErrorName(int code);

/// A kernel call with its buffers built once, for repeated runs (benchmarks).
/// The tensors it was prepared from must stay alive and keep their storage.
class PreparedCall {
public:
  PreparedCall(PreparedCall &&) noexcept;
  PreparedCall &operator=(PreparedCall &&) = delete;
  PreparedCall(const PreparedCall &) = delete;
  ~PreparedCall();

  /// Runs the kernel once; outputs are on the host afterwards.  For GPU
  /// libraries every input is copied to the device first (the host tensors
  /// may have changed since the last run), unless keepOnDevice() was set.
  Status run();

  /// GPU libraries, for kernel benchmarks that compare with device-resident
  /// peers: inputs are copied to the device on the first run only, and
  /// outputs are left there (run() waits for the kernel with
  /// halide_device_sync instead of copying them back).  copyOutputsToHost()
  /// brings them back afterwards.  No effect on CPU libraries.
  void keepOnDevice(bool keep) { resident = keep; }
  /// Copies device-dirty outputs to the host.
  Status copyOutputsToHost();
  /// The dims bound for this call.
  const DimBindings &bindings() const { return dimBindings; }

private:
  friend class Library;
  PreparedCall() = default;

  const Library *library = nullptr;
  const KernelSpec *kernel = nullptr;
  int (*entry)(void **) = nullptr;
  DimBindings dimBindings;
  std::vector<halide_buffer_t> buffers;
  std::vector<std::vector<halide_dimension_t>> shapes;
  std::vector<void *> argv;
  std::vector<bool> isOutput;
  bool resident = false;
};

/// A loaded kernel library and its manifest.
class Library {
public:
  /// Loads `path` and `manifestPathFor(path)`, checks the source hash and
  /// every entry point.
  static Result<std::unique_ptr<Library>> open(const std::string &path);

  /// `x.so` -> `x.manifest.json` (any other name gets `.manifest.json`
  /// appended).
  static std::string manifestPathFor(const std::string &libraryPath);

  ~Library();
  Library(const Library &) = delete;
  Library &operator=(const Library &) = delete;

  const Manifest &manifest() const { return manifestData; }
  const std::string &path() const { return libPath; }

  /// The kernel named `name`; the error lists the kernels there are.
  Result<const KernelSpec *> findKernel(const std::string &name) const;

  /// The device a GPU library's kernels run on (probed when the library was
  /// opened); null for CPU libraries.
  const GpuDeviceInfo *gpuDevice() const {
    return device ? &*device : nullptr;
  }

  /// Sets the size of the library's Halide thread pool.  Returns false when
  /// the library does not export halide_set_num_threads.
  bool setNumThreads(int threads) const;

  /// Binds dims (`given` as from --dim), allocates every output absent from
  /// `args` with its bound shape, and builds the buffers.  Every input must
  /// be present in `args`.
  Result<PreparedCall>
  prepare(const KernelSpec &kernel, TensorMap &args,
          const std::map<std::string, int64_t> &given = {}) const;

  /// prepare() + PreparedCall::run().
  Status call(const KernelSpec &kernel, TensorMap &args,
              const std::map<std::string, int64_t> &given = {}) const;

private:
  friend class PreparedCall;
  Library() = default;
  void *symbol(const std::string &name) const;

  std::string libPath;
  Manifest manifestData;
  void *handle = nullptr;
  std::map<std::string, int (*)(void **)> entries;
  std::optional<GpuDeviceInfo> device;
  int (*copyToHost)(void *, halide_buffer_t *) = nullptr;
  int (*deviceFree)(void *, halide_buffer_t *) = nullptr;
  int (*deviceSync)(void *, halide_buffer_t *) = nullptr;
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_LIBRARY_H
