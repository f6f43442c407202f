//===- HalideBackend.h - kernel descriptions to Halide AOT code -*- C++ -*-===//
//
// The only interface to the part of attnc that includes Halide.h.  It takes
// plain kernel descriptions and returns errors as strings, so callers need
// neither Halide headers nor exceptions; the caller turns errors into MLIR
// diagnostics at the kernel's location.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_HALIDEBACKEND_H
#define ATTN_LOWERING_HALIDE_HALIDEBACKEND_H

#include "lowering/BlockDesc.h"
#include "lowering/KernelDesc.h"
#include "lowering/ScheduleSpace.h"

#include <map>
#include <string>
#include <vector>

namespace attn::halide {

/// The GPU API a target's kernels run through.
enum class GpuApi { None, Cuda, OpenCL };

/// A resolved code-generation target.
struct TargetInfo {
  /// The user's spelling: host, x86-64-avx2, x86-64-avx512, arm-64-linux,
  /// cuda, cuda-80, cuda-86, cuda-90, opencl, or a raw Halide target string.
  std::string requested;
  /// Halide's target string (without features added internally).
  std::string halideTarget;
  /// True when objects can be linked and run on this machine.
  bool isNative = true;
  /// Vector width in float lanes the default schedule uses.
  int vectorLanes = 16;
  /// Vector registers of the target (accumulator budget of register tiles).
  int vectorRegisters = 32;
  /// GPU targets: the API, the CUDA compute capability the PTX is checked
  /// for (80, 86 or 90; 0 for OpenCL), and the per-block limits GPU
  /// schedules are validated against (docs/GPU.md).  Kernels of a GPU
  /// target run on the device, with the host code on the host CPU.
  GpuApi gpu = GpuApi::None;
  int cudaCapability = 0;
  GpuLimits gpuLimits;

  bool isGpu() const { return gpu != GpuApi::None; }
  /// "cuda", "opencl" or "cpu".
  const char *deviceName() const {
    return gpu == GpuApi::Cuda     ? "cuda"
           : gpu == GpuApi::OpenCL ? "opencl"
                                   : "cpu";
  }
};

/// Resolves a user target name.  Returns an error message on failure.
std::string resolveTarget(const std::string &name, TargetInfo &out);

/// The schedule knobs a kernel is compiled with: the kernel's own `schedule`
/// attribute over the default heuristic.  Unknown knobs and invalid values
/// are errors.
std::string resolveSchedule(const AttentionKernelDesc &desc,
                            const TargetInfo &target,
                            std::map<std::string, int64_t> &knobs);

/// The schedule space of `desc`'s form on `target`.
ScheduleSpace spaceFor(const AttentionKernelDesc &desc,
                       const TargetInfo &target);

/// GPU targets: threads and shared-memory bytes per block of `desc`
/// compiled with `knobs` (a resolved point of spaceFor()).
GpuFootprint gpuFootprint(const AttentionKernelDesc &desc,
                          const TargetInfo &target,
                          const std::map<std::string, int64_t> &knobs);

/// Prints the kernel's Halide algorithm and schedule as generator-style C++
/// (for `-emit=halide-cpp`).  Returns an error message on failure.
std::string printHalide(const AttentionKernelDesc &desc,
                        const TargetInfo &target, std::string &text);

/// Compiles every kernel, with one copy of the Halide runtime, into one
/// object file for `target`.  Returns an error message on failure.
std::string compileObject(const std::vector<AttentionKernelDesc> &kernels,
                          const TargetInfo &target,
                          const std::string &objectPath);

//===----------------------------------------------------------------------===//
// Block kernels (architecture ops, docs/Architectures.md §2; BlockPipeline)
//===----------------------------------------------------------------------===//

/// The knobs a block kernel is compiled with: the default heuristic
/// (vector_width, gemm_col_vectors, gemm_rows, gemm_min_tasks, parallel;
/// map_rows for kernels of materialized maps)
/// overlaid by desc.schedule.  Unknown knobs and invalid values are errors.
std::string resolveSchedule(const BlockKernelDesc &desc,
                            const TargetInfo &target,
                            std::map<std::string, int64_t> &knobs);

/// GPU targets: threads and shared-memory bytes per block of a block
/// kernel compiled with `knobs` (resolved).
GpuFootprint gpuFootprint(const BlockKernelDesc &desc,
                          const TargetInfo &target,
                          const std::map<std::string, int64_t> &knobs);

/// Prints a block kernel's Halide algorithm and schedule (as printHalide
/// for attention kernels).  Returns an error message on failure.
std::string printHalide(const BlockKernelDesc &desc, const TargetInfo &target,
                        std::string &text);

/// Compiles every attention kernel and every block kernel, with one copy of
/// the Halide runtime, into one object file for `target`.  Each kernel is an
/// AOT entry named after it (plus `<name>_argv`), arguments in ABI order:
/// inputs as buffers, then outputs.  Returns an error message on failure.
std::string compileObject(const std::vector<AttentionKernelDesc> &kernels,
                          const std::vector<BlockKernelDesc> &blocks,
                          const TargetInfo &target,
                          const std::string &objectPath);

//===----------------------------------------------------------------------===//
// One kernel per object (the per-kernel cache of docs/Search.md §2)
//===----------------------------------------------------------------------===//

/// Compiles one attention kernel into `objectPath` without the Halide
/// runtime, its AOT entry named `entry` (plus `<entry>_argv`).  A library
/// made of such objects links one compileRuntimeObject() for the target.
/// Returns an error message on failure.
std::string compileKernelObject(const AttentionKernelDesc &desc,
                                const TargetInfo &target,
                                const std::string &entry,
                                const std::string &objectPath);

/// The same for a block kernel.
std::string compileKernelObject(const BlockKernelDesc &desc,
                                const TargetInfo &target,
                                const std::string &entry,
                                const std::string &objectPath);

/// Compiles the Halide runtime for `target` alone into `objectPath`.
std::string compileRuntimeObject(const TargetInfo &target,
                                 const std::string &objectPath);

//===----------------------------------------------------------------------===//
// Halide's autoschedulers as baselines (AutoSchedule.cpp)
//===----------------------------------------------------------------------===//

/// The autoschedulers `--schedule auto:NAME` accepts: "mullapudi2016",
/// "adams2019", "li2018" (the plugins Debian ships with Halide 14, loaded
/// from /usr/lib/x86_64-linux-gnu/halide14 or $ATTNC_HALIDE_PLUGIN_DIR).
const std::vector<std::string> &autoschedulerNames();

/// What the autoscheduler did for one kernel.
struct AutoScheduleReport {
  std::string kernel;
  /// Seconds spent in Pipeline::auto_schedule.
  double seconds = 0;
  /// The schedule it chose, as Halide C++.
  std::string scheduleSource;
};

/// "" when every name in `estimates` is a dim of some kernel and every value
/// is in [1, 2^31 - 1]; else a message naming the offender.
std::string checkEstimates(const std::vector<AttentionKernelDesc> &kernels,
                           const std::map<std::string, int64_t> &estimates);

/// Like compileObject, but each kernel is the plain (untiled) algorithm
/// scheduled by Halide's autoscheduler `autoscheduler` (one of
/// autoschedulerNames()), with MachineParams(2, 32 MiB, 40).  Symbolic dims
/// are estimated from `estimates` (dim name -> extent), else 1024.  The
/// kernels' `schedule` knobs are ignored.  Fills `reports` (one per kernel)
/// when given.  Returns an error message on failure.
std::string compileObjectAuto(const std::vector<AttentionKernelDesc> &kernels,
                              const TargetInfo &target,
                              const std::string &autoscheduler,
                              const std::map<std::string, int64_t> &estimates,
                              const std::string &objectPath,
                              std::vector<AutoScheduleReport> *reports =
                                  nullptr);

/// Like printHalide, for the plain algorithm and the schedule `autoscheduler`
/// chooses (its schedule_source).  Call checkEstimates first.
std::string printHalideAuto(const AttentionKernelDesc &desc,
                            const TargetInfo &target,
                            const std::string &autoscheduler,
                            const std::map<std::string, int64_t> &estimates,
                            std::string &text);

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_HALIDEBACKEND_H
