//===- ElaborateAttention.cpp - attention blocks of architectures ---------===//
//
// attention_block: the Q, K, V projections (split into heads), the
// attention core and the output projection.  A core is a call of a
// synthetic kernel `q, k, v -> attention(q, k, v, variant = ...)` that Sema
// checks like a user's kernel (so every variant works, with its errors at
// the user's source), except evolving attention (spec V6), which is built
// from materialized-map ops so its map can be carried between layers.
//
//===----------------------------------------------------------------------===//

#include "frontend/Elaborator.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace attn::frontend;
using namespace attn::frontend::elab;
using llvm::dyn_cast;

namespace {

/// The name of the variant an expression denotes (`luna(pack = 16)`).
llvm::StringRef variantNameOf(const ExprAST &variant) {
  if (auto *c = dyn_cast<CallExprAST>(&variant))
    return c->getCallee();
  if (auto *n = dyn_cast<NameExprAST>(&variant))
    return n->getName();
  return "";
}

/// A copy of an expression without substitutions.
ExprPtr copyExpr(const ExprAST &expr) {
  return cloneExpr(expr, [](const NameExprAST &) { return ExprPtr(); });
}

} // namespace

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
  std::optional<int> x = tensorArg(args, 0, "attention_block");
  if (!x)
    return std::nullopt;
  std::vector<int64_t> xs = shapeOf(*x);
  if (xs.size() != 3) {
    emitError(call.getLoc()) << "'attention_block' takes a [B, N, E] tensor";
    return std::nullopt;
  }
  int64_t e = xs[2];
  std::optional<int64_t> heads = intArg(args, "heads", 8, 1);
  std::optional<int64_t> kvHeads =
      heads ? intArg(args, "kv_heads", *heads, 1) : std::nullopt;
  std::optional<int64_t> stride = intArg(args, "stride", 1, 1);
  std::optional<bool> causal = boolArg(args, "causal", false);
  std::optional<bool> bias = boolArg(args, "bias", true);
  if (!kvHeads || !stride || !causal || !bias)
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
  std::optional<int64_t> headDim = intArg(args, "head_dim", e / *heads, 1);
  if (!headDim)
    return std::nullopt;
  std::shared_ptr<ExprAST> variant =
      args.get("variant")
          ? evalRef(*args.get("variant")->value)
          : std::make_shared<NameExprAST>(call.getLoc(), "softmax");

  std::string p = blockPath(args, "attention");
  int qIn = *x;
  if (*stride > 1) {
    // UniNet's strided queries: the queries are pooled on the token grid.
    if (!args.get("grid")) {
      emitError(args.get("stride")->loc)
          << "strided queries need the token 'grid = [h, w]'";
      return std::nullopt;
    }
    std::optional<std::vector<int64_t>> grid =
        gridArg(args, "attention_block", call.getLoc());
    std::optional<int> pooled =
        grid ? poolTokens(*x, *grid, *stride, *stride, "avg", p, call.getLoc())
             : std::nullopt;
    if (!pooled)
      return std::nullopt;
    qIn = *pooled;
  }
  return multiHeadAttention(qIn, *x, *heads, *kvHeads, *headDim, e, *bias,
                            variant, *causal, p, call.getLoc());
}

std::optional<int> Elaborator::multiHeadAttention(
    int qIn, int kvIn, int64_t heads, int64_t kvHeads, int64_t headDim,
    int64_t out, bool bias, std::shared_ptr<ExprAST> variant, bool causal,
    const std::string &blockPathText, const Location &loc) {
  auto project = [&](int in, int64_t h, const char *w,
                     const char *b) -> std::optional<int> {
    std::optional<int> proj =
        projection(in, h * headDim, blockPathText, "mul", bias, loc, w, b);
    if (!proj)
      return std::nullopt;
    std::vector<int64_t> s = shapeOf(*proj);
    return addOp("split_heads", {*proj}, {s[0], h, s[1], headDim}, loc,
                 blockPathText, [&](ArchNode &n) { n.heads = h; });
  };
  std::optional<int> q = project(qIn, heads, "wq", "bq");
  std::optional<int> k = q ? project(kvIn, kvHeads, "wk", "bk") : std::nullopt;
  std::optional<int> v = k ? project(kvIn, kvHeads, "wv", "bv") : std::nullopt;
  if (!v)
    return std::nullopt;
  bool evolving = variantNameOf(*variant) == "evolving" &&
                  !findVariant("evolving");
  std::optional<int> core =
      evolving ? evolvingCore(*q, *k, *v, *variant, causal, blockPathText, loc)
               : attentionCore(*q, *k, *v, variant, causal, blockPathText,
                               loc);
  if (!core)
    return std::nullopt;
  std::vector<int64_t> cs = shapeOf(*core);
  int merged = addOp("merge_heads", {*core}, {cs[0], cs[2], cs[1] * cs[3]},
                     loc, blockPathText);
  return projection(merged, out, blockPathText, "mul", bias, loc, "wo", "bo");
}

std::optional<std::vector<VariantWeight>>
Elaborator::variantWeights(const ExprAST &variant,
                           const std::vector<int64_t> &qs,
                           const Location &loc) {
  std::vector<VariantWeight> weights;
  llvm::StringRef name = variantNameOf(variant);
  const VariantDeclAST *decl = findVariant(name);
  if (!decl)
    return weights; // Sema reports an unknown variant at the use.
  const auto *use = dyn_cast<CallExprAST>(&variant);
  // The expression a parameter has at this use: given, or its default.
  auto valueOf = [&](llvm::StringRef param) -> const ExprAST * {
    if (use)
      for (const ArgAST &a : use->getArgs())
        if (a.name == param)
          return a.value.get();
    for (const VariantParamAST &p : decl->params)
      if (p.name == param)
        return p.defaultValue.get();
    return nullptr;
  };
  // An integer literal written directly or through a parameter.
  auto intOf = [&](const ExprAST *e) -> std::optional<int64_t> {
    if (const auto *n = llvm::dyn_cast_or_null<NameExprAST>(e))
      e = valueOf(n->getName());
    if (const auto *i = llvm::dyn_cast_or_null<IntExprAST>(e))
      return i->getValue();
    return std::nullopt;
  };
  // The item `name = callee(...)` of the variant, if any.
  auto itemCall = [&](llvm::StringRef item,
                      llvm::StringRef callee) -> const CallExprAST * {
    for (const VariantItemAST &it : decl->items)
      if (it.name == item)
        if (const auto *c = dyn_cast<CallExprAST>(it.value.get()))
          if (c->getCallee() == callee)
            return c;
    return nullptr;
  };
  auto argNames = [](const CallExprAST *c, size_t index, llvm::StringRef name) {
    return c && c->getArgs().size() > index &&
           dyn_cast<NameExprAST>(c->getArgs()[index].value.get()) &&
           dyn_cast<NameExprAST>(c->getArgs()[index].value.get())->getName() ==
               name;
  };
  const CallExprAST *luna = itemCall("pack", "luna");
  const CallExprAST *window = itemCall("partition", "window2d");
  const CallExprAST *emha = itemCall("map", "emha");
  for (const VariantParamAST &param : decl->params) {
    if (param.type != "tensor")
      continue;
    if (argNames(luna, 0, param.name)) {
      // Luna's memory [H, rows, D].
      std::optional<int64_t> rows = intOf(luna->getArgs()[1].value.get());
      if (!rows || *rows <= 0) {
        emitError(loc) << "the memory rows of variant '" << name
                       << "' must be a positive integer literal here";
        return std::nullopt;
      }
      weights.push_back({param.name,
                         {qs[1], *rows, qs[3]},
                         {"normal", 0.0, 1.0 / std::sqrt(double(qs[3]))}});
      continue;
    }
    if (argNames(window, 3, param.name)) {
      // Swin's relative position bias [H, (2w - 1)^2], w the window clipped
      // to the grid's smaller side.
      const auto *grid = llvm::dyn_cast_or_null<ListExprAST>(
          valueOf(dyn_cast<NameExprAST>(window->getArgs()[0].value.get())
                      ? dyn_cast<NameExprAST>(
                            window->getArgs()[0].value.get())
                            ->getName()
                      : ""));
      std::optional<int64_t> w = intOf(window->getArgs()[1].value.get());
      std::optional<int64_t> rows, cols;
      if (grid && grid->getElements().size() == 2) {
        rows = intOf(grid->getElements()[0].get());
        cols = intOf(grid->getElements()[1].get());
      }
      if (!w || !rows || !cols || *w <= 0) {
        emitError(loc) << "the grid and window of variant '" << name
                       << "' must be integer literals here";
        return std::nullopt;
      }
      int64_t side = std::min({*w, *rows, *cols});
      weights.push_back({param.name,
                         {qs[1], (2 * side - 1) * (2 * side - 1)},
                         {"normal", 0.0, 0.02}});
      continue;
    }
    if (argNames(emha, 0, param.name) || argNames(emha, 1, param.name)) {
      // EIT's inner- and cross-subspace convolutions [H, H, k, k].
      std::optional<int64_t> k =
          emha->getArgs().size() > 2 ? intOf(emha->getArgs()[2].value.get())
                                     : std::optional<int64_t>(3);
      if (!k || *k <= 0) {
        emitError(loc) << "the kernel size of variant '" << name
                       << "' must be a positive integer literal here";
        return std::nullopt;
      }
      weights.push_back({param.name,
                         {qs[1], qs[1], *k, *k},
                         uniform(1.0 / std::sqrt(double(qs[1] * *k * *k)))});
      continue;
    }
    // Optional tensor parameters (`= none`) stay absent.
    if (param.defaultValue)
      continue;
    emitError(loc) << "variant '" << name << "' takes the tensor parameter '"
                   << param.name
                   << "', which an architecture cannot provide yet";
    return std::nullopt;
  }
  return weights;
}

std::string Elaborator::syntheticKernel(int q, int k, int v,
                                        const ExprAST &variant, bool causal,
                                        const std::vector<VariantWeight> &params,
                                        const Location &loc) {
  std::string key;
  {
    llvm::raw_string_ostream os(key);
    printExpr(variant, os);
  }
  key += causal ? "|causal|" : "|";
  for (int t : {q, k, v})
    for (int64_t n : shapeOf(t))
      key += std::to_string(n) + ",";
  auto it = kernelByKey.find(key);
  if (it != kernelByKey.end())
    return it->second;
  std::string name = graph->name + "_attn" + std::to_string(kernelByKey.size());
  kernelByKey[key] = name;

  auto type = [&](const std::vector<int64_t> &shape) {
    TensorTypeAST t;
    t.loc = loc;
    t.dtype = "f32";
    for (int64_t n : shape)
      t.dims.push_back(DimRefAST{loc, "", n});
    return t;
  };
  KernelDeclAST kernel;
  kernel.loc = kernel.nameLoc = kernel.returnLoc = loc;
  kernel.name = name;
  std::vector<ArgAST> callArgs;
  const char *names[] = {"q", "k", "v"};
  int ids[] = {q, k, v};
  for (int n = 0; n < 3; ++n) {
    kernel.params.push_back(KernelParamAST{loc, names[n], type(shapeOf(ids[n]))});
    callArgs.push_back(
        ArgAST{"", loc, std::make_unique<NameExprAST>(loc, names[n])});
  }
  std::vector<int64_t> qs = shapeOf(q);
  kernel.resultType = type({qs[0], qs[1], qs[2], shapeOf(v)[3]});
  ExprPtr variantExpr = copyExpr(variant);
  if (!params.empty()) {
    // The tensor parameters become kernel parameters passed by name.
    std::vector<ArgAST> variantArgs;
    if (const auto *use = dyn_cast<CallExprAST>(&variant))
      for (const ArgAST &a : use->getArgs())
        variantArgs.push_back(ArgAST{a.name, a.loc, copyExpr(*a.value)});
    for (const VariantWeight &p : params) {
      kernel.params.push_back(KernelParamAST{loc, p.name, type(p.shape)});
      variantArgs.push_back(
          ArgAST{p.name, loc, std::make_unique<NameExprAST>(loc, p.name)});
    }
    variantExpr = std::make_unique<CallExprAST>(
        variant.getLoc(), variantNameOf(variant).str(), std::move(variantArgs));
  }
  callArgs.push_back(ArgAST{"variant", loc, std::move(variantExpr)});
  if (causal)
    callArgs.push_back(
        ArgAST{"causal", loc, std::make_unique<BoolExprAST>(loc, true)});
  kernel.body =
      std::make_unique<CallExprAST>(loc, "attention", std::move(callArgs));
  result.kernels.push_back(std::move(kernel));
  return name;
}

std::optional<int> Elaborator::attentionCore(int q, int k, int v,
                                             std::shared_ptr<ExprAST> variant,
                                             bool causal,
                                             const std::string &blockPathText,
                                             const Location &loc) {
  std::vector<int64_t> qs = shapeOf(q);
  auto params = variantWeights(*variant, qs, loc);
  if (!params)
    return std::nullopt;
  std::string kernel = syntheticKernel(q, k, v, *variant, causal, *params, loc);
  std::vector<int> inputs{q, k, v};
  for (const VariantWeight &p : *params)
    inputs.push_back(addWeight(blockPathText, p.name, p.shape, p.init, loc));
  return addOp("attention", std::move(inputs),
               {qs[0], qs[1], qs[2], shapeOf(v)[3]}, loc, blockPathText,
               [&](ArchNode &n) { n.kernel = kernel; });
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
  if (const auto *c = dyn_cast<CallExprAST>(&variant)) {
    for (const ArgAST &a : c->getArgs()) {
      if (a.name == "alpha" || a.name == "beta") {
        std::optional<double> w = evalFloat(*a.value, "'" + a.name + "'");
        if (!w)
          return std::nullopt;
        if (!(*w >= 0 && *w <= 1)) {
          emitError(a.loc) << "'" << a.name
                           << "' of evolving must be in [0, 1], got " << *w;
          return std::nullopt;
        }
        (a.name == "alpha" ? alpha : beta) = *w;
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
  std::vector<int64_t> qs = shapeOf(q), ks = shapeOf(k);
  std::vector<int64_t> mapShape{qs[0], qs[1], qs[2], ks[2]};
  auto op = [&](llvm::StringRef name, std::vector<int> inputs,
                double scale = 0.0, llvm::StringRef act = "") {
    return addOp(name, std::move(inputs), mapShape, loc, blockPathText,
                 [&](ArchNode &n) {
                   n.scale = scale;
                   n.act = act.str();
                 });
  };
  int map = op("scores", {q, k}, 1.0 / std::sqrt(static_cast<double>(qs[3])));
  if (carriedMap) {
    if (shapeOf(*carriedMap) != mapShape) {
      emitError(loc) << "evolving attention mixes in the map of the previous "
                        "evolving block, which has another shape (heads or "
                        "length differ)";
      return std::nullopt;
    }
    int64_t h = qs[1];
    double bound = 1.0 / std::sqrt(static_cast<double>(h * kernel * kernel));
    int w = addWeight(blockPathText, "map_conv.w", {h, h, kernel, kernel},
                      uniform(bound), loc);
    int b = addWeight(blockPathText, "map_conv.b", {h}, uniform(bound), loc);
    int carried = op("blend", {map, *carriedMap}, beta);
    int convolved = op("map_conv", {carried, w, b}, 0.0, "leaky_relu");
    map = op("blend", {carried, convolved}, alpha);
  }
  carriedMap = map;
  int weights = op("softmax", {map});
  return addOp("attend", {weights, v}, {qs[0], qs[1], qs[2], shapeOf(v)[3]},
               loc, blockPathText);
}
