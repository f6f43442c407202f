//===- AttachSchedules.cpp - schedule spaces and points on kernels --------===//
//
// Implements --attn-attach-schedules: the schedule space of each kernel's
// form becomes attributes of the kernel op (so a tuned point, and the space
// it came from, can be read and replayed from IR), and every kernel gets a
// complete, valid schedule point.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

#include "lowering/ScheduleSpace.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNATTACHSCHEDULESPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The static value head dim of the kernel's aggregate (Luna's unpack,
/// Couplformer's separable aggregate), or -1.
static int64_t valueHeadDim(KernelOp kernel) {
  int64_t dim = -1;
  kernel.getBody().walk([&](Operation *op) {
    if (!isa<AggregateOp, UnpackOp, SeparableOp>(op))
      return;
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t d = type.getDimSize(type.getRank() - 1);
    dim = ShapedType::isDynamic(d) ? -1 : d;
  });
  return dim;
}

struct AttachSchedulesPass
    : public mlir::attn::impl::AttnAttachSchedulesPassBase<
          AttachSchedulesPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](KernelOp kernel) {
      std::string form = stringifyKernelForm(kernel.getForm()).str();
      ::attn::ScheduleSpace space =
          gpu ? ::attn::ScheduleSpace::gpuForm(
                    form, ::attn::GpuLimits{gpuMaxThreads, gpuSharedBytes},
                    valueHeadDim(kernel))
              : ::attn::ScheduleSpace::forForm(form, vectorWidth,
                                               vectorRegisters,
                                               valueHeadDim(kernel));
      ::attn::SchedulePoint given;
      for (NamedAttribute knob : kernel.getSchedule()) {
        auto value = dyn_cast<IntegerAttr>(knob.getValue());
        if (!value) {
          kernel.emitOpError() << "schedule knob '" << knob.getName().str()
                               << "' must be an integer";
          failedAny = true;
          return;
        }
        given[knob.getName().str()] = value.getInt();
      }
      ::attn::SchedulePoint point;
      std::string error = space.resolve(given, point);
      if (!error.empty()) {
        kernel.emitOpError() << error;
        failedAny = true;
        return;
      }
      Builder b(kernel.getContext());
      SmallVector<NamedAttribute> scheduleAttrs, spaceAttrs;
      for (auto &[name, value] : point)
        scheduleAttrs.push_back(
            b.getNamedAttr(name, b.getI64IntegerAttr(value)));
      for (const ::attn::KnobSpec &knob : space.knobs())
        spaceAttrs.push_back(b.getNamedAttr(
            knob.name, b.getDenseI64ArrayAttr(knob.candidates)));
      SmallVector<Attribute> rules;
      for (const std::string &rule : space.constraints())
        rules.push_back(b.getStringAttr(rule));
      kernel.setScheduleAttr(b.getDictionaryAttr(scheduleAttrs));
      kernel->setAttr("attn.schedule_space", b.getDictionaryAttr(spaceAttrs));
      kernel->setAttr("attn.schedule_constraints", b.getArrayAttr(rules));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
