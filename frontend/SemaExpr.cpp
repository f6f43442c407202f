//===- SemaExpr.cpp - types of variant expressions and constants ----------===//
//
// Type checking of score, mask, feature, expand and require bodies (int,
// f32 and bool scalars, with ints promoted to f32 where they meet a float;
// elements of list parameters) and evaluation of constant expressions
// (variant parameters, `scale`, the values of linear-family items and
// requirements).
//
//===----------------------------------------------------------------------===//

#include "frontend/Sema.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Casting.h"

#include <cmath>
#include <cstdio>
#include <tuple>

using namespace attn::frontend;
using llvm::cast;

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

llvm::StringRef attn::frontend::spell(ScalarKind kind) {
  switch (kind) {
  case ScalarKind::Int:
    return "int";
  case ScalarKind::Float:
    return "f32";
  case ScalarKind::Bool:
    return "bool";
  }
  return "?";
}

ConstValue ConstValue::getInt(int64_t v) {
  ConstValue c;
  c.kind = ScalarKind::Int;
  c.intValue = v;
  return c;
}

ConstValue ConstValue::getFloat(double v) {
  ConstValue c;
  c.kind = ScalarKind::Float;
  c.floatValue = v;
  return c;
}

ConstValue ConstValue::getBool(bool v) {
  ConstValue c;
  c.kind = ScalarKind::Bool;
  c.boolValue = v;
  return c;
}

ConstValue ConstValue::getList(std::vector<int64_t> elements) {
  ConstValue c;
  c.form = Form::IntList;
  c.list = std::move(elements);
  return c;
}

ConstValue ConstValue::getFeature(llvm::StringRef name) {
  ConstValue c;
  c.form = Form::Feature;
  c.name = name.str();
  return c;
}

ConstValue ConstValue::getTensor(llvm::StringRef name, unsigned index) {
  ConstValue c;
  c.form = Form::Tensor;
  c.name = name.str();
  c.tensor = index;
  return c;
}

ConstValue ConstValue::getAbsentTensor() {
  ConstValue c;
  c.form = Form::Tensor;
  c.name = "none";
  c.absent = true;
  return c;
}

std::string ConstValue::str() const {
  switch (form) {
  case Form::IntList: {
    std::string s = "[";
    for (auto [i, v] : llvm::enumerate(list))
      s += (i ? ", " : "") + std::to_string(v);
    return s + "]";
  }
  case Form::Feature:
  case Form::Tensor:
    return name;
  case Form::Scalar:
    break;
  }
  switch (kind) {
  case ScalarKind::Int:
    return std::to_string(intValue);
  case ScalarKind::Float:
    return formatNumber(floatValue);
  case ScalarKind::Bool:
    return boolValue ? "true" : "false";
  }
  return "?";
}

std::string ParamType::str() const {
  switch (form) {
  case ConstValue::Form::IntList:
    return "int[" + std::to_string(length) + "]";
  case ConstValue::Form::Feature:
    return "feature";
  case ConstValue::Form::Tensor:
    return "tensor";
  case ConstValue::Form::Scalar:
    break;
  }
  return spell(scalar).str();
}

static const char *const kFeatureMaps[] = {"identity", "relu", "elu1",
                                           "softplus", "exp"};

bool attn::frontend::isFeatureMap(llvm::StringRef name) {
  return llvm::is_contained(kFeatureMaps, name);
}

std::string attn::frontend::featureMapNames() {
  return "identity, relu, elu1, softplus or exp";
}

/// The name of each role, in the order of Role.
static const char *const kRoleNames[] = {"B", "H", "N", "M", "D", "G"};

std::optional<Role> attn::frontend::roleByName(llvm::StringRef name) {
  for (auto [i, roleName] : llvm::enumerate(kRoleNames))
    if (name == roleName)
      return static_cast<Role>(i);
  return std::nullopt;
}

llvm::StringRef attn::frontend::spell(Role role) {
  return kRoleNames[static_cast<unsigned>(role)];
}

double ConstValue::asDouble() const {
  switch (kind) {
  case ScalarKind::Int:
    return static_cast<double>(intValue);
  case ScalarKind::Float:
    return floatValue;
  case ScalarKind::Bool:
    return boolValue ? 1.0 : 0.0;
  }
  return 0.0;
}

bool ConstValue::operator==(const ConstValue &other) const {
  return form == other.form && kind == other.kind &&
         intValue == other.intValue && floatValue == other.floatValue &&
         boolValue == other.boolValue && list == other.list &&
         name == other.name && tensor == other.tensor &&
         absent == other.absent;
}

bool ConstValue::operator<(const ConstValue &other) const {
  return std::tie(form, kind, intValue, floatValue, boolValue, list, name,
                  tensor, absent) < std::tie(other.form, other.kind,
                                             other.intValue, other.floatValue,
                                             other.boolValue, other.list,
                                             other.name, other.tensor,
                                             other.absent);
}

std::string attn::frontend::formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// How a scalar kind is described in messages ("an int", "a boolean").
static llvm::StringRef describe(ScalarKind kind) {
  switch (kind) {
  case ScalarKind::Int:
    return "an int";
  case ScalarKind::Float:
    return "a float";
  case ScalarKind::Bool:
    return "a boolean";
  }
  return "?";
}

static bool isNumber(ScalarKind kind) { return kind != ScalarKind::Bool; }

/// The kind two numbers are computed in: int when both are ints.
static ScalarKind joinNumbers(ScalarKind a, ScalarKind b) {
  return a == ScalarKind::Int && b == ScalarKind::Int ? ScalarKind::Int
                                                      : ScalarKind::Float;
}

static bool isComparison(BinaryOp op) {
  return op == BinaryOp::Lt || op == BinaryOp::Le || op == BinaryOp::Gt ||
         op == BinaryOp::Ge || op == BinaryOp::Eq || op == BinaryOp::Ne;
}

static bool isLogical(BinaryOp op) {
  return op == BinaryOp::And || op == BinaryOp::Or;
}

//===----------------------------------------------------------------------===//
// Built-in functions
//===----------------------------------------------------------------------===//

namespace {
/// How a built-in function types its arguments.
enum class BuiltinRule {
  FloatUnary, ///< f32 -> f32 (ints promoted): exp, log, tanh, ...
  Abs,        ///< int -> int, f32 -> f32
  MinMax,     ///< (int, int) -> int, otherwise f32
  Pow,        ///< (f32, f32) -> f32
};

struct Builtin {
  llvm::StringRef name;
  unsigned arity;
  BuiltinRule rule;
};
} // namespace

static const Builtin kBuiltins[] = {
    {"exp", 1, BuiltinRule::FloatUnary},   {"exp2", 1, BuiltinRule::FloatUnary},
    {"log", 1, BuiltinRule::FloatUnary},   {"tanh", 1, BuiltinRule::FloatUnary},
    {"sqrt", 1, BuiltinRule::FloatUnary},  {"rsqrt", 1, BuiltinRule::FloatUnary},
    {"sin", 1, BuiltinRule::FloatUnary},   {"cos", 1, BuiltinRule::FloatUnary},
    {"floor", 1, BuiltinRule::FloatUnary}, {"abs", 1, BuiltinRule::Abs},
    {"min", 2, BuiltinRule::MinMax},       {"max", 2, BuiltinRule::MinMax},
    {"pow", 2, BuiltinRule::Pow},          {"elu", 1, BuiltinRule::FloatUnary},
    {"relu", 1, BuiltinRule::FloatUnary},  {"softplus", 1, BuiltinRule::FloatUnary},
    {"sigmoid", 1, BuiltinRule::FloatUnary},
};

static const Builtin *lookupBuiltin(llvm::StringRef name) {
  for (const Builtin &b : kBuiltins)
    if (b.name == name)
      return &b;
  return nullptr;
}

static std::string builtinNames() {
  std::string names;
  llvm::raw_string_ostream os(names);
  llvm::interleaveComma(kBuiltins, os, [&](const Builtin &b) { os << b.name; });
  return names;
}

/// Checks the arity and argument kinds of a built-in call and returns the
/// result kind; `emit` reports an error at a location.
template <typename EmitFn>
static std::optional<ScalarKind>
typeBuiltin(const CallExprAST &call, llvm::ArrayRef<ScalarKind> argKinds,
            EmitFn emit) {
  const Builtin *builtin = lookupBuiltin(call.getCallee());
  if (!builtin) {
    emit(call.getLoc()) << "unknown function '" << call.getCallee()
                        << "'; the functions are " << builtinNames();
    return std::nullopt;
  }
  for (const ArgAST &arg : call.getArgs()) {
    if (!arg.name.empty()) {
      emit(arg.loc) << "function '" << call.getCallee()
                    << "' takes no named arguments, got '" << arg.name << "'";
      return std::nullopt;
    }
  }
  if (argKinds.size() != builtin->arity) {
    emit(call.getLoc()) << "function '" << call.getCallee() << "' takes "
                        << builtin->arity << " argument"
                        << (builtin->arity == 1 ? "" : "s") << ", got "
                        << argKinds.size();
    return std::nullopt;
  }
  for (auto [i, kind] : llvm::enumerate(argKinds)) {
    if (!isNumber(kind)) {
      emit(call.getArgs()[i].value->getLoc())
          << "function '" << call.getCallee()
          << "' expects a number, got a boolean";
      return std::nullopt;
    }
  }
  switch (builtin->rule) {
  case BuiltinRule::FloatUnary:
  case BuiltinRule::Pow:
    return ScalarKind::Float;
  case BuiltinRule::Abs:
    return argKinds[0];
  case BuiltinRule::MinMax:
    return joinNumbers(argKinds[0], argKinds[1]);
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Variant bodies
//===----------------------------------------------------------------------===//


std::optional<ScalarKind> Sema::checkExpr(const ExprAST &expr, Scope &scope) {
  std::optional<ScalarKind> result;
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    result = ScalarKind::Int;
    break;
  case ExprAST::Kind::Float:
    result = ScalarKind::Float;
    break;
  case ExprAST::Kind::Bool:
    result = ScalarKind::Bool;
    break;
  case ExprAST::Kind::Name: {
    const auto &name = cast<NameExprAST>(expr);
    NameRef ref;
    // Binders, then variant parameters, then dims and roles.
    for (auto [i, binder] : llvm::enumerate(scope.item.binders)) {
      if (binder.name == name.getName()) {
        ref.kind = NameRef::Kind::Binder;
        ref.index = i;
        result = scope.binderKinds[i];
        break;
      }
    }
    if (!result) {
      for (auto [i, param] : llvm::enumerate(scope.variant.decl->params)) {
        if (param.name != name.getName())
          continue;
        const ParamType &type = scope.variant.paramTypes[i];
        if (type.form != ConstValue::Form::Scalar) {
          auto diag = emitError(expr.getLoc())
                      << "parameter '" << param.name << "' of variant '"
                      << scope.variant.decl->name << "' is ";
          if (type.form == ConstValue::Form::IntList)
            diag << "a list (" << type.str() << "); read an element, as in "
                 << param.name << "[0]";
          else if (type.form == ConstValue::Form::Feature)
            diag << "a feature map; it can only be the value of 'feature'";
          else
            diag << "a tensor; it can only be the argument of rpe(...) or "
                 << "luna(...)";
          return std::nullopt;
        }
        ref.kind = NameRef::Kind::Param;
        ref.index = i;
        result = scope.variant.paramKinds[i];
        break;
      }
    }
    // Role names (B H N M D G) are the call's roles: always in the
    // prelude, which cannot know the user's dims, and in user variants
    // when no dim has that name.
    std::optional<Role> role = roleByName(name.getName());
    if (!result && role &&
        (scope.variant.fromPrelude || !lookupDim(name.getName()))) {
      ref.kind = NameRef::Kind::Role;
      ref.role = *role;
      result = ScalarKind::Int;
    }
    if (!result && lookupDim(name.getName())) {
      ref.kind = NameRef::Kind::Dim;
      ref.dim = name.getName().str();
      result = ScalarKind::Int;
      if (llvm::none_of(scope.dimsRead,
                        [&](auto &d) { return d.first == ref.dim; }))
        scope.dimsRead.emplace_back(ref.dim, expr.getLoc());
    }
    if (!result) {
      auto diag = emitError(expr.getLoc())
                  << "unknown name '" << name.getName() << "' in '"
                  << scope.item.name << "' of variant '"
                  << scope.variant.decl->name << "'; expected ";
      if (!scope.binderHint.empty())
        diag << "one of its parameters (" << scope.binderHint << "), ";
      diag << "a variant parameter or a dim";
      return std::nullopt;
    }
    nameRefs[&name] = ref;
    break;
  }
  case ExprAST::Kind::Index: {
    const auto &index = cast<IndexExprAST>(expr);
    std::optional<std::pair<unsigned, unsigned>> ref =
        checkIndex(index, *scope.variant.decl, scope.variant.paramTypes);
    if (!ref)
      return std::nullopt;
    indexRefs[&index] = *ref;
    result = ScalarKind::Int;
    break;
  }
  case ExprAST::Kind::List:
    emitListError(expr);
    return std::nullopt;
  case ExprAST::Kind::Unary: {
    const auto &unary = cast<UnaryExprAST>(expr);
    std::optional<ScalarKind> operand = checkExpr(unary.getOperand(), scope);
    if (!operand)
      return std::nullopt;
    if (unary.getOp() == UnaryOp::Neg && !isNumber(*operand)) {
      emitError(expr.getLoc()) << "operator '-' expects a number, got a "
                                  "boolean";
      return std::nullopt;
    }
    if (unary.getOp() == UnaryOp::Not && *operand != ScalarKind::Bool) {
      emitError(expr.getLoc())
          << "operator '!' expects a boolean, got " << describe(*operand);
      return std::nullopt;
    }
    result = operand;
    break;
  }
  case ExprAST::Kind::Binary: {
    const auto &binary = cast<BinaryExprAST>(expr);
    std::optional<ScalarKind> lhs = checkExpr(binary.getLHS(), scope);
    std::optional<ScalarKind> rhs = checkExpr(binary.getRHS(), scope);
    if (!lhs || !rhs)
      return std::nullopt;
    BinaryOp op = binary.getOp();
    if (isLogical(op)) {
      if (*lhs != ScalarKind::Bool || *rhs != ScalarKind::Bool) {
        bool left = *lhs != ScalarKind::Bool;
        emitError(expr.getLoc())
            << "operator '" << spell(op) << "' expects booleans, got "
            << describe(left ? *lhs : *rhs) << " on the "
            << (left ? "left" : "right");
        return std::nullopt;
      }
      result = ScalarKind::Bool;
    } else if (op == BinaryOp::Eq || op == BinaryOp::Ne) {
      if (isNumber(*lhs) != isNumber(*rhs)) {
        emitError(expr.getLoc())
            << "operator '" << spell(op) << "' compares " << describe(*lhs)
            << " with " << describe(*rhs);
        return std::nullopt;
      }
      result = ScalarKind::Bool;
    } else {
      if (!isNumber(*lhs) || !isNumber(*rhs)) {
        emitError(expr.getLoc())
            << "operator '" << spell(op) << "' expects numbers, got a boolean "
            << "on the " << (isNumber(*lhs) ? "right" : "left");
        return std::nullopt;
      }
      result = isComparison(op) ? ScalarKind::Bool : joinNumbers(*lhs, *rhs);
    }
    break;
  }
  case ExprAST::Kind::Ternary: {
    const auto &ternary = cast<TernaryExprAST>(expr);
    std::optional<ScalarKind> cond = checkExpr(ternary.getCond(), scope);
    std::optional<ScalarKind> thenKind = checkExpr(ternary.getThen(), scope);
    std::optional<ScalarKind> elseKind = checkExpr(ternary.getElse(), scope);
    if (!cond || !thenKind || !elseKind)
      return std::nullopt;
    if (*cond != ScalarKind::Bool) {
      emitError(ternary.getCond().getLoc())
          << "the condition of '?' must be a boolean, got "
          << describe(*cond);
      return std::nullopt;
    }
    if (isNumber(*thenKind) != isNumber(*elseKind)) {
      emitError(expr.getLoc())
          << "the branches of '?' have different types: "
          << describe(*thenKind) << " and " << describe(*elseKind);
      return std::nullopt;
    }
    result = isNumber(*thenKind) ? joinNumbers(*thenKind, *elseKind)
                                 : ScalarKind::Bool;
    break;
  }
  case ExprAST::Kind::Call:
    result = checkCall(cast<CallExprAST>(expr), scope);
    break;
  }
  if (result)
    types[&expr] = *result;
  return result;
}

std::optional<ScalarKind> Sema::checkCall(const CallExprAST &call,
                                          Scope &scope) {
  std::vector<ScalarKind> argKinds;
  for (const ArgAST &arg : call.getArgs()) {
    std::optional<ScalarKind> kind = checkExpr(*arg.value, scope);
    if (!kind)
      return std::nullopt;
    argKinds.push_back(*kind);
  }
  return typeBuiltin(call, argKinds,
                     [&](const Location &loc) { return emitError(loc); });
}

//===----------------------------------------------------------------------===//
// Constant expressions
//===----------------------------------------------------------------------===//


/// Integer arithmetic with overflow detection; nullopt on overflow.
static std::optional<int64_t> intOp(BinaryOp op, int64_t a, int64_t b) {
  int64_t r = 0;
  switch (op) {
  case BinaryOp::Add:
    if (__builtin_add_overflow(a, b, &r))
      return std::nullopt;
    return r;
  case BinaryOp::Sub:
    if (__builtin_sub_overflow(a, b, &r))
      return std::nullopt;
    return r;
  case BinaryOp::Mul:
    if (__builtin_mul_overflow(a, b, &r))
      return std::nullopt;
    return r;
  case BinaryOp::Div:
    if (a == INT64_MIN && b == -1)
      return std::nullopt;
    return a / b;
  case BinaryOp::Rem:
    if (a == INT64_MIN && b == -1)
      return 0;
    return a % b;
  default:
    return std::nullopt;
  }
}

std::optional<ConstValue> Sema::evalConst(const ExprAST &expr,
                                          const ConstScope &scope) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    return ConstValue::getInt(cast<IntExprAST>(expr).getValue());
  case ExprAST::Kind::Float:
    return ConstValue::getFloat(cast<FloatExprAST>(expr).getValue());
  case ExprAST::Kind::Bool:
    return ConstValue::getBool(cast<BoolExprAST>(expr).getValue());
  case ExprAST::Kind::Name: {
    llvm::StringRef name = cast<NameExprAST>(expr).getName();
    if (scope.variant && scope.paramValues) {
      for (auto [i, param] : llvm::enumerate(scope.variant->params)) {
        if (param.name != name)
          continue;
        const ConstValue &value = (*scope.paramValues)[i];
        if (value.form == ConstValue::Form::Scalar)
          return value;
        auto diag = emitError(expr.getLoc())
                    << "parameter '" << name << "' is ";
        if (value.form == ConstValue::Form::IntList)
          diag << "a list; read an element, as in " << name << "[0]";
        else if (value.form == ConstValue::Form::Feature)
          diag << "a feature map, not a number";
        else
          diag << "a tensor, not a number";
        return std::nullopt;
      }
    }
    if (scope.roleValues) {
      std::optional<Role> role = roleByName(name);
      if (role && (scope.rolesFirst || !lookupDim(name))) {
        if (std::optional<int64_t> v = scope.roleValues->at(*role))
          return ConstValue::getInt(*v);
        emitError(expr.getLoc())
            << "dim '" << name << "' is symbolic ('?') in this call, so it "
            << "cannot be used in " << scope.what << ", which must be a "
            << "constant";
        return std::nullopt;
      }
    }
    if (const DimInfo *dim = lookupDim(name)) {
      if (dim->value)
        return ConstValue::getInt(*dim->value);
      emitError(expr.getLoc())
          << "dim '" << name << "' is symbolic ('?'), so it cannot be used in "
          << scope.what << ", which must be a constant";
      return std::nullopt;
    }
    emitError(expr.getLoc()) << "unknown name '" << name << "' in "
                             << scope.what << "; expected a constant "
                             << "expression of numbers and dims";
    return std::nullopt;
  }
  case ExprAST::Kind::Unary: {
    const auto &unary = cast<UnaryExprAST>(expr);
    std::optional<ConstValue> v = evalConst(unary.getOperand(), scope);
    if (!v)
      return std::nullopt;
    if (unary.getOp() == UnaryOp::Not) {
      if (v->kind != ScalarKind::Bool) {
        emitError(expr.getLoc())
            << "operator '!' expects a boolean, got " << describe(v->kind);
        return std::nullopt;
      }
      return ConstValue::getBool(!v->boolValue);
    }
    if (v->kind == ScalarKind::Bool) {
      emitError(expr.getLoc()) << "operator '-' expects a number, got a "
                                  "boolean";
      return std::nullopt;
    }
    if (v->kind == ScalarKind::Float)
      return ConstValue::getFloat(-v->floatValue);
    if (v->intValue == INT64_MIN) {
      emitError(expr.getLoc()) << "integer overflow in " << scope.what;
      return std::nullopt;
    }
    return ConstValue::getInt(-v->intValue);
  }
  case ExprAST::Kind::Binary: {
    const auto &binary = cast<BinaryExprAST>(expr);
    std::optional<ConstValue> lhs = evalConst(binary.getLHS(), scope);
    if (!lhs)
      return std::nullopt;
    std::optional<ConstValue> rhs = evalConst(binary.getRHS(), scope);
    if (!rhs)
      return std::nullopt;
    BinaryOp op = binary.getOp();
    if (isLogical(op)) {
      if (lhs->kind != ScalarKind::Bool || rhs->kind != ScalarKind::Bool) {
        bool left = lhs->kind != ScalarKind::Bool;
        emitError(expr.getLoc())
            << "operator '" << spell(op) << "' expects booleans, got "
            << describe(left ? lhs->kind : rhs->kind) << " on the "
            << (left ? "left" : "right");
        return std::nullopt;
      }
      return ConstValue::getBool(op == BinaryOp::And
                                     ? lhs->boolValue && rhs->boolValue
                                     : lhs->boolValue || rhs->boolValue);
    }
    if (lhs->kind == ScalarKind::Bool || rhs->kind == ScalarKind::Bool) {
      if ((op == BinaryOp::Eq || op == BinaryOp::Ne) && lhs->kind == rhs->kind)
        return ConstValue::getBool((lhs->boolValue == rhs->boolValue) ==
                                   (op == BinaryOp::Eq));
      emitError(expr.getLoc())
          << "operator '" << spell(op) << "' expects numbers, got a boolean";
      return std::nullopt;
    }
    bool isInt = lhs->kind == ScalarKind::Int && rhs->kind == ScalarKind::Int;
    if (isComparison(op)) {
      if (isInt) {
        int64_t x = lhs->intValue, y = rhs->intValue;
        switch (op) {
        case BinaryOp::Lt:
          return ConstValue::getBool(x < y);
        case BinaryOp::Le:
          return ConstValue::getBool(x <= y);
        case BinaryOp::Gt:
          return ConstValue::getBool(x > y);
        case BinaryOp::Ge:
          return ConstValue::getBool(x >= y);
        case BinaryOp::Eq:
          return ConstValue::getBool(x == y);
        default:
          return ConstValue::getBool(x != y);
        }
      }
      double a = lhs->asDouble(), b = rhs->asDouble();
      switch (op) {
      case BinaryOp::Lt:
        return ConstValue::getBool(a < b);
      case BinaryOp::Le:
        return ConstValue::getBool(a <= b);
      case BinaryOp::Gt:
        return ConstValue::getBool(a > b);
      case BinaryOp::Ge:
        return ConstValue::getBool(a >= b);
      case BinaryOp::Eq:
        return ConstValue::getBool(a == b);
      default:
        return ConstValue::getBool(a != b);
      }
    }
    if (isInt) {
      if ((op == BinaryOp::Div || op == BinaryOp::Rem) && rhs->intValue == 0) {
        emitError(expr.getLoc()) << "division by zero in " << scope.what;
        return std::nullopt;
      }
      std::optional<int64_t> r = intOp(op, lhs->intValue, rhs->intValue);
      if (!r) {
        emitError(expr.getLoc()) << "integer overflow in " << scope.what;
        return std::nullopt;
      }
      return ConstValue::getInt(*r);
    }
    double a = lhs->asDouble(), b = rhs->asDouble();
    switch (op) {
    case BinaryOp::Add:
      return ConstValue::getFloat(a + b);
    case BinaryOp::Sub:
      return ConstValue::getFloat(a - b);
    case BinaryOp::Mul:
      return ConstValue::getFloat(a * b);
    case BinaryOp::Div:
      return ConstValue::getFloat(a / b);
    default:
      return ConstValue::getFloat(std::fmod(a, b));
    }
  }
  case ExprAST::Kind::Ternary: {
    const auto &ternary = cast<TernaryExprAST>(expr);
    std::optional<ConstValue> cond = evalConst(ternary.getCond(), scope);
    if (!cond)
      return std::nullopt;
    if (cond->kind != ScalarKind::Bool) {
      emitError(ternary.getCond().getLoc())
          << "the condition of '?' must be a boolean, got "
          << describe(cond->kind);
      return std::nullopt;
    }
    std::optional<ConstValue> a = evalConst(ternary.getThen(), scope);
    std::optional<ConstValue> b = evalConst(ternary.getElse(), scope);
    if (!a || !b)
      return std::nullopt;
    if (isNumber(a->kind) != isNumber(b->kind)) {
      emitError(expr.getLoc()) << "the branches of '?' have different types: "
                               << describe(a->kind) << " and "
                               << describe(b->kind);
      return std::nullopt;
    }
    const ConstValue &chosen = cond->boolValue ? *a : *b;
    if (isNumber(a->kind) && joinNumbers(a->kind, b->kind) == ScalarKind::Float)
      return ConstValue::getFloat(chosen.asDouble());
    return chosen;
  }
  case ExprAST::Kind::Call:
    return evalConstCall(cast<CallExprAST>(expr), scope);
  case ExprAST::Kind::Index: {
    const auto &index = cast<IndexExprAST>(expr);
    if (!scope.variant || !scope.paramValues ||
        llvm::none_of(scope.variant->params,
                      [&](auto &p) { return p.name == index.getName(); })) {
      emitError(index.getNameLoc())
          << "unknown list '" << index.getName() << "' in " << scope.what
          << "; only a list parameter (int[K]) of a variant can be indexed";
      return std::nullopt;
    }
    std::vector<ParamType> types;
    for (const ConstValue &v : *scope.paramValues) {
      ParamType t;
      t.form = v.form;
      t.scalar = v.kind;
      t.length = v.list.size();
      types.push_back(t);
    }
    std::optional<std::pair<unsigned, unsigned>> ref =
        checkIndex(index, *scope.variant, types);
    if (!ref)
      return std::nullopt;
    return ConstValue::getInt((*scope.paramValues)[ref->first].list[ref->second]);
  }
  case ExprAST::Kind::List:
    emitListError(expr);
    return std::nullopt;
  }
  return std::nullopt;
}

void Sema::emitListError(const ExprAST &expr) {
  emitError(expr.getLoc()) << "a list literal is allowed only as the value of "
                           << "'expand' or of an int[K] variant parameter";
}

std::optional<std::pair<unsigned, unsigned>>
Sema::checkIndex(const IndexExprAST &expr, const VariantDeclAST &variant,
                 llvm::ArrayRef<ParamType> types) {
  std::optional<unsigned> param;
  for (auto [i, p] : llvm::enumerate(variant.params))
    if (p.name == expr.getName())
      param = i;
  if (!param) {
    emitError(expr.getNameLoc())
        << "unknown list '" << expr.getName() << "' in variant '"
        << variant.name << "'; only a list parameter (int[K]) can be indexed";
    return std::nullopt;
  }
  const ParamType &type = types[*param];
  if (type.form != ConstValue::Form::IntList) {
    emitError(expr.getNameLoc())
        << "parameter '" << expr.getName() << "' of variant '" << variant.name
        << "' has type " << type.str()
        << ", not a list; only a list parameter (int[K]) can be indexed";
    return std::nullopt;
  }
  std::optional<ConstValue> index = evalConst(
      expr.getIndex(),
      ConstScope{"the index of '" + expr.getName().str() + "'"});
  if (!index)
    return std::nullopt;
  if (index->kind != ScalarKind::Int) {
    emitError(expr.getIndex().getLoc())
        << "the index of '" << expr.getName() << "' must be an int, got "
        << describe(index->kind);
    return std::nullopt;
  }
  if (index->intValue < 0 || index->intValue >= type.length) {
    emitError(expr.getIndex().getLoc())
        << "index " << index->intValue << " is out of range for parameter '"
        << expr.getName() << "' of type " << type.str() << " (valid: 0 to "
        << type.length - 1 << ")";
    return std::nullopt;
  }
  return std::make_pair(*param, static_cast<unsigned>(index->intValue));
}

std::optional<ConstValue> Sema::evalConstCall(const CallExprAST &call,
                                              const ConstScope &scope) {
  std::vector<ConstValue> args;
  std::vector<ScalarKind> kinds;
  for (const ArgAST &arg : call.getArgs()) {
    std::optional<ConstValue> v = evalConst(*arg.value, scope);
    if (!v)
      return std::nullopt;
    args.push_back(*v);
    kinds.push_back(v->kind);
  }
  std::optional<ScalarKind> kind = typeBuiltin(
      call, kinds, [&](const Location &loc) { return emitError(loc); });
  if (!kind)
    return std::nullopt;
  llvm::StringRef name = call.getCallee();
  if (*kind == ScalarKind::Int) {
    int64_t a = args[0].intValue;
    if (name == "abs") {
      if (a == INT64_MIN) {
        emitError(call.getLoc()) << "integer overflow in " << scope.what;
        return std::nullopt;
      }
      return ConstValue::getInt(a < 0 ? -a : a);
    }
    int64_t b = args[1].intValue;
    return ConstValue::getInt(name == "min" ? std::min(a, b) : std::max(a, b));
  }
  double x = args[0].asDouble();
  double y = args.size() > 1 ? args[1].asDouble() : 0.0;
  double r = llvm::StringSwitch<double>(name)
                 .Case("exp", std::exp(x))
                 .Case("exp2", std::exp2(x))
                 .Case("log", std::log(x))
                 .Case("tanh", std::tanh(x))
                 .Case("sqrt", std::sqrt(x))
                 .Case("rsqrt", 1.0 / std::sqrt(x))
                 .Case("sin", std::sin(x))
                 .Case("cos", std::cos(x))
                 .Case("floor", std::floor(x))
                 .Case("abs", std::fabs(x))
                 .Case("min", std::fmin(x, y))
                 .Case("max", std::fmax(x, y))
                 .Case("pow", std::pow(x, y))
                 .Case("elu", x > 0 ? x : std::expm1(x))
                 .Case("relu", std::fmax(x, 0.0))
                 .Case("softplus", std::fmax(x, 0.0) +
                                       std::log1p(std::exp(-std::fabs(x))))
                 .Case("sigmoid", 1.0 / (1.0 + std::exp(-x)))
                 .Default(0.0);
  return ConstValue::getFloat(r);
}

std::optional<ConstValue> Sema::convertTo(const ConstValue &value,
                                          ScalarKind kind, const Location &loc,
                                          llvm::StringRef what) {
  if (value.kind == kind)
    return value;
  if (kind == ScalarKind::Float && value.kind == ScalarKind::Int)
    return ConstValue::getFloat(static_cast<double>(value.intValue));
  auto diag = emitError(loc) << what << " must be " << describe(kind)
                             << ", got " << describe(value.kind);
  if (value.kind == ScalarKind::Float)
    diag << " (" << formatNumber(value.floatValue) << ")";
  return std::nullopt;
}

std::optional<ConstValue> Sema::evalParamValue(const ExprAST &expr,
                                               const ParamType &type,
                                               const std::string &scopeWhat,
                                               const std::string &what) {
  switch (type.form) {
  case ConstValue::Form::Scalar: {
    std::optional<ConstValue> v = evalConst(expr, ConstScope{scopeWhat});
    if (!v)
      return std::nullopt;
    return convertTo(*v, type.scalar, expr.getLoc(), what);
  }
  case ConstValue::Form::IntList: {
    auto *list = llvm::dyn_cast<ListExprAST>(&expr);
    if (!list) {
      std::string example = "[";
      for (unsigned i = 0; i < type.length; ++i)
        example += i ? ", 1" : "1";
      emitError(expr.getLoc()) << what << " must be a list of " << type.length
                               << " ints, such as " << example << "]";
      return std::nullopt;
    }
    if (list->getElements().size() != type.length) {
      emitError(expr.getLoc()) << what << " must have " << type.length
                               << " elements (" << type.str() << "), got "
                               << list->getElements().size();
      return std::nullopt;
    }
    std::vector<int64_t> elements;
    for (auto [i, element] : llvm::enumerate(list->getElements())) {
      std::optional<ConstValue> v = evalConst(*element, ConstScope{scopeWhat});
      if (v)
        v = convertTo(*v, ScalarKind::Int, element->getLoc(),
                      "element " + std::to_string(i) + " of " + what);
      if (!v)
        return std::nullopt;
      elements.push_back(v->intValue);
    }
    return ConstValue::getList(std::move(elements));
  }
  case ConstValue::Form::Feature: {
    auto *name = llvm::dyn_cast<NameExprAST>(&expr);
    if (name && isFeatureMap(name->getName()))
      return ConstValue::getFeature(name->getName());
    if (name)
      emitError(expr.getLoc())
          << "unknown feature map '" << name->getName() << "' for " << what
          << "; expected " << featureMapNames();
    else
      emitError(expr.getLoc()) << what << " must name a feature map: "
                               << featureMapNames();
    return std::nullopt;
  }
  case ConstValue::Form::Tensor:
    break;
  }
  llvm_unreachable("tensor values are checked against the kernel");
}
