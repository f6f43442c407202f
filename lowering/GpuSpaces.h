//===- GpuSpaces.h - GPU schedule spaces of each kernel family --*- C++ -*-===//
//
// Private to lowering/: the GPU schedule spaces, one builder per family, each
// in its own file next to the family's lowering (docs/GPU.md §3).
// ScheduleSpace::gpuForm and ScheduleSpace::gpuBlockKernel dispatch here.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_GPUSPACES_H
#define ATTN_LOWERING_GPUSPACES_H

#include "lowering/ScheduleSpace.h"

namespace attn::gpu {

/// The softmax family: two_pass_tiled, window_tiled, separable, halo_tiled
/// (GpuSpaceSoftmax.cpp).  False when `form` is not one of them.
bool softmaxSpace(const std::string &form, int64_t valueHeadDim,
                  GpuSpaceDef &out);

/// The efficient family: associative, chunked_scan, fft_toeplitz,
/// pack_unpack, luna_scan, ema (GpuSpaceEfficient.cpp).  False when `form`
/// is not one of them.
bool efficientSpace(const std::string &form, int64_t valueHeadDim,
                    GpuSpaceDef &out);

/// Architecture block kernels (GpuSpaceBlock.cpp).
GpuSpaceDef blockSpace(bool hasGemm, bool hasMaps);

/// "" when `value` is a power of two; else a message naming `knob`.
std::string checkPowerOfTwo(const std::string &knob, int64_t value);

} // namespace attn::gpu

#endif // ATTN_LOWERING_GPUSPACES_H
