//===- Space.cpp - the search space of an architecture --------------------===//
//
// Implements ArchSpace (Space.h).  The layers each per-layer choice is taken
// at are found by walking the arch body under the global values with a
// small integer evaluator that follows the elaborator's rules (Elaborate.cpp:
// integers, dims, `+ - * / %`, assignments, integer alternatives), so that
// points the frontend would reject (heads that do not divide the width)
// still count.  validate() runs the real frontend and checks that it
// records exactly the point.
//
//===----------------------------------------------------------------------===//

#include "frontend/Space.h"

#include "frontend/Elaborate.h"
#include "frontend/Lexer.h"

#include "dialect/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Casting.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

using namespace attn::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// A non-negative integer of any size, in base 10^9 (least significant limb
/// first): enough for counting points.
class BigNum {
public:
  explicit BigNum(uint64_t v = 0) {
    while (v) {
      limbs.push_back(static_cast<uint32_t>(v % kBase));
      v /= kBase;
    }
  }
  void mul(uint32_t m) {
    uint64_t carry = 0;
    for (uint32_t &limb : limbs) {
      uint64_t x = uint64_t(limb) * m + carry;
      limb = static_cast<uint32_t>(x % kBase);
      carry = x / kBase;
    }
    while (carry) {
      limbs.push_back(static_cast<uint32_t>(carry % kBase));
      carry /= kBase;
    }
    trim();
  }
  void add(const BigNum &o) {
    uint64_t carry = 0;
    for (size_t n = 0; n < std::max(limbs.size(), o.limbs.size()) || carry;
         ++n) {
      if (n == limbs.size())
        limbs.push_back(0);
      uint64_t x = limbs[n] + carry + (n < o.limbs.size() ? o.limbs[n] : 0);
      limbs[n] = static_cast<uint32_t>(x % kBase);
      carry = x / kBase;
    }
  }
  std::string str() const {
    if (limbs.empty())
      return "0";
    std::string out = std::to_string(limbs.back());
    for (size_t n = limbs.size() - 1; n-- > 0;) {
      std::string part = std::to_string(limbs[n]);
      out += std::string(9 - part.size(), '0') + part;
    }
    return out;
  }

private:
  void trim() {
    while (!limbs.empty() && limbs.back() == 0)
      limbs.pop_back();
  }
  static constexpr uint64_t kBase = 1000000000;
  std::vector<uint32_t> limbs;
};

/// A uniform index in [0, n), the same on every standard library
/// (std::uniform_int_distribution is not).  Draws nothing when n <= 1.
size_t uniformIndex(std::mt19937_64 &rng, size_t n) {
  if (n <= 1)
    return 0;
  uint64_t bound = uint64_t(n);
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do
    x = rng();
  while (x >= limit);
  return static_cast<size_t>(x % bound);
}

/// A uniform double in [0, 1).
double uniformReal(std::mt19937_64 &rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::string siteText(const Location &loc) {
  return (loc.file ? *loc.file : std::string("<unknown>")) + ":" +
         std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

std::string joinLabels(const std::vector<std::string> &labels) {
  std::string out;
  for (const std::string &l : labels)
    out += (out.empty() ? "" : ", ") + l;
  return out;
}

/// Every name an expression reads.
void namesIn(const ExprAST &expr, std::set<std::string> &out) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Name:
    out.insert(cast<NameExprAST>(expr).getName().str());
    break;
  case ExprAST::Kind::Unary:
    namesIn(cast<UnaryExprAST>(expr).getOperand(), out);
    break;
  case ExprAST::Kind::Binary:
    namesIn(cast<BinaryExprAST>(expr).getLHS(), out);
    namesIn(cast<BinaryExprAST>(expr).getRHS(), out);
    break;
  case ExprAST::Kind::Ternary: {
    const auto &t = cast<TernaryExprAST>(expr);
    namesIn(t.getCond(), out);
    namesIn(t.getThen(), out);
    namesIn(t.getElse(), out);
    break;
  }
  case ExprAST::Kind::Call:
    for (const ArgAST &a : cast<CallExprAST>(expr).getArgs())
      namesIn(*a.value, out);
    break;
  case ExprAST::Kind::List:
    for (const ExprPtr &e : cast<ListExprAST>(expr).getElements())
      namesIn(*e, out);
    break;
  case ExprAST::Kind::Index:
    out.insert(cast<IndexExprAST>(expr).getName().str());
    namesIn(cast<IndexExprAST>(expr).getIndex(), out);
    break;
  default:
    break;
  }
}

//===----------------------------------------------------------------------===//
// The layer walk
//===----------------------------------------------------------------------===//

/// What the walk knows of a name: an integer, something that is not a known
/// integer (a tensor, a reference, an error), or a value that depends on a
/// per-layer choice.
struct WalkValue {
  enum class Kind { Int, Opaque, PerLayer };
  Kind kind = Kind::Opaque;
  int64_t i = 0;
  /// Kind::PerLayer: the per-layer choice it depends on.
  std::string choice;

  static WalkValue integer(int64_t v) {
    WalkValue w;
    w.kind = Kind::Int;
    w.i = v;
    return w;
  }
};

/// Walks an arch body under fixed global values: unrolls every `repeat` as
/// the elaborator does and records the layer indices at which each
/// per-layer choice is taken.
class LayerWalk {
public:
  LayerWalk(const std::map<std::string, int64_t> &dims,
            const std::map<std::string, int> &choiceIndex,
            const std::vector<int> &globals)
      : dims(dims), choiceIndex(choiceIndex), globals(globals) {}

  /// False after an error (`errorLoc`, `error`).
  bool run(const std::vector<ArchStmtAST> &body) {
    for (const ArchStmtAST &stmt : body) {
      switch (stmt.kind) {
      case ArchStmtAST::Kind::Choose:
        choose(stmt);
        break;
      case ArchStmtAST::Kind::Assign:
        env[stmt.name] = eval(*stmt.value);
        break;
      case ArchStmtAST::Kind::Return:
        return true;
      case ArchStmtAST::Kind::Repeat:
        if (!repeat(stmt))
          return false;
        break;
      }
    }
    return true;
  }

  std::map<std::string, std::vector<int64_t>> taken;
  Location errorLoc;
  std::string error;

  /// Most layers (over every `repeat`) the walk unrolls.
  static constexpr int64_t kMaxLayers = int64_t(1) << 20;

private:
  WalkValue eval(const ExprAST &expr) {
    switch (expr.getKind()) {
    case ExprAST::Kind::Int:
      return WalkValue::integer(cast<IntExprAST>(expr).getValue());
    case ExprAST::Kind::Name: {
      std::string name = cast<NameExprAST>(expr).getName().str();
      if (auto it = env.find(name); it != env.end())
        return it->second;
      if (auto it = dims.find(name); it != dims.end())
        return WalkValue::integer(it->second);
      return WalkValue();
    }
    case ExprAST::Kind::Unary: {
      const auto &u = cast<UnaryExprAST>(expr);
      WalkValue v = eval(u.getOperand());
      if (u.getOp() != UnaryOp::Neg || v.kind == WalkValue::Kind::Opaque)
        return WalkValue();
      if (v.kind == WalkValue::Kind::Int) {
        if (v.i == std::numeric_limits<int64_t>::min())
          return WalkValue();
        v.i = -v.i;
      }
      return v;
    }
    case ExprAST::Kind::Binary: {
      const auto &b = cast<BinaryExprAST>(expr);
      WalkValue l = eval(b.getLHS()), r = eval(b.getRHS());
      if (l.kind == WalkValue::Kind::PerLayer)
        return l;
      if (r.kind == WalkValue::Kind::PerLayer)
        return r;
      if (l.kind != WalkValue::Kind::Int || r.kind != WalkValue::Kind::Int)
        return WalkValue();
      int64_t x = 0;
      bool bad = false;
      switch (b.getOp()) {
      case BinaryOp::Add:
        bad = __builtin_add_overflow(l.i, r.i, &x);
        break;
      case BinaryOp::Sub:
        bad = __builtin_sub_overflow(l.i, r.i, &x);
        break;
      case BinaryOp::Mul:
        bad = __builtin_mul_overflow(l.i, r.i, &x);
        break;
      case BinaryOp::Div:
      case BinaryOp::Rem:
        bad = r.i == 0 ||
              (l.i == std::numeric_limits<int64_t>::min() && r.i == -1);
        if (!bad)
          x = b.getOp() == BinaryOp::Div ? l.i / r.i : l.i % r.i;
        break;
      default:
        bad = true;
        break;
      }
      return bad ? WalkValue() : WalkValue::integer(x);
    }
    default:
      return WalkValue();
    }
  }

  void choose(const ArchStmtAST &stmt) {
    if (!layers.empty()) {
      taken[stmt.name].push_back(layers.back());
      WalkValue v;
      v.kind = WalkValue::Kind::PerLayer;
      v.choice = stmt.name;
      env[stmt.name] = v;
      return;
    }
    auto it = choiceIndex.find(stmt.name);
    int index = it == choiceIndex.end() ? 0 : globals[it->second];
    const ExprAST &alt = *stmt.alternatives[index];
    // As the elaborator: an integer alternative is a number, a name bound
    // in the body is its value, anything else a reference.
    if (isa<IntExprAST>(alt) || isa<BinaryExprAST>(alt))
      env[stmt.name] = eval(alt);
    else if (auto *name = dyn_cast<NameExprAST>(&alt);
             name && env.count(name->getName().str()))
      env[stmt.name] = env.at(name->getName().str());
    else
      env[stmt.name] = WalkValue();
  }

  bool repeat(const ArchStmtAST &stmt) {
    WalkValue count = eval(*stmt.value);
    if (count.kind == WalkValue::Kind::PerLayer) {
      errorLoc = stmt.value->getLoc();
      error = "the 'repeat' count depends on the per-layer choice '" +
              count.choice +
              "'; the number of layers may depend only on global choices";
      return false;
    }
    if (count.kind != WalkValue::Kind::Int) {
      errorLoc = stmt.value->getLoc();
      error = "the 'repeat' count is not an integer computed from integers, "
              "dims, assignments and global choices";
      return false;
    }
    if (count.i < 0 || count.i > 4096) {
      errorLoc = stmt.value->getLoc();
      error = "the 'repeat' count must be in [0, 4096], got " +
              std::to_string(count.i);
      return false;
    }
    for (int64_t n = 0; n < count.i; ++n) {
      if (nextLayer == kMaxLayers) {
        errorLoc = stmt.value->getLoc();
        error = "the 'repeat's unroll to more than " +
                std::to_string(kMaxLayers) + " layers";
        return false;
      }
      layers.push_back(nextLayer++);
      bool ok = run(stmt.body);
      layers.pop_back();
      if (!ok)
        return false;
    }
    return true;
  }

  const std::map<std::string, int64_t> &dims;
  const std::map<std::string, int> &choiceIndex;
  const std::vector<int> &globals;
  std::map<std::string, WalkValue> env;
  /// The layers of the enclosing `repeat`s, innermost last.
  std::vector<int64_t> layers;
  int64_t nextLayer = 0;
};

/// Collects the choices of `body` (per layer inside `repeat`); reports a
/// name declared twice.
bool collectChoices(mlir::MLIRContext &context,
                    const std::vector<ArchStmtAST> &body, bool inRepeat,
                    std::vector<SpaceChoice> &choices,
                    std::vector<const ArchStmtAST *> &stmts) {
  bool ok = true;
  for (const ArchStmtAST &stmt : body) {
    if (stmt.kind == ArchStmtAST::Kind::Repeat)
      ok &= collectChoices(context, stmt.body, true, choices, stmts);
    if (stmt.kind != ArchStmtAST::Kind::Choose)
      continue;
    auto previous = llvm::find_if(
        stmts, [&](const ArchStmtAST *s) { return s->name == stmt.name; });
    if (previous != stmts.end()) {
      auto diag = mlir::emitError(toMLIRLoc(context, stmt.nameLoc))
                  << "choice '" << stmt.name << "' is already declared";
      diag.attachNote(toMLIRLoc(context, (*previous)->nameLoc))
          << "previous declaration is here";
      ok = false;
      continue;
    }
    choices.push_back(
        SpaceChoice{stmt.name, stmt.labels, inRepeat, siteText(stmt.nameLoc)});
    stmts.push_back(&stmt);
  }
  return ok;
}

/// Every `repeat` count and everything that defines a name.
void collectDefinitions(
    const std::vector<ArchStmtAST> &body, std::vector<const ExprAST *> &counts,
    std::map<std::string, std::vector<const ExprAST *>> &definers) {
  for (const ArchStmtAST &stmt : body) {
    switch (stmt.kind) {
    case ArchStmtAST::Kind::Repeat:
      counts.push_back(stmt.value.get());
      collectDefinitions(stmt.body, counts, definers);
      break;
    case ArchStmtAST::Kind::Assign:
      definers[stmt.name].push_back(stmt.value.get());
      break;
    case ArchStmtAST::Kind::Choose:
      for (const ExprPtr &alt : stmt.alternatives)
        definers[stmt.name].push_back(alt.get());
      break;
    case ArchStmtAST::Kind::Return:
      break;
    }
  }
}

/// The index of `label` among `labels`: the exact text, or the callee name
/// when only one alternative has it (as the elaborator matches); -1 when
/// none matches, -2 when several do.
int findLabel(const std::vector<std::string> &labels,
              const std::string &label) {
  for (size_t n = 0; n < labels.size(); ++n)
    if (labels[n] == label)
      return static_cast<int>(n);
  int match = -1;
  for (size_t n = 0; n < labels.size(); ++n)
    if (llvm::StringRef(labels[n]).split('(').first == label) {
      if (match >= 0)
        return -2;
      match = static_cast<int>(n);
    }
  return match;
}

} // namespace

//===----------------------------------------------------------------------===//
// Building and counting
//===----------------------------------------------------------------------===//

mlir::FailureOr<ArchSpace>
ArchSpace::build(mlir::MLIRContext &context, const ModuleAST &module,
                 const FrontendOptions &options, const std::string &archName) {
  auto unknown = mlir::UnknownLoc::get(&context);
  std::string names;
  for (const ArchDeclAST &a : module.archs)
    names += (names.empty() ? "" : ", ") + a.name;
  const ArchDeclAST *decl = nullptr;
  if (module.archs.empty()) {
    mlir::emitError(unknown) << "the source declares no architecture ('arch')";
    return mlir::failure();
  }
  if (archName.empty()) {
    if (module.archs.size() > 1) {
      mlir::emitError(unknown)
          << "the source declares " << module.archs.size()
          << " architectures (" << names << "); name one with --arch";
      return mlir::failure();
    }
    decl = &module.archs.front();
  } else {
    for (const ArchDeclAST &a : module.archs)
      if (a.name == archName) {
        decl = &a;
        break;
      }
    if (!decl) {
      mlir::emitError(unknown) << "no architecture '" << archName
                               << "' in the source (architectures: " << names
                               << ")";
      return mlir::failure();
    }
  }

  ArchSpace space;
  space.context = &context;
  space.module = &module;
  space.decl = decl;
  space.options = options;
  space.archName = decl->name;
  for (const DimDeclAST &d : module.dims)
    for (const DimDefAST &def : d.defs)
      if (def.value)
        space.dims[def.name] = *def.value;
  for (auto &[name, value] : options.dimOverrides)
    space.dims[name] = value;
  if (!collectChoices(context, decl->body, false, space.choiceList,
                      space.choiceStmts))
    return mlir::failure();
  std::map<std::string, int> choiceIndex;
  for (auto [n, c] : llvm::enumerate(space.choiceList))
    choiceIndex[c.name] = static_cast<int>(n);

  // The globals the counts read: the names of the counts, closed over what
  // defines them (assignments and alternatives).
  std::vector<const ExprAST *> counts;
  std::map<std::string, std::vector<const ExprAST *>> definers;
  collectDefinitions(decl->body, counts, definers);
  std::set<std::string> read;
  for (const ExprAST *count : counts)
    namesIn(*count, read);
  std::vector<std::string> work(read.begin(), read.end());
  while (!work.empty()) {
    std::string name = work.back();
    work.pop_back();
    for (const ExprAST *def : definers[name]) {
      std::set<std::string> more;
      namesIn(*def, more);
      for (const std::string &m : more)
        if (read.insert(m).second)
          work.push_back(m);
    }
  }
  uint64_t combinations = 1;
  std::string relevantNames;
  for (auto [n, c] : llvm::enumerate(space.choiceList)) {
    if (c.perLayer || !read.count(c.name))
      continue;
    space.countRelevant.push_back(static_cast<int>(n));
    relevantNames += (relevantNames.empty() ? "" : ", ") + c.name;
    combinations = std::min<uint64_t>(combinations * c.labels.size(),
                                      kMaxCountCombinations + 1);
  }
  if (combinations > kMaxCountCombinations) {
    mlir::emitError(toMLIRLoc(context,
                              space.choiceStmts[space.countRelevant[0]]->nameLoc))
        << "the 'repeat' counts read more than " << kMaxCountCombinations
        << " combinations of the global choices " << relevantNames
        << "; the space cannot be counted";
    return mlir::failure();
  }

  // size = sum over the count-relevant values g of
  //        prod(other globals' alternatives) * prod_c |alts(c)|^layers_c(g).
  BigNum others(1);
  for (auto [n, c] : llvm::enumerate(space.choiceList))
    if (!c.perLayer && !llvm::is_contained(space.countRelevant, int(n)))
      others.mul(static_cast<uint32_t>(c.labels.size()));
  BigNum total;
  std::vector<int> globals(space.choiceList.size(), 0);
  for (;;) {
    LayerWalk walk(space.dims, choiceIndex, globals);
    if (!walk.run(decl->body)) {
      std::string with;
      for (int n : space.countRelevant)
        with += (with.empty() ? "" : ",") + space.choiceList[n].name + "=" +
                space.choiceList[n].labels[globals[n]];
      mlir::emitError(toMLIRLoc(context, walk.errorLoc))
          << walk.error << (with.empty() ? "" : " (with " + with + ")");
      return mlir::failure();
    }
    BigNum term = others;
    for (const SpaceChoice &c : space.choiceList)
      if (c.perLayer && c.labels.size() > 1)
        for (size_t l = 0, e = walk.taken[c.name].size(); l < e; ++l)
          term.mul(static_cast<uint32_t>(c.labels.size()));
    total.add(term);
    // The next combination of the count-relevant globals.
    size_t pos = 0;
    for (; pos < space.countRelevant.size(); ++pos) {
      int n = space.countRelevant[pos];
      if (++globals[n] < static_cast<int>(space.choiceList[n].labels.size()))
        break;
      globals[n] = 0;
    }
    if (pos == space.countRelevant.size())
      break;
  }
  space.size = total.str();
  return space;
}

double ArchSpace::sizeLog10() const {
  size_t digits = std::min<size_t>(size.size(), 17);
  double lead = std::stod(size.substr(0, digits));
  return std::log10(lead) + static_cast<double>(size.size() - digits);
}

std::vector<std::string> ArchSpace::countChoices() const {
  std::vector<std::string> out;
  for (int n : countRelevant)
    out.push_back(choiceList[n].name);
  return out;
}

int ArchSpace::findChoice(const std::string &name) const {
  for (size_t n = 0; n < choiceList.size(); ++n)
    if (choiceList[n].name == name)
      return static_cast<int>(n);
  return -1;
}

std::vector<int> ArchSpace::globalValues(const SpacePoint &p) const {
  std::vector<int> globals(choiceList.size(), 0);
  for (size_t n = 0; n < choiceList.size(); ++n) {
    const SpaceChoice &c = choiceList[n];
    auto it = p.values.find(c.name);
    if (c.perLayer || it == p.values.end() || it->second.empty())
      continue;
    int v = it->second.front();
    if (v >= 0 && v < static_cast<int>(c.labels.size()))
      globals[n] = v;
  }
  return globals;
}

std::map<std::string, std::vector<int64_t>>
ArchSpace::layerIndices(const SpacePoint &p) const {
  std::map<std::string, int> choiceIndex;
  for (size_t n = 0; n < choiceList.size(); ++n)
    choiceIndex[choiceList[n].name] = static_cast<int>(n);
  std::vector<int> globals = globalValues(p);
  LayerWalk walk(dims, choiceIndex, globals);
  // build() walked every combination of the count-relevant globals, so
  // this cannot fail.
  (void)walk.run(decl->body);
  std::map<std::string, std::vector<int64_t>> out;
  for (const SpaceChoice &c : choiceList)
    if (c.perLayer)
      out[c.name] = walk.taken[c.name];
  return out;
}

std::map<std::string, int64_t> ArchSpace::layers(const SpacePoint &p) const {
  std::map<std::string, int64_t> out;
  for (auto &[name, indices] : layerIndices(p))
    out[name] = static_cast<int64_t>(indices.size());
  return out;
}

//===----------------------------------------------------------------------===//
// Configuration text
//===----------------------------------------------------------------------===//

std::string ArchSpace::toConfig(const SpacePoint &p) const {
  std::map<std::string, std::vector<int64_t>> indices = layerIndices(p);
  std::vector<std::string> entries;
  auto labelOf = [](const SpaceChoice &c, int v) {
    return v >= 0 && v < static_cast<int>(c.labels.size()) ? c.labels[v]
                                                            : std::string("?");
  };
  for (const SpaceChoice &c : choiceList) {
    auto it = p.values.find(c.name);
    static const std::vector<int> kNone;
    const std::vector<int> &vals = it == p.values.end() ? kNone : it->second;
    if (!c.perLayer) {
      entries.push_back(c.name + "=" +
                        labelOf(c, vals.empty() ? 0 : vals.front()));
      continue;
    }
    const std::vector<int64_t> &at = indices[c.name];
    if (at.empty() || vals.empty())
      continue;
    bool fromFirst = true;
    for (size_t k = 0; k < at.size(); ++k)
      fromFirst &= at[k] == static_cast<int64_t>(k);
    if (fromFirst) {
      std::string list;
      for (int v : vals)
        list += (list.empty() ? "" : ",") + labelOf(c, v);
      entries.push_back(c.name + "=[" + list + "]");
      continue;
    }
    for (size_t k = 0; k < std::min(at.size(), vals.size()); ++k)
      entries.push_back(c.name + "." + std::to_string(at[k]) + "=" +
                        labelOf(c, vals[k]));
  }
  return llvm::join(entries, ",");
}

mlir::FailureOr<SpacePoint>
ArchSpace::fromConfig(const std::string &text, std::string &error) const {
  // The syntax of the frontend's --config (Elaborate.h).
  std::map<std::string, ConfigEntry> config;
  if (std::optional<std::string> err = parseConfig(text, config)) {
    error = *err;
    return mlir::failure();
  }
  for (const auto &[name, entry] : config)
    if (findChoice(name) < 0) {
      std::string known;
      for (const SpaceChoice &c : choiceList)
        known += (known.empty() ? "" : ", ") + c.name;
      error = "configuration names '" + name +
              "', which is not a choice of architecture '" + archName + "'" +
              (known.empty() ? std::string(" (there are no choices)")
                             : " (choices: " + known + ")");
      return mlir::failure();
    }

  auto lookup = [&](const SpaceChoice &c, const std::string &label,
                    int &out) -> bool {
    out = findLabel(c.labels, label);
    if (out >= 0)
      return true;
    error = "the configuration gives '" + label + "' for choice '" + c.name +
            "'" + (out == -2 ? ", which matches several alternatives" : "") +
            "; the alternatives are: " + joinLabels(c.labels);
    return false;
  };
  SpacePoint p;
  for (const SpaceChoice &c : choiceList) {
    if (c.perLayer)
      continue;
    int v = 0;
    if (auto it = config.find(c.name); it != config.end()) {
      const ConfigEntry &e = it->second;
      if (!e.layers.empty()) {
        error = "choice '" + c.name + "' is not per layer ('" + c.name +
                ".N=' applies only inside 'repeat')";
        return mlir::failure();
      }
      if (e.isList) {
        error = "choice '" + c.name +
                "' is not inside 'repeat', but the configuration gives it a "
                "list";
        return mlir::failure();
      }
      if (!lookup(c, e.values.front(), v))
        return mlir::failure();
    }
    p.values[c.name] = {v};
  }
  std::map<std::string, std::vector<int64_t>> indices = layerIndices(p);
  for (const SpaceChoice &c : choiceList) {
    if (!c.perLayer)
      continue;
    std::vector<int> &vals = p.values[c.name];
    auto it = config.find(c.name);
    for (int64_t layer : indices[c.name]) {
      int v = 0;
      if (it != config.end()) {
        const ConfigEntry &e = it->second;
        std::optional<std::string> label;
        if (e.layers.count(layer))
          label = e.layers.at(layer);
        else if (e.isList && layer >= static_cast<int64_t>(e.values.size())) {
          error = "the configuration gives " +
                  std::to_string(e.values.size()) +
                  " value(s) for the per-layer choice '" + c.name +
                  "', but layer " + std::to_string(layer) + " needs one";
          return mlir::failure();
        } else if (!e.values.empty())
          label = e.isList ? e.values[layer] : e.values.front();
        if (label && !lookup(c, *label, v))
          return mlir::failure();
      }
      vals.push_back(v);
    }
  }
  return p;
}

//===----------------------------------------------------------------------===//
// Sampling and the genetic operators
//===----------------------------------------------------------------------===//

void ArchSpace::repair(SpacePoint &p, std::mt19937_64 &rng) const {
  SpacePoint out;
  auto valid = [](const SpaceChoice &c, int v) {
    return v >= 0 && v < static_cast<int>(c.labels.size());
  };
  for (const SpaceChoice &c : choiceList) {
    if (c.perLayer)
      continue;
    auto it = p.values.find(c.name);
    int v = it != p.values.end() && !it->second.empty() &&
                    valid(c, it->second.front())
                ? it->second.front()
                : static_cast<int>(uniformIndex(rng, c.labels.size()));
    out.values[c.name] = {v};
  }
  std::map<std::string, int64_t> count = layers(out);
  for (const SpaceChoice &c : choiceList) {
    if (!c.perLayer)
      continue;
    std::vector<int> vals;
    if (auto it = p.values.find(c.name); it != p.values.end())
      vals = it->second;
    size_t n = static_cast<size_t>(count[c.name]);
    if (vals.size() > n)
      vals.resize(n);
    for (int &v : vals)
      if (!valid(c, v))
        v = static_cast<int>(uniformIndex(rng, c.labels.size()));
    while (vals.size() < n)
      vals.push_back(static_cast<int>(uniformIndex(rng, c.labels.size())));
    out.values[c.name] = std::move(vals);
  }
  p = std::move(out);
}

SpacePoint ArchSpace::sample(std::mt19937_64 &rng) const {
  // repair draws every global, then every layer of every per-layer choice.
  SpacePoint p;
  repair(p, rng);
  return p;
}

SpacePoint ArchSpace::mutate(const SpacePoint &p, double rate,
                             std::mt19937_64 &rng) const {
  SpacePoint base = p;
  repair(base, rng);
  SpacePoint q = base;
  for (const SpaceChoice &c : choiceList)
    for (int &v : q.values[c.name])
      if (uniformReal(rng) < rate)
        v = static_cast<int>(uniformIndex(rng, c.labels.size()));
  repair(q, rng);
  if (!(q == base) || size == "1")
    return q;
  // Nothing changed: change one gene that can.
  std::vector<std::pair<std::string, size_t>> genes;
  for (const SpaceChoice &c : choiceList)
    if (c.labels.size() > 1)
      for (size_t k = 0; k < base.values[c.name].size(); ++k)
        genes.emplace_back(c.name, k);
  if (genes.empty())
    return q;
  auto [name, k] = genes[uniformIndex(rng, genes.size())];
  size_t alts = choiceList[findChoice(name)].labels.size();
  int &v = q.values[name][k];
  v = static_cast<int>((v + 1 + uniformIndex(rng, alts - 1)) % alts);
  repair(q, rng);
  return q;
}

SpacePoint ArchSpace::crossover(const SpacePoint &a, const SpacePoint &b,
                                std::mt19937_64 &rng) const {
  SpacePoint child;
  auto valuesOf = [](const SpacePoint &p, const std::string &name) {
    auto it = p.values.find(name);
    return it == p.values.end() ? std::vector<int>() : it->second;
  };
  for (const SpaceChoice &c : choiceList) {
    if (c.perLayer)
      continue;
    std::vector<int> va = valuesOf(a, c.name), vb = valuesOf(b, c.name);
    bool fromA = uniformIndex(rng, 2) == 0;
    std::vector<int> &pick = fromA ? va : vb, &other = fromA ? vb : va;
    if (!pick.empty())
      child.values[c.name] = {pick.front()};
    else if (!other.empty())
      child.values[c.name] = {other.front()};
  }
  std::map<std::string, int64_t> count = layers(child);
  for (const SpaceChoice &c : choiceList) {
    if (!c.perLayer)
      continue;
    std::vector<int> va = valuesOf(a, c.name), vb = valuesOf(b, c.name);
    std::vector<int> &vals = child.values[c.name];
    for (size_t k = 0; k < static_cast<size_t>(count[c.name]); ++k) {
      bool hasA = k < va.size(), hasB = k < vb.size();
      if (hasA && hasB)
        vals.push_back(uniformIndex(rng, 2) == 0 ? va[k] : vb[k]);
      else if (hasA || hasB)
        vals.push_back(hasA ? va[k] : vb[k]);
      else
        break;
    }
  }
  repair(child, rng);
  return child;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

bool ArchSpace::validate(const SpacePoint &p, std::string *why) const {
  FrontendOptions opts = options;
  opts.config = toConfig(p);
  std::string first;
  mlir::OwningOpRef<mlir::ModuleOp> generated;
  {
    mlir::ScopedDiagnosticHandler capture(
        context, [&](mlir::Diagnostic &diag) {
          if (first.empty() &&
              diag.getSeverity() == mlir::DiagnosticSeverity::Error) {
            if (auto loc = dyn_cast<mlir::FileLineColLoc>(diag.getLocation()))
              first = (loc.getFilename().str() + ":" +
                       std::to_string(loc.getLine()) + ":" +
                       std::to_string(loc.getColumn()) + ": ");
            first += diag.str();
          }
          return mlir::success();
        });
    generated = generateMLIR(*module, *context, opts);
  }
  if (!generated) {
    if (why)
      *why = first.empty() ? "the frontend rejects the configuration" : first;
    return false;
  }
  // The frontend must have taken exactly the point.
  auto func = generated->lookupSymbol<mlir::func::FuncOp>(archName);
  auto recorded =
      func ? func->getAttrOfType<mlir::DictionaryAttr>(
                 mlir::attn::kArchConfigAttr)
           : mlir::DictionaryAttr();
  std::map<std::string, std::vector<int64_t>> indices = layerIndices(p);
  for (const SpaceChoice &c : choiceList) {
    auto it = p.values.find(c.name);
    std::vector<int> vals = it == p.values.end() ? std::vector<int>()
                                                 : it->second;
    std::optional<std::string> expected;
    bool inRange = llvm::all_of(vals, [&](int v) {
      return v >= 0 && v < static_cast<int>(c.labels.size());
    });
    if (!c.perLayer && vals.size() == 1 && inRange) {
      expected = c.labels[vals.front()];
    } else if (c.perLayer && inRange &&
               vals.size() == indices[c.name].size()) {
      if (!vals.empty()) {
        std::string list;
        for (int v : vals)
          list += (list.empty() ? "" : ",") + c.labels[v];
        expected = "[" + list + "]";
      }
    } else {
      if (why)
        *why = "the point is not complete for choice '" + c.name +
               "' (repair it first)";
      return false;
    }
    auto got = recorded ? recorded.getAs<mlir::StringAttr>(c.name)
                        : mlir::StringAttr();
    std::optional<std::string> gotText;
    if (got)
      gotText = got.getValue().str();
    if (gotText != expected) {
      if (why)
        *why = "the frontend took '" + gotText.value_or("(nothing)") +
               "' for choice '" + c.name + "', not '" +
               expected.value_or("(nothing)") + "'";
      return false;
    }
  }
  return true;
}

std::vector<SpacePoint> ArchSpace::sampleValid(size_t k, std::mt19937_64 &rng,
                                               size_t maxTries) const {
  std::vector<SpacePoint> out;
  std::set<SpacePoint> seen;
  // Small spaces: stop once every point has been drawn.
  std::optional<uint64_t> total;
  if (size.size() <= 18)
    total = std::stoull(size);
  for (size_t tries = 0; tries < maxTries && out.size() < k; ++tries) {
    if (total && seen.size() >= *total)
      break;
    SpacePoint p = sample(rng);
    if (!seen.insert(p).second)
      continue;
    if (validate(p))
      out.push_back(std::move(p));
  }
  return out;
}
