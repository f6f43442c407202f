//===- GpuSpaceSoftmax.cpp - GPU schedule spaces of the softmax family ----===//
//
// The knobs of the GPU lowerings of two_pass_tiled (GpuAttentionPipeline),
// window_tiled, separable and halo_tiled kernels (docs/GPU.md §3).
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuSpaces.h"

#include <algorithm>

using namespace attn;

bool gpu::softmaxSpace(const std::string &form, int64_t valueHeadDim,
                       GpuSpaceDef &out) {
  if (form == "two_pass_tiled") {
    out.form = form;
    out.knobs = {
        {"block_rows", 1, 4096, {32, 64, 128, 256},
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
  if (form == "window_tiled") {
    out.form = form;
    out.knobs = {
        {"query_threads", 1, 1024, {16, 32, 64, 128},
         "threads per window (each owns the window's query rows t with "
         "t % query_threads == its index, one after another)"},
        {"windows_per_block", 1, 64, {1, 2, 4},
         "windows of one window row per thread block"},
        {"key_unroll", 1, 32, {1, 2, 4},
         "keys per unrolled step of a thread's online-softmax loop"},
        {"stage_kv", 0, 2, {0, 1},
         "1: the block's window keys and values are loaded once into "
         "shared memory; 0: every thread reads them from global memory; "
         "2: 1 when they fit in the target's shared memory, else 0"},
    };
    out.defaultPoint = {{"query_threads", 64},
                        {"windows_per_block", 1},
                        {"key_unroll", 2},
                        {"stage_kv", 2}};
    out.rules = {"threads per block = query_threads * windows_per_block",
                 "stage_kv = 1: windows_per_block * w^2 * (D + Dv) * 4 bytes of "
                 "shared memory per block (checked when the kernel is "
                 "compiled: the window and the query head dim are the "
                 "kernel's)"};
    out.check = [](const SchedulePoint &) { return std::string(); };
    out.footprint = [](const SchedulePoint &p) {
      return GpuFootprint{p.at("query_threads") * p.at("windows_per_block"),
                          0};
    };
    return true;
  }
  if (form == "separable") {
    out.form = form;
    out.knobs = {
        {"map_threads", 1, 1024, {32, 64, 128},
         "threads per block of the map kernels (one per key row or column "
         "of a score row; one per map row of the softmax)"},
        {"value_threads", 1, 1024, {4, 8, 16, 32},
         "threads along the value dim in the blocks of the two mode "
         "products"},
        {"line_threads", 1, 1024, {2, 4, 8, 16},
         "threads along the grid's columns (V Bm^T) or rows (A T) in the "
         "blocks of the two mode products"},
        {"stage_shared", 0, 2, {0, 1},
         "1: the tiles a block's threads share (a query row or column, a "
         "map, a grid row of V or a grid column of T) are loaded once into "
         "shared memory; 0: read from global memory; 2: per kernel, 1 when "
         "its tiles fit in the target's shared memory, else 0"},
    };
    out.defaultPoint = {{"map_threads", 64},
                        {"value_threads", 16},
                        {"line_threads", 8},
                        {"stage_shared", 2}};
    out.rules = {
        "threads per block = max(map_threads, value_threads * "
        "line_threads)",
        "stage_shared = 1: max(cols, rows) * D + max(cols * (cols + Dv), "
        "rows * (rows + Dv)) floats of shared memory at most per block "
        "(checked when the kernel is compiled: the grid and the query head "
        "dim are the kernel's)"};
    out.check = [](const SchedulePoint &) { return std::string(); };
    out.footprint = [](const SchedulePoint &p) {
      return GpuFootprint{std::max(p.at("map_threads"),
                                   p.at("value_threads") *
                                       p.at("line_threads")),
                          0};
    };
    return true;
  }
  if (form == "halo_tiled") {
    out.form = form;
    out.knobs = {
        {"key_tile", 1, 1024, {8, 16, 32},
         "map columns (keys) per block of the ISI and CSI convolutions, one "
         "thread each"},
        {"query_tile", 1, 1024, {1, 2, 4, 8},
         "map rows (queries) per block of the convolutions, one thread "
         "each"},
        {"softmax_rows", 1, 1024, {32, 64, 128},
         "map rows per block of the softmax statistics (one thread per "
         "row)"},
        {"agg_rows", 1, 1024, {1, 2, 4, 8},
         "query rows per block of the aggregate (threads: Dv x agg_rows)"},
    };
    out.defaultPoint = {{"key_tile", 32},
                        {"query_tile", 4},
                        {"softmax_rows", 64},
                        {"agg_rows", 2}};
    out.rules = {
        "threads per block = max(key_tile * query_tile, softmax_rows, Dv * "
        "agg_rows)",
        "H * (key_tile + k - 1) * (query_tile + k - 1) * 4 bytes of shared "
        "memory per block (the halo tile of every head's map; checked when "
        "the kernel is compiled: H and k are the kernel's)"};
    out.check = [](const SchedulePoint &) { return std::string(); };
    int64_t dv = std::max<int64_t>(valueHeadDim, 1);
    out.footprint = [dv](const SchedulePoint &p) {
      return GpuFootprint{std::max({p.at("key_tile") * p.at("query_tile"),
                                    p.at("softmax_rows"),
                                    dv * p.at("agg_rows")}),
                          0};
    };
    return true;
  }
  return false;
}
