//===- Elaborate.cpp - architectures to straight-line graphs --------------===//
//
// Implements elaborateArchs (Elaborate.h).  The blocks and their weights are
// documented in docs/DSL.md ("Architectures"); the graph's ops in
// docs/Architectures.md §2.
//
//===----------------------------------------------------------------------===//

#include "frontend/Elaborate.h"
#include "frontend/Lexer.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Casting.h"

#include <cmath>
#include <functional>
#include <optional>
#include <set>

using namespace attn::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;



namespace {

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

/// One `name=value` or `name=[v0,v1,...]` entry of `--config`.
struct ConfigEntry {
  std::vector<std::string> values;
  bool isList = false;
  /// `name.3=value` entries: layer -> value.
  std::map<int64_t, std::string> layers;
  bool used = false;
};

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

/// Parses the configuration; the error names the malformed entry.
static std::optional<std::string>
parseConfig(llvm::StringRef text, std::map<std::string, ConfigEntry> &out) {
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
// Values
//===----------------------------------------------------------------------===//

/// What an architecture name or expression denotes.
struct Value {
  enum class Kind { Tensor, Int, Float, Bool, Ref };
  Kind kind = Kind::Int;
  int tensor = -1;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  /// Kind::Ref: an expression evaluated where it is used (a variant such as
  /// `vicinity(grid = [14, 14])`, an activation name), with the names of
  /// the architecture already substituted.
  std::shared_ptr<ExprAST> ref;

  static Value tensorValue(int id) {
    Value v;
    v.kind = Kind::Tensor;
    v.tensor = id;
    return v;
  }
  static Value intValue(int64_t x) {
    Value v;
    v.kind = Kind::Int;
    v.i = x;
    return v;
  }
};

/// Deep copy of an expression; names the architecture binds to integers or
/// references are replaced by their values.
using NameSubst = std::function<ExprPtr(const NameExprAST &)>;

static ExprPtr cloneExpr(const ExprAST &expr, const NameSubst &subst) {
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

/// The arguments of a block call, split and checked against the names the
/// block takes.
struct BlockArgs {
  std::vector<const ArgAST *> positional;
  std::map<std::string, const ArgAST *> named;
  const ArgAST *get(const std::string &name) const {
    auto it = named.find(name);
    return it == named.end() ? nullptr : it->second;
  }
};

//===----------------------------------------------------------------------===//
// The elaborator
//===----------------------------------------------------------------------===//

class Elaborator {
public:
  Elaborator(mlir::MLIRContext &context, const ModuleAST &module,
             const ModuleAST &prelude,
             const std::map<std::string, int64_t> &dims)
      : context(context), module(module), prelude(prelude), dims(dims) {}

  mlir::FailureOr<Elaboration> run(const std::string &configText);

private:
  mlir::InFlightDiagnostic emitError(const Location &loc) {
    hadError = true;
    return mlir::emitError(toMLIRLoc(context, loc));
  }

  // Statements.
  void collectChoices(const std::vector<ArchStmtAST> &body, bool inRepeat,
                      std::map<std::string, ChoiceSite> &sites);
  bool runBody(const std::vector<ArchStmtAST> &body);
  bool runChoose(const ArchStmtAST &stmt);
  bool runRepeat(const ArchStmtAST &stmt);

  // Expressions.
  std::optional<Value> eval(const ExprAST &expr);
  std::optional<Value> evalBinary(const BinaryExprAST &expr);
  std::optional<Value> evalCall(const CallExprAST &call);
  std::optional<int64_t> evalInt(const ExprAST &expr, llvm::StringRef what);
  std::optional<double> evalFloat(const ExprAST &expr, llvm::StringRef what);
  std::optional<bool> evalBool(const ExprAST &expr, llvm::StringRef what);
  std::optional<std::vector<int64_t>> evalIntList(const ExprAST &expr,
                                                  llvm::StringRef what,
                                                  size_t length);
  std::optional<int> evalTensor(const ExprAST &expr, llvm::StringRef what);
  /// A reference (variant, activation): the expression with the
  /// architecture's names substituted.
  std::shared_ptr<ExprAST> evalRef(const ExprAST &expr);
  /// The bare name a reference denotes (`gelu`), or "" with an error.
  std::string refName(const ExprAST &expr, llvm::StringRef what);

  // Blocks.
  bool splitArgs(const CallExprAST &call, unsigned maxPositional,
                 std::initializer_list<const char *> names, BlockArgs &out);
  std::string blockPath(const BlockArgs &args, llvm::StringRef base,
                        bool numbered = false);
  int newTensor(std::vector<int64_t> shape, std::string dtype = "f32");
  int addWeight(const std::string &path, llvm::StringRef leaf,
                std::vector<int64_t> shape, WeightInit init,
                const Location &loc, std::string dtype = "f32");
  int addNode(ArchNode node, std::vector<int64_t> shape);
  /// A copy: adding tensors may move the graph's storage.
  std::vector<int64_t> shapeOf(int value) const {
    return graph->values[value].shape;
  }
  int64_t channels(int value) const { return shapeOf(value).back(); }

  std::optional<int> projection(int x, int64_t out, const std::string &path,
                                const std::string &mode, bool bias,
                                const Location &loc,
                                llvm::StringRef weightLeaf = "w",
                                llvm::StringRef biasLeaf = "b");
  std::optional<int> norm(int x, const std::string &kind, double eps,
                          const std::string &path, const Location &loc);
  std::optional<int> activation(int x, const std::string &kind,
                                const std::string &path, const Location &loc);
  std::optional<int> attentionBlock(const CallExprAST &call);
  std::optional<int> attentionCore(int q, int k, int v,
                                   std::shared_ptr<ExprAST> variant,
                                   bool causal, const std::string &path,
                                   const Location &loc);
  /// Evolving attention (spec V6) on materialized maps, carrying the map
  /// between the evolving blocks of the architecture.
  std::optional<int> evolvingCore(int q, int k, int v, const ExprAST &variant,
                                  bool causal, const std::string &path,
                                  const Location &loc);
  std::optional<int> mlpBlock(const CallExprAST &call);
  std::optional<int> linearBlock(const CallExprAST &call,
                                 const std::string &mode);
  std::optional<int> normBlock(const CallExprAST &call,
                               const std::string &kind);
  std::optional<int> convBlock(const CallExprAST &call, int rank);
  std::optional<int> poolBlock(const CallExprAST &call);
  std::optional<int> sliceBlock(const CallExprAST &call);
  std::optional<int> concatBlock(const CallExprAST &call);
  std::optional<int> shiftAddBlock(const CallExprAST &call);
  /// pool(x) with `stride`-sized windows on `grid` (strided queries).
  std::optional<int> poolTokens(int x, const std::vector<int64_t> &grid,
                                int64_t window, int64_t stride,
                                const std::string &mode,
                                const std::string &path, const Location &loc);

  const VariantDeclAST *findVariant(llvm::StringRef name) const;

  mlir::MLIRContext &context;
  const ModuleAST &module;
  const ModuleAST &prelude;
  const std::map<std::string, int64_t> &dims;
  bool hadError = false;

  std::map<std::string, ConfigEntry> config;
  Elaboration result;
  /// Synthetic kernels by their deduplication key.
  std::map<std::string, std::string> kernelByKey;

  // Per architecture.
  ArchGraph *graph = nullptr;
  std::map<std::string, ChoiceSite> sites;
  std::map<std::string, Value> env;
  /// Block-path prefix segments and the names used in each scope.
  std::vector<std::string> path;
  std::vector<std::map<std::string, int>> used;
  /// Block paths given explicitly with `name =` (their weights are shared).
  std::set<std::string> sharedPaths;
  /// The current layer (the running index over every `repeat`), -1 outside.
  int64_t layer = -1;
  int64_t nextLayer = 0;
  /// Per-layer choices: the label taken at each layer.
  std::map<std::string, std::vector<std::string>> perLayerTaken;
  std::optional<int> output;
  /// The map the last evolving attention block exported.
  std::optional<int> carriedMap;
};

} // namespace

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
    if (it == env.end())
      return nullptr;
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

static WeightInit uniform(double bound) { return {"uniform", bound, 0.0}; }

std::optional<int> Elaborator::projection(int x, int64_t out,
                                          const std::string &blockPathText,
                                          const std::string &mode, bool bias,
                                          const Location &loc,
                                          llvm::StringRef weightLeaf,
                                          llvm::StringRef biasLeaf) {
  if (out <= 0 || out > (int64_t(1) << 24)) {
    emitError(loc) << "the output width of '" << blockPathText
                   << "' must be in [1, 2^24], got " << out;
    return std::nullopt;
  }
  int64_t in = channels(x);
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  ArchNode node;
  node.op = "linear";
  node.mode = mode;
  node.loc = loc;
  node.path = blockPathText;
  node.inputs.push_back(x);
  if (mode == "shift") {
    int64_t maxShift = -static_cast<int64_t>(std::ceil(std::log2(
        std::sqrt(static_cast<double>(in)))));
    node.inputs.push_back(addWeight(blockPathText, "shift", {out, in},
                                    {"shift", -12.0, double(maxShift)}, loc,
                                    "i32"));
    node.inputs.push_back(addWeight(blockPathText, "sign", {out, in},
                                    {"sign", 0, 0}, loc, "i32"));
  } else {
    node.inputs.push_back(
        addWeight(blockPathText, weightLeaf, {out, in}, uniform(bound), loc));
  }
  if (bias)
    node.inputs.push_back(
        addWeight(blockPathText, biasLeaf, {out}, uniform(bound), loc));
  std::vector<int64_t> shape = shapeOf(x);
  shape.back() = out;
  return addNode(std::move(node), shape);
}

std::optional<int> Elaborator::norm(int x, const std::string &kind,
                                    double eps,
                                    const std::string &blockPathText,
                                    const Location &loc) {
  if (!(eps > 0) || !std::isfinite(eps)) {
    emitError(loc) << "'eps' of " << kind << " must be positive";
    return std::nullopt;
  }
  int64_t e = channels(x);
  ArchNode node;
  node.op = kind;
  node.eps = eps;
  node.loc = loc;
  node.path = blockPathText;
  node.inputs = {x, addWeight(blockPathText, "gamma", {e},
                              {"normal", 1.0, 0.1}, loc)};
  if (kind == "layernorm")
    node.inputs.push_back(
        addWeight(blockPathText, "beta", {e}, {"normal", 0.0, 0.1}, loc));
  return addNode(std::move(node), shapeOf(x));
}

std::optional<int> Elaborator::activation(int x, const std::string &kind,
                                          const std::string &blockPathText,
                                          const Location &loc) {
  if (kind != "gelu" && kind != "relu" && kind != "silu") {
    emitError(loc) << "unknown activation '" << kind
                   << "' (expected gelu, relu or silu)";
    return std::nullopt;
  }
  ArchNode node;
  node.op = kind;
  node.loc = loc;
  node.path = blockPathText;
  node.inputs = {x};
  return addNode(std::move(node), shapeOf(x));
}

std::optional<Value> Elaborator::evalCall(const CallExprAST &call) {
  llvm::StringRef callee = call.getCallee();
  std::optional<int> t;
  if (callee == "attention_block")
    t = attentionBlock(call);
  else if (callee == "mlp")
    t = mlpBlock(call);
  else if (callee == "linear")
    t = linearBlock(call, "mul");
  else if (callee == "shift_linear")
    t = linearBlock(call, "shift");
  else if (callee == "adder_linear")
    t = linearBlock(call, "adder");
  else if (callee == "layernorm" || callee == "rmsnorm")
    t = normBlock(call, callee.str());
  else if (callee == "gelu" || callee == "relu" || callee == "silu") {
    BlockArgs args;
    if (!splitArgs(call, 1, {}, args))
      return std::nullopt;
    std::optional<int> x = evalTensor(*args.positional[0]->value,
                                      "the input of '" + callee.str() + "'");
    if (!x)
      return std::nullopt;
    t = activation(*x, callee.str(), blockPath(args, callee), call.getLoc());
  } else if (callee == "conv1d")
    t = convBlock(call, 1);
  else if (callee == "conv2d")
    t = convBlock(call, 2);
  else if (callee == "pool")
    t = poolBlock(call);
  else if (callee == "channels")
    t = sliceBlock(call);
  else if (callee == "concat")
    t = concatBlock(call);
  else if (callee == "shiftadd_block")
    t = shiftAddBlock(call);
  else {
    emitError(call.getLoc())
        << "unknown block '" << callee
        << "' (blocks: attention_block, mlp, linear, shift_linear, "
           "adder_linear, layernorm, rmsnorm, gelu, relu, silu, conv1d, "
           "conv2d, pool, channels, concat, shiftadd_block)";
    return std::nullopt;
  }
  if (!t)
    return std::nullopt;
  return Value::tensorValue(*t);
}

std::optional<int> Elaborator::linearBlock(const CallExprAST &call,
                                           const std::string &mode) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"out", "bias"}, args))
    return std::nullopt;
  std::optional<int> x = evalTensor(*args.positional[0]->value,
                                    "the input of '" +
                                        call.getCallee().str() + "'");
  if (!x)
    return std::nullopt;
  int64_t out = channels(*x);
  if (const ArgAST *a = args.get("out")) {
    std::optional<int64_t> n = evalInt(*a->value, "'out'");
    if (!n)
      return std::nullopt;
    out = *n;
  }
  bool bias = true;
  if (const ArgAST *a = args.get("bias")) {
    std::optional<bool> b = evalBool(*a->value, "'bias'");
    if (!b)
      return std::nullopt;
    bias = *b;
  }
  return projection(*x, out, blockPath(args, call.getCallee()), mode, bias,
                    call.getLoc());
}

std::optional<int> Elaborator::normBlock(const CallExprAST &call,
                                         const std::string &kind) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"eps"}, args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of '" + kind + "'");
  if (!x)
    return std::nullopt;
  double eps = kind == "layernorm" ? 1e-5 : 1e-6;
  if (const ArgAST *a = args.get("eps")) {
    std::optional<double> v = evalFloat(*a->value, "'eps'");
    if (!v)
      return std::nullopt;
    eps = *v;
  }
  return norm(*x, kind, eps, blockPath(args, "norm", /*numbered=*/true),
              call.getLoc());
}

std::optional<int> Elaborator::mlpBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"hidden", "act", "out", "bias", "mode"}, args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of 'mlp'");
  if (!x)
    return std::nullopt;
  int64_t e = channels(*x), hidden = 4 * e, out = e;
  if (const ArgAST *a = args.get("hidden")) {
    std::optional<int64_t> n = evalInt(*a->value, "'hidden'");
    if (!n)
      return std::nullopt;
    hidden = *n;
  }
  if (const ArgAST *a = args.get("out")) {
    std::optional<int64_t> n = evalInt(*a->value, "'out'");
    if (!n)
      return std::nullopt;
    out = *n;
  }
  std::string act = "gelu", mode = "mul";
  if (const ArgAST *a = args.get("act"))
    if ((act = refName(*a->value, "'act'")).empty())
      return std::nullopt;
  if (const ArgAST *a = args.get("mode")) {
    mode = refName(*a->value, "'mode'");
    if (mode != "mul" && mode != "shift" && mode != "adder") {
      emitError(a->loc) << "'mode' of 'mlp' must be mul, shift or adder";
      return std::nullopt;
    }
  }
  bool bias = true;
  if (const ArgAST *a = args.get("bias")) {
    std::optional<bool> b = evalBool(*a->value, "'bias'");
    if (!b)
      return std::nullopt;
    bias = *b;
  }
  std::string p = blockPath(args, "mlp");
  std::optional<int> h =
      projection(*x, hidden, p + ".fc1", mode, bias, call.getLoc());
  if (!h)
    return std::nullopt;
  std::optional<int> a = activation(*h, act, p, call.getLoc());
  if (!a)
    return std::nullopt;
  return projection(*a, out, p + ".fc2", mode, bias, call.getLoc());
}

const VariantDeclAST *Elaborator::findVariant(llvm::StringRef name) const {
  for (const VariantDeclAST &v : module.variants)
    if (v.name == name)
      return &v;
  for (const VariantDeclAST &v : prelude.variants)
    if (v.name == name)
      return &v;
  return nullptr;
}

std::optional<int> Elaborator::attentionBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1,
                 {"heads", "kv_heads", "head_dim", "variant", "causal", "bias",
                  "stride", "grid", "memory"},
                 args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of 'attention_block'");
  if (!x)
    return std::nullopt;
  const std::vector<int64_t> &xs = shapeOf(*x);
  if (xs.size() != 3) {
    emitError(call.getLoc()) << "'attention_block' takes a [B, N, E] tensor";
    return std::nullopt;
  }
  int64_t e = xs[2];
  auto intArg = [&](const char *name, int64_t dflt) -> std::optional<int64_t> {
    const ArgAST *a = args.get(name);
    if (!a)
      return dflt;
    std::optional<int64_t> n = evalInt(*a->value, std::string("'") + name + "'");
    if (n && *n <= 0) {
      emitError(a->loc) << "'" << name << "' must be positive, got " << *n;
      return std::nullopt;
    }
    return n;
  };
  std::optional<int64_t> heads = intArg("heads", 8);
  if (!heads)
    return std::nullopt;
  std::optional<int64_t> kvHeads = intArg("kv_heads", *heads);
  if (!kvHeads)
    return std::nullopt;
  if (*heads % *kvHeads) {
    emitError(args.get("kv_heads")->loc)
        << "'heads' (" << *heads << ") must be a multiple of 'kv_heads' ("
        << *kvHeads << ")";
    return std::nullopt;
  }
  if (!args.get("head_dim") && e % *heads) {
    emitError(call.getLoc()) << "the width " << e
                             << " is not a multiple of 'heads' (" << *heads
                             << "); give 'head_dim'";
    return std::nullopt;
  }
  std::optional<int64_t> headDim = intArg("head_dim", e / *heads);
  std::optional<int64_t> stride = intArg("stride", 1);
  if (!headDim || !stride)
    return std::nullopt;
  bool causal = false, bias = true;
  if (const ArgAST *a = args.get("causal")) {
    std::optional<bool> b = evalBool(*a->value, "'causal'");
    if (!b)
      return std::nullopt;
    causal = *b;
  }
  if (const ArgAST *a = args.get("bias")) {
    std::optional<bool> b = evalBool(*a->value, "'bias'");
    if (!b)
      return std::nullopt;
    bias = *b;
  }
  std::shared_ptr<ExprAST> variant;
  if (const ArgAST *a = args.get("variant"))
    variant = evalRef(*a->value);
  else
    variant = std::make_shared<NameExprAST>(call.getLoc(), "softmax");

  std::string p = blockPath(args, "attention");
  int qIn = *x;
  if (*stride > 1) {
    const ArgAST *g = args.get("grid");
    if (!g) {
      emitError(args.get("stride")->loc)
          << "strided queries need the token 'grid = [h, w]'";
      return std::nullopt;
    }
    std::optional<std::vector<int64_t>> grid = evalIntList(*g->value, "'grid'", 2);
    if (!grid)
      return std::nullopt;
    std::optional<int> pooled =
        poolTokens(*x, *grid, *stride, *stride, "avg", p, call.getLoc());
    if (!pooled)
      return std::nullopt;
    qIn = *pooled;
  }
  int64_t d = *headDim;
  auto headsOf = [&](int t, int64_t h, const char *w, const char *b)
      -> std::optional<int> {
    std::optional<int> proj =
        projection(t, h * d, p, "mul", bias, call.getLoc(), w, b);
    if (!proj)
      return std::nullopt;
    ArchNode split;
    split.op = "split_heads";
    split.heads = h;
    split.inputs = {*proj};
    split.loc = call.getLoc();
    split.path = p;
    const std::vector<int64_t> &s = shapeOf(*proj);
    return addNode(std::move(split), {s[0], h, s[1], d});
  };
  std::optional<int> q = headsOf(qIn, *heads, "wq", "bq");
  std::optional<int> k = q ? headsOf(*x, *kvHeads, "wk", "bk") : std::nullopt;
  std::optional<int> v = k ? headsOf(*x, *kvHeads, "wv", "bv") : std::nullopt;
  if (!v)
    return std::nullopt;
  llvm::StringRef variantName;
  if (auto *c = dyn_cast<CallExprAST>(variant.get()))
    variantName = c->getCallee();
  else if (auto *n = dyn_cast<NameExprAST>(variant.get()))
    variantName = n->getName();
  std::optional<int> core =
      variantName == "evolving" && !findVariant("evolving")
          ? evolvingCore(*q, *k, *v, *variant, causal, p, call.getLoc())
          : attentionCore(*q, *k, *v, variant, causal, p, call.getLoc());
  if (!core)
    return std::nullopt;
  ArchNode merge;
  merge.op = "merge_heads";
  merge.inputs = {*core};
  merge.loc = call.getLoc();
  merge.path = p;
  const std::vector<int64_t> &cs = shapeOf(*core);
  int merged = addNode(std::move(merge), {cs[0], cs[2], cs[1] * cs[3]});
  return projection(merged, e, p, "mul", bias, call.getLoc(), "wo", "bo");
}

std::optional<int> Elaborator::attentionCore(int q, int k, int v,
                                             std::shared_ptr<ExprAST> variant,
                                             bool causal,
                                             const std::string &blockPathText,
                                             const Location &loc) {
  // The variant's tensor parameters: Luna's memory is a weight [H, p, D].
  llvm::StringRef variantName;
  const CallExprAST *variantCall = dyn_cast<CallExprAST>(variant.get());
  if (variantCall)
    variantName = variantCall->getCallee();
  else if (auto *n = dyn_cast<NameExprAST>(variant.get()))
    variantName = n->getName();
  const VariantDeclAST *decl = findVariant(variantName);
  const std::vector<int64_t> qs = shapeOf(q), ks = shapeOf(k);
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensorParams;
  if (decl) {
    for (const VariantParamAST &param : decl->params) {
      if (param.type != "tensor")
        continue;
      // Only a Luna memory has a shape the architecture knows.
      const VariantItemAST *pack = nullptr;
      for (const VariantItemAST &item : decl->items)
        if (item.name == "pack")
          pack = &item;
      auto *packCall = pack ? dyn_cast<CallExprAST>(pack->value.get()) : nullptr;
      auto *memArg = packCall && !packCall->getArgs().empty()
                         ? dyn_cast<NameExprAST>(
                               packCall->getArgs()[0].value.get())
                         : nullptr;
      if (!memArg || memArg->getName() != param.name ||
          packCall->getArgs().size() < 2) {
        emitError(loc) << "variant '" << variantName
                       << "' takes the tensor parameter '" << param.name
                       << "', which an architecture cannot provide yet";
        return std::nullopt;
      }
      // The rows: a literal, or a parameter given at the use or defaulted.
      const ExprAST *rowsExpr = packCall->getArgs()[1].value.get();
      if (auto *rowsName = dyn_cast<NameExprAST>(rowsExpr)) {
        rowsExpr = nullptr;
        if (variantCall)
          for (const ArgAST &a : variantCall->getArgs())
            if (a.name == rowsName->getName())
              rowsExpr = a.value.get();
        for (const VariantParamAST &pp : decl->params)
          if (!rowsExpr && pp.name == rowsName->getName())
            rowsExpr = pp.defaultValue.get();
      }
      auto *rowsInt = llvm::dyn_cast_or_null<IntExprAST>(rowsExpr);
      if (!rowsInt || rowsInt->getValue() <= 0) {
        emitError(loc) << "the memory rows of variant '" << variantName
                       << "' must be a positive integer literal here";
        return std::nullopt;
      }
      tensorParams.emplace_back(
          param.name,
          std::vector<int64_t>{qs[1], rowsInt->getValue(), qs[3]});
    }
  }

  // The synthetic kernel, shared by every identical use.
  std::string variantText;
  {
    llvm::raw_string_ostream os(variantText);
    printExpr(*variant, os);
  }
  std::string key = variantText + (causal ? "|causal|" : "|");
  for (int t : {q, k, v})
    for (int64_t n : shapeOf(t))
      key += std::to_string(n) + ",";
  std::string kernelName;
  auto it = kernelByKey.find(key);
  if (it != kernelByKey.end()) {
    kernelName = it->second;
  } else {
    kernelName = graph->name + "_attn" + std::to_string(kernelByKey.size());
    kernelByKey[key] = kernelName;
    KernelDeclAST kernel;
    kernel.loc = loc;
    kernel.name = kernelName;
    kernel.nameLoc = loc;
    kernel.returnLoc = loc;
    auto type = [&](const std::vector<int64_t> &shape) {
      TensorTypeAST t;
      t.loc = loc;
      t.dtype = "f32";
      for (int64_t n : shape)
        t.dims.push_back(DimRefAST{loc, "", n});
      return t;
    };
    const char *names[] = {"q", "k", "v"};
    int ids[] = {q, k, v};
    for (int n = 0; n < 3; ++n)
      kernel.params.push_back(KernelParamAST{loc, names[n], type(shapeOf(ids[n]))});
    for (auto &[name, shape] : tensorParams)
      kernel.params.push_back(KernelParamAST{loc, name, type(shape)});
    kernel.resultType = type({qs[0], qs[1], qs[2], shapeOf(v)[3]});
    std::vector<ArgAST> callArgs;
    for (const char *n : names)
      callArgs.push_back(ArgAST{"", loc, std::make_unique<NameExprAST>(loc, n)});
    ExprPtr variantExpr = cloneExpr(*variant, [](const NameExprAST &) {
      return ExprPtr();
    });
    if (!tensorParams.empty()) {
      // Pass the kernel's tensor parameters to the variant by name.
      auto *vc = dyn_cast<CallExprAST>(variantExpr.get());
      std::vector<ArgAST> vargs;
      if (vc)
        for (const ArgAST &a : vc->getArgs())
          vargs.push_back(ArgAST{a.name, a.loc, cloneExpr(*a.value, [](const NameExprAST &) { return ExprPtr(); })});
      for (auto &tp : tensorParams)
        vargs.push_back(ArgAST{tp.first, loc,
                               std::make_unique<NameExprAST>(loc, tp.first)});
      variantExpr = std::make_unique<CallExprAST>(variantExpr->getLoc(),
                                                  variantName.str(),
                                                  std::move(vargs));
    }
    callArgs.push_back(ArgAST{"variant", loc, std::move(variantExpr)});
    if (causal)
      callArgs.push_back(
          ArgAST{"causal", loc, std::make_unique<BoolExprAST>(loc, true)});
    kernel.body = std::make_unique<CallExprAST>(loc, "attention",
                                                std::move(callArgs));
    result.kernels.push_back(std::move(kernel));
  }
  (void)ks;

  ArchNode node;
  node.op = "attention";
  node.kernel = kernelName;
  node.inputs = {q, k, v};
  for (auto &[name, shape] : tensorParams)
    node.inputs.push_back(addWeight(blockPathText, name, shape,
                                    {"normal", 0.0, 1.0}, loc));
  node.loc = loc;
  node.path = blockPathText;
  return addNode(std::move(node), {qs[0], qs[1], qs[2], shapeOf(v)[3]});
}

std::optional<int> Elaborator::evolvingCore(int q, int k, int v,
                                            const ExprAST &variant,
                                            bool causal,
                                            const std::string &blockPathText,
                                            const Location &loc) {
  // evolving(alpha = 0.5, beta = 0.5, kernel = 3): alpha mixes the
  // convolved map in, beta the carried one (the code's names, spec V6).
  double alpha = 0.5, beta = 0.5;
  int64_t kernel = 3;
  if (auto *c = dyn_cast<CallExprAST>(&variant)) {
    for (const ArgAST &a : c->getArgs()) {
      if (a.name == "alpha" || a.name == "beta") {
        std::optional<double> v = evalFloat(*a.value, "'" + a.name + "'");
        if (!v)
          return std::nullopt;
        if (!(*v >= 0 && *v <= 1)) {
          emitError(a.loc) << "'" << a.name
                           << "' of evolving must be in [0, 1], got " << *v;
          return std::nullopt;
        }
        (a.name == "alpha" ? alpha : beta) = *v;
      } else if (a.name == "kernel") {
        std::optional<int64_t> n = evalInt(*a.value, "'kernel'");
        if (!n)
          return std::nullopt;
        if (*n <= 0 || *n % 2 == 0) {
          emitError(a.loc) << "'kernel' of evolving must be a positive odd "
                              "integer, got "
                           << *n;
          return std::nullopt;
        }
        kernel = *n;
      } else {
        emitError(a.loc) << "evolving takes alpha, beta and kernel, got '"
                         << (a.name.empty() ? "a positional argument" : a.name)
                         << "'";
        return std::nullopt;
      }
    }
  }
  if (causal) {
    emitError(loc) << "evolving attention is not causal: its map "
                      "convolution reads later positions (spec V6)";
    return std::nullopt;
  }
  const std::vector<int64_t> qs = shapeOf(q), ks = shapeOf(k);
  std::vector<int64_t> mapShape{qs[0], qs[1], qs[2], ks[2]};
  auto node = [&](const char *op, std::vector<int> inputs,
                  std::vector<int64_t> shape) {
    ArchNode n;
    n.op = op;
    n.inputs = std::move(inputs);
    n.loc = loc;
    n.path = blockPathText;
    return std::pair<ArchNode, std::vector<int64_t>>(std::move(n),
                                                     std::move(shape));
  };
  auto [scores, scoresShape] = node("scores", {q, k}, mapShape);
  scores.scale = 1.0 / std::sqrt(static_cast<double>(qs[3]));
  int map = addNode(std::move(scores), scoresShape);
  if (carriedMap) {
    if (shapeOf(*carriedMap) != mapShape) {
      emitError(loc) << "evolving attention mixes in the map of the previous "
                        "evolving block, which has another shape (heads or "
                        "length differ)";
      return std::nullopt;
    }
    auto [carry, carryShape] = node("blend", {map, *carriedMap}, mapShape);
    carry.scale = beta;
    int mixed = addNode(std::move(carry), carryShape);
    int64_t h = qs[1];
    double bound = 1.0 / std::sqrt(static_cast<double>(h * kernel * kernel));
    int w = addWeight(blockPathText, "map_conv.w", {h, h, kernel, kernel},
                      uniform(bound), loc);
    int b = addWeight(blockPathText, "map_conv.b", {h}, uniform(bound), loc);
    auto [conv, convShape] = node("map_conv", {mixed, w, b}, mapShape);
    conv.act = "leaky_relu";
    int convolved = addNode(std::move(conv), convShape);
    auto [mix, mixShape] = node("blend", {mixed, convolved}, mapShape);
    mix.scale = alpha;
    map = addNode(std::move(mix), mixShape);
  }
  carriedMap = map;
  auto [softmax, softmaxShape] = node("softmax", {map}, mapShape);
  int weights = addNode(std::move(softmax), softmaxShape);
  auto [attend, attendShape] =
      node("attend", {weights, v}, {qs[0], qs[1], qs[2], shapeOf(v)[3]});
  return addNode(std::move(attend), attendShape);
}

std::optional<int> Elaborator::convBlock(const CallExprAST &call, int rank) {
  BlockArgs args;
  std::string callee = call.getCallee().str();
  if (!splitArgs(call, 1,
                 {"kernel", "padding", "mode", "bias", "grid", "stride", "out"},
                 args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of '" + callee + "'");
  if (!x)
    return std::nullopt;
  const std::vector<int64_t> &xs = shapeOf(*x);
  if (xs.size() != 3) {
    emitError(call.getLoc()) << "'" << callee << "' takes a [B, N, C] tensor";
    return std::nullopt;
  }
  int64_t kernel = 3;
  if (const ArgAST *a = args.get("kernel")) {
    std::optional<int64_t> n = evalInt(*a->value, "'kernel'");
    if (!n)
      return std::nullopt;
    if (*n <= 0 || *n > 1024) {
      emitError(a->loc) << "'kernel' must be in [1, 1024], got " << *n;
      return std::nullopt;
    }
    kernel = *n;
  }
  bool bias = true;
  if (const ArgAST *a = args.get("bias")) {
    std::optional<bool> b = evalBool(*a->value, "'bias'");
    if (!b)
      return std::nullopt;
    bias = *b;
  }
  std::string mode = "mul";
  if (const ArgAST *a = args.get("mode")) {
    mode = refName(*a->value, "'mode'");
    if (mode != "mul" && mode != "adder") {
      emitError(a->loc) << "'mode' of '" << callee << "' must be mul or adder";
      return std::nullopt;
    }
  }
  std::string p = blockPath(args, callee);
  // A pointwise convolution is a projection.
  if (kernel == 1 && rank == 1) {
    int64_t out = xs[2];
    if (const ArgAST *a = args.get("out")) {
      std::optional<int64_t> n = evalInt(*a->value, "'out'");
      if (!n)
        return std::nullopt;
      out = *n;
    }
    return projection(*x, out, p, mode, bias, call.getLoc());
  }
  if (args.get("out") && rank == 1) {
    emitError(args.get("out")->loc)
        << "a depthwise '" << callee << "' keeps the channels; 'out' needs "
           "kernel = 1";
    return std::nullopt;
  }
  ArchNode node;
  node.op = callee;
  node.mode = mode;
  node.loc = call.getLoc();
  node.path = p;
  node.window = kernel;
  int64_t c = xs[2];
  double bound = 1.0 / std::sqrt(static_cast<double>(kernel * (rank == 2 ? kernel : 1)));
  std::vector<int64_t> shape = xs;
  if (rank == 1) {
    node.padding = "same";
    if (const ArgAST *a = args.get("padding")) {
      node.padding = refName(*a->value, "'padding'");
      if (node.padding != "same" && node.padding != "causal") {
        emitError(a->loc) << "'padding' must be same or causal";
        return std::nullopt;
      }
    }
    node.inputs = {*x, addWeight(p, "w", {c, kernel}, uniform(bound),
                                 call.getLoc())};
  } else {
    if (mode != "mul") {
      emitError(args.get("mode")->loc) << "conv2d supports mode = mul only";
      return std::nullopt;
    }
    const ArgAST *g = args.get("grid");
    if (!g) {
      emitError(call.getLoc()) << "'conv2d' needs the token 'grid = [h, w]'";
      return std::nullopt;
    }
    std::optional<std::vector<int64_t>> grid =
        evalIntList(*g->value, "'grid'", 2);
    if (!grid)
      return std::nullopt;
    if ((*grid)[0] * (*grid)[1] != xs[1]) {
      emitError(g->loc) << "the grid " << (*grid)[0] << " x " << (*grid)[1]
                        << " does not hold the " << xs[1] << " tokens";
      return std::nullopt;
    }
    int64_t stride = 1;
    if (const ArgAST *a = args.get("stride")) {
      std::optional<int64_t> n = evalInt(*a->value, "'stride'");
      if (!n)
        return std::nullopt;
      if (*n <= 0) {
        emitError(a->loc) << "'stride' must be positive";
        return std::nullopt;
      }
      stride = *n;
    }
    node.grid = *grid;
    node.stride = stride;
    int64_t pad = kernel / 2;
    int64_t ho = ((*grid)[0] + 2 * pad - kernel) / stride + 1;
    int64_t wo = ((*grid)[1] + 2 * pad - kernel) / stride + 1;
    if (ho <= 0 || wo <= 0) {
      emitError(call.getLoc()) << "the kernel is larger than the grid";
      return std::nullopt;
    }
    shape[1] = ho * wo;
    node.inputs = {*x, addWeight(p, "w", {c, kernel, kernel}, uniform(bound),
                                 call.getLoc())};
  }
  if (bias)
    node.inputs.push_back(addWeight(p, "b", {c}, uniform(bound), call.getLoc()));
  return addNode(std::move(node), shape);
}

std::optional<int> Elaborator::poolTokens(int x,
                                          const std::vector<int64_t> &grid,
                                          int64_t window, int64_t stride,
                                          const std::string &mode,
                                          const std::string &blockPathText,
                                          const Location &loc) {
  const std::vector<int64_t> &xs = shapeOf(x);
  if (xs.size() != 3 || grid[0] <= 0 || grid[1] <= 0 ||
      grid[0] * grid[1] != xs[1]) {
    emitError(loc) << "the grid " << grid[0] << " x " << grid[1]
                   << " does not hold the "
                   << (xs.size() == 3 ? std::to_string(xs[1]) : std::string("?"))
                   << " tokens of a [B, N, C] tensor";
    return std::nullopt;
  }
  if (window <= 0 || stride <= 0 || window > grid[0] || window > grid[1]) {
    emitError(loc) << "the pooling window " << window
                   << " must be positive and fit the grid";
    return std::nullopt;
  }
  ArchNode node;
  node.op = "pool";
  node.mode = mode;
  node.grid = grid;
  node.window = window;
  node.stride = stride;
  node.inputs = {x};
  node.loc = loc;
  node.path = blockPathText;
  int64_t ho = (grid[0] - window) / stride + 1, wo = (grid[1] - window) / stride + 1;
  return addNode(std::move(node), {xs[0], ho * wo, xs[2]});
}

std::optional<int> Elaborator::poolBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"grid", "window", "stride", "mode"}, args))
    return std::nullopt;
  std::optional<int> x = evalTensor(*args.positional[0]->value,
                                    "the input of 'pool'");
  if (!x)
    return std::nullopt;
  const ArgAST *g = args.get("grid");
  if (!g) {
    emitError(call.getLoc()) << "'pool' needs the token 'grid = [h, w]'";
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> grid = evalIntList(*g->value, "'grid'", 2);
  if (!grid)
    return std::nullopt;
  int64_t window = 2;
  if (const ArgAST *a = args.get("window")) {
    std::optional<int64_t> n = evalInt(*a->value, "'window'");
    if (!n)
      return std::nullopt;
    window = *n;
  }
  int64_t stride = window;
  if (const ArgAST *a = args.get("stride")) {
    std::optional<int64_t> n = evalInt(*a->value, "'stride'");
    if (!n)
      return std::nullopt;
    stride = *n;
  }
  std::string mode = "avg";
  if (const ArgAST *a = args.get("mode")) {
    mode = refName(*a->value, "'mode'");
    if (mode != "avg" && mode != "max") {
      emitError(a->loc) << "'mode' of 'pool' must be avg or max";
      return std::nullopt;
    }
  }
  return poolTokens(*x, *grid, window, stride, mode, blockPath(args, "pool"),
                    call.getLoc());
}

std::optional<int> Elaborator::sliceBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 3, {}, args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of 'channels'");
  if (!x)
    return std::nullopt;
  std::optional<int64_t> from = evalInt(*args.positional[1]->value, "the start");
  std::optional<int64_t> to = from ? evalInt(*args.positional[2]->value, "the end")
                                   : std::nullopt;
  if (!to)
    return std::nullopt;
  int64_t c = channels(*x);
  if (*from < 0 || *to > c || *from >= *to) {
    emitError(call.getLoc()) << "channels(x, " << *from << ", " << *to
                             << ") is not a non-empty range of the " << c
                             << " channels";
    return std::nullopt;
  }
  ArchNode node;
  node.op = "slice";
  node.offset = *from;
  node.size = *to - *from;
  node.inputs = {*x};
  node.loc = call.getLoc();
  node.path = llvm::join(path, ".");
  std::vector<int64_t> shape = shapeOf(*x);
  shape.back() = node.size;
  return addNode(std::move(node), shape);
}

std::optional<int> Elaborator::concatBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 2, {}, args))
    return std::nullopt;
  std::optional<int> a =
      evalTensor(*args.positional[0]->value, "an input of 'concat'");
  std::optional<int> b =
      a ? evalTensor(*args.positional[1]->value, "an input of 'concat'")
        : std::nullopt;
  if (!b)
    return std::nullopt;
  std::vector<int64_t> sa = shapeOf(*a), sb = shapeOf(*b);
  if (sa.size() != sb.size() ||
      !std::equal(sa.begin(), sa.end() - 1, sb.begin())) {
    emitError(call.getLoc()) << "'concat' joins tensors that differ only in "
                                "the last axis";
    return std::nullopt;
  }
  ArchNode node;
  node.op = "concat";
  node.inputs = {*a, *b};
  node.loc = call.getLoc();
  node.path = llvm::join(path, ".");
  sa.back() += sb.back();
  return addNode(std::move(node), sa);
}

/// ShiftAddNAS's hybrid block (spec V2): the channels split in halves, the
/// first half through multi-head attention, the second through a
/// multiplication-free (or lightweight) token mixer, then concatenated.
std::optional<int> Elaborator::shiftAddBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"heads", "branch", "kernel", "causal", "variant"},
                 args))
    return std::nullopt;
  std::optional<int> x =
      evalTensor(*args.positional[0]->value, "the input of 'shiftadd_block'");
  if (!x)
    return std::nullopt;
  int64_t c = channels(*x);
  if (c % 2) {
    emitError(call.getLoc()) << "'shiftadd_block' splits the channels in "
                                "halves; "
                             << c << " is odd";
    return std::nullopt;
  }
  std::string branch = "adder";
  if (const ArgAST *a = args.get("branch")) {
    branch = refName(*a->value, "'branch'");
    if (branch != "adder" && branch != "conv" && branch != "shift") {
      emitError(a->loc) << "'branch' must be adder (light-add), shift "
                           "(shift projection) or conv (lightweight conv)";
      return std::nullopt;
    }
  }
  int64_t kernel = 3;
  if (const ArgAST *a = args.get("kernel")) {
    std::optional<int64_t> n = evalInt(*a->value, "'kernel'");
    if (!n)
      return std::nullopt;
    kernel = *n;
  }
  int64_t heads = 4;
  if (const ArgAST *a = args.get("heads")) {
    std::optional<int64_t> n = evalInt(*a->value, "'heads'");
    if (!n)
      return std::nullopt;
    heads = *n;
  }
  bool causal = false;
  if (const ArgAST *a = args.get("causal")) {
    std::optional<bool> b = evalBool(*a->value, "'causal'");
    if (!b)
      return std::nullopt;
    causal = *b;
  }
  std::string p = blockPath(args, "shiftadd");
  // The sub-blocks' paths are relative to this block.
  std::vector<std::string> saved = path;
  path.assign(1, p);
  used.emplace_back();
  auto finish = [&](std::optional<int> r) {
    used.pop_back();
    path = saved;
    return r;
  };
  auto slice = [&](int64_t from, int64_t size) {
    ArchNode node;
    node.op = "slice";
    node.offset = from;
    node.size = size;
    node.inputs = {*x};
    node.loc = call.getLoc();
    node.path = p;
    std::vector<int64_t> shape = shapeOf(*x);
    shape.back() = size;
    return addNode(std::move(node), shape);
  };
  int left = slice(0, c / 2), right = slice(c / 2, c / 2);
  // The attention half, as attention_block over c/2 channels.
  std::string ap = p + ".attention";
  int64_t half = c / 2;
  if (half % heads) {
    emitError(call.getLoc()) << "half the width (" << half
                             << ") is not a multiple of 'heads' (" << heads
                             << ")";
    return finish(std::nullopt);
  }
  int64_t d = half / heads;
  auto headsOf = [&](const char *w, const char *b) -> std::optional<int> {
    std::optional<int> proj =
        projection(left, half, ap, "mul", true, call.getLoc(), w, b);
    if (!proj)
      return std::nullopt;
    ArchNode split;
    split.op = "split_heads";
    split.heads = heads;
    split.inputs = {*proj};
    split.loc = call.getLoc();
    split.path = ap;
    const std::vector<int64_t> &s = shapeOf(*proj);
    return addNode(std::move(split), {s[0], heads, s[1], d});
  };
  std::optional<int> q = headsOf("wq", "bq"), k = headsOf("wk", "bk"),
                     v = headsOf("wv", "bv");
  if (!q || !k || !v)
    return finish(std::nullopt);
  std::shared_ptr<ExprAST> variant =
      args.get("variant") ? evalRef(*args.get("variant")->value)
                          : std::make_shared<NameExprAST>(call.getLoc(),
                                                          "softmax");
  std::optional<int> core =
      attentionCore(*q, *k, *v, variant, causal, ap, call.getLoc());
  if (!core)
    return finish(std::nullopt);
  ArchNode merge;
  merge.op = "merge_heads";
  merge.inputs = {*core};
  merge.loc = call.getLoc();
  merge.path = ap;
  const std::vector<int64_t> &cs = shapeOf(*core);
  int merged = addNode(std::move(merge), {cs[0], cs[2], half});
  std::optional<int> attnOut =
      projection(merged, half, ap, "mul", true, call.getLoc(), "wo", "bo");
  if (!attnOut)
    return finish(std::nullopt);
  // The multiplication-free half.
  std::optional<int> mixed;
  std::string bp = p + ".branch";
  if (branch == "shift") {
    mixed = projection(right, half, bp, "shift", true, call.getLoc());
  } else {
    ArchNode conv;
    conv.op = "conv1d";
    conv.mode = branch == "adder" ? "adder" : "mul";
    conv.padding = causal ? "causal" : "same";
    conv.window = kernel;
    conv.loc = call.getLoc();
    conv.path = bp;
    conv.inputs = {right, addWeight(bp, "w", {half, kernel},
                                    uniform(1.0 / std::sqrt(double(kernel))),
                                    call.getLoc())};
    mixed = addNode(std::move(conv), shapeOf(right));
  }
  if (!mixed)
    return finish(std::nullopt);
  ArchNode cat;
  cat.op = "concat";
  cat.inputs = {*attnOut, *mixed};
  cat.loc = call.getLoc();
  cat.path = p;
  return finish(addNode(std::move(cat), shapeOf(*x)));
}

mlir::FailureOr<Elaboration>
attn::frontend::elaborateArchs(mlir::MLIRContext &context,
                               const ModuleAST &module,
                               const ModuleAST &prelude,
                               const std::map<std::string, int64_t> &dims,
                               const std::string &config) {
  return Elaborator(context, module, prelude, dims).run(config);
}
