//===- MLIRGen.cpp - .attn to the attn dialect ----------------------------===//
//
// Kernels become `func.func` ops marked `attn.kernel`, with `attn.name` and
// `attn.dims` on every argument and result and `attn.dim_values` on the
// function.  Variants are instantiated per use: parameters become
// constants, dim names become `attn.dim` of their role at the call (or a
// constant), and score/mask/feature/expand bodies become arith/math ops.
// Linear-family variants carry normalize = sum|none, eps, clamp,
// random_features and weight, Luna's carry pack; tensor parameters become
// the attention's operands.  A kernel that returns `ema(...)` holds one
// `attn.ema` (Mega's EMA SeqMix) instead of an `attn.attention`.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"

#include "frontend/Lexer.h"

#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Format.h"

#include <map>
#include <set>

using namespace attn::frontend;
using llvm::cast;
using llvm::SmallVector;
using mlir::ArrayAttr;
using mlir::Attribute;
using mlir::Block;
using mlir::FloatAttr;
using mlir::MLIRContext;
using mlir::ModuleOp;
using mlir::NamedAttribute;
using mlir::OpBuilder;
using mlir::OwningOpRef;
using mlir::RankedTensorType;
using mlir::Region;
using mlir::ShapedType;
using mlir::Type;
using mlir::Value;
using mlir::ValueRange;
namespace arith = mlir::arith;
namespace func = mlir::func;
namespace math = mlir::math;

namespace {

/// One attn.variant to emit.
struct Instance {
  std::string symbol;
  const AttentionInfo *use;
};

class MLIRGen {
public:
  MLIRGen(MLIRContext &context, const Sema &sema)
      : context(context), sema(sema), builder(&context) {}

  OwningOpRef<ModuleOp> generate();

private:
  void genKernel(const KernelInfo &kernel);
  std::string instantiate(const AttentionInfo &attention);
  void genVariant(const Instance &instance);
  Value genExpr(const ExprAST &expr, Block &block, const AttentionInfo &use);
  Value genName(const NameExprAST &name, Block &block,
                const AttentionInfo &use);
  Value genCall(const CallExprAST &call, Block &block,
                const AttentionInfo &use);
  /// The functions that are more than one op: elu, relu, softplus, sigmoid
  /// and the built-in feature map elu1.
  Value genElu(Value x, mlir::Location loc);
  Value genRelu(Value x, mlir::Location loc);
  Value genSoftplus(Value x, mlir::Location loc);
  Value genSigmoid(Value x, mlir::Location loc);
  Value genF32(double value, mlir::Location loc);
  /// The body of a built-in feature map (relu, elu1, softplus, exp).
  Value genFeatureMap(llvm::StringRef map, Value x, mlir::Location loc);
  mlir::DictionaryAttr getWeightAttr(const LinearUse &linear);
  /// `partition = {...}` (window2d) or `map = {...}` (coupler, emha) of a
  /// structural variant; null when it has none of that kind.
  mlir::DictionaryAttr getPartitionAttr(const StructureUse &structure);
  mlir::DictionaryAttr getMapAttr(const StructureUse &structure);
  Value genConst(const ConstValue &value, mlir::Location loc);
  /// Converts a value of `from` to `to` (only int → f32 changes anything).
  Value promote(Value value, ScalarKind from, ScalarKind to,
                mlir::Location loc);
  Type getType(DType dtype);
  RankedTensorType getTensorType(const ResolvedType &type);
  ArrayAttr getDimsAttr(const ResolvedType &type);
  mlir::Location loc(const Location &l) { return toMLIRLoc(context, l); }

  MLIRContext &context;
  const Sema &sema;
  OpBuilder builder;
  ModuleOp module;

  /// Instances in order of first use, and their keys.
  std::vector<Instance> instances;
  std::map<std::string, std::string> symbolByKey;
  /// Symbols that variant instances must not take.
  llvm::StringSet<> taken;
};

} // namespace

OwningOpRef<ModuleOp> MLIRGen::generate() {
  module = ModuleOp::create(builder.getUnknownLoc());
  for (const KernelInfo &kernel : sema.getKernels())
    taken.insert(kernel.decl->name);
  for (const std::string &name : sema.getVariantNames())
    taken.insert(name);

  builder.setInsertionPointToEnd(module.getBody());
  for (const KernelInfo &kernel : sema.getKernels())
    genKernel(kernel);

  // Variants go first, in order of first use.
  builder.setInsertionPointToStart(module.getBody());
  for (const Instance &instance : instances)
    genVariant(instance);

  if (mlir::failed(mlir::verify(module))) {
    module.erase();
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

Type MLIRGen::getType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return builder.getF32Type();
  case DType::F16:
    return builder.getF16Type();
  case DType::BF16:
    return builder.getBF16Type();
  case DType::F64:
    return builder.getF64Type();
  case DType::I32:
    return builder.getI32Type();
  }
  return Type();
}

RankedTensorType MLIRGen::getTensorType(const ResolvedType &type) {
  SmallVector<int64_t> shape;
  for (const ResolvedDim &d : type.dims)
    shape.push_back(d.value ? *d.value : ShapedType::kDynamic);
  return RankedTensorType::get(shape, getType(type.dtype));
}

ArrayAttr MLIRGen::getDimsAttr(const ResolvedType &type) {
  SmallVector<Attribute> names;
  for (const ResolvedDim &d : type.dims)
    names.push_back(builder.getStringAttr(
        d.name.empty() ? std::to_string(*d.value) : d.name));
  return builder.getArrayAttr(names);
}

void MLIRGen::genKernel(const KernelInfo &kernel) {
  const KernelDeclAST &decl = *kernel.decl;
  SmallVector<Type> argTypes;
  for (const ResolvedType &t : kernel.paramTypes)
    argTypes.push_back(getTensorType(t));
  RankedTensorType resultType = getTensorType(kernel.resultType);
  auto func = builder.create<func::FuncOp>(
      loc(decl.nameLoc), decl.name,
      builder.getFunctionType(argTypes, {resultType}));

  auto nameAttr = builder.getStringAttr(mlir::attn::kArgNameAttr);
  auto dimsAttr = builder.getStringAttr(mlir::attn::kArgDimsAttr);
  for (auto [i, param] : llvm::enumerate(decl.params))
    func.setArgAttrs(
        i, builder.getDictionaryAttr(
               {NamedAttribute(nameAttr, builder.getStringAttr(param.name)),
                NamedAttribute(dimsAttr,
                               getDimsAttr(kernel.paramTypes[i]))}));
  std::string resultName = decl.resultName.empty() ? "out" : decl.resultName;
  func.setResultAttrs(
      0, builder.getDictionaryAttr(
             {NamedAttribute(nameAttr, builder.getStringAttr(resultName)),
              NamedAttribute(dimsAttr, getDimsAttr(kernel.resultType))}));
  func->setAttr(mlir::attn::kKernelAttr, builder.getUnitAttr());

  // The values of the dims the signature uses (-1: symbolic).
  std::set<std::string> used;
  for (const ResolvedType &t : kernel.paramTypes)
    for (const ResolvedDim &d : t.dims)
      if (!d.name.empty())
        used.insert(d.name);
  for (const ResolvedDim &d : kernel.resultType.dims)
    if (!d.name.empty())
      used.insert(d.name);
  SmallVector<NamedAttribute> dimValues;
  for (const DimInfo &dim : sema.getDims())
    if (used.count(dim.name))
      dimValues.push_back(builder.getNamedAttr(
          dim.name, builder.getI64IntegerAttr(dim.value ? *dim.value : -1)));
  func->setAttr("attn.dim_values", builder.getDictionaryAttr(dimValues));

  OpBuilder::InsertionGuard guard(builder);
  Block *entry = func.addEntryBlock();
  for (auto [arg, param] : llvm::zip(entry->getArguments(), decl.params))
    arg.setLoc(loc(param.loc));
  builder.setInsertionPointToStart(entry);

  // ema: attn.ema %x, %delta, %alpha, %beta, %gamma [omega(%w : ...)]
  // compat = "paper" | "code".
  if (const std::optional<EmaInfo> &ema = kernel.ema) {
    Value omega;
    if (ema->omega)
      omega = entry->getArgument(*ema->omega);
    auto op = builder.create<mlir::attn::EmaOp>(
        loc(ema->loc), resultType, entry->getArgument(ema->input),
        entry->getArgument(ema->delta), entry->getArgument(ema->alpha),
        entry->getArgument(ema->beta), entry->getArgument(ema->gamma), omega,
        builder.getStringAttr(ema->compat));
    builder.create<func::ReturnOp>(loc(decl.returnLoc), op.getResult());
    return;
  }

  const AttentionInfo &attention = kernel.attention;
  std::string symbol = instantiate(attention);
  Value kvLengths;
  if (attention.kvLengths)
    kvLengths = entry->getArgument(*attention.kvLengths);
  FloatAttr scale;
  if (attention.scale)
    scale = builder.getF64FloatAttr(*attention.scale);
  SmallVector<Value> operands;
  for (unsigned index : attention.variantOperands)
    operands.push_back(entry->getArgument(index));
  auto op = builder.create<mlir::attn::AttentionOp>(
      loc(attention.loc), resultType, entry->getArgument(attention.query),
      entry->getArgument(attention.key), entry->getArgument(attention.value),
      kvLengths, operands, symbol, attention.causal, scale);
  builder.create<func::ReturnOp>(loc(decl.returnLoc), op.getResult());
}

//===----------------------------------------------------------------------===//
// Variants
//===----------------------------------------------------------------------===//

/// A key that tells instances apart: variant, parameter values and how each
/// dim the variant reads is bound.
static std::string instanceKey(const AttentionInfo &use, const Sema &sema) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << use.variant->decl->name << (use.variant->fromPrelude ? "@p" : "@u");
  for (const ConstValue &v : use.paramValues) {
    // Tensors are operands of the attention: they do not change the variant.
    // An absent optional tensor (`none`) changes the variant, though.
    if (v.form == ConstValue::Form::Tensor) {
      os << (v.absent ? "|none" : "|tensor");
      continue;
    }
    os << "|" << static_cast<int>(v.form) << ":" << static_cast<int>(v.kind)
       << ":" << v.intValue << ":" << llvm::format("%a", v.floatValue) << ":"
       << v.boolValue << ":" << v.name;
    for (int64_t e : v.list)
      os << "," << e;
  }
  for (auto &[dim, unused] : use.variant->dimsRead) {
    auto it = use.roles.find(dim);
    if (it != use.roles.end())
      os << "|" << dim << "=role" << static_cast<int>(it->second);
    else
      os << "|" << dim << "=" << *sema.lookupDim(dim)->value;
  }
  return key;
}

std::string MLIRGen::instantiate(const AttentionInfo &use) {
  std::string key = instanceKey(use, sema);
  auto it = symbolByKey.find(key);
  if (it != symbolByKey.end())
    return it->second;
  const std::string &name = use.variant->decl->name;
  bool nameIsKernel = llvm::any_of(sema.getKernels(), [&](auto &k) {
    return k.decl->name == name;
  });
  std::string symbol;
  if (use.defaultParams && !nameIsKernel &&
      llvm::none_of(instances, [&](auto &i) { return i.symbol == name; })) {
    symbol = name;
  } else {
    for (unsigned k = 1;; ++k) {
      symbol = name + "_" + std::to_string(k);
      if (!taken.contains(symbol))
        break;
    }
  }
  taken.insert(symbol);
  symbolByKey[key] = symbol;
  instances.push_back(Instance{symbol, &use});
  return symbol;
}

mlir::DictionaryAttr MLIRGen::getWeightAttr(const LinearUse &linear) {
  switch (linear.weight) {
  case LinearUse::Weight::None:
    return mlir::DictionaryAttr();
  case LinearUse::Weight::Momentum:
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("kind", builder.getStringAttr("momentum")),
         builder.getNamedAttr("beta", builder.getF64FloatAttr(linear.beta)),
         builder.getNamedAttr("gamma",
                              builder.getF64FloatAttr(linear.gamma))});
  case LinearUse::Weight::Rpe:
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("kind", builder.getStringAttr("rpe")),
         builder.getNamedAttr("operand",
                              builder.getI64IntegerAttr(linear.rpeOperand))});
  }
  return mlir::DictionaryAttr();
}

mlir::DictionaryAttr MLIRGen::getPartitionAttr(const StructureUse &st) {
  if (st.kind != StructureUse::Kind::Window2d)
    return mlir::DictionaryAttr();
  SmallVector<NamedAttribute> entries = {
      builder.getNamedAttr("kind", builder.getStringAttr("window2d")),
      builder.getNamedAttr(
          "grid", builder.getDenseI64ArrayAttr({st.gridRows, st.gridCols})),
      builder.getNamedAttr("window", builder.getI64IntegerAttr(st.window)),
      builder.getNamedAttr("shift", builder.getI64IntegerAttr(st.shift))};
  if (st.biasOperand)
    entries.push_back(builder.getNamedAttr(
        "bias", builder.getI64IntegerAttr(*st.biasOperand)));
  return builder.getDictionaryAttr(entries);
}

mlir::DictionaryAttr MLIRGen::getMapAttr(const StructureUse &st) {
  if (st.kind == StructureUse::Kind::Coupler)
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("kind", builder.getStringAttr("coupler")),
         builder.getNamedAttr("grid", builder.getDenseI64ArrayAttr(
                                          {st.gridRows, st.gridCols}))});
  if (st.kind == StructureUse::Kind::Emha)
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("kind", builder.getStringAttr("emha")),
         builder.getNamedAttr("isi", builder.getI64IntegerAttr(st.isiOperand)),
         builder.getNamedAttr("csi", builder.getI64IntegerAttr(st.csiOperand)),
         builder.getNamedAttr("kernel",
                              builder.getI64IntegerAttr(st.kernelSize))});
  return mlir::DictionaryAttr();
}

void MLIRGen::genVariant(const Instance &instance) {
  const AttentionInfo &use = *instance.use;
  const VariantInfo &variant = *use.variant;
  const LinearUse &linear = use.linear;
  FloatAttr scale;
  if (use.variantScale)
    scale = builder.getF64FloatAttr(*use.variantScale);
  mlir::attn::NormalizeKind normalize = mlir::attn::NormalizeKind::softmax;
  if (linear.normalize == Normalizer::Sum)
    normalize = mlir::attn::NormalizeKind::sum;
  else if (linear.normalize == Normalizer::None)
    normalize = mlir::attn::NormalizeKind::none;
  FloatAttr eps;
  if (linear.eps)
    eps = builder.getF64FloatAttr(*linear.eps);
  mlir::DictionaryAttr randomFeatures;
  if (linear.feature == LinearUse::Feature::Favor)
    randomFeatures = builder.getDictionaryAttr(
        {builder.getNamedAttr("features",
                              builder.getI64IntegerAttr(linear.features)),
         builder.getNamedAttr("seed", builder.getI64IntegerAttr(linear.seed))});
  // Luna: `pack = {operand = n, rows = p}` (softmax attentions through the
  // memory, the attention's variant operand n).
  mlir::DictionaryAttr pack;
  if (linear.pack)
    pack = builder.getDictionaryAttr(
        {builder.getNamedAttr("operand",
                              builder.getI64IntegerAttr(linear.packOperand)),
         builder.getNamedAttr("rows",
                              builder.getI64IntegerAttr(linear.packRows))});
  // The attributes by name (the generic builder): absent ones are left out.
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("sym_name", builder.getStringAttr(instance.symbol)),
      builder.getNamedAttr("normalize", mlir::attn::NormalizeKindAttr::get(
                                            builder.getContext(), normalize))};
  auto addAttr = [&](llvm::StringRef name, Attribute value) {
    if (value)
      attrs.push_back(builder.getNamedAttr(name, value));
  };
  addAttr("scale", scale);
  addAttr("eps", eps);
  addAttr("clamp", linear.clamp ? builder.getUnitAttr() : mlir::UnitAttr());
  addAttr("random_features", randomFeatures);
  addAttr("weight", getWeightAttr(linear));
  addAttr("pack", pack);
  addAttr("partition", getPartitionAttr(linear.structure));
  addAttr("map", getMapAttr(linear.structure));
  auto op = builder.create<mlir::attn::VariantOp>(
      loc(variant.decl->nameLoc), mlir::TypeRange(), ValueRange(), attrs);

  {
    OpBuilder::InsertionGuard guard(builder);
    Type index = builder.getIndexType();
    auto genBody = [&](const VariantItemAST *item, Region &region,
                       bool isScore) {
      if (!item)
        return;
      SmallVector<Type> types;
      SmallVector<mlir::Location> locs;
      for (auto [i, binder] : llvm::enumerate(item->binders)) {
        types.push_back(isScore && i == 0 ? Type(builder.getF32Type()) : index);
        locs.push_back(loc(binder.loc));
      }
      Block *block = builder.createBlock(&region, region.end(), types, locs);
      Value result = genExpr(*item->value, *block, use);
      if (isScore)
        result = promote(result, sema.getType(*item->value), ScalarKind::Float,
                         loc(item->value->getLoc()));
      builder.create<mlir::attn::YieldOp>(loc(item->loc), ValueRange{result});
    };
    genBody(variant.score, op.getScore(), /*isScore=*/true);
    genBody(variant.mask, op.getMask(), /*isScore=*/false);

    // feature: ^bb0(%x: f32) yielding phi(x).
    if (linear.feature == LinearUse::Feature::Pointwise ||
        linear.feature == LinearUse::Feature::Builtin) {
      const VariantItemAST &item = *variant.feature;
      mlir::Location l = loc(item.loc);
      mlir::Location argLoc =
          item.binders.empty() ? l : loc(item.binders[0].loc);
      Block *block = builder.createBlock(&op.getFeature(), {},
                                         {builder.getF32Type()}, {argLoc});
      Value result;
      if (linear.feature == LinearUse::Feature::Pointwise)
        result = promote(genExpr(*item.value, *block, use),
                         sema.getType(*item.value), ScalarKind::Float,
                         loc(item.value->getLoc()));
      else
        result = genFeatureMap(linear.builtin, block->getArgument(0),
                               loc(item.value->getLoc()));
      builder.create<mlir::attn::YieldOp>(l, ValueRange{result});
    }
    // expand: ^bb0(%i: index) yielding the E factors.
    if (const VariantItemAST *item = variant.expand) {
      Block *block = builder.createBlock(&op.getExpand(), {}, {index},
                                         {loc(item->binders[0].loc)});
      SmallVector<Value> factors;
      for (const ExprPtr &e : cast<ListExprAST>(*item->value).getElements())
        factors.push_back(promote(genExpr(*e, *block, use), sema.getType(*e),
                                  ScalarKind::Float, loc(e->getLoc())));
      builder.create<mlir::attn::YieldOp>(loc(item->loc), factors);
    }
  }
  builder.setInsertionPointAfter(op);
}

Value MLIRGen::genConst(const ConstValue &value, mlir::Location l) {
  switch (value.kind) {
  case ScalarKind::Int:
    return builder.create<arith::ConstantIndexOp>(l, value.intValue);
  case ScalarKind::Float:
    return builder.create<arith::ConstantOp>(
        l, builder.getF32FloatAttr(static_cast<float>(value.floatValue)));
  case ScalarKind::Bool:
    return builder.create<arith::ConstantIntOp>(l, value.boolValue, 1);
  }
  return Value();
}

Value MLIRGen::promote(Value value, ScalarKind from, ScalarKind to,
                       mlir::Location l) {
  if (from == to || to != ScalarKind::Float || from != ScalarKind::Int)
    return value;
  Value i64 =
      builder.create<arith::IndexCastOp>(l, builder.getI64Type(), value);
  return builder.create<arith::SIToFPOp>(l, builder.getF32Type(), i64);
}

Value MLIRGen::genName(const NameExprAST &name, Block &block,
                       const AttentionInfo &use) {
  mlir::Location l = loc(name.getLoc());
  const NameRef &ref = sema.getNameRef(name);
  switch (ref.kind) {
  case NameRef::Kind::Binder:
    return block.getArgument(ref.index);
  case NameRef::Kind::Param:
    return genConst(use.paramValues[ref.index], l);
  case NameRef::Kind::Dim:
  case NameRef::Kind::Role:
    break;
  }
  Role userRole = ref.role;
  if (ref.kind == NameRef::Kind::Dim) {
    auto it = use.roles.find(ref.dim);
    if (it == use.roles.end())
      return builder.create<arith::ConstantIndexOp>(
          l, *sema.lookupDim(ref.dim)->value);
    userRole = it->second;
  }
  mlir::attn::DimRole role = mlir::attn::DimRole::B;
  switch (userRole) {
  case Role::B:
    role = mlir::attn::DimRole::B;
    break;
  case Role::H:
    role = mlir::attn::DimRole::H;
    break;
  case Role::N:
    role = mlir::attn::DimRole::N;
    break;
  case Role::M:
    role = mlir::attn::DimRole::M;
    break;
  case Role::D:
    role = mlir::attn::DimRole::D;
    break;
  case Role::G:
    role = mlir::attn::DimRole::G;
    break;
  }
  return builder.create<mlir::attn::DimOp>(l, builder.getIndexType(), role);
}

Value MLIRGen::genExpr(const ExprAST &expr, Block &block,
                       const AttentionInfo &use) {
  mlir::Location l = loc(expr.getLoc());
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    return genConst(ConstValue::getInt(cast<IntExprAST>(expr).getValue()), l);
  case ExprAST::Kind::Float:
    return genConst(
        ConstValue::getFloat(cast<FloatExprAST>(expr).getValue()), l);
  case ExprAST::Kind::Bool:
    return genConst(ConstValue::getBool(cast<BoolExprAST>(expr).getValue()),
                    l);
  case ExprAST::Kind::Name:
    return genName(cast<NameExprAST>(expr), block, use);
  case ExprAST::Kind::Unary: {
    const auto &unary = cast<UnaryExprAST>(expr);
    const ExprAST &operand = unary.getOperand();
    if (unary.getOp() == UnaryOp::Not) {
      Value v = genExpr(operand, block, use);
      Value one = builder.create<arith::ConstantIntOp>(l, 1, 1);
      return builder.create<arith::XOrIOp>(l, v, one);
    }
    // Negated literals fold into the constant.
    if (auto *i = llvm::dyn_cast<IntExprAST>(&operand))
      return genConst(ConstValue::getInt(-i->getValue()), l);
    if (auto *f = llvm::dyn_cast<FloatExprAST>(&operand))
      return genConst(ConstValue::getFloat(-f->getValue()), l);
    Value v = genExpr(operand, block, use);
    if (sema.getType(operand) == ScalarKind::Float)
      return builder.create<arith::NegFOp>(l, v);
    Value zero = builder.create<arith::ConstantIndexOp>(l, 0);
    return builder.create<arith::SubIOp>(l, zero, v);
  }
  case ExprAST::Kind::Binary: {
    const auto &binary = cast<BinaryExprAST>(expr);
    ScalarKind lk = sema.getType(binary.getLHS());
    ScalarKind rk = sema.getType(binary.getRHS());
    Value lhs = genExpr(binary.getLHS(), block, use);
    Value rhs = genExpr(binary.getRHS(), block, use);
    BinaryOp op = binary.getOp();
    if (op == BinaryOp::And)
      return builder.create<arith::AndIOp>(l, lhs, rhs);
    if (op == BinaryOp::Or)
      return builder.create<arith::OrIOp>(l, lhs, rhs);
    // Numbers meet in f32 unless both are ints; bools compare as i1.
    ScalarKind kind = lk == ScalarKind::Bool ? ScalarKind::Bool
                      : lk == ScalarKind::Int && rk == ScalarKind::Int
                          ? ScalarKind::Int
                          : ScalarKind::Float;
    lhs = promote(lhs, lk, kind, l);
    rhs = promote(rhs, rk, kind, l);
    if (kind == ScalarKind::Float) {
      switch (op) {
      case BinaryOp::Add:
        return builder.create<arith::AddFOp>(l, lhs, rhs);
      case BinaryOp::Sub:
        return builder.create<arith::SubFOp>(l, lhs, rhs);
      case BinaryOp::Mul:
        return builder.create<arith::MulFOp>(l, lhs, rhs);
      case BinaryOp::Div:
        return builder.create<arith::DivFOp>(l, lhs, rhs);
      case BinaryOp::Rem:
        return builder.create<arith::RemFOp>(l, lhs, rhs);
      case BinaryOp::Lt:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT,
                                             lhs, rhs);
      case BinaryOp::Le:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE,
                                             lhs, rhs);
      case BinaryOp::Gt:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT,
                                             lhs, rhs);
      case BinaryOp::Ge:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE,
                                             lhs, rhs);
      case BinaryOp::Eq:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                             lhs, rhs);
      case BinaryOp::Ne:
        return builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE,
                                             lhs, rhs);
      default:
        break;
      }
    }
    switch (op) {
    case BinaryOp::Add:
      return builder.create<arith::AddIOp>(l, lhs, rhs);
    case BinaryOp::Sub:
      return builder.create<arith::SubIOp>(l, lhs, rhs);
    case BinaryOp::Mul:
      return builder.create<arith::MulIOp>(l, lhs, rhs);
    case BinaryOp::Div:
      return builder.create<arith::DivSIOp>(l, lhs, rhs);
    case BinaryOp::Rem:
      return builder.create<arith::RemSIOp>(l, lhs, rhs);
    case BinaryOp::Lt:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, lhs,
                                           rhs);
    case BinaryOp::Le:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, lhs,
                                           rhs);
    case BinaryOp::Gt:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, lhs,
                                           rhs);
    case BinaryOp::Ge:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, lhs,
                                           rhs);
    case BinaryOp::Eq:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, lhs,
                                           rhs);
    case BinaryOp::Ne:
      return builder.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, lhs,
                                           rhs);
    default:
      break;
    }
    llvm_unreachable("logical operators handled above");
  }
  case ExprAST::Kind::Ternary: {
    const auto &ternary = cast<TernaryExprAST>(expr);
    ScalarKind kind = sema.getType(expr);
    Value cond = genExpr(ternary.getCond(), block, use);
    Value a = genExpr(ternary.getThen(), block, use);
    Value b = genExpr(ternary.getElse(), block, use);
    a = promote(a, sema.getType(ternary.getThen()), kind, l);
    b = promote(b, sema.getType(ternary.getElse()), kind, l);
    return builder.create<arith::SelectOp>(l, cond, a, b);
  }
  case ExprAST::Kind::Call:
    return genCall(cast<CallExprAST>(expr), block, use);
  case ExprAST::Kind::Index: {
    auto [param, element] = sema.getIndexRef(cast<IndexExprAST>(expr));
    return genConst(
        ConstValue::getInt(use.paramValues[param].list[element]), l);
  }
  case ExprAST::Kind::List:
    break;
  }
  llvm_unreachable("lists are only the value of expand");
}

Value MLIRGen::genF32(double value, mlir::Location l) {
  return genConst(ConstValue::getFloat(value), l);
}

Value MLIRGen::genRelu(Value x, mlir::Location l) {
  return builder.create<arith::MaximumFOp>(l, x, genF32(0.0, l));
}

Value MLIRGen::genElu(Value x, mlir::Location l) {
  // x > 0 ? x : exp(x) - 1
  Value zero = genF32(0.0, l);
  Value positive =
      builder.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, zero);
  Value e = builder.create<math::ExpOp>(l, x);
  Value em1 = builder.create<arith::SubFOp>(l, e, genF32(1.0, l));
  return builder.create<arith::SelectOp>(l, positive, x, em1);
}

Value MLIRGen::genSoftplus(Value x, mlir::Location l) {
  // log(1 + exp(x)), stably: max(x, 0) + log1p(exp(-|x|)).
  Value relu = genRelu(x, l);
  Value abs = builder.create<math::AbsFOp>(l, x);
  Value neg = builder.create<arith::NegFOp>(l, abs);
  Value e = builder.create<math::ExpOp>(l, neg);
  Value log = builder.create<math::Log1pOp>(l, e);
  return builder.create<arith::AddFOp>(l, relu, log);
}

Value MLIRGen::genSigmoid(Value x, mlir::Location l) {
  // 1 / (1 + exp(-x))
  Value one = genF32(1.0, l);
  Value neg = builder.create<arith::NegFOp>(l, x);
  Value e = builder.create<math::ExpOp>(l, neg);
  Value den = builder.create<arith::AddFOp>(l, one, e);
  return builder.create<arith::DivFOp>(l, one, den);
}

Value MLIRGen::genFeatureMap(llvm::StringRef map, Value x, mlir::Location l) {
  if (map == "relu")
    return genRelu(x, l);
  if (map == "elu1") {
    Value elu = genElu(x, l);
    return builder.create<arith::AddFOp>(l, elu, genF32(1.0, l));
  }
  if (map == "softplus")
    return genSoftplus(x, l);
  if (map == "exp")
    return builder.create<math::ExpOp>(l, x);
  llvm_unreachable("Sema accepts only known feature maps");
}

Value MLIRGen::genCall(const CallExprAST &call, Block &block,
                       const AttentionInfo &use) {
  mlir::Location l = loc(call.getLoc());
  llvm::StringRef name = call.getCallee();
  ScalarKind kind = sema.getType(call);
  SmallVector<Value> args;
  for (const ArgAST &arg : call.getArgs()) {
    Value v = genExpr(*arg.value, block, use);
    // abs keeps ints; min/max keep two ints; everything else is f32.
    args.push_back(promote(v, sema.getType(*arg.value), kind, l));
  }
  if (kind == ScalarKind::Int) {
    if (name == "abs")
      return builder.create<math::AbsIOp>(l, args[0]);
    if (name == "min")
      return builder.create<arith::MinSIOp>(l, args[0], args[1]);
    return builder.create<arith::MaxSIOp>(l, args[0], args[1]);
  }
  if (name == "exp")
    return builder.create<math::ExpOp>(l, args[0]);
  if (name == "exp2")
    return builder.create<math::Exp2Op>(l, args[0]);
  if (name == "log")
    return builder.create<math::LogOp>(l, args[0]);
  if (name == "tanh")
    return builder.create<math::TanhOp>(l, args[0]);
  if (name == "sqrt")
    return builder.create<math::SqrtOp>(l, args[0]);
  if (name == "rsqrt")
    return builder.create<math::RsqrtOp>(l, args[0]);
  if (name == "sin")
    return builder.create<math::SinOp>(l, args[0]);
  if (name == "cos")
    return builder.create<math::CosOp>(l, args[0]);
  if (name == "floor")
    return builder.create<math::FloorOp>(l, args[0]);
  if (name == "abs")
    return builder.create<math::AbsFOp>(l, args[0]);
  if (name == "min")
    return builder.create<arith::MinimumFOp>(l, args[0], args[1]);
  if (name == "max")
    return builder.create<arith::MaximumFOp>(l, args[0], args[1]);
  if (name == "pow")
    return builder.create<math::PowFOp>(l, args[0], args[1]);
  if (name == "elu")
    return genElu(args[0], l);
  if (name == "relu")
    return genRelu(args[0], l);
  if (name == "softplus")
    return genSoftplus(args[0], l);
  if (name == "sigmoid")
    return genSigmoid(args[0], l);
  llvm_unreachable("Sema accepts only known functions");
}

OwningOpRef<ModuleOp>
attn::frontend::generateModule(MLIRContext &context, const Sema &sema) {
  return MLIRGen(context, sema).generate();
}
