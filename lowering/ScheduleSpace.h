//===- ScheduleSpace.h - schedule knobs of a kernel form --------*- C++ -*-===//
//
// The schedule space of the two-pass-tiled softmax form, as data: every knob
// with its valid range, the values the tuner tries, and the constraints a
// point must meet.  The backend validates a kernel's `schedule` attribute
// against it, `--attn-attach-schedules` prints it on the kernel op, and the
// tuner samples, enumerates and mutates points of it.  Plain C++ (no MLIR,
// no Halide), so both sides of the Halide boundary and the unit tests use it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_SCHEDULESPACE_H
#define ATTN_LOWERING_SCHEDULESPACE_H

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace attn {

/// A point of a schedule space: knob name -> value.
using SchedulePoint = std::map<std::string, int64_t>;

/// One knob.
struct KnobSpec {
  std::string name;
  int64_t minValue, maxValue;
  /// The values the tuner tries (all within [minValue, maxValue]).
  std::vector<int64_t> candidates;
  std::string help;
};

/// What one GPU thread block (an OpenCL work-group) may use: the limits a
/// GPU schedule point is validated against before anything is compiled.
/// The defaults are what every CUDA device of capability 8.0+ and PoCL
/// give without opting in to more (48 KiB is CUDA's static shared memory
/// limit per block); the runtime checks the actual device before launch.
struct GpuLimits {
  int64_t maxThreads = 1024;
  int64_t sharedBytes = 48 * 1024;
};

/// What a GPU schedule point uses per thread block.
struct GpuFootprint {
  int64_t threads = 1;
  int64_t sharedBytes = 0;
};

/// Everything a GPU schedule space is made of (docs/GPU.md §3): its knobs
/// and default point, the rules a point must meet (as text for the IR and
/// as a check), and its per-block footprint.
struct GpuSpaceDef {
  std::string form;
  std::vector<KnobSpec> knobs;
  SchedulePoint defaultPoint;
  /// Human-readable rules (besides the thread and shared-memory limits).
  std::vector<std::string> rules;
  /// "" or the first rule `point` breaks (ranges are already checked).
  std::function<std::string(const SchedulePoint &)> check;
  /// Threads and shared memory per block of `point`.
  std::function<GpuFootprint(const SchedulePoint &)> footprint;
};

class ScheduleSpace {
public:
  /// The GPU schedule space of kernel form `form` (docs/GPU.md) under
  /// `limits`; `valueHeadDim` is -1 when symbolic.
  static ScheduleSpace gpuForm(const std::string &form,
                               const GpuLimits &limits, int64_t valueHeadDim);
  /// The GPU schedule space of a block kernel (with or without GEMMs and
  /// materialized maps, as blockKernel()).
  static ScheduleSpace gpuBlockKernel(const GpuLimits &limits, bool hasGemm,
                                      bool hasMaps);
  /// A space made from `def` (the per-family builders of lowering/Gpu*.cpp).
  static ScheduleSpace fromGpuDef(GpuSpaceDef def, const GpuLimits &limits);

  /// True for spaces of GPU schedules.
  bool isGpu() const { return static_cast<bool>(gpuFootprint); }
  /// Threads and shared memory per block of a valid GPU `point`.
  GpuFootprint footprint(const SchedulePoint &point) const;

  /// The space of the two_pass_tiled form for a target with `vectorLanes`
  /// float lanes and `vectorRegisters` vector registers, and a value head
  /// dim `valueHeadDim` (-1 when symbolic).
  static ScheduleSpace twoPassTiled(int vectorLanes, int vectorRegisters,
                                    int64_t valueHeadDim);

  /// The space of a linear-family form ("associative", "chunked_scan" or
  /// "fft_toeplitz"; docs/LinearFamily.md) for the same target facts.
  static ScheduleSpace linearForm(const std::string &form, int vectorLanes,
                                  int vectorRegisters, int64_t valueHeadDim);

  /// The space of `form` ("two_pass_tiled" or a linear form).
  static ScheduleSpace forForm(const std::string &form, int vectorLanes,
                               int vectorRegisters, int64_t valueHeadDim);

  /// The space of a block kernel (docs/Tuning.md, "Block kernels"): the
  /// knobs of blockKnobSpecs().  `heuristic` is the kernel's default point
  /// (halide::resolveSchedule of the kernel without a schedule); it is the
  /// space's heuristic() and the only candidate of the knobs the kernel
  /// does not read: the GEMM knobs without a `linear` (gemm_rows also
  /// blocks the scores of a materialized map), map_rows without map ops.
  static ScheduleSpace blockKernel(int vectorLanes, int vectorRegisters,
                                   const SchedulePoint &heuristic,
                                   bool hasGemm, bool hasMaps);

  /// The knobs of block kernels (names, ranges, meaning; no candidates):
  /// what lowering/halide/BlockPipeline.cpp's resolveBlockKnobs reads.
  static const std::vector<KnobSpec> &blockKnobSpecs();

  /// "" when every knob of `overrides` is a block kernel knob within its
  /// range; else a message for the user.  Target-independent (the register
  /// budget is checked when the kernel is compiled).
  static std::string checkBlockKnobs(const SchedulePoint &overrides);

  /// "" when a GEMM register block of `colVectors` x `rows` accumulators,
  /// a row of weights and a broadcast fit in `registers` vector registers;
  /// else a message for the user.
  static std::string checkBlockRegisters(int64_t colVectors, int64_t rows,
                                         int64_t registers);

  /// The form this space schedules.
  const std::string &formName() const { return form; }

  const std::vector<KnobSpec> &knobs() const { return knobList; }
  /// Human-readable validity constraints, in the order they are checked.
  std::vector<std::string> constraints() const;

  /// The default point (no tuning).
  SchedulePoint heuristic() const { return defaultPoint; }
  /// "" when `point` sets every knob within range and meets every
  /// constraint; else the first violation, as a message for the user.
  std::string validate(const SchedulePoint &point) const;
  /// The heuristic point overlaid with `overrides`, validated: "" or why not.
  std::string resolve(const SchedulePoint &overrides,
                      SchedulePoint &out) const;

  /// A uniformly drawn valid point of the candidates' product.
  SchedulePoint sample(std::mt19937_64 &rng) const;
  /// Every valid point of the candidates' product, in a fixed order.
  std::vector<SchedulePoint> enumerate() const;
  /// `point` with one knob moved to a neighbouring candidate (valid).
  SchedulePoint mutate(const SchedulePoint &point, std::mt19937_64 &rng) const;
  /// Each knob taken from `a` or `b` at random (valid, or `a`).
  SchedulePoint crossover(const SchedulePoint &a, const SchedulePoint &b,
                          std::mt19937_64 &rng) const;

  /// Canonical text of a point: {"knob":value,...} with sorted keys.
  static std::string toJson(const SchedulePoint &point);
  /// Parses toJson()'s output (and any flat JSON object of integers).
  static bool fromJson(const std::string &text, SchedulePoint &out);

private:
  std::vector<KnobSpec> knobList;
  SchedulePoint defaultPoint;
  int64_t valueHeadDim = -1;
  int64_t registers = 32;
  std::string form = "two_pass_tiled";

  /// GPU spaces: the family's check and footprint, and the limits.
  std::function<std::string(const SchedulePoint &)> gpuCheck;
  std::function<GpuFootprint(const SchedulePoint &)> gpuFootprint;
  std::vector<std::string> gpuRules;
  GpuLimits gpuLimits;

  /// validate() for GPU spaces.
  std::string validateGpu(const SchedulePoint &point) const;
  /// validate() for the linear forms.
  std::string validateLinear(const SchedulePoint &point) const;
  /// validate() for block kernels.
  std::string validateBlock(const SchedulePoint &point) const;
};

} // namespace attn

#endif // ATTN_LOWERING_SCHEDULESPACE_H
