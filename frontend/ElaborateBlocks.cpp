//===- ElaborateBlocks.cpp - the non-attention blocks of architectures ----===//
//
// Projections (mul, shift, adder), norms, activations, MLPs, depthwise
// convolutions, pooling, channel ranges, concatenation and ShiftAddNAS's
// hybrid block (docs/DSL.md "Architectures": the arguments and weights of
// each).
//
//===----------------------------------------------------------------------===//

#include "frontend/Elaborator.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Casting.h"

#include <cmath>

using namespace attn::frontend;
using namespace attn::frontend::elab;

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
    std::optional<int> x = tensorArg(args, 0, callee);
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
  std::vector<int> inputs{x};
  if (mode == "shift") {
    // Powers of two small enough to keep the activations O(1).
    double maxShift = -std::ceil(std::log2(std::sqrt(double(in))));
    inputs.push_back(addWeight(blockPathText, "shift", {out, in},
                               {"shift", -12.0, maxShift}, loc, "i32"));
    inputs.push_back(addWeight(blockPathText, "sign", {out, in},
                               {"sign", 0, 0}, loc, "i32"));
  } else {
    inputs.push_back(
        addWeight(blockPathText, weightLeaf, {out, in}, uniform(bound), loc));
  }
  if (bias)
    inputs.push_back(
        addWeight(blockPathText, biasLeaf, {out}, uniform(bound), loc));
  std::vector<int64_t> shape = shapeOf(x);
  shape.back() = out;
  return addOp("linear", std::move(inputs), shape, loc, blockPathText,
               [&](ArchNode &n) { n.mode = mode; });
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
  std::vector<int> inputs{
      x, addWeight(blockPathText, "gamma", {e}, {"normal", 1.0, 0.1}, loc)};
  if (kind == "layernorm")
    inputs.push_back(
        addWeight(blockPathText, "beta", {e}, {"normal", 0.0, 0.1}, loc));
  return addOp(kind, std::move(inputs), shapeOf(x), loc, blockPathText,
               [&](ArchNode &n) { n.eps = eps; });
}

std::optional<int> Elaborator::activation(int x, const std::string &kind,
                                          const std::string &blockPathText,
                                          const Location &loc) {
  if (kind != "gelu" && kind != "relu" && kind != "silu") {
    emitError(loc) << "unknown activation '" << kind
                   << "' (expected gelu, relu or silu)";
    return std::nullopt;
  }
  return addOp(kind, {x}, shapeOf(x), loc, blockPathText);
}

std::optional<int> Elaborator::linearBlock(const CallExprAST &call,
                                           const std::string &mode) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"out", "bias"}, args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, call.getCallee());
  if (!x)
    return std::nullopt;
  std::optional<int64_t> out = intArg(args, "out", channels(*x));
  std::optional<bool> bias = boolArg(args, "bias", true);
  if (!out || !bias)
    return std::nullopt;
  return projection(*x, *out, blockPath(args, call.getCallee()), mode, *bias,
                    call.getLoc());
}

std::optional<int> Elaborator::normBlock(const CallExprAST &call,
                                         const std::string &kind) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"eps"}, args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, kind);
  std::optional<double> eps =
      floatArg(args, "eps", kind == "layernorm" ? 1e-5 : 1e-6);
  if (!x || !eps)
    return std::nullopt;
  return norm(*x, kind, *eps, blockPath(args, "norm", /*numbered=*/true),
              call.getLoc());
}

std::optional<int> Elaborator::mlpBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"hidden", "act", "out", "bias", "mode"}, args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, "mlp");
  if (!x)
    return std::nullopt;
  int64_t e = channels(*x);
  std::optional<int64_t> hidden = intArg(args, "hidden", 4 * e);
  std::optional<int64_t> out = intArg(args, "out", e);
  std::optional<bool> bias = boolArg(args, "bias", true);
  std::optional<std::string> mode =
      keywordArg(args, "mode", "mul", {"mul", "shift", "adder"}, "mlp");
  if (!hidden || !out || !bias || !mode)
    return std::nullopt;
  std::string act = "gelu";
  if (const ArgAST *a = args.get("act"))
    if ((act = refName(*a->value, "'act'")).empty())
      return std::nullopt;
  std::string p = blockPath(args, "mlp");
  std::optional<int> h =
      projection(*x, *hidden, p + ".fc1", *mode, *bias, call.getLoc());
  if (!h)
    return std::nullopt;
  std::optional<int> a = activation(*h, act, p, call.getLoc());
  if (!a)
    return std::nullopt;
  return projection(*a, *out, p + ".fc2", *mode, *bias, call.getLoc());
}

std::optional<int> Elaborator::convBlock(const CallExprAST &call, int rank) {
  BlockArgs args;
  std::string callee = call.getCallee().str();
  if (!splitArgs(call, 1,
                 {"kernel", "padding", "mode", "bias", "grid", "stride", "out"},
                 args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, callee);
  if (!x)
    return std::nullopt;
  std::vector<int64_t> xs = shapeOf(*x);
  if (xs.size() != 3) {
    emitError(call.getLoc()) << "'" << callee << "' takes a [B, N, C] tensor";
    return std::nullopt;
  }
  std::optional<int64_t> kernel = intArg(args, "kernel", 3, 1, 1024);
  std::optional<bool> bias = boolArg(args, "bias", true);
  std::optional<std::string> mode =
      keywordArg(args, "mode", "mul", {"mul", "adder"}, callee);
  if (!kernel || !bias || !mode)
    return std::nullopt;
  std::string p = blockPath(args, callee);
  // A pointwise convolution is a projection.
  if (*kernel == 1 && rank == 1) {
    std::optional<int64_t> out = intArg(args, "out", xs[2]);
    if (!out)
      return std::nullopt;
    return projection(*x, *out, p, *mode, *bias, call.getLoc());
  }
  if (const ArgAST *a = args.get("out")) {
    emitError(a->loc) << "a depthwise '" << callee
                      << "' keeps the channels; 'out' needs kernel = 1";
    return std::nullopt;
  }
  int64_t c = xs[2], k = *kernel;
  double bound = 1.0 / std::sqrt(static_cast<double>(rank == 2 ? k * k : k));
  std::vector<int64_t> shape = xs;
  ArchNode attrs;
  attrs.mode = *mode;
  attrs.window = k;
  std::vector<int> inputs{*x};
  if (rank == 1) {
    std::optional<std::string> padding =
        keywordArg(args, "padding", "same", {"same", "causal"}, callee);
    if (!padding)
      return std::nullopt;
    attrs.padding = *padding;
    inputs.push_back(addWeight(p, "w", {c, k}, uniform(bound), call.getLoc()));
  } else {
    if (*mode != "mul") {
      emitError(args.get("mode")->loc) << "conv2d supports mode = mul only";
      return std::nullopt;
    }
    std::optional<std::vector<int64_t>> grid =
        gridArg(args, callee, call.getLoc());
    std::optional<int64_t> stride = intArg(args, "stride", 1, 1);
    if (!grid || !stride)
      return std::nullopt;
    if ((*grid)[0] * (*grid)[1] != xs[1]) {
      emitError(args.get("grid")->loc)
          << "the grid " << (*grid)[0] << " x " << (*grid)[1]
          << " does not hold the " << xs[1] << " tokens";
      return std::nullopt;
    }
    int64_t pad = k / 2;
    int64_t ho = ((*grid)[0] + 2 * pad - k) / *stride + 1;
    int64_t wo = ((*grid)[1] + 2 * pad - k) / *stride + 1;
    if (ho <= 0 || wo <= 0) {
      emitError(call.getLoc()) << "the kernel is larger than the grid";
      return std::nullopt;
    }
    attrs.grid = *grid;
    attrs.stride = *stride;
    shape[1] = ho * wo;
    inputs.push_back(
        addWeight(p, "w", {c, k, k}, uniform(bound), call.getLoc()));
  }
  if (*bias)
    inputs.push_back(addWeight(p, "b", {c}, uniform(bound), call.getLoc()));
  return addOp(callee, std::move(inputs), shape, call.getLoc(), p,
               [&](ArchNode &n) {
                 n.mode = attrs.mode;
                 n.padding = attrs.padding;
                 n.window = attrs.window;
                 n.grid = attrs.grid;
                 n.stride = attrs.stride;
               });
}

std::optional<int> Elaborator::poolTokens(int x,
                                          const std::vector<int64_t> &grid,
                                          int64_t window, int64_t stride,
                                          const std::string &mode,
                                          const std::string &blockPathText,
                                          const Location &loc) {
  std::vector<int64_t> xs = shapeOf(x);
  if (xs.size() != 3 || grid[0] <= 0 || grid[1] <= 0 ||
      grid[0] * grid[1] != xs[1]) {
    emitError(loc) << "the grid " << grid[0] << " x " << grid[1]
                   << " does not hold the "
                   << (xs.size() == 3 ? std::to_string(xs[1])
                                      : std::string("?"))
                   << " tokens of a [B, N, C] tensor";
    return std::nullopt;
  }
  if (window <= 0 || stride <= 0 || window > grid[0] || window > grid[1]) {
    emitError(loc) << "the pooling window " << window
                   << " must be positive and fit the grid";
    return std::nullopt;
  }
  int64_t ho = (grid[0] - window) / stride + 1;
  int64_t wo = (grid[1] - window) / stride + 1;
  return addOp("pool", {x}, {xs[0], ho * wo, xs[2]}, loc, blockPathText,
               [&](ArchNode &n) {
                 n.mode = mode;
                 n.grid = grid;
                 n.window = window;
                 n.stride = stride;
               });
}

std::optional<int> Elaborator::poolBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"grid", "window", "stride", "mode"}, args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, "pool");
  if (!x)
    return std::nullopt;
  std::optional<std::vector<int64_t>> grid =
      gridArg(args, "pool", call.getLoc());
  std::optional<int64_t> window = intArg(args, "window", 2);
  std::optional<int64_t> stride =
      window ? intArg(args, "stride", *window) : std::nullopt;
  std::optional<std::string> mode =
      keywordArg(args, "mode", "avg", {"avg", "max"}, "pool");
  if (!grid || !window || !stride || !mode)
    return std::nullopt;
  return poolTokens(*x, *grid, *window, *stride, *mode,
                    blockPath(args, "pool"), call.getLoc());
}

std::optional<int> Elaborator::sliceBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 3, {}, args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, "channels");
  if (!x)
    return std::nullopt;
  std::optional<int64_t> from =
      evalInt(*args.positional[1]->value, "the start");
  std::optional<int64_t> to =
      from ? evalInt(*args.positional[2]->value, "the end") : std::nullopt;
  if (!to)
    return std::nullopt;
  int64_t c = channels(*x);
  if (*from < 0 || *to > c || *from >= *to) {
    emitError(call.getLoc()) << "channels(x, " << *from << ", " << *to
                             << ") is not a non-empty range of the " << c
                             << " channels";
    return std::nullopt;
  }
  std::vector<int64_t> shape = shapeOf(*x);
  shape.back() = *to - *from;
  return addOp("slice", {*x}, shape, call.getLoc(), llvm::join(path, "."),
               [&](ArchNode &n) {
                 n.offset = *from;
                 n.size = *to - *from;
               });
}

std::optional<int> Elaborator::concatBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 2, {}, args))
    return std::nullopt;
  std::optional<int> a = tensorArg(args, 0, "concat");
  std::optional<int> b = a ? tensorArg(args, 1, "concat") : std::nullopt;
  if (!b)
    return std::nullopt;
  std::vector<int64_t> sa = shapeOf(*a), sb = shapeOf(*b);
  if (sa.size() != sb.size() ||
      !std::equal(sa.begin(), sa.end() - 1, sb.begin())) {
    emitError(call.getLoc()) << "'concat' joins tensors that differ only in "
                                "the last axis";
    return std::nullopt;
  }
  sa.back() += sb.back();
  return addOp("concat", {*a, *b}, sa, call.getLoc(), llvm::join(path, "."));
}

/// ShiftAddNAS's hybrid block (spec V2): the channels split in halves, the
/// first half through multi-head attention, the second through a
/// multiplication-free (or lightweight) token mixer, then concatenated.
std::optional<int> Elaborator::shiftAddBlock(const CallExprAST &call) {
  BlockArgs args;
  if (!splitArgs(call, 1, {"heads", "branch", "kernel", "causal", "variant"},
                 args))
    return std::nullopt;
  std::optional<int> x = tensorArg(args, 0, "shiftadd_block");
  std::optional<std::string> branch = keywordArg(
      args, "branch", "adder", {"adder", "shift", "conv"}, "shiftadd_block");
  std::optional<int64_t> kernel = intArg(args, "kernel", 3, 1, 1024);
  std::optional<int64_t> heads = intArg(args, "heads", 4, 1);
  std::optional<bool> causal = boolArg(args, "causal", false);
  if (!x || !branch || !kernel || !heads || !causal)
    return std::nullopt;
  int64_t c = channels(*x), half = c / 2;
  if (c % 2 || half % *heads) {
    emitError(call.getLoc()) << "'shiftadd_block' splits the " << c
                             << " channels in halves of " << *heads
                             << " heads each; the halves must be whole heads";
    return std::nullopt;
  }
  std::string p = blockPath(args, "shiftadd");
  std::vector<int64_t> halfShape = shapeOf(*x);
  halfShape.back() = half;
  auto slice = [&](int64_t from) {
    return addOp("slice", {*x}, halfShape, call.getLoc(), p, [&](ArchNode &n) {
      n.offset = from;
      n.size = half;
    });
  };
  int left = slice(0), right = slice(half);
  std::shared_ptr<ExprAST> variant =
      args.get("variant")
          ? evalRef(*args.get("variant")->value)
          : std::make_shared<NameExprAST>(call.getLoc(), "softmax");
  std::optional<int> attended =
      multiHeadAttention(left, left, *heads, *heads, half / *heads, half,
                         /*bias=*/true, variant, *causal, p + ".attention",
                         call.getLoc());
  if (!attended)
    return std::nullopt;
  // The multiplication-free half.
  std::string bp = p + ".branch";
  std::optional<int> mixed;
  if (*branch == "shift") {
    mixed = projection(right, half, bp, "shift", true, call.getLoc());
  } else {
    int w = addWeight(bp, "w", {half, *kernel},
                      uniform(1.0 / std::sqrt(double(*kernel))),
                      call.getLoc());
    mixed = addOp("conv1d", {right, w}, halfShape, call.getLoc(), bp,
                  [&](ArchNode &n) {
                    n.mode = *branch == "adder" ? "adder" : "mul";
                    n.padding = *causal ? "causal" : "same";
                    n.window = *kernel;
                  });
  }
  if (!mixed)
    return std::nullopt;
  return addOp("concat", {*attended, *mixed}, shapeOf(*x), call.getLoc(), p);
}
