//===- GpuSpaceEfficient.cpp - GPU schedule spaces of the efficient family ===//

#include "lowering/GpuSpaces.h"

using namespace attn;

bool gpu::efficientSpace(const std::string &form, int64_t valueHeadDim,
                         GpuSpaceDef &out) {
  (void)form, (void)valueHeadDim, (void)out;
  return false;
}
