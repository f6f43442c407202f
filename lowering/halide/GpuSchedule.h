//===- GpuSchedule.h - what the GPU lowerings share -------------*- C++ -*-===//
//
// Private to lowering/halide.  Helpers of the GPU schedules of every form
// (docs/GPU.md): the static dims they size their registers, threads and
// shared-memory tiles by, and the generic root schedule of the efficient
// forms' element-wise stages.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_HALIDE_GPUSCHEDULE_H
#define ATTN_LOWERING_HALIDE_GPUSCHEDULE_H

#include "lowering/KernelDesc.h"

#include "Halide.h"

#include <string>
#include <vector>

namespace attn::halide {

/// How a GPU schedule uses a static dim, and so the largest extent it takes.
enum class GpuDimUse {
  /// Tile sizes fixed at compile time: any extent.
  Tiles,
  /// A row per thread kept in registers: at most 512.
  Registers,
  /// One thread of a block per element: at most 1024.
  Threads,
};

/// The static extent of dim `dim` (C order; -1: the innermost) of argument
/// `index` of `desc`, or throws Halide::CompileError: GPU schedules size
/// their registers, threads or tiles by it at compile time (`use`).  The
/// errors read "GPU schedules of <schedules> need a static <what> ('<arg>'
/// has '<dim name>')" and "the <what> <extent> exceeds <most>, ...".
int gpuStaticDim(const AttentionKernelDesc &desc, int index,
                 const std::string &schedules, const std::string &what,
                 GpuDimUse use, int dim = -1);

/// The static value head dim of an efficient form's kernel (Linear, Luna
/// pipelines), or throws: its GPU schedules put a thread of a block on each
/// value column.
int gpuEfficientValueDim(const AttentionKernelDesc &desc);

/// GPU schedules shared by the efficient forms (Linear, Luna and Ema
/// pipelines): `fn` computed at the root with every definition on the
/// device.  The first pure vars of each definition (in argument order) are
/// split into thread tiles of `threads` (one extent per var, at most three),
/// the other pure vars and the tiles' outer parts are the blocks (fused down
/// to three); reduction variables stay serial inside a thread.
void gpuRoot(Halide::Func fn, const std::vector<int> &threads);

/// The online softmax of the GPU softmax lowerings (GpuAttentionPipeline,
/// window_tiled): `state(c, rest...)` holds Dv + 2 columns, the
/// accumulators (c < Dv), the running sum (c == Dv) and the running max
/// (c == Dv + 1).  Defines its initial value and its update over `r`
/// (RDom(0, Dv + 2, keys): the column r.x innermost, the key r.y) for the
/// score `sAtKey` of key r.y, kept when `keepAtKey`, and `valueAtColumn`,
/// the key's value at column r.x (clamped to the value columns).  Columns
/// update in order, so every column reads the old max and the max column
/// is written last; an excluded key leaves the state unchanged.  The
/// column is a reduction variable so the update may read the max column.
void defineOnlineSoftmax(Halide::Func &state, const Halide::Var &c,
                         const std::vector<Halide::Var> &rest,
                         const Halide::RDom &r, int valueDim,
                         Halide::Expr sAtKey, Halide::Expr keepAtKey,
                         Halide::Expr valueAtColumn);

/// The attention result at value column `dv` of a defineOnlineSoftmax
/// state: the accumulator over the sum, 0 for a row with no visible key.
Halide::Expr onlineSoftmaxResult(const Halide::Func &state,
                                 const Halide::Expr &dv,
                                 const std::vector<Halide::Var> &rest,
                                 int valueDim);

} // namespace attn::halide

#endif // ATTN_LOWERING_HALIDE_GPUSCHEDULE_H
