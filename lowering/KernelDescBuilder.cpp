//===- KernelDescBuilder.cpp - attn dialect to kernel descriptions --------===//
//
// Walks each kernel function: maps the attn.kernel's inputs back to the
// function's arguments, and turns the score_mod/mask regions into
// ScalarExpr trees.
//
//===----------------------------------------------------------------------===//

#include "lowering/KernelDescBuilder.h"

#include "dialect/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::attn;
using ::attn::AttentionKernelDesc;
using ::attn::ScalarExpr;
using ::attn::ScalarType;
using ::attn::TensorArg;

namespace {

/// Converts the body of one region into a ScalarExpr.
class RegionConverter {
public:
  RegionConverter(KernelOp kernel, const AttentionKernelDesc &desc,
                  ArrayRef<int> blockArgToFuncArg)
      : kernel(kernel), desc(desc), blockArgToFuncArg(blockArgToFuncArg) {}

  /// `names` are the variables bound to the block arguments (`s` and `x`
  /// are floats, the others indices).
  FailureOr<ScalarExpr> convert(Region &region, ArrayRef<StringRef> names) {
    auto all = convertAll(region, names);
    if (failed(all))
      return failure();
    return all->front();
  }

  /// Like convert(), for every value the region yields.
  FailureOr<std::vector<ScalarExpr>> convertAll(Region &region,
                                                ArrayRef<StringRef> names) {
    Block &block = region.front();
    for (auto [arg, name] : llvm::zip(block.getArguments(), names))
      values[arg] = ScalarExpr::var(name.str(), name == "s" || name == "x"
                                                    ? ScalarType::Float
                                                    : ScalarType::Int);
    for (Operation &op : block.without_terminator())
      if (failed(convertOp(op)))
        return failure();
    auto yield = cast<YieldOp>(block.getTerminator());
    std::vector<ScalarExpr> out;
    for (Value v : yield.getValues()) {
      auto e = lookup(v, yield);
      if (failed(e))
        return failure();
      out.push_back(*e);
    }
    return out;
  }

private:
  FailureOr<ScalarExpr> lookup(Value v, Operation *user) {
    auto it = values.find(v);
    if (it != values.end())
      return it->second;
    // A value from above: a constant or a dim re-created in the kernel.
    if (Operation *def = v.getDefiningOp()) {
      if (succeeded(convertOp(*def)))
        return values.find(v)->second;
      return failure();
    }
    return user->emitOpError() << "reads a kernel argument directly; only "
                               << "elements (tensor.extract) and extents "
                               << "(tensor.dim) may be read",
           failure();
  }

  static ScalarType typeOf(Type t) {
    if (t.isInteger(1))
      return ScalarType::Bool;
    if (isa<FloatType>(t))
      return ScalarType::Float;
    return ScalarType::Int;
  }

  /// The role letter of dim `index` of kernel block argument `arg`.
  std::optional<std::string> roleOf(Value tensor, int64_t index) {
    auto arg = dyn_cast<BlockArgument>(tensor);
    if (!arg || arg.getOwner()->getParentOp() != kernel.getOperation())
      return std::nullopt;
    int funcArg = blockArgToFuncArg[arg.getArgNumber()];
    if (funcArg == desc.query && index >= 0 && index < 4)
      return std::string(1, "BHND"[index]);
    if ((funcArg == desc.key || funcArg == desc.value) && index >= 0 &&
        index < 3)
      return std::string(1, "BGM"[index]);
    return std::nullopt;
  }

  LogicalResult convertOp(Operation &op) {
    if (values.count(op.getNumResults() ? op.getResult(0) : Value()))
      return success();
    std::vector<ScalarExpr> args;
    for (Value operand : op.getOperands()) {
      if (isa<TensorType>(operand.getType()))
        continue;
      auto e = lookup(operand, &op);
      if (failed(e))
        return failure();
      args.push_back(*e);
    }
    if (op.getNumResults() != 1)
      return op.emitOpError() << "is not supported in a score modifier or "
                              << "mask",
             failure();
    Value result = op.getResult(0);
    ScalarType type = typeOf(result.getType());
    auto set = [&](ScalarExpr e) {
      values[result] = std::move(e);
      return success();
    };
    auto make = [&](StringRef name) {
      return set(ScalarExpr::make(name.str(), type, args));
    };

    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      Attribute value = c.getValue();
      if (auto f = dyn_cast<FloatAttr>(value))
        return set(ScalarExpr::floatLit(f.getValueAsDouble()));
      if (auto i = dyn_cast<IntegerAttr>(value)) {
        ScalarExpr e = ScalarExpr::intLit(i.getValue().getSExtValue());
        if (type == ScalarType::Bool) {
          e.op = "bool";
          e.type = ScalarType::Bool;
          e.intValue = i.getValue().getBoolValue();
        }
        return set(e);
      }
    }
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      auto index = dim.getConstantIndex();
      auto role = index ? roleOf(dim.getSource(), *index) : std::nullopt;
      if (!role)
        return op.emitOpError() << "reads an extent that is not a dimension "
                                << "of the query, key or value",
               failure();
      return set(ScalarExpr::dim(*role));
    }
    if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      auto arg = dyn_cast<BlockArgument>(extract.getTensor());
      if (!arg || arg.getOwner()->getParentOp() != kernel.getOperation())
        return op.emitOpError() << "must read a kernel argument", failure();
      ScalarExpr e = ScalarExpr::make("load", ScalarType::Int, args);
      e.name = desc.args[blockArgToFuncArg[arg.getArgNumber()]].name;
      if (isa<FloatType>(result.getType()))
        e.type = ScalarType::Float;
      return set(e);
    }
    if (isa<arith::IndexCastOp, arith::ExtFOp, arith::TruncFOp,
            arith::ExtSIOp, arith::TruncIOp>(op))
      return set(args[0]);
    if (isa<arith::SIToFPOp>(op))
      return make("float");
    if (isa<arith::FPToSIOp>(op))
      return make("int");
    if (isa<arith::AddIOp, arith::AddFOp>(op))
      return make("add");
    if (isa<arith::SubIOp, arith::SubFOp>(op))
      return make("sub");
    if (isa<arith::MulIOp, arith::MulFOp>(op))
      return make("mul");
    if (isa<arith::DivSIOp, arith::DivFOp>(op))
      return make("div");
    if (isa<arith::RemSIOp, arith::RemFOp>(op))
      return make("rem");
    if (isa<arith::NegFOp>(op))
      return make("neg");
    if (isa<arith::MinSIOp, arith::MinimumFOp, arith::MinNumFOp>(op))
      return make("min");
    if (isa<arith::MaxSIOp, arith::MaximumFOp, arith::MaxNumFOp>(op))
      return make("max");
    if (isa<arith::AndIOp>(op) && type == ScalarType::Bool)
      return make("and");
    if (isa<arith::OrIOp>(op) && type == ScalarType::Bool)
      return make("or");
    if (isa<arith::XOrIOp>(op) && type == ScalarType::Bool)
      return set(ScalarExpr::make("ne", type, args));
    if (isa<arith::SelectOp>(op))
      return make("select");
    if (isa<math::AbsFOp, math::AbsIOp>(op))
      return make("abs");
    if (isa<math::ExpOp>(op))
      return make("exp");
    if (isa<math::Exp2Op>(op))
      return make("exp2");
    if (isa<math::LogOp>(op))
      return make("log");
    if (isa<math::Log1pOp>(op))
      return make("log1p");
    if (isa<math::TanhOp>(op))
      return make("tanh");
    if (isa<math::SqrtOp>(op))
      return make("sqrt");
    if (isa<math::RsqrtOp>(op))
      return make("rsqrt");
    if (isa<math::SinOp>(op))
      return make("sin");
    if (isa<math::CosOp>(op))
      return make("cos");
    if (isa<math::FloorOp>(op))
      return make("floor");
    if (isa<math::PowFOp>(op))
      return make("pow");
    if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
      using P = arith::CmpIPredicate;
      switch (cmp.getPredicate()) {
      case P::slt:
      case P::ult:
        return make("lt");
      case P::sle:
      case P::ule:
        return make("le");
      case P::sgt:
      case P::ugt:
        return make("gt");
      case P::sge:
      case P::uge:
        return make("ge");
      case P::eq:
        return make("eq");
      case P::ne:
        return make("ne");
      }
    }
    if (auto cmp = dyn_cast<arith::CmpFOp>(op)) {
      using P = arith::CmpFPredicate;
      switch (cmp.getPredicate()) {
      case P::OLT:
      case P::ULT:
        return make("lt");
      case P::OLE:
      case P::ULE:
        return make("le");
      case P::OGT:
      case P::UGT:
        return make("gt");
      case P::OGE:
      case P::UGE:
        return make("ge");
      case P::OEQ:
      case P::UEQ:
        return make("eq");
      case P::ONE:
      case P::UNE:
        return make("ne");
      default:
        break;
      }
    }
    return op.emitOpError() << "is not supported in a score modifier or mask "
                            << "by the attnc backend",
           failure();
  }

  KernelOp kernel;
  const AttentionKernelDesc &desc;
  ArrayRef<int> blockArgToFuncArg;
  llvm::DenseMap<Value, ScalarExpr> values;
};

static FailureOr<std::string> dtypeName(Operation *op, Type t) {
  if (t.isF32())
    return std::string("f32");
  if (t.isF16())
    return std::string("f16");
  if (t.isBF16())
    return std::string("bf16");
  if (t.isF64())
    return std::string("f64");
  if (t.isInteger(32))
    return std::string("i32");
  return op->emitError() << "element type " << t
                         << " is not supported by the runtime",
         failure();
}

/// Describes argument `index` (or the result when `index` < 0).
static FailureOr<TensorArg> describeArg(func::FuncOp fn, int index) {
  bool isResult = index < 0;
  Type type = isResult ? fn.getResultTypes()[0] : fn.getArgumentTypes()[index];
  DictionaryAttr attrs =
      isResult ? fn.getResultAttrDict(0) : fn.getArgAttrDict(index);
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return fn.emitError() << "kernel arguments must be ranked tensors", failure();
  TensorArg arg;
  arg.isOutput = isResult;
  arg.name = isResult ? "out" : "arg" + std::to_string(index);
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kArgNameAttr))
      arg.name = name.str();
  auto dtype = dtypeName(fn, tensor.getElementType());
  if (failed(dtype))
    return failure();
  arg.dtype = *dtype;
  ArrayAttr dimNames = attrs ? attrs.getAs<ArrayAttr>(kArgDimsAttr) : nullptr;
  for (int64_t d = 0; d < tensor.getRank(); ++d) {
    int64_t size = tensor.getDimSize(d);
    arg.shape.push_back(ShapedType::isDynamic(size) ? -1 : size);
    if (dimNames && d < int64_t(dimNames.size()))
      arg.dims.push_back(cast<StringAttr>(dimNames[d]).str());
    else if (!ShapedType::isDynamic(size))
      arg.dims.push_back(std::to_string(size));
    else
      arg.dims.push_back(arg.name + "_d" + std::to_string(d));
  }
  return arg;
}

static LogicalResult describeKernel(func::FuncOp fn, KernelOp kernel,
                                    AttentionKernelDesc &desc) {
  desc.name = fn.getSymName().str();
  if (fn.getNumResults() != 1)
    return fn.emitError() << "a kernel must return exactly one tensor";
  for (unsigned n = 0; n < fn.getNumArguments(); ++n) {
    auto arg = describeArg(fn, n);
    if (failed(arg))
      return failure();
    desc.args.push_back(*arg);
  }
  auto result = describeArg(fn, -1);
  if (failed(result))
    return failure();
  desc.args.push_back(*result);
  desc.out = int(desc.args.size()) - 1;
  for (const TensorArg &a : desc.args)
    for (auto [name, size] : llvm::zip(a.dims, a.shape))
      if (!name.empty() && !std::isdigit(name[0]))
        desc.dims[name] = size;

  // Kernel inputs must be function arguments (after canonicalization).
  SmallVector<int> blockArgToFuncArg;
  for (Value in : kernel.getInputs()) {
    auto arg = dyn_cast<BlockArgument>(in);
    if (!arg || arg.getOwner()->getParentOp() != fn.getOperation())
      return kernel.emitOpError()
             << "input is not a function argument; the attnc backend "
             << "compiles kernels whose inputs are the entry's arguments";
    blockArgToFuncArg.push_back(arg.getArgNumber());
  }
  auto funcArgOf = [&](Value v) -> int {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg || arg.getOwner()->getParentOp() != kernel.getOperation())
      return -1;
    return blockArgToFuncArg[arg.getArgNumber()];
  };

  for (NamedAttribute knob : kernel.getSchedule())
    if (auto i = dyn_cast<IntegerAttr>(knob.getValue()))
      desc.schedule[knob.getName().str()] = i.getInt();

  Block &body = kernel.getBody().front();
  for (Operation &op : body)
    if (auto ema = dyn_cast<EmaOp>(op)) {
      desc.emaInput = funcArgOf(ema.getInput());
      desc.emaDelta = funcArgOf(ema.getDelta());
      desc.emaAlpha = funcArgOf(ema.getAlpha());
      desc.emaBeta = funcArgOf(ema.getBeta());
      desc.emaGamma = funcArgOf(ema.getGamma());
      if (Value omega = ema.getOmega())
        desc.emaOmega = funcArgOf(omega);
      if (desc.emaInput < 0 || desc.emaDelta < 0 || desc.emaAlpha < 0 ||
          desc.emaBeta < 0 || desc.emaGamma < 0 ||
          (ema.getOmega() && desc.emaOmega < 0))
        return kernel.emitOpError() << "the EMA's input and parameters must "
                                    << "be kernel arguments";
      desc.emaCompat = ema.getCompat().str();
      desc.form = stringifyKernelForm(kernel.getForm()).str();
      return success();
    }
  for (Operation &op : body)
    if (auto unpack = dyn_cast<UnpackOp>(op)) {
      auto pack = unpack.getPacked().getDefiningOp<PackOp>();
      if (!pack)
        return unpack.emitOpError() << "packed must come from attn.pack";
      desc.query = funcArgOf(unpack.getQuery());
      desc.key = funcArgOf(pack.getKey());
      desc.value = funcArgOf(pack.getValue());
      desc.lunaMemory = funcArgOf(pack.getMemory());
      if (Value lens = pack.getKvLengths())
        desc.kvLengths = funcArgOf(lens);
      if (desc.query < 0 || desc.key < 0 || desc.value < 0 ||
          desc.lunaMemory < 0)
        return kernel.emitOpError() << "query, key, value and memory must be "
                                    << "kernel arguments";
      desc.lunaRows = pack.getRows();
      desc.scale = pack.getScale().convertToDouble();
      desc.form = stringifyKernelForm(kernel.getForm()).str();
      if (pack.getCausal())
        desc.maskOrigins.push_back("causal");
      return success();
    }
  // Couplformer: two axial maps and the separable aggregate.
  for (Operation &op : body)
    if (auto sep = dyn_cast<SeparableOp>(op)) {
      auto norm = sep.getRows().getDefiningOp<NormalizeOp>();
      auto rows = norm ? norm.getScores().getDefiningOp<AxialScoreOp>()
                       : AxialScoreOp();
      if (!rows)
        return sep.emitOpError() << "rows must be the normalized "
                                 << "attn.axial_score of the kernel";
      desc.query = funcArgOf(rows.getQuery());
      desc.key = funcArgOf(rows.getKey());
      desc.value = funcArgOf(sep.getValue());
      if (desc.query < 0 || desc.key < 0 || desc.value < 0)
        return kernel.emitOpError() << "query, key and value must be kernel "
                                    << "arguments";
      desc.scale = rows.getScale().convertToDouble();
      desc.couplerRows = sep.getGrid()[0];
      desc.couplerCols = sep.getGrid()[1];
      desc.form = stringifyKernelForm(kernel.getForm()).str();
      return success();
    }
  // EIT: head-pair scores, two map convolutions around the softmax.
  for (Operation &op : body)
    if (auto pair = dyn_cast<PairScoreOp>(op)) {
      HeadConvOp isi, csi;
      AggregateOp aggregate;
      for (Operation &user : body) {
        if (auto conv = dyn_cast<HeadConvOp>(user))
          (conv.getInput() == pair.getResult() ? isi : csi) = conv;
        if (auto a = dyn_cast<AggregateOp>(user))
          aggregate = a;
      }
      if (!isi || !csi || !aggregate)
        return kernel.emitOpError() << "an emha kernel needs both map "
                                    << "convolutions and an aggregate";
      desc.query = funcArgOf(pair.getQuery());
      desc.key = funcArgOf(pair.getKey());
      desc.value = funcArgOf(aggregate.getValue());
      desc.emhaIsi = funcArgOf(isi.getWeight());
      desc.emhaCsi = funcArgOf(csi.getWeight());
      if (desc.query < 0 || desc.key < 0 || desc.value < 0 ||
          desc.emhaIsi < 0 || desc.emhaCsi < 0)
        return kernel.emitOpError() << "query, key, value and the map "
                                    << "convolution weights must be kernel "
                                    << "arguments";
      desc.scale = pair.getScale().convertToDouble();
      desc.emhaKernel =
          cast<RankedTensorType>(isi.getWeight().getType()).getDimSize(3);
      if (ShapedType::isDynamic(desc.emhaKernel))
        return isi.emitOpError() << "needs a static kernel size";
      desc.form = stringifyKernelForm(kernel.getForm()).str();
      return success();
    }
  ScoreOp score;
  NormalizeOp norm;
  AggregateOp agg;
  for (Operation &op : body) {
    if (auto s = dyn_cast<ScoreOp>(op))
      score = s;
    else if (auto n = dyn_cast<NormalizeOp>(op))
      norm = n;
    else if (auto a = dyn_cast<AggregateOp>(op))
      agg = a;
  }
  if (!score || !norm || !agg)
    return kernel.emitOpError() << "is not an attention chain (score, "
                                << "normalize, aggregate)";
  auto featureOf = [](Value v) { return v.getDefiningOp<FeatureOp>(); };
  FeatureOp queryFeature = featureOf(score.getQuery());
  FeatureOp keyFeature = featureOf(score.getKey());
  desc.query = funcArgOf(queryFeature ? queryFeature.getInput()
                                      : score.getQuery());
  desc.key = funcArgOf(keyFeature ? keyFeature.getInput() : score.getKey());
  desc.value = funcArgOf(agg.getValue());
  if (desc.query < 0 || desc.key < 0 || desc.value < 0)
    return kernel.emitOpError() << "query, key and value must be kernel "
                                << "arguments";
  desc.scale = score.getScale().convertToDouble();
  desc.normalize = stringifyNormalizeKind(norm.getKind()).str();
  desc.form = stringifyKernelForm(kernel.getForm()).str();
  bool linear = norm.getKind() != NormalizeKind::softmax;
  bool softmaxForm =
      desc.form == "two_pass_tiled" || desc.form == "window_tiled";
  if (linear == softmaxForm)
    return kernel.emitOpError() << "form '" << desc.form
                                << "' does not match normalizer '"
                                << desc.normalize << "'";

  RegionConverter converter(kernel, desc, blockArgToFuncArg);
  if (linear) {
    if (norm.getEps())
      desc.eps = norm.getEps()->convertToDouble();
    desc.clampDenominator = norm.getClamp();
    if (!queryFeature || !keyFeature)
      return kernel.emitOpError() << "a linear-family kernel needs attn.feature "
                                  << "on both the queries and the keys";
    // Both features come from the same variant; read the query's.
    if (auto rf = queryFeature.getRandomFeatures()) {
      desc.randomFeatures = rf->getAs<IntegerAttr>("features").getInt();
      desc.featureSeed = rf->getAs<IntegerAttr>("seed").getInt();
    }
    if (!queryFeature.getMap().empty()) {
      auto e = converter.convert(queryFeature.getMap(), {"x"});
      if (failed(e))
        return failure();
      desc.featureMap = *e;
    }
    if (!queryFeature.getExpand().empty()) {
      auto e = converter.convertAll(queryFeature.getExpand(), {"i"});
      if (failed(e))
        return failure();
      desc.expand = *e;
    }
    for (Operation &op : body)
      if (auto toep = dyn_cast<ToeplitzOp>(op)) {
        DictionaryAttr w = toep.getWeight();
        desc.weightKind = w.getAs<StringAttr>("kind").str();
        if (desc.weightKind == "momentum") {
          desc.momentumBeta = w.getAs<FloatAttr>("beta").getValueAsDouble();
          desc.momentumGamma = w.getAs<FloatAttr>("gamma").getValueAsDouble();
        } else {
          desc.rpeBias = funcArgOf(toep.getBias());
          if (desc.rpeBias < 0)
            return toep.emitOpError() << "bias must be a kernel argument";
        }
      }
  }
  for (Operation &op : body) {
    if (auto mod = dyn_cast<ScoreModOp>(op)) {
      auto e = converter.convert(mod.getBody(), {"s", "b", "h", "i", "j"});
      if (failed(e))
        return failure();
      if (auto o = mod->getAttrOfType<StringAttr>(kMaskOriginAttr);
          o && o.getValue() == "window2d_bias")
        mod.getBody().walk([&](tensor::ExtractOp extract) {
          desc.windowBias = funcArgOf(extract.getTensor());
          desc.windowBiasMod = int(desc.scoreMods.size());
        });
      desc.scoreMods.push_back(*e);
    } else if (auto mask = dyn_cast<MaskOp>(op)) {
      auto e = converter.convert(mask.getBody(), {"b", "h", "i", "j"});
      if (failed(e))
        return failure();
      desc.masks.push_back(*e);
      std::string origin = "variant";
      if (auto o = mask->getAttrOfType<StringAttr>("origin"))
        origin = o.str();
      if (origin == "kv_lengths")
        mask.getBody().walk([&](tensor::ExtractOp extract) {
          desc.kvLengths = funcArgOf(extract.getTensor());
        });
      if (auto window = mask->getAttrOfType<DictionaryAttr>(kWindowAttr)) {
        auto grid = window.getAs<DenseI64ArrayAttr>("grid");
        auto w = window.getAs<IntegerAttr>("window");
        auto shift = window.getAs<IntegerAttr>("shift");
        if (!grid || grid.size() != 2 || !w || !shift)
          return mask.emitOpError() << "window2d needs grid, window and shift";
        desc.windowRows = grid[0];
        desc.windowCols = grid[1];
        desc.windowSize = w.getInt();
        desc.windowShift = shift.getInt();
      }
      desc.maskOrigins.push_back(origin);
    }
  }
  if (desc.form == "window_tiled" && !desc.isWindow())
    return kernel.emitOpError() << "form 'window_tiled' needs a window2d mask";
  return success();
}

} // namespace

namespace attn {
FailureOr<std::vector<AttentionKernelDesc>>
buildKernelDescs(ModuleOp module) {
  std::vector<AttentionKernelDesc> descs;
  bool failedAny = false;
  for (auto fn : module.getOps<func::FuncOp>()) {
    // Architectures and their block kernels are described by
    // BlockDescBuilder.
    if (fn.isDeclaration() || fn->hasAttr(kArchAttr) ||
        fn->hasAttr(kBlockKernelAttr))
      continue;
    SmallVector<KernelOp> kernels;
    fn.walk([&](KernelOp k) { kernels.push_back(k); });
    if (kernels.size() != 1) {
      fn.emitError() << "a kernel function must contain exactly one fused "
                     << "attention kernel, found " << kernels.size();
      failedAny = true;
      continue;
    }
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    if (ret.getNumOperands() != 1 ||
        ret.getOperand(0) != kernels.front().getResult(0)) {
      fn.emitError() << "a kernel function must return its kernel's result";
      failedAny = true;
      continue;
    }
    AttentionKernelDesc desc;
    if (failed(describeKernel(fn, kernels.front(), desc))) {
      failedAny = true;
      continue;
    }
    descs.push_back(std::move(desc));
  }
  if (failedAny)
    return failure();
  return descs;
}
} // namespace attn
