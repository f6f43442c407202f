//===- BlockDescBuilder.cpp - block kernels and architectures -------------===//
//
// Implements BlockDescBuilder.h.
//
//===----------------------------------------------------------------------===//

#include "lowering/BlockDescBuilder.h"

#include "dialect/AttnOps.h"
#include "lowering/ScheduleSpace.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace mlir::attn;
using ::attn::ArchCallDesc;
using ::attn::ArchDesc;
using ::attn::ArchWeightDesc;
using ::attn::BlockKernelDesc;
using ::attn::BlockOpDesc;
using ::attn::TensorArg;

namespace {

/// A static tensor of f32 or i32 as a TensorArg named `name`.
FailureOr<TensorArg> tensorArg(Operation *where, Type type,
                               const std::string &name, bool isOutput) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return where->emitError() << "architecture tensors must have static "
                                 "shapes, got "
                              << type,
           failure();
  TensorArg arg;
  arg.name = name;
  arg.isOutput = isOutput;
  Type element = tensor.getElementType();
  if (element.isF32())
    arg.dtype = "f32";
  else if (element.isInteger(32))
    arg.dtype = "i32";
  else
    return where->emitError() << "architecture tensors must be f32 or i32, "
                                 "got "
                              << type,
           failure();
  for (int64_t d : tensor.getShape()) {
    arg.shape.push_back(d);
    arg.dims.push_back(std::to_string(d));
  }
  return arg;
}

std::string argName(func::FuncOp fn, unsigned index, bool result) {
  DictionaryAttr attrs =
      result ? fn.getResultAttrDict(index) : fn.getArgAttrDict(index);
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kArgNameAttr))
      return name.str();
  return (result ? "out" : "arg") + std::to_string(index);
}

/// Fills the attributes of `desc` from `op`.
LogicalResult describeOp(Operation *op, BlockOpDesc &desc) {
  auto shape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  desc.shape.assign(shape.begin(), shape.end());
  if (auto linear = dyn_cast<LinearOp>(op)) {
    desc.op = "linear";
    desc.mode = linear.getMode().str();
  } else if (auto norm = dyn_cast<NormOp>(op)) {
    desc.op = norm.getKind().str();
    desc.eps = norm.getEps().convertToDouble();
  } else if (auto act = dyn_cast<ActOp>(op)) {
    desc.op = act.getKind().str();
  } else if (isa<AddOp>(op)) {
    desc.op = "add";
  } else if (auto split = dyn_cast<SplitHeadsOp>(op)) {
    desc.op = "split_heads";
    desc.heads = split.getHeads();
  } else if (isa<MergeHeadsOp>(op)) {
    desc.op = "merge_heads";
  } else if (auto slice = dyn_cast<SliceOp>(op)) {
    desc.op = "slice";
    desc.offset = slice.getOffset();
    desc.size = slice.getSize();
  } else if (isa<ConcatOp>(op)) {
    desc.op = "concat";
  } else if (auto conv = dyn_cast<ConvOp>(op)) {
    desc.op = conv.getKind().str();
    desc.mode = conv.getMode().str();
    desc.padding = conv.getPadding().str();
    desc.window = conv.getWindow();
    desc.stride = conv.getStride();
    if (auto grid = conv.getGrid())
      desc.grid.assign(grid->begin(), grid->end());
  } else if (auto pool = dyn_cast<PoolOp>(op)) {
    desc.op = "pool";
    desc.mode = pool.getMode().str();
    desc.window = pool.getWindow();
    desc.stride = pool.getStride();
    desc.grid.assign(pool.getGrid().begin(), pool.getGrid().end());
  } else if (auto scores = dyn_cast<ScoresOp>(op)) {
    desc.op = "scores";
    desc.scale = scores.getScale().convertToDouble();
  } else if (auto blend = dyn_cast<BlendOp>(op)) {
    desc.op = "blend";
    desc.scale = blend.getWeight().convertToDouble();
  } else if (auto conv = dyn_cast<MapConvOp>(op)) {
    desc.op = "map_conv";
    desc.act = conv.getAct().str();
    desc.window = cast<RankedTensorType>(conv.getWeight().getType())
                      .getShape()
                      .back();
  } else if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    desc.op = "softmax";
    desc.causal = softmax.getCausal();
  } else if (isa<AttendOp>(op)) {
    desc.op = "attend";
  } else {
    return op->emitOpError() << "cannot be part of a block kernel";
  }
  return success();
}

/// Reads the function's `attn.schedule` (knob -> integer) and
/// `attn.schedule_source`; unknown knobs and values out of range are errors
/// at the function.  The target's register budget is checked when the
/// kernel is compiled (resolveBlockKnobs).
LogicalResult readBlockSchedule(func::FuncOp fn, BlockKernelDesc &desc) {
  if (auto source =
          fn->getAttrOfType<StringAttr>(::attn::kBlockScheduleSourceAttr))
    desc.scheduleSource = source.str();
  Attribute attr = fn->getAttr(::attn::kBlockScheduleAttr);
  if (!attr)
    return success();
  auto dict = dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return fn.emitError() << "block kernel '" << desc.name << "': '"
                          << ::attn::kBlockScheduleAttr
                          << "' must be a dictionary of knob = integer, got "
                          << attr,
           failure();
  for (NamedAttribute entry : dict) {
    auto value = dyn_cast<IntegerAttr>(entry.getValue());
    if (!value || !value.getType().isSignlessInteger())
      return fn.emitError()
                 << "block kernel '" << desc.name << "': schedule knob '"
                 << entry.getName().getValue()
                 << "' must be an integer (e.g. 4 : i64), got "
                 << entry.getValue(),
             failure();
    desc.schedule[entry.getName().str()] = value.getInt();
  }
  if (std::string err = ::attn::ScheduleSpace::checkBlockKnobs(desc.schedule);
      !err.empty())
    return fn.emitError() << "block kernel '" << desc.name << "': " << err,
           failure();
  if (!fn->hasAttr(::attn::kBlockScheduleSourceAttr) &&
      !desc.schedule.empty())
    desc.scheduleSource = "attribute";
  return success();
}

LogicalResult describeBlockKernel(func::FuncOp fn, BlockKernelDesc &desc) {
  desc.name = fn.getSymName().str();
  if (failed(readBlockSchedule(fn, desc)))
    return failure();
  Block &body = fn.getBody().front();
  llvm::DenseMap<Value, int> ids;
  for (unsigned n = 0; n < fn.getNumArguments(); ++n) {
    auto arg = tensorArg(fn, fn.getArgumentTypes()[n], argName(fn, n, false),
                         false);
    if (failed(arg))
      return failure();
    desc.args.push_back(*arg);
    ids[body.getArgument(n)] = static_cast<int>(n);
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // Results returned by the kernel get the output arguments' ids.
  llvm::DenseMap<Value, int> outputId;
  for (unsigned n = 0; n < fn.getNumResults(); ++n) {
    auto arg = tensorArg(fn, fn.getResultTypes()[n], argName(fn, n, true),
                         true);
    if (failed(arg))
      return failure();
    if (!outputId.try_emplace(ret.getOperand(n), desc.numArgs()).second ||
        isa<BlockArgument>(ret.getOperand(n)))
      return fn.emitError() << "a block kernel result must be computed by "
                               "one op of the kernel";
    desc.args.push_back(*arg);
  }
  int next = desc.numArgs();
  for (Operation &op : body.without_terminator()) {
    BlockOpDesc opDesc;
    if (failed(describeOp(&op, opDesc)))
      return failure();
    for (Value operand : op.getOperands())
      opDesc.inputs.push_back(ids.lookup(operand));
    Value result = op.getResult(0);
    auto out = outputId.find(result);
    opDesc.result = out != outputId.end() ? out->second : next++;
    ids[result] = opDesc.result;
    desc.ops.push_back(std::move(opDesc));
  }
  return success();
}

} // namespace

namespace attn {

FailureOr<std::vector<BlockKernelDesc>>
buildBlockKernelDescs(ModuleOp module) {
  std::vector<BlockKernelDesc> descs;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (!fn->hasAttr(kBlockKernelAttr))
      continue;
    BlockKernelDesc desc;
    if (failed(describeBlockKernel(fn, desc)))
      return failure();
    descs.push_back(std::move(desc));
  }
  return descs;
}

FailureOr<std::vector<ArchDesc>> buildArchDescs(ModuleOp module) {
  std::vector<ArchDesc> descs;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (!fn->hasAttr(kArchAttr))
      continue;
    ArchDesc desc;
    desc.name = fn.getSymName().str();
    if (auto config = fn->getAttrOfType<DictionaryAttr>(kArchConfigAttr))
      for (NamedAttribute entry : config)
        if (auto label = dyn_cast<StringAttr>(entry.getValue()))
          desc.config[entry.getName().str()] = label.str();
    Block &body = fn.getBody().front();
    llvm::DenseMap<Value, std::string> names;
    for (unsigned n = 0; n < fn.getNumArguments(); ++n) {
      std::string name = argName(fn, n, false);
      auto arg = tensorArg(fn, fn.getArgumentTypes()[n], name, false);
      if (failed(arg))
        return failure();
      names[body.getArgument(n)] = name;
      auto init = fn.getArgAttrOfType<DictionaryAttr>(n, kArgInitAttr);
      if (!init) {
        desc.inputs.push_back(*arg);
        continue;
      }
      ArchWeightDesc weight;
      weight.tensor = *arg;
      if (auto dist = init.getAs<StringAttr>("dist"))
        weight.dist = dist.str();
      if (auto a = init.getAs<FloatAttr>("a"))
        weight.a = a.getValueAsDouble();
      if (auto b = init.getAs<FloatAttr>("b"))
        weight.b = b.getValueAsDouble();
      desc.weights.push_back(std::move(weight));
    }
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    for (unsigned n = 0; n < fn.getNumResults(); ++n) {
      if (isa<BlockArgument>(ret.getOperand(n)))
        return fn.emitError() << "an architecture must compute its result "
                                 "(it returns an argument unchanged)";
      auto arg = tensorArg(fn, fn.getResultTypes()[n], argName(fn, n, true),
                           true);
      if (failed(arg))
        return failure();
      names[ret.getOperand(n)] = arg->name;
      desc.outputs.push_back(*arg);
    }
    int counter = 0;
    for (Operation &op : body.without_terminator()) {
      auto call = dyn_cast<func::CallOp>(op);
      if (!call)
        return op.emitOpError() << "is left in the architecture after "
                                   "--attn-outline-blocks",
               failure();
      ArchCallDesc callDesc;
      callDesc.kernel = call.getCallee().str();
      for (Value operand : call.getOperands())
        callDesc.args.push_back(names.lookup(operand));
      for (Value result : call.getResults()) {
        auto it = names.find(result);
        if (it == names.end()) {
          std::string name = "%" + std::to_string(counter++);
          auto arg = tensorArg(call, result.getType(), name, false);
          if (failed(arg))
            return failure();
          desc.values.push_back(*arg);
          it = names.try_emplace(result, name).first;
        }
        callDesc.args.push_back(it->second);
      }
      desc.calls.push_back(std::move(callDesc));
    }
    descs.push_back(std::move(desc));
  }
  return descs;
}

} // namespace attn
