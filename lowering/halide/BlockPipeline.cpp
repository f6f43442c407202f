//===- BlockPipeline.cpp - block kernels (architecture ops) in Halide -----===//
//
// The driver.  Three phases: analyze() checks the op list and decides which
// values are stored (BlockPipeline.h); define() builds one Func per op (the
// definitions live in BlockGemm.cpp, BlockOps.cpp and BlockMaps.cpp);
// schedule() gives every stored value the GEMM schedule (when a linear is
// inlined into it), the map schedules (BlockMaps.cpp) or the row schedule.
// Also the knobs, the BlockPipeline interface and the JIT.
//
//===----------------------------------------------------------------------===//

#include "lowering/halide/BlockPipelineImpl.h"

#include "lowering/halide/ExprBuilder.h"
#include "lowering/halide/Guarded.h"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

using namespace Halide;
using namespace attn;
using namespace attn::halide;
using namespace attn::halide::blockdetail;

namespace {

/// The value ids an op reads and the attributes it must have.
const std::set<std::string> &knownOps() {
  static const std::set<std::string> ops = {
      "linear", "layernorm",   "rmsnorm",     "gelu",  "relu",
      "silu",   "add",         "split_heads", "merge_heads",
      "slice",  "concat",      "conv1d",      "conv2d", "pool",
      "scores", "blend",       "map_conv",    "softmax", "attend"};
  return ops;
}

/// Ops that read each element of their inputs many times: their inputs
/// are stored, never inlined.
bool readsInputsRepeatedly(const std::string &op) {
  return op == "linear" || op == "layernorm" || op == "rmsnorm" ||
         op == "conv1d" || op == "conv2d" || op == "pool";
}

/// Ops a GEMM's result may flow through, inlined, to the stage storing it.
bool isEpilogue(const std::string &op) {
  return op == "add" || op == "gelu" || op == "relu" || op == "silu" ||
         op == "split_heads";
}

} // namespace

//===----------------------------------------------------------------------===//
// Knobs
//===----------------------------------------------------------------------===//

/// The GPU knobs of `desc` (docs/gpu/block-kernels.md): the GPU block space's
/// default point overlaid by desc.schedule, validated against the target's
/// per-block limits.  The CPU knobs of a schedule written for CPUs
/// (vector_width, gemm_*, parallel) do not apply to GPU schedules and are
/// ignored; map_rows means rows per block on GPUs.
static std::string resolveGpuBlockKnobs(const BlockKernelDesc &desc,
                                        const TargetInfo &target,
                                        std::map<std::string, int64_t> &knobs) {
  bool hasShift = std::any_of(
      desc.ops.begin(), desc.ops.end(), [](const BlockOpDesc &op) {
        return op.op == "linear" && op.mode == "shift";
      });
  ScheduleSpace space = ScheduleSpace::gpuBlockKernel(
      target.gpuLimits, desc.hasGemm(), desc.hasMaps());
  SchedulePoint given;
  for (const auto &[name, value] : desc.schedule) {
    bool gpuKnob = std::any_of(space.knobs().begin(), space.knobs().end(),
                               [&](const KnobSpec &k) { return k.name == name; });
    bool cpuKnob = std::any_of(
        ScheduleSpace::blockKnobSpecs().begin(),
        ScheduleSpace::blockKnobSpecs().end(),
        [&](const KnobSpec &k) { return k.name == name; });
    if (gpuKnob || !cpuKnob)
      given[name] = value;
  }
  if (std::string err = space.resolve(given, knobs); !err.empty())
    return err + " (GPU schedule of a block kernel)";
  if (hasShift) {
    // Shift GEMMs keep int64 sums and stage two weight slices (shift, sign).
    int64_t tr = knobs["tile_rows"], tc = knobs["tile_cols"];
    int64_t bytes = 8 * tr * tc + 4 * knobs["k_tile"] * (tr + 2 * tc);
    if (bytes > target.gpuLimits.sharedBytes)
      return "the schedule uses " + std::to_string(bytes) +
             " bytes of shared memory per block for a shift linear "
             "(tile_rows * tile_cols int64 sums and the k_tile slices); the "
             "target allows at most " +
             std::to_string(target.gpuLimits.sharedBytes);
  }
  return "";
}

std::string attn::halide::resolveBlockKnobs(
    const BlockKernelDesc &desc, const TargetInfo &target,
    std::map<std::string, int64_t> &knobs) {
  if (target.isGpu())
    return resolveGpuBlockKnobs(desc, target, knobs);
  const int64_t vw = target.vectorLanes, regs = target.vectorRegisters;
  // The column extent of the first GEMM's stored result: the head dim when
  // the kernel splits heads, else the linear's output features.
  int64_t columns = -1;
  for (const BlockOpDesc &op : desc.ops)
    if (op.op == "linear" && !op.shape.empty() && columns < 0)
      columns = op.shape.back();
  for (const BlockOpDesc &op : desc.ops)
    if (op.op == "split_heads" && !op.shape.empty())
      columns = op.shape.back();
  // About three quarters of the registers hold accumulators; prefer a
  // panel that divides the columns (no overlapping last panel).
  int64_t budget = std::max<int64_t>(1, regs * 3 / 4);
  int64_t cv = 3;
  for (int64_t c : {3, 4, 2, 1})
    if (columns > 0 && columns % (c * vw) == 0 && c <= budget) {
      cv = c;
      break;
    }
  cv = std::min(cv, budget);
  int64_t rows = std::clamp<int64_t>(budget / cv, 1, 32);
  // The register rule (checkBlockRegisters: accumulators, a row of weights
  // and a broadcast fit): cv * rows + cv + 1 <= registers.  With 16 registers (AVX2) and 4-vector
  // panels, three quarters would be one too many.
  rows = std::max<int64_t>(1, std::min(rows, (regs - cv - 1) / cv));
  knobs = {{"vector_width", vw},
           {"gemm_col_vectors", cv},
           {"gemm_rows", rows},
           {"gemm_min_tasks", 4},
           {"parallel", 1},
           {"map_rows", 16}};
  if (std::string err = ScheduleSpace::checkBlockKnobs(desc.schedule);
      !err.empty())
    return err;
  for (const auto &[name, value] : desc.schedule)
    knobs[name] = value;
  return ScheduleSpace::checkBlockRegisters(knobs["gemm_col_vectors"],
                                            knobs["gemm_rows"], regs);
}

//===----------------------------------------------------------------------===//
// The pipeline
//===----------------------------------------------------------------------===//

std::string BlockPipeline::Impl::nameOf(int id) const {
  if (desc.isArg(id))
    return identifier(desc.args[id].name);
  return "t" + std::to_string(id) + "_" + desc.ops[values.at(id).producer].op;
}

Expr BlockPipeline::Impl::at(int id, std::vector<Expr> idx) const {
  const Value &v = values.at(id);
  if (v.isParam) {
    Expr e = v.param(idx);
    return v.isInt ? cast<int32_t>(e) : cast<float>(e);
  }
  Expr e = v.func(idx);
  return v.isInt ? cast<int32_t>(e) : cast<float>(e);
}

//===----------------------------------------------------------------------===//
// Analysis: ids, consumers, what is stored
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::analyze() {
  // GPU targets: norms and softmax rows are reduced in 32 lane partials
  // (one per thread of a block).
  vw = target.isGpu() ? 32 : int(knobs.at("vector_width"));
  for (int n = 0; n < 8; ++n)
    vars.push_back(Var("v" + std::to_string(n)));
  bool seenOutput = false;
  for (int a = 0; a < desc.numArgs(); ++a) {
    const TensorArg &arg = desc.args[a];
    if (arg.isOutput) {
      seenOutput = true;
    } else if (seenOutput) {
      fail("argument '" + arg.name + "': inputs must precede outputs");
    }
    if (arg.shape.empty() || arg.shape.size() > vars.size())
      fail("argument '" + arg.name + "': rank " +
           std::to_string(arg.shape.size()) + " is not in [1, 8]");
    for (int64_t d : arg.shape)
      if (d <= 0 || d > std::numeric_limits<int32_t>::max())
        fail("argument '" + arg.name + "': shape " + shapeText(arg.shape) +
             " must be static, with extents in [1, 2^31 - 1]");
    Value v;
    v.shape = arg.shape;
    v.isInt = arg.dtype == "i32";
    if (!arg.isOutput) {
      v.isParam = true;
      v.param = ImageParam(halideType(arg.dtype), int(arg.shape.size()),
                           identifier(arg.name));
      for (size_t d = 0; d < arg.shape.size(); ++d)
        v.param.dim(int(arg.shape.size() - 1 - d))
            .set_min(0)
            .set_extent(int(arg.shape[d]));
      params.push_back(v.param);
    }
    values[a] = v;
  }
  if (!seenOutput)
    fail("block kernel '" + desc.name + "' has no output argument");

  // Ids and consumers.
  std::set<int> written;
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    if (!knownOps().count(op.op))
      fail(opLabel(n) + ": unsupported block op '" + op.op + "'");
    for (size_t p = 0; p < op.inputs.size(); ++p) {
      int in = op.inputs[p];
      auto it = values.find(in);
      bool defined = it != values.end() &&
                     (it->second.isParam || written.count(in));
      if (!defined)
        fail(opLabel(n) + ": input %" + std::to_string(in) +
             " is not defined before it");
      it->second.consumers.push_back(n);
      bool intAllowed = op.op == "linear" && op.mode == "shift" &&
                        (p == 1 || p == 2);
      if (it->second.isInt && !intAllowed)
        fail(opLabel(n) + ": input %" + std::to_string(in) +
             " must be a float tensor");
    }
    int res = op.result;
    if (res < 0 || (desc.isArg(res) && !desc.args[res].isOutput))
      fail(opLabel(n) + ": result %" + std::to_string(res) +
           " must be an output argument or a temporary");
    if (written.count(res))
      fail(opLabel(n) + ": value %" + std::to_string(res) +
           " is written twice");
    written.insert(res);
    if (op.shape.empty() || op.shape.size() > vars.size())
      fail(opLabel(n) + ": result rank " + std::to_string(op.shape.size()) +
           " is not in [1, 8]");
    for (int64_t d : op.shape)
      if (d <= 0 || d > std::numeric_limits<int32_t>::max())
        fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
             " must have extents in [1, 2^31 - 1]");
    if (desc.isArg(res) && desc.args[res].shape != op.shape)
      fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
           " differs from output '" + desc.args[res].name + "' " +
           shapeText(desc.args[res].shape));
    Value &v = values[res];
    v.producer = n;
    v.shape = op.shape;
    v.stored = desc.isArg(res);
  }
  for (int a = 0; a < desc.numArgs(); ++a)
    if (desc.args[a].isOutput && !written.count(a))
      fail("output '" + desc.args[a].name + "' is never written");

  // What is stored: outputs, values with several consumers, inputs of ops
  // that read repeatedly (but a merge_heads folds into a linear's loads),
  // a GEMM's result when what follows is no epilogue, and what the map ops
  // require (mapInputStored).
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    Value &res = values[op.result];
    res.hasGemm = op.op == "linear";
    res.hasSplitHeads = op.op == "split_heads";
    res.hasConv = op.op == "map_conv";
    for (size_t p = 0; p < op.inputs.size(); ++p) {
      Value &in = values[op.inputs[p]];
      if (in.isParam)
        continue;
      bool foldedMerge = op.op == "linear" && p == 0 && op.mode != "shift" &&
                         desc.ops[in.producer].op == "merge_heads";
      if (in.consumers.size() > 1 ||
          (readsInputsRepeatedly(op.op) && !foldedMerge) ||
          (in.hasGemm && !isEpilogue(op.op)) || mapInputStored(n, p))
        in.stored = true;
      if (!in.stored) {
        res.hasGemm |= in.hasGemm;
        res.hasSplitHeads |= in.hasSplitHeads;
        res.hasConv |= in.hasConv;
      }
    }
  }
  for (int n = int(desc.ops.size()) - 1; n >= 0; --n) {
    for (int in : desc.ops[n].inputs) {
      Value &v = values[in];
      if (v.isParam || v.stored)
        continue;
      const Value &consumer = values[desc.ops[n].result];
      v.owner = consumer.stored ? desc.ops[n].result : consumer.owner;
    }
  }
  analyzeMaps();
}

//===----------------------------------------------------------------------===//
// The algorithm
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::define() {
  for (int n = 0; n < int(desc.ops.size()); ++n) {
    const BlockOpDesc &op = desc.ops[n];
    Value &res = values[op.result];
    res.func = Func(nameOf(op.result));
    if (op.op == "linear") {
      defineLinear(n);
    } else if (op.op == "layernorm" || op.op == "rmsnorm") {
      defineNorm(n);
    } else if (op.op == "conv1d") {
      defineConv1d(n);
    } else if (op.op == "conv2d" || op.op == "pool") {
      defineGrid(n);
    } else if (isBlockMapOp(op.op)) {
      defineMap(n);
    } else {
      std::vector<int64_t> shape;
      Expr e = defineSimple(n, shape);
      if (shape != op.shape)
        fail(opLabel(n) + ": result shape " + shapeText(op.shape) +
             " does not match the shape " + shapeText(shape) +
             " its inputs give");
      if (desc.isArg(op.result))
        e = cast(halideType(desc.args[op.result].dtype), e);
      res.func(pureArgs(shape.size())) = e;
    }
    algorithmOrder.push_back(res.func);
  }
  for (int a = 0; a < desc.numArgs(); ++a)
    if (desc.args[a].isOutput) {
      Func f = values[a].func;
      const std::vector<int64_t> &shape = desc.args[a].shape;
      for (size_t d = 0; d < shape.size(); ++d)
        f.output_buffer()
            .dim(int(shape.size() - 1 - d))
            .set_min(0)
            .set_extent(int(shape[d]));
      outputs.push_back(f);
    }
}

//===----------------------------------------------------------------------===//
// The schedule
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::schedule() {
  if (target.isGpu()) {
    scheduleGpu();
    return;
  }
  for (Func w : smallRoots)
    w.compute_root()
        .split(vars[0], Var("wo"), Var("wi"), vw, TailStrategy::GuardWithIf)
        .vectorize(Var("wi"));
  if (!smallRoots.empty())
    scheduleLog.push_back("// convolution weights: transposed (channels "
                          "innermost) at the root");
  for (Gemm &g : gemms)
    if (g.xq.defined()) {
      std::vector<int64_t> shape = shapeOf(desc.ops[g.op].inputs[0]);
      g.xq.compute_root();
      scheduleRowStage(-1, g.xq, shape);
    }
  // Stored values in the order they are computed; then the map values
  // computed in the row tiles of a root map stage.
  for (const BlockOpDesc &op : desc.ops) {
    int id = op.result;
    Value &v = values[id];
    if (!v.stored || v.tiled)
      continue;
    if (!desc.isArg(id)) {
      v.func.compute_root();
      scheduleLog.push_back(v.func.name() + ".compute_root();");
    }
    if (mapStage(id) != MapStage::None)
      scheduleMapStage(id);
    else if (v.hasGemm)
      scheduleGemmStage(id);
    else
      scheduleRowStage(id, v.func, v.shape);
  }
  for (const BlockOpDesc &op : desc.ops)
    if (values[op.result].tiled)
      scheduleMapStage(op.result);
  // Norm statistics: per row of the stage they are inlined into (or of
  // the stored norm itself), else at the root.
  for (NormStats &st : norms) {
    const Value &v = values[st.result];
    int stage = v.stored ? st.result : v.owner;
    auto row = rowLoop.find(stage);
    bool perRow = stage >= 0 && row != rowLoop.end() && v.shape.size() > 1;
    for (Func p : st.partial) {
      if (perRow)
        p.compute_at(values[stage].func, row->second);
      else
        p.compute_root();
      // The lanes dim has the constant extent min(vector_width, E).
      p.vectorize(vars[0]);
      p.update().vectorize(vars[0]);
    }
    for (Func r : st.perRow) {
      if (perRow)
        r.compute_at(values[stage].func, row->second);
      else
        r.compute_root();
    }
    scheduleLog.push_back(
        "// " + v.func.name() + ": row statistics (vector partial sums) " +
        (perRow ? "per row of " + values[stage].func.name() : "at the root"));
  }
}

void BlockPipeline::Impl::scheduleRowStage(int id, Func stage,
                                           const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  int64_t cols = shape.back();
  int lanes = int(std::min<int64_t>(vw, cols));
  bool parallel = knobs.at("parallel") != 0;
  std::string line = stage.name() + ".vectorize(v0, " +
                     std::to_string(lanes) + ")";
  if (rank >= 2) {
    Var row = vars[1];
    for (size_t d = 2; d < rank; ++d) {
      Var fused("row" + std::to_string(d));
      stage.fuse(row, vars[d], fused);
      row = fused;
    }
    int64_t rows = product(shape, 0, rank - 1);
    int64_t tasks = std::min<int64_t>(rows, 8);
    if (!parallel || rows * cols < 4096)
      tasks = 1;
    if (tasks > 1) {
      Var task("task"), inner("row");
      int64_t per = (rows + tasks - 1) / tasks;
      stage.split(row, task, inner, int(per), TailStrategy::GuardWithIf)
          .parallel(task);
      row = inner;
      line += ".fuse(rows).split(rows, task, row, " + std::to_string(per) +
              ").parallel(task)";
    } else {
      line += ".fuse(rows)";
    }
    if (id >= 0)
      rowLoop[id] = row;
  }
  // Named split Vars: vectorize(var, factor) would create an unnamed Var,
  // called v<N>, which may collide with v0..v7.
  Var vo("vo"), vi("vi");
  stage.split(vars[0], vo, vi, lanes, TailStrategy::GuardWithIf).vectorize(vi);
  scheduleLog.push_back(line + ";");
}

//===----------------------------------------------------------------------===//
// The GPU schedule (docs/gpu/block-kernels.md)
//===----------------------------------------------------------------------===//

void BlockPipeline::Impl::gpuRoot(Func f) {
  f.compute_root();
  std::vector<Var> a = f.args();
  auto place = [&](Stage s) {
    Var bx("gbx"), tx("gtx"), bz("gbz");
    s.split(a[0], bx, tx, 32, TailStrategy::GuardWithIf);
    if (a.size() == 1) {
      s.gpu_blocks(bx).gpu_threads(tx);
      return;
    }
    if (a.size() == 2) {
      s.gpu_blocks(bx, a[1]).gpu_threads(tx);
      return;
    }
    Var outer = a[2];
    for (size_t d = 3; d < a.size(); ++d) {
      Var fused("gbz" + std::to_string(d));
      s.fuse(outer, a[d], fused);
      outer = fused;
    }
    s.gpu_blocks(bx, a[1], outer).gpu_threads(tx);
  };
  place(f);
  for (int u = 0; u < f.num_update_definitions(); ++u)
    place(f.update(u));
  scheduleLog.push_back(f.name() +
                        ".compute_root().gpu_tile(v0, 32);  // one element "
                        "per thread");
}

void BlockPipeline::Impl::scheduleGpu() {
  for (Func w : smallRoots)
    gpuRoot(w);
  for (Gemm &g : gemms)
    if (g.xq.defined()) {
      g.xq.compute_root();
      scheduleRowStageGpu(-1, g.xq, shapeOf(desc.ops[g.op].inputs[0]));
    }
  // Every stored value at the root (the tiles of materialized maps are CPU
  // schedules: a GPU map stage stores each map value it needs).
  for (const BlockOpDesc &op : desc.ops) {
    int id = op.result;
    Value &v = values[id];
    if (!v.stored)
      continue;
    if (!desc.isArg(id)) {
      v.func.compute_root();
      scheduleLog.push_back(v.func.name() + ".compute_root();");
    }
    if (mapStage(id) != MapStage::None)
      scheduleMapStageGpu(id);
    else if (v.hasGemm)
      scheduleGemmStageGpu(id);
    else
      scheduleRowStageGpu(id, v.func, v.shape);
  }
  // The parts of map ops not computed per thread of a map stage.
  for (MapOp &m : maps) {
    for (Func f : {m.keysT, m.weightsT, m.pad, m.partMax, m.rowMax, m.exps,
                   m.partSum, m.rowSum})
      if (f.defined())
        gpuRoot(f);
    if (m.acc.defined()) {
      const Value &v = values[m.result];
      int stage = v.stored ? m.result : v.owner;
      if (stage < 0 || mapStage(stage) == MapStage::None)
        gpuRoot(m.acc);
    }
  }
  // Norm statistics: per block of the row stage they are inlined into (or
  // of the stored norm itself), the lane partials across threads; else at
  // the root.
  for (NormStats &st : norms) {
    const Value &v = values[st.result];
    int stage = v.stored ? st.result : v.owner;
    auto row = rowLoop.find(stage);
    bool perBlock = stage >= 0 && row != rowLoop.end() &&
                    v.shape.size() > 1 && values[stage].shape == v.shape;
    for (Func p : st.partial) {
      if (perBlock) {
        p.compute_at(values[stage].func, row->second)
            .gpu_threads(vars[0], vars[1]);
        p.update().gpu_threads(vars[0], vars[1]);
      } else {
        gpuRoot(p);
      }
    }
    for (Func r : st.perRow) {
      if (perBlock)
        r.compute_at(values[stage].func, row->second).gpu_threads(vars[1]);
      else
        gpuRoot(r);
    }
    scheduleLog.push_back(
        "// " + v.func.name() + ": row statistics (" + std::to_string(vw) +
        " lane partial sums across threads) " +
        (perBlock ? "per block of " + values[stage].func.name()
                  : "at the root"));
  }
}

void BlockPipeline::Impl::scheduleRowStageGpu(
    int id, Func stage, const std::vector<int64_t> &shape) {
  const size_t rank = shape.size();
  const int64_t cols = shape.back();
  const int64_t threads = knobs.at("row_threads");
  // Columns across threads (a thread takes every tcols-th column of a
  // wider row), then as many rows per block as the threads allow.
  const int tcols = int(std::min<int64_t>(threads, cols));
  Var cxo("cxo"), tx("tx"), rb("rb"), ty("ty");
  stage.split(vars[0], cxo, tx, tcols, TailStrategy::GuardWithIf);
  std::ostringstream os;
  if (rank == 1) {
    stage.gpu_blocks(cxo).gpu_threads(tx);
    os << stage.name() << ".split(v0, cxo, tx, " << tcols
       << ").gpu_blocks(cxo).gpu_threads(tx);";
    scheduleLog.push_back(os.str());
    return;
  }
  const int rpb = int(std::clamp<int64_t>(threads / tcols, 1, shape[rank - 2]));
  stage.split(vars[1], rb, ty, rpb, TailStrategy::GuardWithIf);
  std::vector<VarOrRVar> order = {cxo, tx, ty, rb};
  for (size_t d = 2; d < rank; ++d)
    order.push_back(vars[d]);
  stage.reorder(order);
  if (rank >= 3) {
    Var outer = vars[2];
    for (size_t d = 3; d < rank; ++d) {
      Var fused("rz" + std::to_string(d));
      stage.fuse(outer, vars[d], fused);
      outer = fused;
    }
    stage.gpu_blocks(rb, outer);
  } else {
    stage.gpu_blocks(rb);
  }
  stage.gpu_threads(tx, ty);
  if (id >= 0)
    rowLoop[id] = rb;
  os << stage.name() << ".split(v0, cxo, tx, " << tcols
     << ").split(v1, rb, ty, " << rpb
     << ").reorder(cxo, tx, ty, rb, ...).gpu_blocks(rb"
     << (rank >= 3 ? ", rest" : "") << ").gpu_threads(tx, ty);  // " << rpb
     << " row(s) x " << tcols << " columns per block";
  scheduleLog.push_back(os.str());
}

//===----------------------------------------------------------------------===//
// BlockPipeline
//===----------------------------------------------------------------------===//

BlockPipeline::BlockPipeline(const BlockKernelDesc &desc,
                             const TargetInfo &target,
                             std::map<std::string, int64_t> knobs)
    : impl(std::make_unique<Impl>(desc, target, std::move(knobs))) {}

BlockPipeline::~BlockPipeline() = default;

void BlockPipeline::build() {
  impl->analyze();
  impl->define();
  impl->schedule();
}

Pipeline BlockPipeline::pipeline() const { return Pipeline(impl->outputs); }

std::vector<Argument> BlockPipeline::arguments() const {
  std::vector<Argument> args;
  for (const ImageParam &p : impl->params)
    args.push_back(p);
  return args;
}

const std::vector<ImageParam> &BlockPipeline::inputs() const {
  return impl->params;
}

std::string BlockPipeline::describe() const {
  std::ostringstream os;
  os << "// Halide pipeline for block kernel '" << impl->desc.name
     << "' (target " << impl->target.halideTarget << ")\n";
  os << "// knobs:";
  for (const auto &[k, v] : impl->knobs)
    os << " " << k << "=" << v;
  os << "\nvoid generate() {\n";
  for (const Func &f : impl->algorithmOrder) {
    std::vector<Expr> args;
    for (const Var &a : f.args())
      args.push_back(a);
    printHalideDefinition(os, f.name(), args, f.values().as_vector());
    for (int u = 0; u < f.num_update_definitions(); ++u)
      printHalideDefinition(os, f.name(), f.update_args(u),
                            f.update_values(u).as_vector());
  }
  os << "}\n\nvoid schedule() {\n";
  for (const std::string &line : impl->scheduleLog)
    os << "  " << line << "\n";
  os << "}\n";
  return os.str();
}

//===----------------------------------------------------------------------===//
// BlockKernelJit
//===----------------------------------------------------------------------===//

BlockKernelJit::BlockKernelJit() = default;
BlockKernelJit::~BlockKernelJit() = default;

std::string BlockKernelJit::compile(const BlockKernelDesc &desc,
                                    const TargetInfo &target) {
  built.reset();
  if (std::string err = resolveBlockKnobs(desc, target, resolved);
      !err.empty())
    return err;
  return guarded([&] {
    auto p = std::make_unique<BlockPipeline>(desc, target, resolved);
    p->build();
    compiled = p->pipeline();
    jitTarget = Target(target.halideTarget);
    compiled.compile_jit(jitTarget);
    numInputs = int(p->inputs().size());
    built = std::move(p);
  });
}

std::string BlockKernelJit::run(std::vector<Buffer<>> &buffers) {
  if (!built)
    return "the kernel is not compiled";
  size_t numOutputs = compiled.outputs().size();
  if (buffers.size() != size_t(numInputs) + numOutputs)
    return "expected " + std::to_string(numInputs + numOutputs) +
           " buffers, got " + std::to_string(buffers.size());
  return guarded([&] {
    for (int n = 0; n < numInputs; ++n) {
      ImageParam input = built->inputs()[n];
      input.set(buffers[n]);
    }
    std::vector<Buffer<>> outs(buffers.begin() + numInputs, buffers.end());
    Realization r(outs);
    compiled.realize(r, jitTarget);
  });
}
