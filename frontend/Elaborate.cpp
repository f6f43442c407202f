//===- Elaborate.cpp - architectures to straight-line graphs --------------===//
//
// Implements elaborateArchs (Elaborate.h): the configuration, the driver,
// statements, expressions and the helpers the block builders share.  The
// blocks are built in ElaborateBlocks.cpp and ElaborateAttention.cpp; the
// language is documented in docs/DSL.md ("Architectures"), the graph's ops
// in docs/Architectures.md §2.
//
//===----------------------------------------------------------------------===//

#include "frontend/Elaborator.h"
#include "frontend/Lexer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Casting.h"

#include <cmath>

using namespace attn::frontend;
using namespace attn::frontend::elab;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

namespace {
/// Removes whitespace.
static std::string squeeze(llvm::StringRef text) {
  std::string out;
  for (char c : text)
    if (!llvm::isSpace(c))
      out.push_back(c);
  return out;
}

/// Splits `text` at commas outside brackets and parentheses.
static std::vector<std::string> splitTopLevel(llvm::StringRef text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(' || c == '[')
      ++depth;
    if (c == ')' || c == ']')
      --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (!cur.empty())
    parts.push_back(cur);
  return parts;
}

} // namespace

std::optional<std::string>
attn::frontend::parseConfig(llvm::StringRef text,
                            std::map<std::string, ConfigEntry> &out) {
  for (const std::string &raw : splitTopLevel(squeeze(text))) {
    llvm::StringRef entry(raw);
    size_t eq = entry.find('=');
    if (eq == llvm::StringRef::npos || eq == 0 || eq + 1 == entry.size())
      return "malformed configuration entry '" + raw +
             "': expected name=value or name=[v0,v1,...]";
    llvm::StringRef name = entry.take_front(eq), value = entry.drop_front(eq + 1);
    auto [base, layerText] = name.split('.');
    ConfigEntry &e = out[base.str()];
    if (!layerText.empty()) {
      int64_t layer;
      if (layerText.getAsInteger(10, layer) || layer < 0)
        return "malformed configuration entry '" + raw +
               "': the layer after '.' must be a non-negative integer";
      e.layers[layer] = value.str();
      continue;
    }
    if (!e.values.empty())
      return "configuration names '" + base.str() + "' twice";
    if (value.starts_with("[") && value.ends_with("]")) {
      e.isList = true;
      e.values = splitTopLevel(value.drop_front().drop_back());
      if (e.values.empty())
        return "configuration entry '" + raw + "' has an empty list";
    } else {
      e.values.push_back(value.str());
    }
  }
  return std::nullopt;
}


//===----------------------------------------------------------------------===//
// Expression copies
//===----------------------------------------------------------------------===//

ExprPtr attn::frontend::elab::cloneExpr(const ExprAST &expr,
                                        const NameSubst &subst) {
  const Location &loc = expr.getLoc();
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    return std::make_unique<IntExprAST>(loc, cast<IntExprAST>(expr).getValue());
  case ExprAST::Kind::Float:
    return std::make_unique<FloatExprAST>(loc,
                                          cast<FloatExprAST>(expr).getValue());
  case ExprAST::Kind::Bool:
    return std::make_unique<BoolExprAST>(loc,
                                         cast<BoolExprAST>(expr).getValue());
  case ExprAST::Kind::Name: {
    const auto &name = cast<NameExprAST>(expr);
    if (ExprPtr replaced = subst(name))
      return replaced;
    return std::make_unique<NameExprAST>(loc, name.getName().str());
  }
  case ExprAST::Kind::Unary: {
    const auto &u = cast<UnaryExprAST>(expr);
    return std::make_unique<UnaryExprAST>(loc, u.getOp(),
                                          cloneExpr(u.getOperand(), subst));
  }
  case ExprAST::Kind::Binary: {
    const auto &b = cast<BinaryExprAST>(expr);
    return std::make_unique<BinaryExprAST>(loc, b.getOp(),
                                           cloneExpr(b.getLHS(), subst),
                                           cloneExpr(b.getRHS(), subst));
  }
  case ExprAST::Kind::Ternary: {
    const auto &t = cast<TernaryExprAST>(expr);
    return std::make_unique<TernaryExprAST>(
        loc, cloneExpr(t.getCond(), subst), cloneExpr(t.getThen(), subst),
        cloneExpr(t.getElse(), subst));
  }
  case ExprAST::Kind::Call: {
    const auto &c = cast<CallExprAST>(expr);
    std::vector<ArgAST> args;
    for (const ArgAST &a : c.getArgs())
      args.push_back(ArgAST{a.name, a.loc, cloneExpr(*a.value, subst)});
    return std::make_unique<CallExprAST>(loc, c.getCallee().str(),
                                         std::move(args));
  }
  case ExprAST::Kind::List: {
    std::vector<ExprPtr> elements;
    for (const ExprPtr &e : cast<ListExprAST>(expr).getElements())
      elements.push_back(cloneExpr(*e, subst));
    return std::make_unique<ListExprAST>(loc, std::move(elements));
  }
  case ExprAST::Kind::Index: {
    const auto &ix = cast<IndexExprAST>(expr);
    return std::make_unique<IndexExprAST>(loc, ix.getName().str(),
                                          ix.getNameLoc(),
                                          cloneExpr(ix.getIndex(), subst));
  }
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Driver and statements
//===----------------------------------------------------------------------===//

mlir::FailureOr<Elaboration> Elaborator::run(const std::string &configText) {
  if (auto err = parseConfig(configText, config)) {
    mlir::emitError(mlir::UnknownLoc::get(&context)) << *err;
    return mlir::failure();
  }
  std::set<std::string> archNames;
  for (const ArchDeclAST &arch : module.archs) {
    if (!archNames.insert(arch.name).second) {
      emitError(arch.nameLoc) << "architecture '" << arch.name
                              << "' is already declared";
      continue;
    }
    result.archs.emplace_back();
    graph = &result.archs.back();
    graph->name = arch.name;
    graph->loc = arch.loc;
    if (!arch.resultName.empty())
      graph->outputName = arch.resultName;
    sites.clear();
    env.clear();
    path.clear();
    used.assign(1, {});
    sharedPaths.clear();
    layer = -1;
    nextLayer = 0;
    perLayerTaken.clear();
    output.reset();
    carriedMap.reset();
    collectChoices(arch.body, false, sites);

    bool paramsOk = true;
    for (const KernelParamAST &param : arch.params) {
      std::vector<int64_t> shape;
      bool ok = true;
      for (const DimRefAST &d : param.type.dims) {
        if (d.isLiteral()) {
          shape.push_back(d.value);
          continue;
        }
        auto it = dims.find(d.name);
        if (it == dims.end()) {
          emitError(d.loc) << "unknown dim '" << d.name << "' in parameter '"
                           << param.name << "'"
                           << " (architectures need every dim to have a "
                              "value)";
          ok = false;
          continue;
        }
        shape.push_back(it->second);
      }
      if (param.type.dtype != "f32") {
        emitError(param.type.loc)
            << "architecture parameters must be f32, got '"
            << param.type.dtype << "'";
        ok = false;
      }
      if (!ok) {
        paramsOk = false;
        continue;
      }
      if (shape.size() < 2) {
        emitError(param.loc) << "architecture parameter '" << param.name
                             << "' must have rank >= 2 ([..., tokens, "
                                "channels])";
        paramsOk = false;
        continue;
      }
      int id = newTensor(shape);
      graph->inputs.emplace_back(param.name, id);
      env[param.name] = Value::tensorValue(id);
    }
    if (!paramsOk || !runBody(arch.body))
      continue;
    if (!output) {
      emitError(arch.loc) << "architecture '" << arch.name
                          << "' does not end with 'return'";
      continue;
    }
    graph->output = *output;
    // The declared result type must match.
    std::vector<int64_t> declared;
    for (const DimRefAST &d : arch.resultType.dims) {
      auto it = dims.find(d.name);
      declared.push_back(d.isLiteral() ? d.value
                                       : (it == dims.end() ? -1 : it->second));
    }
    if (declared != shapeOf(*output)) {
      auto printShape = [](const std::vector<int64_t> &s) {
        std::string text = "[";
        for (size_t n = 0; n < s.size(); ++n)
          text += (n ? ", " : "") + std::to_string(s[n]);
        return text + "]";
      };
      emitError(arch.resultType.loc)
          << "architecture '" << arch.name << "' returns a tensor of shape "
          << printShape(shapeOf(*output)) << ", but its result type is "
          << printShape(declared);
    }
    for (auto &[name, labels] : perLayerTaken) {
      std::string text = "[";
      for (size_t n = 0; n < labels.size(); ++n)
        text += (n ? "," : "") + labels[n];
      graph->config[name] = text + "]";
    }
  }
  for (auto &[name, entry] : config)
    if (!entry.used) {
      std::string known;
      for (const ArchGraph &g : result.archs)
        for (auto &c : g.config)
          known += (known.empty() ? "" : ", ") + c.first;
      mlir::emitError(mlir::UnknownLoc::get(&context))
          << "configuration names '" << name
          << "', which is not a choice of any architecture"
          << (known.empty() ? std::string(" (there are no choices)")
                            : " (choices: " + known + ")");
      hadError = true;
    }
  if (hadError)
    return mlir::failure();
  return std::move(result);
}

void Elaborator::collectChoices(const std::vector<ArchStmtAST> &body,
                                bool inRepeat,
                                std::map<std::string, ChoiceSite> &out) {
  for (const ArchStmtAST &stmt : body) {
    if (stmt.kind == ArchStmtAST::Kind::Repeat)
      collectChoices(stmt.body, true, out);
    if (stmt.kind != ArchStmtAST::Kind::Choose)
      continue;
    auto [it, inserted] = out.try_emplace(stmt.name);
    if (!inserted) {
      auto diag = emitError(stmt.nameLoc)
                  << "choice '" << stmt.name << "' is already declared";
      diag.attachNote(toMLIRLoc(context, it->second.loc))
          << "previous declaration is here";
      continue;
    }
    it->second = ChoiceSite{stmt.name, stmt.labels, inRepeat, stmt.nameLoc};
  }
}

bool Elaborator::runBody(const std::vector<ArchStmtAST> &body) {
  for (const ArchStmtAST &stmt : body) {
    if (output) {
      emitError(stmt.loc) << "statement after 'return'";
      return false;
    }
    switch (stmt.kind) {
    case ArchStmtAST::Kind::Choose:
      if (!runChoose(stmt))
        return false;
      break;
    case ArchStmtAST::Kind::Repeat:
      if (!runRepeat(stmt))
        return false;
      break;
    case ArchStmtAST::Kind::Assign: {
      std::optional<Value> v = eval(*stmt.value);
      if (!v)
        return false;
      if (dims.count(stmt.name)) {
        emitError(stmt.nameLoc) << "'" << stmt.name
                                << "' is a dim and cannot be assigned";
        return false;
      }
      env[stmt.name] = *v;
      break;
    }
    case ArchStmtAST::Kind::Return: {
      if (layer >= 0) {
        emitError(stmt.loc) << "'return' inside 'repeat'";
        return false;
      }
      std::optional<int> t = evalTensor(*stmt.value, "the returned value");
      if (!t)
        return false;
      output = *t;
      break;
    }
    }
  }
  return true;
}

bool Elaborator::runChoose(const ArchStmtAST &stmt) {
  const ChoiceSite &site = sites.at(stmt.name);
  auto find = [&](const std::string &label) -> int {
    for (size_t n = 0; n < site.labels.size(); ++n)
      if (site.labels[n] == label)
        return static_cast<int>(n);
    // A bare variant name selects the alternative that calls it.
    int match = -1;
    for (size_t n = 0; n < site.labels.size(); ++n)
      if (llvm::StringRef(site.labels[n]).split('(').first == label) {
        if (match >= 0)
          return -2;
        match = static_cast<int>(n);
      }
    return match;
  };
  int index = 0;
  auto it = config.find(stmt.name);
  if (it != config.end()) {
    ConfigEntry &entry = it->second;
    entry.used = true;
    std::optional<std::string> label;
    if (layer >= 0 && entry.layers.count(layer))
      label = entry.layers.at(layer);
    else if (!entry.values.empty()) {
      if (entry.isList) {
        if (layer < 0) {
          emitError(stmt.nameLoc)
              << "choice '" << stmt.name
              << "' is not inside 'repeat', but the configuration gives it "
                 "a list";
          return false;
        }
        if (layer >= static_cast<int64_t>(entry.values.size())) {
          emitError(stmt.nameLoc)
              << "the configuration gives " << entry.values.size()
              << " value(s) for the per-layer choice '" << stmt.name
              << "', but layer " << layer << " needs one";
          return false;
        }
        label = entry.values[layer];
      } else {
        label = entry.values.front();
      }
    } else if (layer < 0) {
      emitError(stmt.nameLoc) << "choice '" << stmt.name
                              << "' is not per layer ('" << stmt.name
                              << ".N=' applies only inside 'repeat')";
      return false;
    }
    if (label) {
      index = find(*label);
      if (index < 0) {
        std::string alts;
        for (const std::string &l : site.labels)
          alts += (alts.empty() ? "" : ", ") + l;
        emitError(stmt.nameLoc)
            << "the configuration gives '" << *label << "' for choice '"
            << stmt.name << "'"
            << (index == -2 ? ", which matches several alternatives" : "")
            << "; the alternatives are: " << alts;
        return false;
      }
    }
  }
  const ExprAST &alt = *stmt.alternatives[index];
  // An integer alternative is a number; anything else is a reference
  // (a variant, an activation) evaluated where it is used.
  Value value;
  if (isa<IntExprAST>(alt) || isa<BinaryExprAST>(alt)) {
    std::optional<int64_t> n = evalInt(alt, "an alternative");
    if (!n)
      return false;
    value = Value::intValue(*n);
  } else if (auto *name = dyn_cast<NameExprAST>(&alt);
             name && env.count(name->getName().str())) {
    value = env.at(name->getName().str());
  } else {
    value.kind = Value::Kind::Ref;
    value.ref = evalRef(alt);
  }
  env[stmt.name] = value;
  if (site.perLayer)
    perLayerTaken[stmt.name].push_back(site.labels[index]);
  else
    graph->config[stmt.name] = site.labels[index];
  return true;
}

bool Elaborator::runRepeat(const ArchStmtAST &stmt) {
  std::optional<int64_t> count = evalInt(*stmt.value, "the 'repeat' count");
  if (!count)
    return false;
  if (*count < 0 || *count > 4096) {
    emitError(stmt.value->getLoc())
        << "the 'repeat' count must be in [0, 4096], got " << *count;
    return false;
  }
  int64_t outer = layer;
  for (int64_t n = 0; n < *count; ++n) {
    layer = nextLayer++;
    path.push_back("layers." + std::to_string(layer));
    used.emplace_back();
    bool ok = runBody(stmt.body);
    path.pop_back();
    used.pop_back();
    if (!ok)
      return false;
  }
  layer = outer;
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::optional<Value> Elaborator::eval(const ExprAST &expr) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    return Value::intValue(cast<IntExprAST>(expr).getValue());
  case ExprAST::Kind::Float: {
    Value v;
    v.kind = Value::Kind::Float;
    v.f = cast<FloatExprAST>(expr).getValue();
    return v;
  }
  case ExprAST::Kind::Bool: {
    Value v;
    v.kind = Value::Kind::Bool;
    v.b = cast<BoolExprAST>(expr).getValue();
    return v;
  }
  case ExprAST::Kind::Name: {
    std::string name = cast<NameExprAST>(expr).getName().str();
    if (auto it = env.find(name); it != env.end())
      return it->second;
    if (auto it = dims.find(name); it != dims.end())
      return Value::intValue(it->second);
    emitError(expr.getLoc()) << "unknown name '" << name
                             << "' in an architecture";
    return std::nullopt;
  }
  case ExprAST::Kind::Binary:
    return evalBinary(cast<BinaryExprAST>(expr));
  case ExprAST::Kind::Unary: {
    const auto &u = cast<UnaryExprAST>(expr);
    if (u.getOp() == UnaryOp::Neg) {
      std::optional<Value> v = eval(u.getOperand());
      if (!v)
        return std::nullopt;
      if (v->kind == Value::Kind::Int)
        return Value::intValue(-v->i);
      if (v->kind == Value::Kind::Float) {
        v->f = -v->f;
        return v;
      }
    }
    break;
  }
  case ExprAST::Kind::Call:
    return evalCall(cast<CallExprAST>(expr));
  default:
    break;
  }
  emitError(expr.getLoc()) << "this expression is not allowed here in an "
                              "architecture";
  return std::nullopt;
}

std::optional<Value> Elaborator::evalBinary(const BinaryExprAST &expr) {
  std::optional<Value> lhs = eval(expr.getLHS());
  if (!lhs)
    return std::nullopt;
  std::optional<Value> rhs = eval(expr.getRHS());
  if (!rhs)
    return std::nullopt;
  using K = Value::Kind;
  if (lhs->kind == K::Tensor || rhs->kind == K::Tensor) {
    if (lhs->kind != K::Tensor || rhs->kind != K::Tensor ||
        expr.getOp() != BinaryOp::Add) {
      emitError(expr.getLoc())
          << "tensors combine only with '+' (a residual add of two tensors)";
      return std::nullopt;
    }
    if (shapeOf(lhs->tensor) != shapeOf(rhs->tensor)) {
      auto text = [](const std::vector<int64_t> &s) {
        std::string t = "[";
        for (size_t n = 0; n < s.size(); ++n)
          t += (n ? ", " : "") + std::to_string(s[n]);
        return t + "]";
      };
      emitError(expr.getLoc())
          << "'+' adds tensors of different shapes " << text(shapeOf(lhs->tensor))
          << " and " << text(shapeOf(rhs->tensor));
      return std::nullopt;
    }
    ArchNode node;
    node.op = "add";
    node.inputs = {lhs->tensor, rhs->tensor};
    node.loc = expr.getLoc();
    node.path = llvm::join(path, ".");
    return Value::tensorValue(addNode(std::move(node), shapeOf(lhs->tensor)));
  }
  if (lhs->kind == K::Int && rhs->kind == K::Int) {
    int64_t a = lhs->i, b = rhs->i, r = 0;
    bool overflow = false;
    switch (expr.getOp()) {
    case BinaryOp::Add:
      overflow = __builtin_add_overflow(a, b, &r);
      break;
    case BinaryOp::Sub:
      overflow = __builtin_sub_overflow(a, b, &r);
      break;
    case BinaryOp::Mul:
      overflow = __builtin_mul_overflow(a, b, &r);
      break;
    case BinaryOp::Div:
    case BinaryOp::Rem:
      if (b == 0) {
        emitError(expr.getLoc()) << "division by zero";
        return std::nullopt;
      }
      r = expr.getOp() == BinaryOp::Div ? a / b : a % b;
      break;
    default:
      emitError(expr.getLoc()) << "operator '" << spell(expr.getOp())
                               << "' is not allowed on integers in an "
                                  "architecture";
      return std::nullopt;
    }
    if (overflow) {
      emitError(expr.getLoc()) << "integer overflow";
      return std::nullopt;
    }
    return Value::intValue(r);
  }
  emitError(expr.getLoc()) << "operator '" << spell(expr.getOp())
                           << "' needs two integers or two tensors here";
  return std::nullopt;
}

std::optional<int64_t> Elaborator::evalInt(const ExprAST &expr,
                                           llvm::StringRef what) {
  std::optional<Value> v = eval(expr);
  if (!v)
    return std::nullopt;
  if (v->kind != Value::Kind::Int) {
    emitError(expr.getLoc()) << what << " must be an integer";
    return std::nullopt;
  }
  return v->i;
}

std::optional<double> Elaborator::evalFloat(const ExprAST &expr,
                                            llvm::StringRef what) {
  std::optional<Value> v = eval(expr);
  if (!v)
    return std::nullopt;
  if (v->kind == Value::Kind::Int)
    return static_cast<double>(v->i);
  if (v->kind != Value::Kind::Float) {
    emitError(expr.getLoc()) << what << " must be a number";
    return std::nullopt;
  }
  return v->f;
}

std::optional<bool> Elaborator::evalBool(const ExprAST &expr,
                                         llvm::StringRef what) {
  std::optional<Value> v = eval(expr);
  if (!v)
    return std::nullopt;
  if (v->kind != Value::Kind::Bool) {
    emitError(expr.getLoc()) << what << " must be true or false";
    return std::nullopt;
  }
  return v->b;
}

std::optional<std::vector<int64_t>>
Elaborator::evalIntList(const ExprAST &expr, llvm::StringRef what,
                        size_t length) {
  const auto *list = dyn_cast<ListExprAST>(&expr);
  if (!list || list->getElements().size() != length) {
    emitError(expr.getLoc()) << what << " must be a list of " << length
                             << " integers";
    return std::nullopt;
  }
  std::vector<int64_t> out;
  for (const ExprPtr &e : list->getElements()) {
    std::optional<int64_t> n = evalInt(*e, what);
    if (!n)
      return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

std::optional<int> Elaborator::evalTensor(const ExprAST &expr,
                                          llvm::StringRef what) {
  std::optional<Value> v = eval(expr);
  if (!v)
    return std::nullopt;
  if (v->kind != Value::Kind::Tensor) {
    emitError(expr.getLoc()) << what << " must be a tensor";
    return std::nullopt;
  }
  return v->tensor;
}

std::shared_ptr<ExprAST> Elaborator::evalRef(const ExprAST &expr) {
  NameSubst subst = [&](const NameExprAST &name) -> ExprPtr {
    auto it = env.find(name.getName().str());
    if (it == env.end()) {
      // A dim is its value (the synthetic kernel has literal shapes).
      auto dim = dims.find(name.getName().str());
      return dim == dims.end()
                 ? nullptr
                 : std::make_unique<IntExprAST>(name.getLoc(), dim->second);
    }
    if (it->second.kind == Value::Kind::Int)
      return std::make_unique<IntExprAST>(name.getLoc(), it->second.i);
    if (it->second.kind == Value::Kind::Float)
      return std::make_unique<FloatExprAST>(name.getLoc(), it->second.f);
    if (it->second.kind == Value::Kind::Bool)
      return std::make_unique<BoolExprAST>(name.getLoc(), it->second.b);
    if (it->second.kind == Value::Kind::Ref)
      return cloneExpr(*it->second.ref, [](const NameExprAST &) {
        return ExprPtr();
      });
    return nullptr;
  };
  return std::shared_ptr<ExprAST>(cloneExpr(expr, subst));
}

std::string Elaborator::refName(const ExprAST &expr, llvm::StringRef what) {
  std::shared_ptr<ExprAST> ref = evalRef(expr);
  if (auto *name = dyn_cast<NameExprAST>(ref.get()))
    return name->getName().str();
  emitError(expr.getLoc()) << what << " must be a name";
  return "";
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

bool Elaborator::splitArgs(const CallExprAST &call, unsigned maxPositional,
                           std::initializer_list<const char *> names,
                           BlockArgs &out) {
  std::string callee = call.getCallee().str();
  bool ok = true;
  for (const ArgAST &arg : call.getArgs()) {
    if (arg.name.empty()) {
      if (!out.named.empty()) {
        emitError(arg.loc) << "positional argument after named arguments "
                              "of '"
                           << callee << "'";
        return false;
      }
      if (out.positional.size() == maxPositional) {
        emitError(arg.loc) << "'" << callee << "' takes " << maxPositional
                           << " positional argument(s)";
        return false;
      }
      out.positional.push_back(&arg);
      continue;
    }
    bool known = arg.name == "name";
    for (const char *n : names)
      known |= arg.name == n;
    if (!known) {
      std::string list;
      for (const char *n : names)
        list += std::string(list.empty() ? "" : ", ") + n;
      emitError(arg.loc) << "'" << callee << "' has no argument '" << arg.name
                         << "' (it takes: " << list
                         << (list.empty() ? "name" : ", name") << ")";
      ok = false;
      continue;
    }
    if (!out.named.emplace(arg.name, &arg).second) {
      emitError(arg.loc) << "argument '" << arg.name << "' of '" << callee
                         << "' is given twice";
      ok = false;
    }
  }
  if (ok && out.positional.size() < maxPositional) {
    emitError(call.getLoc()) << "'" << callee << "' takes " << maxPositional
                             << " positional argument(s), got "
                             << out.positional.size();
    return false;
  }
  return ok;
}

std::string Elaborator::blockPath(const BlockArgs &args, llvm::StringRef base,
                                  bool numbered) {
  // An explicit name is the whole path: blocks given the same name share
  // their weights, also across the layers of a `repeat` (SReT's recursion,
  // EdgeFormer's shared layers).
  if (const ArgAST *name = args.get("name")) {
    if (auto *n = dyn_cast<NameExprAST>(name->value.get())) {
      sharedPaths.insert(n->getName().str());
      return n->getName().str();
    }
    emitError(name->loc) << "'name' must be an identifier";
  }
  int &count = used.back()[base.str()];
  ++count;
  std::string leaf =
      numbered ? base.str() + std::to_string(count)
               : (count == 1 ? base.str()
                             : base.str() + "_" + std::to_string(count - 1));
  std::string prefix = llvm::join(path, ".");
  return prefix.empty() ? leaf : prefix + "." + leaf;
}

int Elaborator::newTensor(std::vector<int64_t> shape, std::string dtype) {
  graph->values.push_back(ArchTensor{std::move(shape), std::move(dtype)});
  return static_cast<int>(graph->values.size()) - 1;
}

int Elaborator::addWeight(const std::string &blockPath, llvm::StringRef leaf,
                          std::vector<int64_t> shape, WeightInit init,
                          const Location &loc, std::string dtype) {
  std::string name = blockPath + "." + leaf.str();
  for (const ArchWeight &w : graph->weights) {
    if (w.name != name)
      continue;
    const ArchTensor &t = graph->values[w.value];
    if (sharedPaths.count(blockPath) && t.shape == shape && t.dtype == dtype)
      return w.value;
    emitError(loc) << "weight '" << name
                   << "' is already defined with another shape: blocks "
                      "that share a 'name' must have the same weights";
    break;
  }
  int id = newTensor(std::move(shape), std::move(dtype));
  graph->weights.push_back(ArchWeight{name, id, init});
  return id;
}

int Elaborator::addNode(ArchNode node, std::vector<int64_t> shape) {
  node.result = newTensor(std::move(shape));
  graph->nodes.push_back(std::move(node));
  return graph->nodes.back().result;
}

int Elaborator::addOp(llvm::StringRef op, std::vector<int> inputs,
                      std::vector<int64_t> shape, const Location &loc,
                      const std::string &blockPathText,
                      llvm::function_ref<void(ArchNode &)> attrs) {
  ArchNode node;
  node.op = op.str();
  node.inputs = std::move(inputs);
  node.loc = loc;
  node.path = blockPathText;
  if (attrs)
    attrs(node);
  return addNode(std::move(node), std::move(shape));
}

//===----------------------------------------------------------------------===//
// Named arguments
//===----------------------------------------------------------------------===//

std::optional<int64_t> Elaborator::intArg(const BlockArgs &args,
                                          const char *name, int64_t dflt,
                                          int64_t lo, int64_t hi) {
  const ArgAST *a = args.get(name);
  if (!a)
    return dflt;
  std::optional<int64_t> n = evalInt(*a->value, std::string("'") + name + "'");
  if (!n || (*n >= lo && *n <= hi))
    return n;
  if (lo == 1 && hi == std::numeric_limits<int64_t>::max())
    emitError(a->loc) << "'" << name << "' must be positive, got " << *n;
  else
    emitError(a->loc) << "'" << name << "' must be in [" << lo << ", " << hi
                      << "], got " << *n;
  return std::nullopt;
}

std::optional<bool> Elaborator::boolArg(const BlockArgs &args,
                                        const char *name, bool dflt) {
  const ArgAST *a = args.get(name);
  return a ? evalBool(*a->value, std::string("'") + name + "'") : dflt;
}

std::optional<double> Elaborator::floatArg(const BlockArgs &args,
                                           const char *name, double dflt) {
  const ArgAST *a = args.get(name);
  return a ? evalFloat(*a->value, std::string("'") + name + "'") : dflt;
}

std::optional<std::string>
Elaborator::keywordArg(const BlockArgs &args, const char *name,
                       const char *dflt,
                       llvm::ArrayRef<llvm::StringRef> allowed,
                       llvm::StringRef callee) {
  const ArgAST *a = args.get(name);
  if (!a)
    return std::string(dflt);
  std::string value = refName(*a->value, std::string("'") + name + "'");
  if (value.empty())
    return std::nullopt;
  if (llvm::is_contained(allowed, value))
    return value;
  std::string list;
  for (size_t n = 0; n < allowed.size(); ++n)
    list += (n == 0 ? "" : n + 1 == allowed.size() ? " or " : ", ") +
            allowed[n].str();
  emitError(a->loc) << "'" << name << "' of '" << callee << "' must be "
                    << list << ", got '" << value << "'";
  return std::nullopt;
}

std::optional<std::vector<int64_t>>
Elaborator::gridArg(const BlockArgs &args, llvm::StringRef callee,
                    const Location &loc) {
  const ArgAST *g = args.get("grid");
  if (!g) {
    emitError(loc) << "'" << callee << "' needs the token 'grid = [h, w]'";
    return std::nullopt;
  }
  return evalIntList(*g->value, "'grid'", 2);
}

std::optional<int> Elaborator::tensorArg(const BlockArgs &args,
                                         unsigned index,
                                         llvm::StringRef callee) {
  return evalTensor(*args.positional[index]->value,
                    (index == 0 ? "the input of '"
                                : "argument " + std::to_string(index + 1) +
                                      " of '") +
                        callee.str() + "'");
}

mlir::FailureOr<Elaboration>
attn::frontend::elaborateArchs(mlir::MLIRContext &context,
                               const ModuleAST &module,
                               const ModuleAST &prelude,
                               const std::map<std::string, int64_t> &dims,
                               const std::string &config) {
  return Elaborator(context, module, prelude, dims).run(config);
}
