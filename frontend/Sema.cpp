//===- Sema.cpp - semantic checks of declarations and kernels -------------===//
//
// Dims and `--dim` overrides, variant declarations, kernel signatures and
// the `attention(...)` call: name resolution, types and shape agreement.
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
  return mlir::emitError(toMLIRLoc(context, loc));
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
                                const ModuleAST &prelude) {
  checkDims(module);
  declareVariants(prelude, /*fromPrelude=*/true);
  declareVariants(module, /*fromPrelude=*/false);
  for (auto &entry : variants)
    checkVariant(entry.second);
  for (const ArchDeclAST &arch : module.archs)
    emitError(arch.loc) << "architectures (`arch`) are not supported yet";
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

/// The kind a variant parameter type names, if any.
static std::optional<ScalarKind> parseParamType(llvm::StringRef type) {
  return llvm::StringSwitch<std::optional<ScalarKind>>(type)
      .Case("int", ScalarKind::Int)
      .Case("f32", ScalarKind::Float)
      .Case("f64", ScalarKind::Float)
      .Case("bool", ScalarKind::Bool)
      .Default(std::nullopt);
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
    std::optional<ScalarKind> kind = parseParamType(param.type);
    if (!kind) {
      emitError(param.typeLoc) << "unknown parameter type '" << param.type
                               << "'; expected int, f32, f64 or bool";
      info.paramKinds.push_back(ScalarKind::Int);
      info.defaults.push_back(std::nullopt);
      continue;
    }
    info.paramKinds.push_back(*kind);
    std::optional<ConstValue> defaultValue;
    if (param.defaultValue) {
      ConstScope scope{"the default of parameter '" + param.name + "'"};
      if (std::optional<ConstValue> v = evalConst(*param.defaultValue, scope))
        defaultValue = convertTo(*v, *kind, param.defaultValue->getLoc(),
                                 "the default of parameter '" + param.name +
                                     "'");
    }
    info.defaults.push_back(defaultValue);
  }

  // Items.
  llvm::StringMap<const VariantItemAST *> itemNames;
  for (const VariantItemAST &item : decl.items) {
    auto [it, inserted] = itemNames.try_emplace(item.name, &item);
    if (!inserted) {
      auto diag = emitError(item.loc) << "'" << item.name
                                      << "' is already defined in " << what;
      attachNote(diag, it->second->loc, "previous definition is here");
      continue;
    }
    bool isScore = item.name == "score", isMask = item.name == "mask";
    if (item.name == "feature") {
      emitError(item.loc) << "feature maps (`feature`) are not supported yet";
      continue;
    }
    if (!isScore && !isMask && item.name != "normalize" &&
        item.name != "scale") {
      emitError(item.loc) << "unknown item '" << item.name << "' in " << what
                          << "; expected score, mask, normalize, scale or "
                          << "feature";
      continue;
    }
    if (!isScore && !isMask) {
      if (item.hasBinders) {
        emitError(item.loc) << "'" << item.name
                            << "' takes no parameters; write '" << item.name
                            << " = ...'";
        continue;
      }
      if (item.name == "scale") {
        info.scale = &item;
        continue;
      }
      // normalize = softmax | sum[(...)] | none
      llvm::StringRef normalizer;
      if (auto *name = dyn_cast<NameExprAST>(item.value.get()))
        normalizer = name->getName();
      else if (auto *call = dyn_cast<CallExprAST>(item.value.get()))
        normalizer = call->getCallee();
      if (normalizer == "softmax" && llvm::isa<NameExprAST>(item.value.get()))
        continue;
      if (normalizer == "sum" || normalizer == "none") {
        emitError(item.value->getLoc())
            << "normalize = " << normalizer << " is not supported yet";
        continue;
      }
      emitError(item.value->getLoc())
          << "unknown normalizer; expected softmax, sum(eps = ...) or none";
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
    bool badBinder = false;
    for (auto [i, binder] : llvm::enumerate(item.binders)) {
      for (unsigned j = 0; j < i; ++j) {
        if (item.binders[j].name == binder.name) {
          auto diag = emitError(binder.loc) << "duplicate parameter '"
                                            << binder.name << "' in '"
                                            << item.name << "'";
          attachNote(diag, item.binders[j].loc, "previous declaration is here");
          badBinder = true;
          break;
        }
      }
      if (auto it = paramNames.find(binder.name); it != paramNames.end()) {
        auto diag = emitError(binder.loc)
                    << "parameter '" << binder.name << "' of '" << item.name
                    << "' has the name of a parameter of " << what;
        attachNote(diag, it->second->loc, "the variant parameter is here");
        badBinder = true;
      }
    }
    if (badBinder)
      continue;

    Scope scope{info, item, isScore, info.dimsRead};
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

  // With default parameters, `scale` can be checked once here.
  if (info.scale && llvm::all_of(info.defaults, [](auto &d) {
        return d.has_value();
      })) {
    std::vector<ConstValue> values;
    for (auto &d : info.defaults)
      values.push_back(*d);
    ConstScope scope{"the scale of " + what, &decl, &values};
    std::optional<ConstValue> v = evalConst(*info.scale->value, scope);
    info.badScale = !v || v->kind == ScalarKind::Bool ||
                    !(v->asDouble() > 0) || !std::isfinite(v->asDouble());
    if (v) {
      if (v->kind == ScalarKind::Bool)
        emitError(info.scale->value->getLoc())
            << "the scale of " << what << " must be a number, got a boolean";
      else if (!(v->asDouble() > 0.0) || !std::isfinite(v->asDouble()))
        emitError(info.scale->value->getLoc())
            << "the scale of " << what << " must be positive and finite, got "
            << formatNumber(v->asDouble());
    }
  }
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
  if (!call || call->getCallee() != "attention") {
    emitError(kernel.body->getLoc())
        << "a kernel must return 'attention(q, k, v, ...)'"
        << (call ? ", got a call to '" + call->getCallee().str() + "'"
                 : std::string());
    return;
  }
  if (!checkAttention(*call, info))
    return;
  kernels.push_back(std::move(info));
}

bool Sema::checkAttention(const CallExprAST &call, KernelInfo &info) {
  const KernelDeclAST &kernel = *info.decl;
  AttentionInfo &attention = info.attention;
  attention.loc = call.getLoc();

  // Finds the kernel parameter an argument names.
  auto paramIndex = [&](const ArgAST &arg,
                        llvm::StringRef role) -> std::optional<unsigned> {
    auto *name = dyn_cast<NameExprAST>(arg.value.get());
    if (!name) {
      emitError(arg.value->getLoc())
          << "the " << role << " argument of attention must name a parameter "
          << "of kernel '" << kernel.name << "'";
      return std::nullopt;
    }
    for (auto [i, param] : llvm::enumerate(kernel.params))
      if (param.name == name->getName())
        return i;
    emitError(arg.value->getLoc())
        << "unknown name '" << name->getName() << "': the " << role
        << " argument of attention must name a parameter of kernel '"
        << kernel.name << "'";
    return std::nullopt;
  };

  static const char *const kPositional[] = {"query (q)", "key (k)",
                                            "value (v)"};
  std::vector<const ArgAST *> positional;
  const ArgAST *variantArg = nullptr;
  llvm::StringMap<const ArgAST *> named;
  bool ok = true;
  for (const ArgAST &arg : call.getArgs()) {
    if (arg.name.empty()) {
      if (!named.empty()) {
        emitError(arg.loc) << "positional argument after named arguments in "
                           << "attention; q, k and v come first";
        return false;
      }
      if (positional.size() == 3) {
        emitError(arg.loc) << "attention takes 3 positional arguments (q, k, "
                           << "v), got more";
        return false;
      }
      positional.push_back(&arg);
      continue;
    }
    auto [it, inserted] = named.try_emplace(arg.name, &arg);
    if (!inserted) {
      auto diag = emitError(arg.loc) << "argument '" << arg.name
                                     << "' of attention is given twice";
      attachNote(diag, it->second->loc, "first given here");
      ok = false;
      continue;
    }
    if (arg.name == "variant") {
      variantArg = &arg;
    } else if (arg.name == "causal") {
      auto *value = dyn_cast<BoolExprAST>(arg.value.get());
      if (!value) {
        emitError(arg.value->getLoc())
            << "causal must be true or false";
        ok = false;
        continue;
      }
      attention.causal = value->getValue();
    } else if (arg.name == "kv_lengths") {
      std::optional<unsigned> index = paramIndex(arg, "kv_lengths");
      if (!index) {
        ok = false;
        continue;
      }
      attention.kvLengths = *index;
    } else if (arg.name == "scale") {
      ConstScope scope{"the scale of attention"};
      std::optional<ConstValue> v = evalConst(*arg.value, scope);
      if (!v) {
        ok = false;
        continue;
      }
      if (v->kind == ScalarKind::Bool) {
        emitError(arg.value->getLoc())
            << "the scale of attention must be a number, got a boolean";
        ok = false;
        continue;
      }
      if (!(v->asDouble() > 0.0) || !std::isfinite(v->asDouble())) {
        emitError(arg.value->getLoc())
            << "the scale of attention must be positive and finite, got "
            << formatNumber(v->asDouble());
        ok = false;
        continue;
      }
      attention.scale = v->asDouble();
    } else {
      emitError(arg.loc) << "unknown argument '" << arg.name
                         << "' of attention; expected variant, causal, "
                         << "kv_lengths or scale";
      ok = false;
    }
  }
  if (positional.size() < 3) {
    emitError(call.getLoc())
        << "attention is missing its " << kPositional[positional.size()]
        << " argument; expected attention(q, k, v, ...)";
    return false;
  }
  std::optional<unsigned> q = paramIndex(*positional[0], "query");
  std::optional<unsigned> k = paramIndex(*positional[1], "key");
  std::optional<unsigned> v = paramIndex(*positional[2], "value");
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
  for (auto [dim, role] : roleSources)
    if (!dim->name.empty())
      attention.roles.try_emplace(dim->name, role);

  if (variantArg)
    return checkVariantUse(*variantArg->value, attention, info);
  // The default variant.
  NameExprAST softmax(call.getLoc(), "softmax");
  return checkVariantUse(softmax, attention, info);
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
  const ResolvedType &r = info.resultType;
  const Location &rLoc = kernel.resultType.loc;
  ResolvedType expectedType{q.dtype, {q.dims[0], q.dims[1], q.dims[2],
                                      v.dims[3]}};
  if (r.dims.size() != 4 || r.dtype != q.dtype) {
    emitError(rLoc) << "the result type " << printType(r)
                    << " does not match the attention result "
                    << printType(expectedType) << " ([B, H, N, Dv])";
    return false;
  }
  static const char *const kResultDims[] = {"batch", "query heads",
                                            "query length", "value head dim"};
  for (unsigned i = 0; i < 4; ++i) {
    if (!sameDim(r.dims[i], expectedType.dims[i])) {
      emitError(kernel.resultType.dims[i].loc)
          << "the result type " << printType(r)
          << " does not match the attention result "
          << printType(expectedType) << ": dim " << i << " ("
          << kResultDims[i] << ") is " << printDim(r.dims[i]) << " but '"
          << (i == 3 ? vName : qName) << "' gives "
          << printDim(expectedType.dims[i]);
      return false;
    }
  }
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
      std::optional<ConstValue> v =
          evalConst(*arg.value, ConstScope{"the value of " + what});
      if (v)
        v = convertTo(*v, variant.paramKinds[*index], arg.value->getLoc(),
                      what);
      if (!v) {
        ok = false;
        continue;
      }
      values[*index] = *v;
    }
  }
  for (auto [i, param] : llvm::enumerate(decl.params)) {
    if (values[i]) {
      if (!variant.defaults[i] || !(*values[i] == *variant.defaults[i]))
        attention.defaultParams = false;
      continue;
    }
    if (given[i])
      continue; // Already reported.
    if (variant.defaults[i]) {
      values[i] = variant.defaults[i];
      continue;
    }
    if (!param.defaultValue) {
      emitError(expr.getLoc()) << "variant '" << name << "' needs a value for "
                               << "its parameter '" << param.name
                               << "', which has no default";
    }
    ok = false;
  }
  if (!ok)
    return false;
  for (auto &v : values)
    attention.paramValues.push_back(*v);

  if (variant.badScale)
    return false; // Reported at the declaration.

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
  (void)kernel;
  return true;
}
