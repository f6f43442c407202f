//===- GpuSchedule.cpp - what the GPU lowerings share ---------------------===//

#include "lowering/halide/GpuSchedule.h"

#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/PipelineBase.h"

#include <limits>

using namespace Halide;
using namespace attn;
using namespace attn::halide;

int attn::halide::gpuStaticDim(const AttentionKernelDesc &desc, int index,
                               const std::string &schedules,
                               const std::string &what, GpuDimUse use,
                               int dim) {
  const TensorArg &a = desc.args[index];
  const int n = dim < 0 ? int(a.shape.size()) - 1 : dim;
  int64_t extent = n >= 0 && n < int(a.shape.size()) ? a.shape[n] : -1;
  if (extent <= 0)
    throw CompileError("GPU schedules of " + schedules + " need a static " +
                       what + " ('" + a.name + "' has '" +
                       (n >= 0 && n < int(a.dims.size()) ? a.dims[n] : "?") +
                       "')");
  if (use == GpuDimUse::Registers && extent > 512)
    throw CompileError("the " + what + " " + std::to_string(extent) +
                       " exceeds 512, the most a GPU thread keeps in "
                       "registers");
  if (use == GpuDimUse::Threads && extent > 1024)
    throw CompileError("the " + what + " " + std::to_string(extent) +
                       " exceeds 1024, the most threads of a GPU block");
  return int(extent);
}

int attn::halide::gpuEfficientValueDim(const AttentionKernelDesc &desc) {
  return gpuStaticDim(desc, desc.value, "form '" + desc.form + "'",
                      "value head dim", GpuDimUse::Threads);
}

void attn::halide::gpuRoot(Func fn, const std::vector<int> &threads) {
  fn.compute_root();
  std::vector<Var> args = fn.args();
  for (int s = 0; s <= fn.num_update_definitions(); ++s) {
    std::vector<Var> pure;
    if (s == 0) {
      pure = args;
    } else {
      std::vector<Expr> lhs = fn.update_args(s - 1);
      for (size_t k = 0; k < lhs.size() && k < args.size(); ++k)
        if (const auto *v = lhs[k].as<Internal::Variable>();
            v && v->name == args[k].name())
          pure.push_back(args[k]);
    }
    Stage st = s == 0 ? Stage(fn) : fn.update(s - 1);
    std::vector<VarOrRVar> inner, outer;
    for (size_t k = 0; k < pure.size(); ++k) {
      if (k < threads.size() && k < 3) {
        Var o(pure[k].name() + "_blk"), in(pure[k].name() + "_thr");
        st.split(pure[k], o, in, threads[k], TailStrategy::GuardWithIf);
        inner.push_back(in);
        outer.push_back(o);
      } else {
        outer.push_back(pure[k]);
      }
    }
    std::vector<VarOrRVar> order = inner;
    order.insert(order.end(), outer.begin(), outer.end());
    if (order.size() > 1)
      st.reorder(order);
    int n = 0;
    while (outer.size() > 3) {
      Var fused("gpu_fused" + std::to_string(n++));
      st.fuse(outer[0].var, outer[1].var, fused);
      outer.erase(outer.begin(), outer.begin() + 2);
      outer.insert(outer.begin(), fused);
    }
    if (outer.size() == 1)
      st.gpu_blocks(outer[0]);
    else if (outer.size() == 2)
      st.gpu_blocks(outer[0], outer[1]);
    else if (outer.size() == 3)
      st.gpu_blocks(outer[0], outer[1], outer[2]);
    if (inner.size() == 1)
      st.gpu_threads(inner[0]);
    else if (inner.size() == 2)
      st.gpu_threads(inner[0], inner[1]);
    else if (inner.size() == 3)
      st.gpu_threads(inner[0], inner[1], inner[2]);
  }
}

Var PipelineBase::splitRowsIntoBlocks(Var e, Var i, Var h, Var b, int rows) {
  Var io("io"), ii("ii");
  out.split(i, io, ii, rows, TailStrategy::GuardWithIf)
      .reorder(e, ii, io, h, b)
      .gpu_blocks(io, h, b)
      .gpu_threads(e, ii);
  return io;
}

/// `head` followed by `rest`, as call arguments.
static std::vector<Expr> columnArgs(Expr head, const std::vector<Var> &rest) {
  std::vector<Expr> args{std::move(head)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

void attn::halide::defineOnlineSoftmax(Func &state, const Var &c,
                                       const std::vector<Var> &rest,
                                       const RDom &r, int valueDim,
                                       Expr sAtKey, Expr keepAtKey,
                                       Expr valueAtColumn) {
  // Halide compiles with no-infinities fast math, so "no key yet" is the
  // finite lowest float, never -inf.
  Expr lowest = Expr(std::numeric_limits<float>::lowest());
  const int Dv = valueDim;
  state(columnArgs(c, rest)) = select(c == Dv + 1, lowest, 0.0f);
  RVar col = r.x;
  Expr mOld = state(columnArgs(Dv + 1, rest));
  Expr mNew = max(mOld, select(keepAtKey, sAtKey, lowest));
  Expr alpha = accurateExp(mOld - mNew);
  Expr p = select(keepAtKey, accurateExp(sAtKey - mNew), 0.0f);
  Expr old = state(columnArgs(col, rest));
  state(columnArgs(col, rest)) =
      select(col < Dv, old * alpha + p * valueAtColumn, col == Dv,
             old * alpha + p, mNew);
}

Expr attn::halide::onlineSoftmaxResult(const Func &state, const Expr &dv,
                                       const std::vector<Var> &rest,
                                       int valueDim) {
  Expr l = state(columnArgs(valueDim, rest));
  return select(l > 0.0f, state(columnArgs(dv, rest)) / l, 0.0f);
}
