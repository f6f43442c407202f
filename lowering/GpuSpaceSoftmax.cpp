//===- GpuSpaceSoftmax.cpp - GPU schedule spaces of the softmax family ----===//
//
// The knobs of the GPU lowerings of two_pass_tiled (GpuAttentionPipeline),
// window_tiled, separable and halo_tiled kernels (docs/GPU.md §3).
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuSpaces.h"

using namespace attn;

bool gpu::softmaxSpace(const std::string &form, int64_t valueHeadDim,
                       GpuSpaceDef &out) {
  (void)valueHeadDim;
  if (form == "two_pass_tiled") {
    out.form = form;
    out.knobs = {
        {"block_rows", 1, 1024, {32, 64, 128, 256},
         "query rows per thread block (one thread per row)"},
        {"key_unroll", 1, 32, {1, 2, 4, 8},
         "keys per unrolled step of a thread's online-softmax loop"},
    };
    out.defaultPoint = {{"block_rows", 64}, {"key_unroll", 2}};
    out.footprint = [](const SchedulePoint &p) {
      return GpuFootprint{p.at("block_rows"), 0};
    };
    return true;
  }
  return false;
}
