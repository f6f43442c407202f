//===- GpuSpaceBlock.cpp - GPU schedule space of block kernels ------------===//

#include "lowering/GpuSpaces.h"

using namespace attn;

GpuSpaceDef gpu::blockSpace(bool hasGemm, bool hasMaps) {
  (void)hasGemm, (void)hasMaps;
  GpuSpaceDef def;
  def.form = "block";
  def.footprint = [](const SchedulePoint &) { return GpuFootprint{}; };
  return def;
}
