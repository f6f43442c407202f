//===- Sema.cpp - semantic checks of declarations and kernels -------------===//
//
// Dims and `--dim` overrides, variant declarations (parameters, items, the
// linear family's feature/expand/weight/require and its normalizers, Luna's
// pack), kernel signatures and the `attention(...)` call: name resolution,
// types, shape agreement and each use's parameter values, requirements and
// tensor arguments (an rpe bias, a Luna memory); and the `ema(...)` call
// (Mega's EMA SeqMix): its parameters' shapes and compat.
//
//===----------------------------------------------------------------------===//

#include "frontend/Sema.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace attn::frontend;
using llvm::cast;
using llvm::dyn_cast;

llvm::StringRef attn::frontend::spell(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  }
  return "?";
}

static bool isFloat(DType dtype) { return dtype != DType::I32; }

/// Prints a type as the user wrote it: `f32[B, H, N, 64]`.
static std::string printType(const ResolvedType &type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << spell(type.dtype) << "[";
  llvm::interleaveComma(type.dims, os, [&](const ResolvedDim &d) {
    if (d.name.empty())
      os << *d.value;
    else
      os << d.name;
  });
  os << "]";
  return s;
}

/// Prints one extent for messages: `N (= 1024)`, `N (= ?)`, `64`.
static std::string printDim(const ResolvedDim &d) {
  std::string value = d.value ? std::to_string(*d.value) : "?";
  return d.name.empty() ? value : d.name + " (= " + value + ")";
}

/// Two extents agree when they name the same dim or have the same value.
static bool sameDim(const ResolvedDim &a, const ResolvedDim &b) {
  if (!a.name.empty() && a.name == b.name)
    return true;
  return a.value && b.value && *a.value == *b.value;
}

mlir::InFlightDiagnostic Sema::emitError(const Location &loc) {
  hadError = true;
  return mlir::emitError(
      toMLIRLoc(context, errorLocOverride ? *errorLocOverride : loc));
}

void Sema::attachNote(mlir::InFlightDiagnostic &diag, const Location &loc,
                      llvm::StringRef message) {
  diag.attachNote(toMLIRLoc(context, loc)) << message;
}

const DimInfo *Sema::lookupDim(llvm::StringRef name) const {
  auto it = dimIndex.find(name);
  return it == dimIndex.end() ? nullptr : &dims[it->second];
}

std::vector<std::string> Sema::getVariantNames() const {
  std::vector<std::string> names;
  for (auto &entry : variants)
    names.push_back(entry.first);
  return names;
}

mlir::LogicalResult Sema::check(const ModuleAST &module,
                                const ModuleAST &prelude,
                                const std::vector<KernelDeclAST> &synthetic) {
  checkDims(module);
  declareVariants(prelude, /*fromPrelude=*/true);
  declareVariants(module, /*fromPrelude=*/false);
  for (auto &entry : variants)
    checkVariant(entry.second);
  llvm::StringMap<const KernelDeclAST *> kernelNames;
  for (const KernelDeclAST &kernel : module.kernels) {
    auto [it, inserted] = kernelNames.try_emplace(kernel.name, &kernel);
    if (!inserted) {
      auto diag = emitError(kernel.nameLoc)
                  << "kernel '" << kernel.name << "' is already declared";
      attachNote(diag, it->second->nameLoc, "previous declaration is here");
      continue;
    }
    checkKernel(kernel);
  }
  for (const KernelDeclAST &kernel : synthetic) {
    if (kernelNames.count(kernel.name)) {
      emitError(kernel.nameLoc)
          << "kernel '" << kernel.name
          << "' is already declared (the name of an architecture's "
             "attention kernel)";
      continue;
    }
    checkKernel(kernel);
  }
  return mlir::failure(hadError);
}

//===----------------------------------------------------------------------===//
// Dims
//===----------------------------------------------------------------------===//

void Sema::checkDims(const ModuleAST &module) {
  for (const DimDeclAST &decl : module.dims) {
    for (const DimDefAST &def : decl.defs) {
      if (const DimInfo *previous = lookupDim(def.name)) {
        auto diag = emitError(def.loc)
                    << "dim '" << def.name << "' is already declared";
        attachNote(diag, previous->loc, "previous declaration is here");
        continue;
      }
      if (def.value && *def.value <= 0)
        emitError(def.valueLoc) << "dim '" << def.name
                                << "' must be positive, got " << *def.value;
      dimIndex[def.name] = dims.size();
      dims.push_back(DimInfo{def.name, def.value, def.loc});
    }
  }
  for (auto &[name, value] : options.dimOverrides) {
    auto it = dimIndex.find(name);
    if (it == dimIndex.end()) {
      hadError = true;
      auto diag = mlir::emitError(mlir::UnknownLoc::get(&context))
                  << "--dim " << name << "=" << value
                  << " names a dim that is not declared";
      if (!dims.empty()) {
        diag << "; the declared dims are ";
        llvm::interleaveComma(dims, diag,
                              [&](const DimInfo &d) { diag << d.name; });
      }
      continue;
    }
    DimInfo &dim = dims[it->second];
    if (value <= 0) {
      emitError(dim.loc) << "dim '" << name << "' must be positive, got "
                         << value << " (from --dim " << name << "=" << value
                         << ")";
      continue;
    }
    dim.value = value;
  }
}

//===----------------------------------------------------------------------===//
// Variants
//===----------------------------------------------------------------------===//

void Sema::declareVariants(const ModuleAST &module, bool fromPrelude) {
  llvm::StringMap<const VariantDeclAST *> seen;
  for (const VariantDeclAST &decl : module.variants) {
    auto [it, inserted] = seen.try_emplace(decl.name, &decl);
    if (!inserted) {
      auto diag = emitError(decl.nameLoc)
                  << "variant '" << decl.name << "' is already declared";
      attachNote(diag, it->second->nameLoc, "previous declaration is here");
      continue;
    }
    VariantInfo info;
    info.decl = &decl;
    info.fromPrelude = fromPrelude;
    variants[decl.name] = std::move(info); // User variants shadow the prelude.
  }
}

std::optional<ParamType> Sema::checkParamType(const VariantParamAST &param) {
  ParamType type;
  std::optional<ScalarKind> scalar =
      llvm::StringSwitch<std::optional<ScalarKind>>(param.type)
          .Case("int", ScalarKind::Int)
          .Case("f32", ScalarKind::Float)
          .Case("f64", ScalarKind::Float)
          .Case("bool", ScalarKind::Bool)
          .Default(std::nullopt);
  if (param.listLength) {
    if (param.type != "int") {
      emitError(param.typeLoc) << "only lists of ints are supported (int[K]), "
                               << "got " << param.type << "["
                               << *param.listLength << "]";
      return std::nullopt;
    }
    if (*param.listLength <= 0 || *param.listLength > 1024) {
      emitError(param.listLengthLoc)
          << "the length of a list type must be between 1 and 1024, got "
          << *param.listLength;
      return std::nullopt;
    }
    type.form = ConstValue::Form::IntList;
    type.length = static_cast<unsigned>(*param.listLength);
    return type;
  }
  if (scalar) {
    type.scalar = *scalar;
    return type;
  }
  if (param.type == "feature") {
    type.form = ConstValue::Form::Feature;
    return type;
  }
  if (param.type == "tensor") {
    type.form = ConstValue::Form::Tensor;
    return type;
  }
  emitError(param.typeLoc) << "unknown parameter type '" << param.type
                           << "'; expected int, f32, f64, bool, feature, "
                           << "tensor or int[K]";
  return std::nullopt;
}

bool Sema::checkBinders(const VariantItemAST &item,
                        const llvm::StringMap<const VariantParamAST *> &params,
                        llvm::StringRef what) {
  bool ok = true;
  for (auto [i, binder] : llvm::enumerate(item.binders)) {
    for (unsigned j = 0; j < i; ++j) {
      if (item.binders[j].name == binder.name) {
        auto diag = emitError(binder.loc) << "duplicate parameter '"
                                          << binder.name << "' in '"
                                          << item.name << "'";
        attachNote(diag, item.binders[j].loc, "previous declaration is here");
        ok = false;
        break;
      }
    }
    if (auto it = params.find(binder.name); it != params.end()) {
      auto diag = emitError(binder.loc)
                  << "parameter '" << binder.name << "' of '" << item.name
                  << "' has the name of a parameter of " << what;
      attachNote(diag, it->second->loc, "the variant parameter is here");
      ok = false;
    }
  }
  return ok;
}

void Sema::checkVariant(VariantInfo &info) {
  const VariantDeclAST &decl = *info.decl;
  std::string what = "variant '" + decl.name + "'";

  // Parameters.
  llvm::StringMap<const VariantParamAST *> paramNames;
  for (const VariantParamAST &param : decl.params) {
    auto [it, inserted] = paramNames.try_emplace(param.name, &param);
    if (!inserted) {
      auto diag = emitError(param.loc) << "duplicate parameter '" << param.name
                                       << "' in " << what;
      attachNote(diag, it->second->loc, "previous declaration is here");
    }
    std::optional<ParamType> type = checkParamType(param);
    if (!type) {
      info.paramTypes.push_back(ParamType());
      info.paramKinds.push_back(ScalarKind::Int);
      info.defaults.push_back(std::nullopt);
      info.bad = true;
      continue;
    }
    info.paramTypes.push_back(*type);
    info.paramKinds.push_back(type->form == ConstValue::Form::Scalar
                                  ? type->scalar
                                  : ScalarKind::Int);
    std::optional<ConstValue> defaultValue;
    if (param.defaultValue) {
      std::string defaultWhat = "the default of parameter '" + param.name + "'";
      if (type->form == ConstValue::Form::Tensor) {
        // The one default of a tensor is `none`: no tensor (an optional
        // table, such as window2d's bias).
        auto *none = dyn_cast<NameExprAST>(param.defaultValue.get());
        if (none && none->getName() == "none")
          defaultValue = ConstValue::getAbsentTensor();
        else
          emitError(param.defaultValue->getLoc())
              << "tensor parameter '" << param.name << "' can only default "
              << "to none (no tensor): its value is a kernel argument given "
              << "at each use";
      } else

        defaultValue =
            evalParamValue(*param.defaultValue, *type, defaultWhat, defaultWhat);
    }
    info.defaults.push_back(defaultValue);
  }

  // Items.
  static const char *const kItems[] = {
      "score", "mask", "normalize", "scale",     "feature", "expand",
      "weight", "pack", "partition", "map",     "require"};
  llvm::StringMap<const VariantItemAST *> itemNames;
  for (const VariantItemAST &item : decl.items) {
    if (!llvm::is_contained(kItems, item.name)) {
      emitError(item.loc) << "unknown item '" << item.name << "' in " << what
                          << "; expected score, mask, normalize, scale, "
                          << "feature, expand, weight, pack, partition, map "
                          << "or require";
      continue;
    }
    // `require` is the one item that may repeat.
    auto [it, inserted] = itemNames.try_emplace(item.name, &item);
    if (!inserted && item.name != "require") {
      auto diag = emitError(item.loc) << "'" << item.name
                                      << "' is already defined in " << what;
      attachNote(diag, it->second->loc, "previous definition is here");
      continue;
    }
    bool isScore = item.name == "score", isMask = item.name == "mask";
    bool hasBody = isScore || isMask || item.name == "feature" ||
                   item.name == "expand";
    if (!hasBody && item.hasBinders) {
      emitError(item.loc) << "'" << item.name
                          << "' takes no parameters; write '" << item.name
                          << " = ...'";
      if (item.name != "scale")
        info.bad = true;
      continue;
    }
    if (item.name == "scale") {
      info.scale = &item;
      continue;
    }
    if (item.name == "normalize") {
      checkNormalizeItem(info, item);
      continue;
    }
    if (item.name == "weight") {
      checkWeightItem(info, item);
      continue;
    }
    if (item.name == "pack") {
      checkPackItem(info, item);
      continue;
    }
    if (item.name == "partition") {
      checkPartitionItem(info, item);
      continue;
    }
    if (item.name == "map") {
      checkMapItem(info, item);
      continue;
    }
    if (item.name == "require") {
      checkRequireItem(info, item);
      continue;
    }
    if (item.name == "feature") {
      if (!item.hasBinders || checkBinders(item, paramNames, what))
        checkFeatureItem(info, item);
      else
        info.bad = true;
      continue;
    }
    if (item.name == "expand") {
      if (checkBinders(item, paramNames, what))
        checkExpandItem(info, item);
      else
        info.bad = true;
      continue;
    }

    // score(s, b, h, i, j) = expr | mask(b, h, i, j) = expr
    unsigned arity = isScore ? 5 : 4;
    llvm::StringRef signature = isScore ? "score(s, b, h, i, j)"
                                        : "mask(b, h, i, j)";
    if (!item.hasBinders || item.binders.size() != arity) {
      emitError(item.loc) << "'" << item.name << "' takes " << arity
                          << " parameters, as in " << signature << ", got "
                          << item.binders.size();
      continue;
    }
    if (!checkBinders(item, paramNames, what))
      continue;

    static const ScalarKind kScoreBinders[] = {
        ScalarKind::Float, ScalarKind::Int, ScalarKind::Int, ScalarKind::Int,
        ScalarKind::Int};
    static const ScalarKind kMaskBinders[] = {ScalarKind::Int, ScalarKind::Int,
                                              ScalarKind::Int, ScalarKind::Int};
    Scope scope{info, item,
                isScore ? llvm::ArrayRef(kScoreBinders)
                        : llvm::ArrayRef(kMaskBinders),
                isScore ? "s, b, h, i, j by position"
                        : "b, h, i, j by position",
                info.dimsRead};
    std::optional<ScalarKind> kind = checkExpr(*item.value, scope);
    if (!kind)
      continue;
    if (isScore && *kind == ScalarKind::Bool) {
      emitError(item.value->getLoc())
          << "the score must be a number, got a boolean expression";
      continue;
    }
    if (isMask && *kind != ScalarKind::Bool) {
      emitError(item.value->getLoc())
          << "the mask must be a boolean expression (true keeps key j for "
          << "query i), got " << (*kind == ScalarKind::Int ? "an int" : "a f32")
          << " expression";
      continue;
    }
    (isScore ? info.score : info.mask) = &item;
  }
  checkLinearConsistency(info);

  // With default parameters, `scale` and the linear-family items can be
  // checked once here (tensor parameters have no default and change
  // nothing but the operand they bind).
  bool allDefaults = true;
  std::vector<ConstValue> values;
  unsigned tensors = 0;
  for (auto [i, type] : llvm::enumerate(info.paramTypes)) {
    if (type.form == ConstValue::Form::Tensor) {
      values.push_back(info.defaults[i] ? *info.defaults[i]
                                        : ConstValue::getTensor("", tensors++));
      continue;
    }
    if (!info.defaults[i]) {
      allDefaults = false;
      break;
    }
    values.push_back(*info.defaults[i]);
  }
  if (allDefaults && !info.bad) {
    LinearUse unused;
    info.badDefaults =
        !resolveLinear(info, values, /*given=*/nullptr, decl.nameLoc, unused);
  }
  if (info.scale && allDefaults) {
    ConstScope scope{"the scale of " + what, &decl, &values};
    std::optional<ConstValue> v = evalConst(*info.scale->value, scope);
    info.badScale =
        !v || !checkScaleValue(*v, info.scale->value->getLoc(), what);
  }
}

/// normalize = softmax | sum | sum(eps = E) | sum(clamp = E) | none
void Sema::checkNormalizeItem(VariantInfo &info, const VariantItemAST &item) {
  info.normalize = &item;
  const ExprAST &value = *item.value;
  if (auto *name = dyn_cast<NameExprAST>(&value)) {
    std::optional<Normalizer> kind =
        llvm::StringSwitch<std::optional<Normalizer>>(name->getName())
            .Case("softmax", Normalizer::Softmax)
            .Case("sum", Normalizer::Sum)
            .Case("none", Normalizer::None)
            .Default(std::nullopt);
    if (kind) {
      info.normalizer = *kind;
      return;
    }
  }
  auto *call = dyn_cast<CallExprAST>(&value);
  if (call && call->getCallee() == "sum") {
    info.normalizer = Normalizer::Sum;
    const auto &args = call->getArgs();
    if (args.size() != 1 || (args[0].name != "eps" && args[0].name != "clamp")) {
      emitError(args.empty() || args.size() > 1 ? call->getLoc() : args[0].loc)
          << "sum takes one named argument: sum(eps = E) or sum(clamp = E)";
      info.bad = true;
    }
    return;
  }
  emitError(value.getLoc()) << "unknown normalizer; expected softmax, sum, "
                            << "sum(eps = E), sum(clamp = E) or none";
  info.bad = true;
}

/// feature(x) = expr | feature = NAME | feature = favor_plus(m, seed)
void Sema::checkFeatureItem(VariantInfo &info, const VariantItemAST &item) {
  const VariantDeclAST &decl = *info.decl;
  if (item.hasBinders) {
    if (item.binders.size() != 1) {
      emitError(item.loc) << "'feature' takes 1 parameter, as in feature(x) "
                          << "= expr, got " << item.binders.size();
      info.bad = true;
      return;
    }
    static const ScalarKind kBinders[] = {ScalarKind::Float};
    Scope scope{info, item, kBinders, "x", info.dimsRead};
    std::optional<ScalarKind> kind = checkExpr(*item.value, scope);
    if (!kind) {
      info.bad = true;
      return;
    }
    if (*kind == ScalarKind::Bool) {
      emitError(item.value->getLoc())
          << "the feature map must be a number, got a boolean expression";
      info.bad = true;
      return;
    }
    info.feature = &item;
    return;
  }
  const ExprAST &value = *item.value;
  if (auto *name = dyn_cast<NameExprAST>(&value)) {
    for (auto [i, param] : llvm::enumerate(decl.params)) {
      if (param.name != name->getName())
        continue;
      if (info.paramTypes[i].form != ConstValue::Form::Feature) {
        emitError(value.getLoc())
            << "parameter '" << param.name << "' of variant '" << decl.name
            << "' has type " << info.paramTypes[i].str()
            << ", not feature; declare it as '" << param.name
            << ": feature'";
        info.bad = true;
        return;
      }
      info.feature = &item;
      return;
    }
    if (isFeatureMap(name->getName())) {
      info.feature = &item;
      return;
    }
    emitError(value.getLoc())
        << "unknown feature map '" << name->getName() << "'; expected "
        << "identity, relu, elu1, softplus, exp, favor_plus(m, seed), a "
        << "parameter of type feature, or feature(x) = expr";
    info.bad = true;
    return;
  }
  auto *call = dyn_cast<CallExprAST>(&value);
  if (call && call->getCallee() == "favor_plus") {
    const auto &args = call->getArgs();
    bool named = llvm::any_of(args, [](auto &a) { return !a.name.empty(); });
    if (args.empty() || args.size() > 2 || named) {
      emitError(call->getLoc())
          << "favor_plus takes the number of features and a seed, as in "
          << "favor_plus(256, 0)";
      info.bad = true;
      return;
    }
    info.feature = &item;
    return;
  }
  emitError(value.getLoc())
      << "expected a feature map: identity, relu, elu1, softplus, exp, "
      << "favor_plus(m, seed), a parameter of type feature, or feature(x) = "
      << "expr";
  info.bad = true;
}

/// expand(i) = [g1, ..., gE]
void Sema::checkExpandItem(VariantInfo &info, const VariantItemAST &item) {
  if (!item.hasBinders || item.binders.size() != 1) {
    emitError(item.loc) << "'expand' takes 1 parameter, as in expand(i) = "
                        << "[g1, ..., gE], got " << item.binders.size();
    info.bad = true;
    return;
  }
  auto *list = dyn_cast<ListExprAST>(item.value.get());
  if (!list) {
    emitError(item.value->getLoc())
        << "the value of 'expand' must be a list of factors, as in "
        << "expand(i) = [sin(i), cos(i)]";
    info.bad = true;
    return;
  }
  if (list->getElements().empty()) {
    emitError(list->getLoc()) << "'expand' needs at least one factor";
    info.bad = true;
    return;
  }
  static const ScalarKind kBinders[] = {ScalarKind::Int};
  Scope scope{info, item, kBinders, "i", info.dimsRead};
  bool ok = true;
  for (auto [e, element] : llvm::enumerate(list->getElements())) {
    std::optional<ScalarKind> kind = checkExpr(*element, scope);
    if (!kind) {
      ok = false;
      continue;
    }
    if (*kind == ScalarKind::Bool) {
      emitError(element->getLoc())
          << "factor " << e << " of 'expand' must be a number, got a boolean "
          << "expression";
      ok = false;
    }
  }
  if (!ok) {
    info.bad = true;
    return;
  }
  info.expand = &item;
}

/// The tensor parameter of the variant of `info` that `expr` names (the last
/// parameter of that name), if any.
static std::optional<unsigned> findTensorParam(const VariantInfo &info,
                                               const ExprAST &expr) {
  auto *name = dyn_cast<NameExprAST>(&expr);
  std::optional<unsigned> param;
  if (name)
    for (auto [i, p] : llvm::enumerate(info.decl->params))
      if (p.name == name->getName())
        param = i;
  if (!param || info.paramTypes[*param].form != ConstValue::Form::Tensor)
    return std::nullopt;
  return param;
}

/// weight = momentum(beta[, gamma]) | rpe(P)
void Sema::checkWeightItem(VariantInfo &info, const VariantItemAST &item) {
  const VariantDeclAST &decl = *info.decl;
  auto *call = dyn_cast<CallExprAST>(item.value.get());
  llvm::StringRef kind = call ? call->getCallee() : "";
  if (kind != "momentum" && kind != "rpe") {
    emitError(item.value->getLoc())
        << "unknown weight; expected momentum(beta, gamma) or rpe(bias)";
    info.bad = true;
    return;
  }
  const auto &args = call->getArgs();
  bool named = llvm::any_of(args, [](auto &a) { return !a.name.empty(); });
  if (kind == "momentum") {
    if (args.empty() || args.size() > 2 || named) {
      emitError(call->getLoc()) << "momentum takes beta and an optional "
                                << "gamma, as in momentum(0.9, 1.0)";
      info.bad = true;
      return;
    }
    info.weight = &item;
    return;
  }
  if (args.size() != 1 || named || !findTensorParam(info, *args[0].value)) {
    emitError(args.size() == 1 ? args[0].value->getLoc() : call->getLoc())
        << "rpe takes a tensor parameter of variant '" << decl.name
        << "' (declared as 'bias: tensor'), as in rpe(bias)";
    info.bad = true;
    return;
  }
  info.weight = &item;
}

/// pack = luna(memory, rows)
void Sema::checkPackItem(VariantInfo &info, const VariantItemAST &item) {
  const VariantDeclAST &decl = *info.decl;
  auto *call = dyn_cast<CallExprAST>(item.value.get());
  if (!call || call->getCallee() != "luna") {
    emitError(item.value->getLoc())
        << "unknown pack; expected luna(memory, rows)";
    info.bad = true;
    return;
  }
  const auto &args = call->getArgs();
  bool named = llvm::any_of(args, [](auto &a) { return !a.name.empty(); });
  if (args.size() != 2 || named) {
    emitError(call->getLoc())
        << "luna takes a tensor parameter (the memory) and the number of "
        << "rows, as in luna(memory, 16)";
    info.bad = true;
    return;
  }
  std::optional<unsigned> param = findTensorParam(info, *args[0].value);
  if (!param) {
    emitError(args[0].value->getLoc())
        << "luna takes a tensor parameter of variant '" << decl.name
        << "' (declared as 'memory: tensor') as the memory, as in "
        << "luna(memory, 16)";
    info.bad = true;
    return;
  }
  info.pack = &item;
  info.packMemory = *param;
}

/// partition = window2d(grid, window, shift [, bias])
void Sema::checkPartitionItem(VariantInfo &info, const VariantItemAST &item) {
  const VariantDeclAST &decl = *info.decl;
  auto *call = dyn_cast<CallExprAST>(item.value.get());
  if (!call || call->getCallee() != "window2d") {
    emitError(item.value->getLoc())
        << "unknown partition; expected window2d(grid, window, shift [, "
        << "bias])";
    info.bad = true;
    return;
  }
  const auto &args = call->getArgs();
  bool named = llvm::any_of(args, [](auto &a) { return !a.name.empty(); });
  if (args.size() < 3 || args.size() > 4 || named) {
    emitError(call->getLoc())
        << "window2d takes the grid, the window and the shift, and an "
        << "optional bias table, as in window2d(grid, window, shift, bias)";
    info.bad = true;
    return;
  }
  if (args.size() == 4 && !findTensorParam(info, *args[3].value)) {
    emitError(args[3].value->getLoc())
        << "the bias of window2d must be a tensor parameter of variant '"
        << decl.name << "' (declared as 'bias: tensor = none')";
    info.bad = true;
    return;
  }
  info.partition = &item;
}

/// map = coupler(grid) | emha(isi, csi [, kernel])
void Sema::checkMapItem(VariantInfo &info, const VariantItemAST &item) {
  const VariantDeclAST &decl = *info.decl;
  auto *call = dyn_cast<CallExprAST>(item.value.get());
  llvm::StringRef kind = call ? call->getCallee() : "";
  if (kind != "coupler" && kind != "emha") {
    emitError(item.value->getLoc())
        << "unknown map; expected coupler(grid) or emha(isi, csi [, kernel])";
    info.bad = true;
    return;
  }
  const auto &args = call->getArgs();
  bool named = llvm::any_of(args, [](auto &a) { return !a.name.empty(); });
  if (kind == "coupler") {
    if (args.size() != 1 || named) {
      emitError(call->getLoc())
          << "coupler takes the token grid, as in coupler(grid)";
      info.bad = true;
      return;
    }
    info.map = &item;
    return;
  }
  if (args.size() < 2 || args.size() > 3 || named) {
    emitError(call->getLoc())
        << "emha takes the ISI and CSI convolution weights and an optional "
        << "kernel size, as in emha(isi, csi, 3)";
    info.bad = true;
    return;
  }
  for (unsigned n = 0; n < 2; ++n)
    if (!findTensorParam(info, *args[n].value)) {
      emitError(args[n].value->getLoc())
          << "the " << (n ? "CSI" : "ISI") << " weights of emha must be a "
          << "tensor parameter of variant '" << decl.name << "' (declared as '"
          << (n ? "csi" : "isi") << ": tensor')";
      info.bad = true;
      return;
    }
  info.map = &item;
}

/// require = cond
void Sema::checkRequireItem(VariantInfo &info, const VariantItemAST &item) {
  std::vector<std::pair<std::string, Location>> dimsRead;
  Scope scope{info, item, {}, "", dimsRead};
  std::optional<ScalarKind> kind = checkExpr(*item.value, scope);
  if (!kind) {
    info.bad = true;
    return;
  }
  if (*kind != ScalarKind::Bool) {
    emitError(item.value->getLoc())
        << "a requirement must be a boolean expression, got "
        << (*kind == ScalarKind::Int ? "an int" : "a f32") << " expression";
    info.bad = true;
    return;
  }
  info.requirements.push_back(&item);
}

void Sema::checkLinearConsistency(VariantInfo &info) {
  const VariantDeclAST &decl = *info.decl;
  // The first of each item as written (also when it failed its checks).
  auto find = [&](llvm::StringRef name) -> const VariantItemAST * {
    for (const VariantItemAST &item : decl.items)
      if (item.name == name)
        return &item;
    return nullptr;
  };
  // The structural items (issue 5) are softmax attentions; a map fixes the
  // whole score chain, a partition keeps score and mask items (applied
  // within each window).
  const VariantItemAST *partition = find("partition");
  const VariantItemAST *map = find("map");
  if (partition || map) {
    const VariantItemAST *item = map ? map : partition;
    if (partition && map) {
      auto diag = emitError(map->loc)
                  << "variant '" << decl.name << "' has both a partition and "
                  << "a map; give one";
      attachNote(diag, partition->loc, "the partition is here");
      info.bad = true;
    }
    if (info.normalizer != Normalizer::Softmax) {
      auto diag = emitError(item->loc)
                  << "'" << item->name << "' needs normalize = softmax, but "
                  << "variant '" << decl.name << "' normalizes with "
                  << (info.normalizer == Normalizer::Sum ? "sum" : "none");
      attachNote(diag, info.normalize->loc, "the normalizer is set here");
      info.bad = true;
    }
    std::vector<const char *> excluded = {"feature", "expand", "weight",
                                          "pack"};
    if (map) {
      excluded.push_back("score");
      excluded.push_back("mask");
    }
    for (const char *name : excluded) {
      const VariantItemAST *other = find(name);
      if (!other)
        continue;
      auto diag = emitError(other->loc)
                  << "'" << item->name << "' admits no " << name
                  << " item; remove '" << name << "' from variant '"
                  << decl.name << "'";
      attachNote(diag, item->loc, "the " + item->name + " is here");
      info.bad = true;
    }
    return;
  }
  // Luna: two softmax attentions through the memory, nothing else.
  if (const VariantItemAST *pack = find("pack")) {
    if (info.normalizer != Normalizer::Softmax) {
      auto diag = emitError(pack->loc)
                  << "'pack' needs normalize = softmax (Luna's attentions "
                  << "are softmax ones), but variant '" << decl.name
                  << "' normalizes with "
                  << (info.normalizer == Normalizer::Sum ? "sum" : "none");
      attachNote(diag, info.normalize->loc, "the normalizer is set here");
      info.bad = true;
    }
    for (const char *name : {"score", "mask", "feature", "expand", "weight"}) {
      const VariantItemAST *item = find(name);
      if (!item)
        continue;
      auto diag = emitError(item->loc)
                  << "Luna's pack admits no score modifier, mask, feature "
                  << "map or weight; remove '" << name << "' from variant '"
                  << decl.name << "'";
      attachNote(diag, pack->loc, "the pack is here");
      info.bad = true;
    }
    return;
  }
  if (info.normalizer == Normalizer::Softmax) {
    for (const char *name : {"feature", "expand", "weight"}) {
      const VariantItemAST *item = find(name);
      if (!item)
        continue;
      auto diag = emitError(item->loc)
                  << "'" << name << "' needs normalize = sum or none (the "
                  << "linear family), but variant '" << decl.name
                  << "' normalizes with softmax";
      if (info.normalize)
        attachNote(diag, info.normalize->loc, "the normalizer is set here");
      info.bad = true;
    }
    return;
  }
  const char *normalizer = info.normalizer == Normalizer::Sum ? "sum" : "none";
  for (const char *name : {"score", "mask"}) {
    const VariantItemAST *item = find(name);
    if (!item)
      continue;
    emitError(item->loc) << "'" << name << "' breaks the linear "
                         << "factorization of normalize = " << normalizer
                         << " in variant '" << decl.name << "'; only causal = "
                         << "true and kv_lengths can mask a linear-family "
                         << "variant";
    info.bad = true;
  }
  if (const VariantItemAST *item = find("scale")) {
    emitError(item->loc) << "'scale' does not apply to normalize = "
                         << normalizer << ": the scores of variant '"
                         << decl.name << "' are <phi(q), phi(k)>, unscaled";
    info.bad = true;
  }
}

/// Calls `fn(name, loc)` for every name an expression reads (names and the
/// lists of `name[index]`), in order.
template <typename Fn>
static void forEachName(const ExprAST &expr, Fn fn) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
  case ExprAST::Kind::Float:
  case ExprAST::Kind::Bool:
    return;
  case ExprAST::Kind::Name:
    fn(cast<NameExprAST>(expr).getName(), &expr);
    return;
  case ExprAST::Kind::Index:
    // The index is a constant of literals and dims (checked where it is
    // written).
    fn(cast<IndexExprAST>(expr).getName(), &expr);
    return;
  case ExprAST::Kind::Unary:
    forEachName(cast<UnaryExprAST>(expr).getOperand(), fn);
    return;
  case ExprAST::Kind::Binary:
    forEachName(cast<BinaryExprAST>(expr).getLHS(), fn);
    forEachName(cast<BinaryExprAST>(expr).getRHS(), fn);
    return;
  case ExprAST::Kind::Ternary:
    forEachName(cast<TernaryExprAST>(expr).getCond(), fn);
    forEachName(cast<TernaryExprAST>(expr).getThen(), fn);
    forEachName(cast<TernaryExprAST>(expr).getElse(), fn);
    return;
  case ExprAST::Kind::Call:
    for (const ArgAST &arg : cast<CallExprAST>(expr).getArgs())
      forEachName(*arg.value, fn);
    return;
  case ExprAST::Kind::List:
    for (const ExprPtr &e : cast<ListExprAST>(expr).getElements())
      forEachName(*e, fn);
    return;
  }
}

void Sema::emitOnce(const Location &loc, const std::string &message) {
  std::string key = (loc.file ? *loc.file : "") + ":" +
                    std::to_string(loc.line) + ":" + std::to_string(loc.col) +
                    ": " + message;
  hadError = true;
  if (reported.insert(key).second)
    emitError(loc) << message;
}

bool Sema::resolveLinear(const VariantInfo &info,
                         const std::vector<ConstValue> &values,
                         const std::vector<const ArgAST *> *given,
                         const Location &useLoc, LinearUse &out) {
  const VariantDeclAST &decl = *info.decl;
  std::string what = "variant '" + decl.name + "'";
  auto paramIndex = [&](llvm::StringRef name) -> std::optional<unsigned> {
    for (auto [i, p] : llvm::enumerate(decl.params))
      if (p.name == name)
        return i;
    return std::nullopt;
  };
  // Where to report a bad value of `e`: a bare parameter given at the use
  // at its value there; an expression that reads a parameter given at the
  // use at the use; anything else where it is written.
  auto where = [&](const ExprAST &e) -> Location {
    if (!given)
      return e.getLoc();
    if (auto *name = dyn_cast<NameExprAST>(&e))
      if (auto i = paramIndex(name->getName()); i && (*given)[*i])
        return (*given)[*i]->value->getLoc();
    bool readsGiven = false;
    forEachName(e, [&](llvm::StringRef name, const ExprAST *) {
      if (auto i = paramIndex(name); i && (*given)[*i])
        readsGiven = true;
    });
    return readsGiven ? useLoc : e.getLoc();
  };
  // Evaluates `e` (`context` names it in messages) and checks the value
  // with `valid`; reports `message` and the value where(e) otherwise.
  auto eval = [&](const ExprAST &e, const std::string &context, auto valid,
                  const std::string &message) -> std::optional<ConstValue> {
    std::optional<ConstValue> v =
        evalConst(e, ConstScope{context + " of " + what, &decl, &values});
    if (v && !valid(*v)) {
      emitOnce(where(e), message + v->str());
      return std::nullopt;
    }
    return v;
  };

  out.normalize = info.normalizer;
  if (info.normalizer == Normalizer::Sum) {
    out.eps = 1e-6;
    if (auto *call = dyn_cast<CallExprAST>(info.normalize->value.get())) {
      const ArgAST &arg = call->getArgs()[0];
      std::optional<ConstValue> v = eval(
          *arg.value, "the " + arg.name,
          [](const ConstValue &c) {
            return c.kind != ScalarKind::Bool && c.asDouble() > 0.0 &&
                   std::isfinite(c.asDouble());
          },
          arg.name + " of normalize = sum must be a positive number, got ");
      if (!v)
        return false;
      out.eps = v->asDouble();
      out.clamp = arg.name == "clamp";
    }
  }

  if (const VariantItemAST *item = info.feature) {
    const ExprAST &value = *item->value;
    if (item->hasBinders) {
      out.feature = LinearUse::Feature::Pointwise;
    } else if (auto *name = dyn_cast<NameExprAST>(&value)) {
      std::string map = name->getName().str();
      if (auto i = paramIndex(map))
        map = values[*i].name;
      if (map == "identity") {
        out.feature = LinearUse::Feature::Identity;
      } else {
        out.feature = LinearUse::Feature::Builtin;
        out.builtin = map;
      }
    } else {
      const auto &args = cast<CallExprAST>(value).getArgs();
      std::optional<ConstValue> m = eval(
          *args[0].value, "the features",
          [](const ConstValue &c) {
            return c.kind == ScalarKind::Int && c.intValue > 0;
          },
          "features must be a positive integer, got ");
      if (!m)
        return false;
      ConstValue seed = ConstValue::getInt(0);
      if (args.size() == 2) {
        std::optional<ConstValue> s = eval(
            *args[1].value, "the seed",
            [](const ConstValue &c) {
              return c.kind == ScalarKind::Int && c.intValue >= 0;
            },
            "seed must be a non-negative integer, got ");
        if (!s)
          return false;
        seed = *s;
      }
      out.feature = LinearUse::Feature::Favor;
      out.features = m->intValue;
      out.seed = seed.intValue;
    }
  }

  if (const VariantItemAST *item = info.weight) {
    const auto &call = cast<CallExprAST>(*item->value);
    const auto &args = call.getArgs();
    if (call.getCallee() == "momentum") {
      std::optional<ConstValue> beta = eval(
          *args[0].value, "beta",
          [](const ConstValue &c) {
            return c.kind != ScalarKind::Bool && c.asDouble() >= 0.0 &&
                   c.asDouble() < 1.0;
          },
          "beta of the momentum weight must satisfy 0 <= beta < 1, got ");
      if (!beta)
        return false;
      ConstValue gamma = ConstValue::getFloat(1.0);
      if (args.size() == 2) {
        std::optional<ConstValue> g = eval(
            *args[1].value, "gamma",
            [](const ConstValue &c) {
              return c.kind != ScalarKind::Bool && std::isfinite(c.asDouble());
            },
            "gamma of the momentum weight must be a finite number, got ");
        if (!g)
          return false;
        gamma = *g;
      }
      out.weight = LinearUse::Weight::Momentum;
      out.beta = beta->asDouble();
      out.gamma = gamma.asDouble();
    } else {
      // rpe(P): the operand is P's position among the given tensors.
      unsigned param = *findTensorParam(info, *args[0].value);
      if (values[param].absent) {
        emitOnce(useLoc, "the rpe weight of " + what + " needs a tensor, but "
                         "'" + decl.params[param].name + "' is none");
        return false;
      }
      unsigned operand = 0;
      for (unsigned i = 0; i < param; ++i)
        if (values[i].form == ConstValue::Form::Tensor && !values[i].absent)
          ++operand;
      out.weight = LinearUse::Weight::Rpe;
      out.rpeOperand = operand;
    }
  }

  if (const VariantItemAST *item = info.pack) {
    // luna(P, rows): the operand is P's position among the tensor
    // parameters.
    const ExprAST &rowsExpr =
        *cast<CallExprAST>(*item->value).getArgs()[1].value;
    std::optional<ConstValue> rows = eval(
        rowsExpr, "the pack",
        [](const ConstValue &c) {
          return c.form == ConstValue::Form::Scalar &&
                 c.kind == ScalarKind::Int && c.intValue > 0;
        },
        "pack must be a positive integer, got ");
    if (!rows)
      return false;
    if (values[info.packMemory].absent) {
      emitOnce(useLoc, "the pack of " + what + " needs a memory tensor, but '" +
                           decl.params[info.packMemory].name + "' is none");
      return false;
    }
    unsigned operand = 0;
    for (unsigned i = 0; i < info.packMemory; ++i)
      if (values[i].form == ConstValue::Form::Tensor && !values[i].absent)
        ++operand;
    out.pack = true;
    out.packOperand = operand;
    out.packRows = rows->intValue;
  }
  return resolveStructure(info, values, given, useLoc, out.structure);
}

bool Sema::resolveStructure(const VariantInfo &info,
                            const std::vector<ConstValue> &values,
                            const std::vector<const ArgAST *> *given,
                            const Location &useLoc, StructureUse &out) {
  const VariantItemAST *item = info.partition ? info.partition : info.map;
  if (!item)
    return true;
  const VariantDeclAST &decl = *info.decl;
  const auto &call = cast<CallExprAST>(*item->value);
  const auto &args = call.getArgs();
  std::string what = call.getCallee().str();
  auto paramIndex = [&](const ExprAST &e) -> std::optional<unsigned> {
    if (auto *name = dyn_cast<NameExprAST>(&e))
      for (auto [i, p] : llvm::enumerate(decl.params))
        if (p.name == name->getName())
          return i;
    return std::nullopt;
  };
  // As in resolveLinear: a bad value given at the use is reported there.
  auto where = [&](const ExprAST &e) -> Location {
    if (!given)
      return e.getLoc();
    if (auto i = paramIndex(e); i && (*given)[*i])
      return (*given)[*i]->value->getLoc();
    bool readsGiven = false;
    forEachName(e, [&](llvm::StringRef name, const ExprAST *) {
      for (auto [i, p] : llvm::enumerate(decl.params))
        if (p.name == name && (*given)[i])
          readsGiven = true;
    });
    return readsGiven ? useLoc : e.getLoc();
  };
  auto evalInt = [&](const ExprAST &e,
                     const std::string &name) -> std::optional<int64_t> {
    std::optional<ConstValue> v =
        evalConst(e, ConstScope{"the " + name + " of " + what + " in variant '" +
                                    decl.name + "'",
                                &decl, &values});
    if (!v)
      return std::nullopt;
    if (v->form != ConstValue::Form::Scalar || v->kind != ScalarKind::Int) {
      emitOnce(where(e), name + " of " + what + " must be an integer, got " +
                             v->str());
      return std::nullopt;
    }
    return v->intValue;
  };
  // The grid: an int[2] parameter or a list literal of two ints.
  auto evalGrid = [&](const ExprAST &e) -> bool {
    std::vector<int64_t> grid;
    if (auto i = paramIndex(e);
        i && values[*i].form == ConstValue::Form::IntList) {
      grid = values[*i].list;
    } else if (auto *list = dyn_cast<ListExprAST>(&e)) {
      for (const ExprPtr &element : list->getElements()) {
        std::optional<int64_t> v = evalInt(*element, "the grid");
        if (!v)
          return false;
        grid.push_back(*v);
      }
    } else {
      emitOnce(e.getLoc(), "the grid of " + what + " must be a list of two "
                           "ints, [rows, cols], or a parameter of type int[2]");
      return false;
    }
    std::string text = "[";
    for (auto [n, g] : llvm::enumerate(grid))
      text += (n ? ", " : "") + std::to_string(g);
    text += "]";
    if (grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0) {
      emitOnce(where(e), "the grid of " + what + " must be two positive "
                         "extents [rows, cols], got " + text);
      return false;
    }
    out.gridRows = grid[0];
    out.gridCols = grid[1];
    return true;
  };
  // The operand of a tensor argument: its position among the given tensors.
  auto operandOf = [&](unsigned param) {
    unsigned operand = 0;
    for (unsigned i = 0; i < param; ++i)
      if (values[i].form == ConstValue::Form::Tensor && !values[i].absent)
        ++operand;
    return operand;
  };

  if (what == "window2d") {
    if (!evalGrid(*args[0].value))
      return false;
    std::optional<int64_t> window = evalInt(*args[1].value, "the window");
    if (!window)
      return false;
    if (*window <= 0) {
      emitOnce(where(*args[1].value),
               "the window of window2d must be a positive integer, got " +
                   std::to_string(*window));
      return false;
    }
    std::optional<int64_t> shift = evalInt(*args[2].value, "the shift");
    if (!shift)
      return false;
    if (*shift < 0 || *shift >= *window) {
      emitOnce(where(*args[2].value),
               "the shift of window2d must satisfy 0 <= shift < window (" +
                   std::to_string(*window) + "), got " +
                   std::to_string(*shift));
      return false;
    }
    out.kind = StructureUse::Kind::Window2d;
    out.givenWindow = *window;
    out.givenShift = *shift;
    // Swin: a grid no larger than the window is one window, unshifted.
    int64_t side = std::min(out.gridRows, out.gridCols);
    out.window = std::min(*window, side);
    out.shift = *window >= side ? 0 : *shift;
    if (args.size() == 4) {
      unsigned param = *paramIndex(*args[3].value);
      if (!values[param].absent) {
        out.biasParam = param;
        out.biasOperand = operandOf(param);
      }
    }
    return true;
  }
  if (what == "coupler") {
    if (!evalGrid(*args[0].value))
      return false;
    out.kind = StructureUse::Kind::Coupler;
    return true;
  }
  // emha(isi, csi [, kernel])
  int64_t k = 3;
  if (args.size() == 3) {
    std::optional<int64_t> v = evalInt(*args[2].value, "the kernel size");
    if (!v)
      return false;
    if (*v <= 0 || *v % 2 == 0) {
      emitOnce(where(*args[2].value),
               "the kernel size of emha must be a positive odd integer (the "
               "maps are zero-padded by (k - 1) / 2 on each side), got " +
                   std::to_string(*v));
      return false;
    }
    k = *v;
  }
  unsigned isi = *paramIndex(*args[0].value), csi = *paramIndex(*args[1].value);
  for (unsigned param : {isi, csi})
    if (values[param].absent) {
      emitOnce(useLoc, "emha needs its convolution weights, but '" +
                           decl.params[param].name + "' is none");
      return false;
    }
  out.kind = StructureUse::Kind::Emha;
  out.kernelSize = k;
  out.isiParam = isi;
  out.csiParam = csi;
  out.isiOperand = operandOf(isi);
  out.csiOperand = operandOf(csi);
  return true;
}

bool Sema::checkRequires(const VariantInfo &info,
                         const AttentionInfo &attention,
                         const Location &useLoc) {
  const VariantDeclAST &decl = *info.decl;
  for (const VariantItemAST *item : info.requirements) {
    // What it reads, in order, with this use's values.
    std::vector<std::pair<std::string, std::string>> shown;
    auto show = [&](llvm::StringRef name, const std::string &value) {
      if (llvm::none_of(shown, [&](auto &s) { return s.first == name; }))
        shown.emplace_back(name.str(), value);
    };
    bool ok = true;
    forEachName(*item->value, [&](llvm::StringRef name, const ExprAST *e) {
      if (!ok)
        return;
      if (auto *index = dyn_cast<IndexExprAST>(e)) {
        show(name, attention.paramValues[getIndexRef(*index).first].str());
        return;
      }
      const NameRef &ref = getNameRef(cast<NameExprAST>(*e));
      std::optional<int64_t> value;
      switch (ref.kind) {
      case NameRef::Kind::Binder:
        return;
      case NameRef::Kind::Param:
        show(name, attention.paramValues[ref.index].str());
        return;
      case NameRef::Kind::Role:
        value = attention.roleValues.at(ref.role);
        break;
      case NameRef::Kind::Dim:
        value = lookupDim(ref.dim)->value;
        break;
      }
      if (!value) {
        emitError(useLoc) << "variant '" << decl.name << "' needs a static "
                          << name << " to check its requirement '"
                          << item->valueText << "'; " << name
                          << " is symbolic ('?') in this call";
        ok = false;
        return;
      }
      show(name, std::to_string(*value));
    });
    if (!ok)
      return false;
    ConstScope scope{"the requirement '" + item->valueText + "' of variant '" +
                         decl.name + "'",
                     &decl, &attention.paramValues, &attention.roleValues,
                     info.fromPrelude};
    // The prelude's source is not the user's: report at the use.
    if (info.fromPrelude)
      errorLocOverride = useLoc;
    std::optional<ConstValue> v = evalConst(*item->value, scope);
    errorLocOverride.reset();
    if (!v)
      return false;
    if (v->boolValue)
      continue;
    auto diag = emitError(useLoc) << "requirement '" << item->valueText
                                  << "' of variant '" << decl.name
                                  << "' does not hold";
    if (!shown.empty()) {
      diag << " (";
      llvm::interleaveComma(shown, diag, [&](auto &s) {
        diag << s.first << " = " << s.second;
      });
      diag << ")";
    }
    if (!info.fromPrelude)
      attachNote(diag, item->loc, "the requirement is here");
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

std::optional<ResolvedType> Sema::resolveType(const TensorTypeAST &type,
                                              llvm::StringRef what) {
  std::optional<DType> dtype =
      llvm::StringSwitch<std::optional<DType>>(type.dtype)
          .Case("f32", DType::F32)
          .Case("f16", DType::F16)
          .Case("bf16", DType::BF16)
          .Case("f64", DType::F64)
          .Case("i32", DType::I32)
          .Default(std::nullopt);
  bool ok = true;
  if (!dtype) {
    emitError(type.loc) << "unknown element type '" << type.dtype << "' in "
                        << what << "; expected f32, f16, bf16, f64 or i32";
    ok = false;
  }
  ResolvedType resolved;
  resolved.dtype = dtype.value_or(DType::F32);
  for (const DimRefAST &dim : type.dims) {
    ResolvedDim r;
    if (dim.isLiteral()) {
      if (dim.value <= 0) {
        emitError(dim.loc) << "a tensor extent must be positive, got "
                           << dim.value;
        ok = false;
      }
      r.value = dim.value;
    } else if (const DimInfo *info = lookupDim(dim.name)) {
      r.name = dim.name;
      r.value = info->value;
    } else {
      auto diag = emitError(dim.loc) << "unknown dim '" << dim.name << "' in "
                                     << what;
      if (dims.empty()) {
        diag << "; declare it with 'dim " << dim.name << " = ...'";
      } else {
        diag << "; the declared dims are ";
        llvm::interleaveComma(dims, diag,
                              [&](const DimInfo &d) { diag << d.name; });
      }
      ok = false;
    }
    resolved.dims.push_back(std::move(r));
  }
  if (!ok)
    return std::nullopt;

  // The element count must fit in 64 bits.
  int64_t count = 1;
  bool overflow = false;
  double log2Count = 0.0;
  for (const ResolvedDim &d : resolved.dims) {
    if (!d.value || *d.value <= 0)
      continue;
    log2Count += std::log2(static_cast<double>(*d.value));
    overflow |= __builtin_mul_overflow(count, *d.value, &count);
  }
  if (overflow) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::format("%.1f", log2Count);
    emitError(type.loc) << "the tensor type " << printType(resolved) << " of "
                        << what << " has about 2^" << text
                        << " elements, which overflows 64 bits";
    return std::nullopt;
  }
  return resolved;
}

void Sema::checkKernel(const KernelDeclAST &kernel) {
  KernelInfo info;
  info.decl = &kernel;
  bool ok = true;
  llvm::StringMap<const KernelParamAST *> paramNames;
  for (const KernelParamAST &param : kernel.params) {
    auto [it, inserted] = paramNames.try_emplace(param.name, &param);
    if (!inserted) {
      auto diag = emitError(param.loc) << "duplicate parameter '" << param.name
                                       << "' in kernel '" << kernel.name
                                       << "'";
      attachNote(diag, it->second->loc, "previous declaration is here");
      ok = false;
    }
    std::optional<ResolvedType> type =
        resolveType(param.type, "parameter '" + param.name + "'");
    ok &= type.has_value();
    info.paramTypes.push_back(type.value_or(ResolvedType()));
  }
  std::string resultName =
      kernel.resultName.empty() ? "out" : kernel.resultName;
  std::optional<ResolvedType> resultType =
      resolveType(kernel.resultType, "the result '" + resultName + "'");
  ok &= resultType.has_value();
  if (!ok)
    return;
  info.resultType = *resultType;

  auto *call = dyn_cast<CallExprAST>(kernel.body.get());
  if (call && call->getCallee() == "ema") {
    if (!checkEma(*call, info))
      return;
    kernels.push_back(std::move(info));
    return;
  }
  if (!call || call->getCallee() != "attention") {
    emitError(kernel.body->getLoc())
        << "a kernel must return 'attention(q, k, v, ...)' or 'ema(x, delta, "
        << "alpha, beta, gamma, ...)'"
        << (call ? ", got a call to '" + call->getCallee().str() + "'"
                 : std::string());
    return;
  }
  if (!checkAttention(*call, info))
    return;
  kernels.push_back(std::move(info));
}

bool Sema::splitBuiltinArgs(const CallExprAST &call, const BuiltinArgs &spec,
                            std::vector<const ArgAST *> &positional,
                            llvm::function_ref<bool(const ArgAST &)> checkNamed,
                            bool &ok) {
  llvm::StringMap<const ArgAST *> named;
  for (const ArgAST &arg : call.getArgs()) {
    if (arg.name.empty()) {
      if (!named.empty()) {
        emitError(arg.loc) << "positional argument after named arguments in "
                           << spec.callee << "; " << spec.positionalNames
                           << " come first";
        return false;
      }
      if (positional.size() == spec.maxPositional) {
        emitError(arg.loc) << spec.callee << " takes " << spec.positionalLimit
                           << ", got more";
        return false;
      }
      positional.push_back(&arg);
      continue;
    }
    auto [it, inserted] = named.try_emplace(arg.name, &arg);
    if (!inserted) {
      emitGivenTwice(arg.loc, arg.name, spec.callee, it->second->loc);
      ok = false;
      continue;
    }
    if (!checkNamed(arg))
      ok = false;
  }
  return true;
}

void Sema::emitGivenTwice(const Location &loc, llvm::StringRef name,
                          llvm::StringRef callee, const Location &first) {
  auto diag = emitError(loc)
              << "argument '" << name << "' of " << callee << " is given twice";
  attachNote(diag, first, "first given here");
}

std::optional<unsigned> Sema::findKernelParam(const ArgAST &arg,
                                              const KernelDeclAST &kernel,
                                              llvm::StringRef callee,
                                              llvm::StringRef role) {
  auto *name = dyn_cast<NameExprAST>(arg.value.get());
  if (!name) {
    emitError(arg.value->getLoc())
        << "the " << role << " argument of " << callee
        << " must name a parameter of kernel '" << kernel.name << "'";
    return std::nullopt;
  }
  for (auto [i, param] : llvm::enumerate(kernel.params))
    if (param.name == name->getName())
      return i;
  emitError(arg.value->getLoc())
      << "unknown name '" << name->getName() << "': the " << role
      << " argument of " << callee << " must name a parameter of kernel '"
      << kernel.name << "'";
  return std::nullopt;
}

bool Sema::checkScaleValue(const ConstValue &v, const Location &loc,
                           llvm::StringRef what) {
  if (v.kind == ScalarKind::Bool) {
    emitError(loc) << "the scale of " << what
                   << " must be a number, got a boolean";
    return false;
  }
  if (!(v.asDouble() > 0.0) || !std::isfinite(v.asDouble())) {
    emitError(loc) << "the scale of " << what
                   << " must be positive and finite, got "
                   << formatNumber(v.asDouble());
    return false;
  }
  return true;
}

bool Sema::checkResultType(const KernelInfo &info, const ResolvedType &expected,
                           llvm::StringRef callee, llvm::StringRef layout,
                           llvm::ArrayRef<const char *> dimNames,
                           llvm::ArrayRef<llvm::StringRef> sources) {
  const ResolvedType &r = info.resultType;
  const TensorTypeAST &written = info.decl->resultType;
  if (r.dims.size() != expected.dims.size() || r.dtype != expected.dtype) {
    emitError(written.loc) << "the result type " << printType(r)
                           << " does not match the " << callee << " result "
                           << printType(expected) << " " << layout;
    return false;
  }
  for (unsigned i = 0; i < expected.dims.size(); ++i) {
    if (!sameDim(r.dims[i], expected.dims[i])) {
      emitError(written.dims[i].loc)
          << "the result type " << printType(r) << " does not match the "
          << callee << " result " << printType(expected) << ": dim " << i
          << " (" << dimNames[i] << ") is " << printDim(r.dims[i]) << " but '"
          << sources[i] << "' gives " << printDim(expected.dims[i]);
      return false;
    }
  }
  return true;
}

bool Sema::checkAttention(const CallExprAST &call, KernelInfo &info) {
  const KernelDeclAST &kernel = *info.decl;
  AttentionInfo &attention = info.attention;
  attention.loc = call.getLoc();

  static const char *const kPositional[] = {"query (q)", "key (k)",
                                            "value (v)"};
  std::vector<const ArgAST *> positional;
  const ArgAST *variantArg = nullptr;
  const ArgAST *causalArg = nullptr;
  const ArgAST *scaleArg = nullptr;
  auto checkNamed = [&](const ArgAST &arg) {
    if (arg.name == "variant") {
      variantArg = &arg;
      return true;
    }
    if (arg.name == "causal") {
      auto *value = dyn_cast<BoolExprAST>(arg.value.get());
      if (!value) {
        emitError(arg.value->getLoc()) << "causal must be true or false";
        return false;
      }
      attention.causal = value->getValue();
      causalArg = &arg;
      return true;
    }
    if (arg.name == "kv_lengths") {
      std::optional<unsigned> index =
          findKernelParam(arg, kernel, "attention", "kv_lengths");
      if (!index)
        return false;
      attention.kvLengths = *index;
      return true;
    }
    if (arg.name == "scale") {
      ConstScope scope{"the scale of attention"};
      std::optional<ConstValue> v = evalConst(*arg.value, scope);
      if (!v || !checkScaleValue(*v, arg.value->getLoc(), "attention"))
        return false;
      attention.scale = v->asDouble();
      scaleArg = &arg;
      return true;
    }
    emitError(arg.loc) << "unknown argument '" << arg.name
                       << "' of attention; expected variant, causal, "
                       << "kv_lengths or scale";
    return false;
  };
  bool ok = true;
  if (!splitBuiltinArgs(
          call,
          {"attention", 3, "q, k and v", "3 positional arguments (q, k, v)"},
          positional, checkNamed, ok))
    return false;
  if (positional.size() < 3) {
    emitError(call.getLoc())
        << "attention is missing its " << kPositional[positional.size()]
        << " argument; expected attention(q, k, v, ...)";
    return false;
  }
  std::optional<unsigned> q =
      findKernelParam(*positional[0], kernel, "attention", "query");
  std::optional<unsigned> k =
      findKernelParam(*positional[1], kernel, "attention", "key");
  std::optional<unsigned> v =
      findKernelParam(*positional[2], kernel, "attention", "value");
  if (!ok || !q || !k || !v)
    return false;
  attention.query = *q;
  attention.key = *k;
  attention.value = *v;
  if (!checkShapes(call, info, positional))
    return false;

  // Roles: q is [B, H, N, D]; k is [B, G, M, D].
  const ResolvedType &qt = info.paramTypes[*q];
  const ResolvedType &kt = info.paramTypes[*k];
  const std::pair<const ResolvedDim *, Role> roleSources[] = {
      {&qt.dims[0], Role::B}, {&qt.dims[1], Role::H}, {&qt.dims[2], Role::N},
      {&qt.dims[3], Role::D}, {&kt.dims[1], Role::G}, {&kt.dims[2], Role::M}};
  for (auto [dim, role] : roleSources) {
    if (!dim->name.empty())
      attention.roles.try_emplace(dim->name, role);
    attention.roleValues[role] = dim->value;
  }

  // The default variant is softmax.
  NameExprAST softmax(call.getLoc(), "softmax");
  const ExprAST &variantExpr = variantArg ? *variantArg->value : softmax;
  if (!checkVariantUse(variantExpr, attention, info))
    return false;

  // The linear family (docs/LinearFamily.md) and Luna (§6 there).
  const LinearUse &linear = attention.linear;
  llvm::StringRef variantName = attention.variant->decl->name;
  const ResolvedDim &n = qt.dims[2], &m = kt.dims[2];
  // Causal Luna and linear-family attention scan the keys with the queries.
  auto checkSelf = [&](llvm::StringRef family) {
    if (!attention.causal || !n.value || !m.value || *n.value == *m.value)
      return true;
    emitError(causalArg->value->getLoc())
        << "causal " << family << " attention needs as many keys as queries "
        << "(self-attention), but '" << kernel.params[*q].name << "' has "
        << printDim(n) << " queries and '" << kernel.params[*k].name << "' has "
        << printDim(m) << " keys";
    return false;
  };
  if (linear.pack) {
    // The packed sequence serves as keys and values (tie_kv).
    const ResolvedDim &d = qt.dims[3], &dv = info.paramTypes[*v].dims[3];
    if (d.value && dv.value && *d.value != *dv.value) {
      emitError(variantExpr.getLoc())
          << "Luna ties keys and values of the packed sequence: the value "
          << "head dim (" << *dv.value << ") must equal the head dim ("
          << *d.value << ")";
      return false;
    }
    return checkSelf("Luna");
  }
  if (linear.normalize == Normalizer::Softmax)
    return true;
  if (scaleArg) {
    emitError(scaleArg->loc)
        << "scale does not apply to the linear-family variant '"
        << variantName << "': its scores are <phi(q), phi(k)>, unscaled";
    return false;
  }
  if (!checkSelf("linear-family"))
    return false;
  if (linear.weight == LinearUse::Weight::Momentum && !attention.causal) {
    emitError(variantExpr.getLoc())
        << "the momentum weight of variant '" << variantName
        << "' is defined for causal attention only; add causal = true";
    return false;
  }
  return true;
}

bool Sema::checkShapes(const CallExprAST &call, KernelInfo &info,
                       const std::vector<const ArgAST *> &qkv) {
  const AttentionInfo &attention = info.attention;
  const KernelDeclAST &kernel = *info.decl;
  unsigned indices[] = {attention.query, attention.key, attention.value};
  static const char *const kRoles[] = {"query", "key", "value"};
  static const char *const kLayouts[] = {"[B, H, N, D]", "[B, G, M, D]",
                                         "[B, G, M, Dv]"};
  for (unsigned i = 0; i < 3; ++i) {
    const ResolvedType &t = info.paramTypes[indices[i]];
    llvm::StringRef name = kernel.params[indices[i]].name;
    if (t.dims.size() != 4) {
      emitError(qkv[i]->value->getLoc())
          << "the " << kRoles[i] << " '" << name << "' must be a rank-4 tensor "
          << kLayouts[i] << ", got " << printType(t);
      return false;
    }
    if (!isFloat(t.dtype)) {
      emitError(qkv[i]->value->getLoc())
          << "the " << kRoles[i] << " '" << name
          << "' must have a float element type, got " << printType(t);
      return false;
    }
  }
  const ResolvedType &q = info.paramTypes[attention.query];
  const ResolvedType &k = info.paramTypes[attention.key];
  const ResolvedType &v = info.paramTypes[attention.value];
  llvm::StringRef qName = kernel.params[attention.query].name;
  llvm::StringRef kName = kernel.params[attention.key].name;
  llvm::StringRef vName = kernel.params[attention.value].name;
  for (unsigned i = 1; i < 3; ++i) {
    const ResolvedType &t = info.paramTypes[indices[i]];
    if (t.dtype != q.dtype) {
      emitError(qkv[i]->value->getLoc())
          << "the " << kRoles[i] << " '" << kernel.params[indices[i]].name
          << "' has element type " << spell(t.dtype) << " but the query '"
          << qName << "' has " << spell(q.dtype);
      return false;
    }
  }

  // Checks one extent against another; reports at `loc`.
  auto expectSame = [&](const Location &loc, llvm::StringRef what,
                        llvm::StringRef aName, const ResolvedDim &a,
                        llvm::StringRef bName, const ResolvedDim &b) {
    if (sameDim(a, b))
      return true;
    emitError(loc) << what << " mismatch: '" << aName << "' has "
                   << printDim(a) << " but '" << bName << "' has "
                   << printDim(b);
    return false;
  };
  const Location &kLoc = qkv[1]->value->getLoc();
  const Location &vLoc = qkv[2]->value->getLoc();
  if (!expectSame(kLoc, "batch", kName, k.dims[0], qName, q.dims[0]) ||
      !expectSame(vLoc, "batch", vName, v.dims[0], qName, q.dims[0]) ||
      !expectSame(kLoc, "head dim", kName, k.dims[3], qName, q.dims[3]) ||
      !expectSame(vLoc, "key/value heads", vName, v.dims[1], kName,
                  k.dims[1]) ||
      !expectSame(vLoc, "key length", vName, v.dims[2], kName, k.dims[2]))
    return false;
  if (!sameDim(q.dims[1], k.dims[1]) && q.dims[1].value && k.dims[1].value &&
      *q.dims[1].value % *k.dims[1].value != 0) {
    emitError(kLoc) << "the query heads " << printDim(q.dims[1])
                    << " must be a multiple of the key/value heads "
                    << printDim(k.dims[1]) << " of '" << kName << "'";
    return false;
  }

  // kv_lengths: i32[B].
  if (attention.kvLengths) {
    const ResolvedType &t = info.paramTypes[*attention.kvLengths];
    llvm::StringRef name = kernel.params[*attention.kvLengths].name;
    Location argLoc;
    for (const ArgAST &arg : call.getArgs())
      if (arg.name == "kv_lengths")
        argLoc = arg.value->getLoc();
    if (t.dtype != DType::I32 || t.dims.size() != 1) {
      emitError(argLoc) << "kv_lengths '" << name
                        << "' must be an i32[B] tensor (one valid key length "
                        << "per batch), got " << printType(t);
      return false;
    }
    if (!sameDim(t.dims[0], q.dims[0])) {
      emitError(argLoc) << "kv_lengths '" << name << "' has "
                        << printDim(t.dims[0])
                        << " entries but the batch of '" << qName << "' is "
                        << printDim(q.dims[0]);
      return false;
    }
  }

  // The result: [B, H, N, Dv] with the query's element type.
  ResolvedType expectedType{q.dtype, {q.dims[0], q.dims[1], q.dims[2],
                                      v.dims[3]}};
  static const char *const kResultDims[] = {"batch", "query heads",
                                            "query length", "value head dim"};
  return checkResultType(info, expectedType, "attention", "([B, H, N, Dv])",
                         kResultDims, {qName, qName, qName, vName});
}

//===----------------------------------------------------------------------===//
// ema (Mega's EMA SeqMix, docs/LinearFamily.md §7)
//===----------------------------------------------------------------------===//

bool Sema::checkEma(const CallExprAST &call, KernelInfo &info) {
  const KernelDeclAST &kernel = *info.decl;
  EmaInfo ema;
  ema.loc = call.getLoc();
  static const char *const kUsage =
      "ema(x, delta, alpha, beta, gamma [, omega] [, compat = paper | code])";
  static const char *const kRoles[] = {"input (x)", "delta", "alpha",
                                       "beta",      "gamma", "omega"};

  // Positional: x, delta, alpha, beta, gamma and optionally omega; named:
  // omega and compat.
  std::vector<const ArgAST *> positional;
  const ArgAST *omegaArg = nullptr;
  const ArgAST *compatArg = nullptr;
  auto checkNamed = [&](const ArgAST &arg) {
    if (arg.name == "omega") {
      omegaArg = &arg;
      return true;
    }
    if (arg.name == "compat") {
      auto *value = dyn_cast<NameExprAST>(arg.value.get());
      if (!value) {
        emitError(arg.value->getLoc())
            << "compat of ema must be paper or code";
        return false;
      }
      if (value->getName() != "paper" && value->getName() != "code") {
        emitError(arg.value->getLoc())
            << "unknown compat '" << value->getName()
            << "' of ema; expected paper or code";
        return false;
      }
      ema.compat = value->getName().str();
      compatArg = &arg;
      return true;
    }
    emitError(arg.loc) << "unknown argument '" << arg.name
                       << "' of ema; expected omega or compat";
    return false;
  };
  bool ok = true;
  if (!splitBuiltinArgs(call,
                        {"ema", 6, "x, delta, alpha, beta, gamma and omega",
                         "at most 6 positional arguments (x, delta, alpha, "
                         "beta, gamma, omega)"},
                        positional, checkNamed, ok))
    return false;
  if (positional.size() < 5) {
    emitError(call.getLoc())
        << "ema is missing its " << kRoles[positional.size()]
        << " argument; expected " << kUsage;
    return false;
  }
  if (positional.size() == 6) {
    if (omegaArg) {
      emitGivenTwice(omegaArg->loc, "omega", "ema", positional[5]->loc);
      return false;
    }
    omegaArg = positional[5];
  }
  if (!ok)
    return false;

  // Each tensor argument names a kernel parameter.
  std::vector<std::optional<unsigned>> indices;
  for (unsigned i = 0; i < 5; ++i)
    indices.push_back(findKernelParam(*positional[i], kernel, "ema",
                                      i == 0 ? "input" : kRoles[i]));
  std::optional<unsigned> omega;
  if (omegaArg) {
    omega = findKernelParam(*omegaArg, kernel, "ema", "omega");
    ok &= omega.has_value();
  }
  for (const std::optional<unsigned> &index : indices)
    ok &= index.has_value();
  if (!ok)
    return false;
  ema.input = *indices[0];
  ema.delta = *indices[1];
  ema.alpha = *indices[2];
  ema.beta = *indices[3];
  ema.gamma = *indices[4];
  ema.omega = omega;

  // compat = code adds the skip term omega * x.
  if (ema.compat == "code" && !omegaArg) {
    emitError(compatArg->value->getLoc())
        << "compat = code needs omega: silu(y + omega * x)";
    return false;
  }

  // Shapes: x [B, L, C]; delta, alpha, beta, gamma [C, n]; omega [C]; all
  // f32.
  const ResolvedType &x = info.paramTypes[ema.input];
  llvm::StringRef xName = kernel.params[ema.input].name;
  if (x.dims.size() != 3 || x.dtype != DType::F32) {
    emitError(positional[0]->value->getLoc())
        << "the input '" << xName << "' of ema must be an f32 tensor [B, L, "
        << "C] (batch, length, channels), got " << printType(x);
    return false;
  }
  const ResolvedDim &channels = x.dims[2];
  // Reports a tensor whose channel count `dim` is not the input's.
  auto sameChannels = [&](const Location &loc, llvm::StringRef role,
                          llvm::StringRef name, const ResolvedDim &dim) {
    if (sameDim(dim, channels))
      return true;
    emitError(loc) << "channel mismatch: the " << role << " '" << name
                   << "' of ema has " << printDim(dim)
                   << " channels but the input '" << xName << "' has "
                   << printDim(channels);
    return false;
  };
  const ResolvedType &delta = info.paramTypes[ema.delta];
  llvm::StringRef deltaName = kernel.params[ema.delta].name;
  for (unsigned i = 1; i < 5; ++i) {
    const ResolvedType &t = info.paramTypes[*indices[i]];
    llvm::StringRef name = kernel.params[*indices[i]].name;
    const Location &argLoc = positional[i]->value->getLoc();
    if (t.dims.size() != 2 || t.dtype != DType::F32) {
      emitError(argLoc) << "the " << kRoles[i] << " '" << name
                        << "' of ema must be an f32 tensor [C, n] (channels, "
                        << "ema_dim), got " << printType(t);
      ok = false;
      continue;
    }
    if (!sameChannels(argLoc, kRoles[i], name, t.dims[0])) {
      ok = false;
      continue;
    }
    if (i > 1 && delta.dims.size() == 2 &&
        !sameDim(t.dims[1], delta.dims[1])) {
      emitError(argLoc) << "ema_dim mismatch: the " << kRoles[i] << " '"
                        << name << "' of ema has " << printDim(t.dims[1])
                        << " columns but the delta '" << deltaName << "' has "
                        << printDim(delta.dims[1]);
      ok = false;
    }
  }
  if (omega) {
    const ResolvedType &t = info.paramTypes[*omega];
    llvm::StringRef name = kernel.params[*omega].name;
    const Location &argLoc = omegaArg->value->getLoc();
    if (t.dims.size() != 1 || t.dtype != DType::F32) {
      emitError(argLoc) << "the omega '" << name << "' of ema must be an f32 "
                        << "tensor [C] (one weight per channel), got "
                        << printType(t);
      ok = false;
    } else if (!sameChannels(argLoc, "omega", name, t.dims[0])) {
      ok = false;
    }
  }
  if (!ok)
    return false;

  // The result has x's type.
  static const char *const kResultDims[] = {"batch", "length", "channels"};
  if (!checkResultType(info, x, "ema",
                       "(the type of the input '" + xName.str() + "')",
                       kResultDims, {xName, xName, xName}))
    return false;
  info.ema = std::move(ema);
  return true;
}

bool Sema::checkVariantUse(const ExprAST &expr, AttentionInfo &attention,
                           const KernelInfo &kernel) {
  llvm::StringRef name;
  const CallExprAST *call = dyn_cast<CallExprAST>(&expr);
  if (auto *n = dyn_cast<NameExprAST>(&expr))
    name = n->getName();
  else if (call)
    name = call->getCallee();
  else {
    emitError(expr.getLoc()) << "expected a variant name such as softmax or "
                             << "sliding(window = 128)";
    return false;
  }
  auto it = variants.find(name.str());
  if (it == variants.end()) {
    auto diag = emitError(expr.getLoc()) << "unknown variant '" << name
                                         << "'; the variants are ";
    llvm::interleaveComma(variants, diag,
                          [&](auto &entry) { diag << entry.first; });
    return false;
  }
  const VariantInfo &variant = it->second;
  const VariantDeclAST &decl = *variant.decl;
  attention.variant = &variant;

  // Parameter values: positional in order, then named.
  std::vector<std::optional<ConstValue>> values(decl.params.size());
  std::vector<const ArgAST *> given(decl.params.size(), nullptr);
  bool ok = true;
  if (call) {
    unsigned position = 0;
    for (const ArgAST &arg : call->getArgs()) {
      std::optional<unsigned> index;
      if (arg.name.empty()) {
        if (position >= decl.params.size()) {
          emitError(arg.loc) << "variant '" << name << "' takes "
                             << decl.params.size() << " parameter"
                             << (decl.params.size() == 1 ? "" : "s")
                             << ", got more";
          ok = false;
          break;
        }
        index = position++;
      } else {
        for (auto [i, param] : llvm::enumerate(decl.params))
          if (param.name == arg.name)
            index = i;
        if (!index) {
          auto diag = emitError(arg.loc) << "variant '" << name
                                         << "' has no parameter '" << arg.name
                                         << "'";
          if (decl.params.empty()) {
            diag << "; it takes none";
          } else {
            diag << "; its parameters are ";
            llvm::interleaveComma(decl.params, diag,
                                  [&](auto &p) { diag << p.name; });
          }
          ok = false;
          continue;
        }
      }
      if (given[*index]) {
        auto diag = emitError(arg.loc) << "parameter '"
                                       << decl.params[*index].name
                                       << "' of variant '" << name
                                       << "' is given twice";
        attachNote(diag, given[*index]->loc, "first given here");
        ok = false;
        continue;
      }
      given[*index] = &arg;
      std::string what = "parameter '" + decl.params[*index].name +
                         "' of variant '" + name.str() + "'";
      const ParamType &type = variant.paramTypes[*index];
      // Luna's memory and emha's weights are checked once the rows and
      // the kernel size are known.
      bool checkedLater = variant.pack && variant.packMemory == *index;
      if (const VariantItemAST *map = variant.map) {
        const auto &mapCall = cast<CallExprAST>(*map->value);
        if (mapCall.getCallee() == "emha")
          for (unsigned n = 0; n < 2; ++n)
            if (auto *p = dyn_cast<NameExprAST>(mapCall.getArgs()[n].value.get()))
              checkedLater |= p->getName() == decl.params[*index].name;
      }
      std::optional<ConstValue> v =
          type.form == ConstValue::Form::Tensor
              ? checkTensorArg(arg, what, kernel, attention, checkedLater)
              : evalParamValue(*arg.value, type, "the value of " + what, what);
      if (!v) {
        ok = false;
        continue;
      }
      values[*index] = *v;
    }
  }
  for (auto [i, param] : llvm::enumerate(decl.params)) {
    bool isTensor = variant.paramTypes[i].form == ConstValue::Form::Tensor;
    if (values[i]) {
      // Tensors are operands of the attention, not part of the variant.
      if (!isTensor &&
          (!variant.defaults[i] || !(*values[i] == *variant.defaults[i])))
        attention.defaultParams = false;
      continue;
    }
    if (given[i])
      continue; // Already reported.
    if (variant.defaults[i]) {
      values[i] = variant.defaults[i];
      continue;
    }
    if (isTensor)
      emitError(expr.getLoc()) << "variant '" << name << "' needs its tensor "
                               << "parameter '" << param.name << "': pass a "
                               << "kernel argument, e.g. " << name << "("
                               << param.name << " = b)";
    else if (!param.defaultValue)
      emitError(expr.getLoc()) << "variant '" << name << "' needs a value for "
                               << "its parameter '" << param.name
                               << "', which has no default";
    ok = false;
  }
  if (!ok)
    return false;
  for (auto &v : values)
    attention.paramValues.push_back(*v);
  for (auto [i, type] : llvm::enumerate(variant.paramTypes))
    if (type.form == ConstValue::Form::Tensor && !values[i]->absent)
      attention.variantOperands.push_back(values[i]->tensor);

  if (variant.badScale || variant.bad ||
      (variant.badDefaults && attention.defaultParams))
    return false; // Reported at the declaration.

  // The linear-family items with these values, then the requirements.
  if (!resolveLinear(variant, attention.paramValues, &given, expr.getLoc(),
                     attention.linear))
    return false;
  if (!checkRequires(variant, attention, expr.getLoc()))
    return false;
  if (attention.linear.pack &&
      !checkMemory(*given[variant.packMemory], kernel, attention))
    return false;
  if (!checkStructure(variant, kernel, attention, given, expr.getLoc()))
    return false;

  // A dim the variant reads must be a role of this call or have a value.
  for (auto &[dimName, useLoc] : variant.dimsRead) {
    if (attention.roles.count(dimName) || lookupDim(dimName)->value)
      continue;
    auto diag = emitError(expr.getLoc())
                << "variant '" << name << "' reads dim '" << dimName
                << "', which is symbolic ('?') and is not a dimension of q, "
                << "k or v in this call";
    attachNote(diag, useLoc, "read here");
    return false;
  }

  // The variant's scale with these parameter values.
  if (variant.scale) {
    std::string what = "the scale of variant '" + name.str() + "'";
    std::optional<ConstValue> v =
        evalConst(*variant.scale->value,
                  ConstScope{what, &decl, &attention.paramValues});
    if (!v || v->kind == ScalarKind::Bool)
      return false;
    if (!(v->asDouble() > 0.0) || !std::isfinite(v->asDouble())) {
      if (!attention.defaultParams)
        emitError(expr.getLoc()) << what << " must be positive and finite, got "
                                 << formatNumber(v->asDouble())
                                 << " with these parameters";
      return false;
    }
    attention.variantScale = v->asDouble();
  }
  return true;
}

std::optional<ConstValue> Sema::checkTensorArg(const ArgAST &arg,
                                               llvm::StringRef what,
                                               const KernelInfo &kernel,
                                               const AttentionInfo &attention,
                                               bool checkedLater) {
  const KernelDeclAST &decl = *kernel.decl;
  auto *name = dyn_cast<NameExprAST>(arg.value.get());
  std::optional<unsigned> index;
  if (name)
    for (auto [i, param] : llvm::enumerate(decl.params))
      if (param.name == name->getName())
        index = i;
  if (!index) {
    auto diag = emitError(arg.value->getLoc())
                << "tensor " << what << " must name a parameter of kernel '"
                << decl.name << "'";
    if (name)
      diag << "; '" << name->getName() << "' is not one";
    return std::nullopt;
  }
  if (checkedLater)
    return ConstValue::getTensor(name->getName(), *index);
  const ResolvedType &type = kernel.paramTypes[*index];
  const ResolvedDim &heads = kernel.paramTypes[attention.query].dims[1];
  if (type.dtype != DType::F32 || type.dims.size() != 2 ||
      !sameDim(type.dims[0], heads)) {
    emitError(arg.value->getLoc())
        << "tensor " << what << " must be an f32[H, R] tensor whose first "
        << "extent is the query heads " << printDim(heads) << ", got '"
        << name->getName() << "': " << printType(type);
    return std::nullopt;
  }
  return ConstValue::getTensor(name->getName(), *index);
}

bool Sema::checkMemory(const ArgAST &arg, const KernelInfo &kernel,
                       const AttentionInfo &attention) {
  llvm::StringRef name = cast<NameExprAST>(*arg.value).getName();
  unsigned index = attention.variantOperands[attention.linear.packOperand];
  const ResolvedType &type = kernel.paramTypes[index];
  const ResolvedType &q = kernel.paramTypes[attention.query];
  int64_t rows = attention.linear.packRows;
  // Two extents conflict when both are static and differ.
  auto conflict = [](const ResolvedDim &a, const ResolvedDim &b) {
    return a.value && b.value && *a.value != *b.value;
  };
  if (type.dtype != DType::F32 || type.dims.size() != 3) {
    ResolvedType expected{DType::F32,
                          {q.dims[1], ResolvedDim{"", rows}, q.dims[3]}};
    emitError(arg.value->getLoc())
        << "memory " << name
        << " must be a rank-3 f32 tensor [H, pack, D] = " << printType(expected)
        << " (query heads, pack rows, head dim), got " << printType(type);
    return false;
  }
  if (conflict(type.dims[0], q.dims[1])) {
    emitError(arg.value->getLoc())
        << "memory " << name << " has " << printDim(type.dims[0])
        << " heads but the query heads are " << printDim(q.dims[1]);
    return false;
  }
  if (type.dims[1].value && *type.dims[1].value != rows) {
    emitError(arg.value->getLoc())
        << "memory " << name << " has " << *type.dims[1].value
        << " rows but pack = " << rows;
    return false;
  }
  if (conflict(type.dims[2], q.dims[3])) {
    emitError(arg.value->getLoc())
        << "memory " << name << " has rows of " << printDim(type.dims[2])
        << " but the head dim is " << printDim(q.dims[3]);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Structural variants (issue 5): window2d, coupler, emha
//===----------------------------------------------------------------------===//

bool Sema::checkStructure(const VariantInfo &info, const KernelInfo &kernel,
                          const AttentionInfo &attention,
                          const std::vector<const ArgAST *> &given,
                          const Location &useLoc) {
  const StructureUse &st = attention.linear.structure;
  if (st.kind == StructureUse::Kind::None)
    return true;
  const VariantDeclAST &decl = *info.decl;
  const ResolvedType &q = kernel.paramTypes[attention.query];
  const ResolvedType &k = kernel.paramTypes[attention.key];
  const char *callee = st.kind == StructureUse::Kind::Window2d ? "window2d"
                       : st.kind == StructureUse::Kind::Coupler ? "coupler"
                                                                 : "emha";
  // Where a tensor parameter was given (the use when by default).
  auto argLoc = [&](unsigned param) {
    return given[param] ? given[param]->value->getLoc() : useLoc;
  };

  if (st.kind != StructureUse::Kind::Emha) {
    // Self-attention over a grid of N = rows * cols tokens.
    std::string grid = "[" + std::to_string(st.gridRows) + ", " +
                       std::to_string(st.gridCols) + "]";
    std::optional<int64_t> n = attention.roleValues.at(Role::N);
    std::optional<int64_t> m = attention.roleValues.at(Role::M);
    if (!n) {
      emitError(useLoc) << callee << " of variant '" << decl.name
                        << "' needs a static N to check its grid " << grid
                        << "; N is symbolic ('?') in this call";
      return false;
    }
    if (st.gridRows * st.gridCols != *n) {
      emitError(useLoc) << "the grid " << grid << " of " << callee
                        << " has " << st.gridRows * st.gridCols
                        << " tokens but the queries are " << printDim(q.dims[2]);
      return false;
    }
    if (!m || *m != *n) {
      emitError(useLoc) << callee << " is self-attention over the grid: the "
                        << "keys " << printDim(k.dims[2])
                        << " must be the N (= " << *n << ") grid tokens";
      return false;
    }
  }
  if (st.kind == StructureUse::Kind::Window2d) {
    if (!st.biasParam)
      return true;
    const ResolvedType &t =
        kernel.paramTypes[attention.variantOperands[*st.biasOperand]];
    int64_t entries = (2 * st.window - 1) * (2 * st.window - 1);
    if (!t.dims[1].value || *t.dims[1].value != entries) {
      auto diag = emitError(argLoc(*st.biasParam))
                  << "the bias table of window2d must be f32[H, " << entries
                  << "]: (2 * window - 1)^2 relative offsets per head for "
                  << "the window " << st.window;
      if (st.window != st.givenWindow)
        diag << " (the window " << st.givenWindow << " shrinks to the grid's "
             << "smaller side)";
      diag << ", got " << printType(t);
      return false;
    }
    return true;
  }

  // coupler and emha form maps over every key: no causal form, no padding.
  if (attention.causal) {
    emitError(useLoc) << callee << " has no causal form ("
                      << (st.kind == StructureUse::Kind::Coupler
                              ? "its row and column maps span the whole grid"
                              : "its map convolutions mix every key with its "
                                "neighbours")
                      << "); remove causal = true";
    return false;
  }
  if (attention.kvLengths) {
    emitError(useLoc) << callee << " does not take kv_lengths (every key "
                      << "takes part in its maps)";
    return false;
  }
  if (st.kind == StructureUse::Kind::Coupler)
    return true;

  // emha: every query head meets every key head; weights [H, H, k, k].
  const ResolvedDim &heads = q.dims[1];
  if (!sameDim(k.dims[1], heads)) {
    emitError(useLoc) << "emha pairs every query head with every key head: "
                      << "the key/value heads " << printDim(k.dims[1])
                      << " must equal the query heads " << printDim(heads);
    return false;
  }
  for (auto [param, role] : {std::pair{st.isiParam, "ISI"},
                             std::pair{st.csiParam, "CSI"}}) {
    unsigned operand =
        param == st.isiParam ? st.isiOperand : st.csiOperand;
    const ResolvedType &t =
        kernel.paramTypes[attention.variantOperands[operand]];
    llvm::StringRef name =
        kernel.decl->params[attention.variantOperands[operand]].name;
    auto isK = [&](const ResolvedDim &d) {
      return d.value && *d.value == st.kernelSize;
    };
    if (t.dtype != DType::F32 || t.dims.size() != 4 ||
        !sameDim(t.dims[0], heads) || !sameDim(t.dims[1], heads) ||
        !isK(t.dims[2]) || !isK(t.dims[3])) {
      ResolvedType expected{DType::F32,
                            {heads, heads, ResolvedDim{"", st.kernelSize},
                             ResolvedDim{"", st.kernelSize}}};
      emitError(argLoc(param))
          << "the " << role << " weights '" << name << "' of emha must be "
          << printType(expected) << " (query heads, "
          << (param == st.isiParam ? "key heads" : "heads")
          << ", kernel, kernel), got " << printType(t);
      return false;
    }
  }
  return true;
}
