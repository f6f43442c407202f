//===- PipelineBase.h - what every attnc Halide pipeline shares -*- C++ -*-===//
//
// Private to lowering/halide.  Each kernel form is one subclass that builds
// its algorithm and schedule in build(); the base holds the kernel
// description, target and knobs, the input ImageParams (in ABI order), the
// output Func, and what describe() prints (the definitions in algorithm
// order, then the schedule directives recorded with note()).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_PIPELINEBASE_H
#define ATTN_LOWERING_HALIDE_PIPELINEBASE_H

#include "lowering/KernelDesc.h"
#include "lowering/halide/HalideBackend.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace attn::halide {

class PipelineBase {
public:
  PipelineBase(const AttentionKernelDesc &desc, const TargetInfo &target,
               std::map<std::string, int64_t> knobs)
      : desc(desc), target(target), knobs(std::move(knobs)) {}
  virtual ~PipelineBase() = default;

  /// Builds the algorithm and applies the schedule.
  virtual void build() = 0;

  Halide::Pipeline pipeline() const { return Halide::Pipeline(out); }
  /// The entry's arguments in ABI order (outputs are added by Halide).
  std::vector<Halide::Argument> arguments() const;
  /// Generator-style text: one line per definition, then the schedule.
  std::string describe() const;

protected:
  /// Schedules `out(e, i, h, b)` as parallel tasks of `rows` query rows of
  /// one (h, b) (fused into `tile`), `e` vectorized; the rows of a task are
  /// the returned Var.
  Halide::Var splitRowsIntoTasks(Halide::Var e, Halide::Var i, Halide::Var h,
                                 Halide::Var b, Halide::Var tile, int rows,
                                 int vectorWidth);
  /// The GPU counterpart (GpuSchedule.cpp): `out(e, i, h, b)` as thread
  /// blocks of `rows` query rows of one (h, b), a thread per (e, row); the
  /// blocks' loop over rows ("io") is the returned Var.
  Halide::Var splitRowsIntoBlocks(Halide::Var e, Halide::Var i, Halide::Var h,
                                  Halide::Var b, int rows);

  /// Records a schedule directive for describe().
  void note(const std::string &line) { scheduleLog.push_back(line); }

  const AttentionKernelDesc &desc;
  TargetInfo target;
  std::map<std::string, int64_t> knobs;
  std::vector<Halide::ImageParam> params;
  Halide::Func out{"out"};
  /// The Funcs describe() prints, in definition order.
  std::vector<Halide::Func> algorithmOrder;
  std::vector<std::string> scheduleLog;
};

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_PIPELINEBASE_H
