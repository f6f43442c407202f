//===- AttnOps.cpp - attn dialect op verifiers ----------------------------===//
//
// Verifiers for the architecture-level and primitive ops.  Every message
// names the operand and the dimension at fault.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

/// Two extents are compatible when either is dynamic or they are equal.
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Checks that `value` is a rank-4 float tensor; `what` names it.
static LogicalResult verifyRank4Float(Operation *op, Type type,
                                      StringRef what) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() != 4)
    return op->emitOpError() << what << " must be a rank-4 tensor "
                             << "[batch, heads, length, dim], got " << type;
  if (!isa<FloatType>(t.getElementType()))
    return op->emitOpError() << what << " must have a float element type, got "
                             << t.getElementType();
  return success();
}

/// Checks one dim of two tensors for agreement.
static LogicalResult expectSameDim(Operation *op, RankedTensorType a,
                                   unsigned ai, StringRef aName,
                                   RankedTensorType b, unsigned bi,
                                   StringRef bName, StringRef role) {
  if (compatible(a.getDimSize(ai), b.getDimSize(bi)))
    return success();
  return op->emitOpError() << role << " mismatch: " << aName << " has "
                           << dimStr(a.getDimSize(ai)) << " (dim " << ai
                           << ") but " << bName << " has "
                           << dimStr(b.getDimSize(bi)) << " (dim " << bi
                           << ")";
}

/// Query heads must be a multiple of key/value heads (grouped-query).
static LogicalResult verifyHeadGroups(Operation *op, RankedTensorType q,
                                      RankedTensorType k) {
  int64_t h = q.getDimSize(1), g = k.getDimSize(1);
  if (ShapedType::isDynamic(h) || ShapedType::isDynamic(g))
    return success();
  if (g <= 0 || h % g != 0)
    return op->emitOpError()
           << "query heads (" << h << ") must be a multiple of key/value "
           << "heads (" << g << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// Region signature helpers
//===----------------------------------------------------------------------===//

/// Checks that `region` has one block with the given argument types and
/// ends in an attn.yield of one value of type `yieldType`.
static LogicalResult verifyScalarBody(Operation *op, Region &region,
                                      StringRef regionName,
                                      ArrayRef<Type> argTypes,
                                      Type yieldType) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() != argTypes.size())
    return op->emitOpError()
           << regionName << " region must have " << argTypes.size()
           << " arguments, got " << block.getNumArguments();
  for (auto [idx, pair] :
       llvm::enumerate(llvm::zip(block.getArgumentTypes(), argTypes))) {
    auto [actual, expected] = pair;
    if (actual != expected)
      return op->emitOpError()
             << regionName << " region argument #" << idx << " must be "
             << expected << ", got " << actual;
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yieldType)
    return op->emitOpError() << regionName << " region must yield one "
                             << yieldType << " value";
  return success();
}

static SmallVector<Type> scoreArgTypes(MLIRContext *ctx) {
  Type idx = IndexType::get(ctx);
  return {Float32Type::get(ctx), idx, idx, idx, idx};
}

static SmallVector<Type> maskArgTypes(MLIRContext *ctx) {
  Type idx = IndexType::get(ctx);
  return {idx, idx, idx, idx};
}

//===----------------------------------------------------------------------===//
// Linear-family attribute helpers
//===----------------------------------------------------------------------===//

/// Checks an `expand` region: one index argument, yields one or more f32.
static LogicalResult verifyExpandBody(Operation *op, Region &region) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() != 1 || !block.getArgument(0).getType().isIndex())
    return op->emitOpError() << "expand region must have one index argument";
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().empty() ||
      llvm::any_of(yield.getValues().getTypes(),
                   [](Type t) { return !t.isF32(); }))
    return op->emitOpError() << "expand region must yield one or more f32 "
                             << "factors";
  return success();
}

/// Checks `eps`/`clamp` against the normalizer kind.
static LogicalResult verifyNormalizerAttrs(Operation *op, NormalizeKind kind,
                                           std::optional<APFloat> eps,
                                           bool clamp) {
  if (kind == NormalizeKind::sum) {
    if (!eps)
      return op->emitOpError() << "normalize = sum needs eps";
    if (!(eps->convertToDouble() > 0.0))
      return op->emitOpError() << "eps must be positive, got "
                               << eps->convertToDouble();
    return success();
  }
  if (eps || clamp)
    return op->emitOpError() << "eps and clamp apply only to normalize = sum";
  return success();
}

/// Reads an integer entry of a dictionary attribute.
static std::optional<int64_t> dictInt(DictionaryAttr dict, StringRef key) {
  if (auto a = dict.getAs<IntegerAttr>(key))
    return a.getInt();
  return std::nullopt;
}

/// Reads a float entry of a dictionary attribute.
static std::optional<double> dictFloat(DictionaryAttr dict, StringRef key) {
  if (auto a = dict.getAs<FloatAttr>(key))
    return a.getValueAsDouble();
  return std::nullopt;
}

/// `random_features = {features = m, seed = s}` with m > 0.
static LogicalResult verifyRandomFeatures(Operation *op, DictionaryAttr rf) {
  auto m = dictInt(rf, "features");
  if (!m || *m <= 0)
    return op->emitOpError() << "random_features needs a positive integer "
                             << "'features', got " << rf;
  if (!dictInt(rf, "seed"))
    return op->emitOpError() << "random_features needs an integer 'seed'";
  return success();
}

/// `weight = {kind = "momentum", beta, gamma}` or `{kind = "rpe"...}`.
static LogicalResult verifyWeight(Operation *op, DictionaryAttr w,
                                  bool inVariant) {
  auto kind = w.getAs<StringAttr>("kind");
  if (!kind)
    return op->emitOpError() << "weight needs a string 'kind'";
  if (kind.getValue() == "momentum") {
    auto beta = dictFloat(w, "beta"), gamma = dictFloat(w, "gamma");
    if (!beta || !gamma)
      return op->emitOpError() << "momentum weight needs float 'beta' and "
                               << "'gamma'";
    if (!(*beta >= 0.0 && *beta < 1.0))
      return op->emitOpError() << "momentum beta must be in [0, 1), got "
                               << *beta;
    return success();
  }
  if (kind.getValue() == "rpe") {
    if (inVariant && (!dictInt(w, "operand") || *dictInt(w, "operand") < 0))
      return op->emitOpError() << "rpe weight needs a non-negative integer "
                               << "'operand' (the attention's variant operand)";
    return success();
  }
  return op->emitOpError() << "unknown weight kind '" << kind.getValue()
                           << "' (expected momentum or rpe)";
}

/// Reads a two-element positive grid `[rows, cols]` of a dictionary.
static std::optional<std::pair<int64_t, int64_t>> dictGrid(DictionaryAttr dict) {
  auto grid = dict.getAs<DenseI64ArrayAttr>("grid");
  if (!grid || grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0)
    return std::nullopt;
  return std::make_pair(grid[0], grid[1]);
}

/// `partition = {kind = "window2d", grid, window, shift [, bias]}`.
static LogicalResult verifyPartition(Operation *op, DictionaryAttr p) {
  auto kind = p.getAs<StringAttr>("kind");
  if (!kind || kind.getValue() != "window2d")
    return op->emitOpError() << "unknown partition " << p
                             << " (expected kind = \"window2d\")";
  auto grid = dictGrid(p);
  if (!grid)
    return op->emitOpError() << "window2d needs a grid of two positive "
                             << "extents (array<i64: rows, cols>), got " << p;
  auto window = dictInt(p, "window"), shift = dictInt(p, "shift");
  if (!window || *window <= 0)
    return op->emitOpError() << "window2d needs a positive 'window', got "
                             << p;
  if (!shift || *shift < 0 || *shift >= *window)
    return op->emitOpError() << "window2d needs a 'shift' in [0, window), got "
                             << p;
  if (*window > std::min(grid->first, grid->second))
    return op->emitOpError() << "window2d's window (" << *window
                             << ") exceeds the grid's smaller side ("
                             << std::min(grid->first, grid->second)
                             << "); the frontend shrinks it to that side";
  if (p.get("bias") && (!dictInt(p, "bias") || *dictInt(p, "bias") < 0))
    return op->emitOpError() << "window2d's 'bias' must be a non-negative "
                             << "integer (the attention's variant operand)";
  return success();
}

/// `map = {kind = "coupler", grid}` or `{kind = "emha", isi, csi, kernel}`.
static LogicalResult verifyMap(Operation *op, DictionaryAttr m) {
  auto kind = m.getAs<StringAttr>("kind");
  if (kind && kind.getValue() == "coupler") {
    if (!dictGrid(m))
      return op->emitOpError() << "coupler needs a grid of two positive "
                               << "extents (array<i64: rows, cols>), got " << m;
    return success();
  }
  if (kind && kind.getValue() == "emha") {
    auto isi = dictInt(m, "isi"), csi = dictInt(m, "csi"),
         k = dictInt(m, "kernel");
    if (!isi || !csi || *isi < 0 || *csi < 0)
      return op->emitOpError() << "emha needs non-negative integers 'isi' and "
                               << "'csi' (the attention's variant operands), "
                               << "got " << m;
    if (!k || *k <= 0 || *k % 2 == 0)
      return op->emitOpError() << "emha needs a positive odd 'kernel', got "
                               << m;
    return success();
  }
  return op->emitOpError() << "unknown map " << m
                           << " (expected kind = \"coupler\" or \"emha\")";
}

//===----------------------------------------------------------------------===//
// VariantOp
//===----------------------------------------------------------------------===//

LogicalResult VariantOp::verifyRegions() {
  MLIRContext *ctx = getContext();
  if (failed(verifyScalarBody(*this, getScore(), "score", scoreArgTypes(ctx),
                              Float32Type::get(ctx))))
    return failure();
  if (failed(verifyScalarBody(*this, getMask(), "mask", maskArgTypes(ctx),
                              IntegerType::get(ctx, 1))))
    return failure();
  if (auto scale = getScale())
    if (!(scale->convertToDouble() > 0.0))
      return emitOpError() << "scale must be positive, got "
                           << scale->convertToDouble();
  if (failed(verifyScalarBody(*this, getFeature(), "feature",
                              {Float32Type::get(ctx)},
                              Float32Type::get(ctx))) ||
      failed(verifyExpandBody(*this, getExpand())))
    return failure();
  bool linear = getNormalize() != NormalizeKind::softmax;
  if (!linear && (!getFeature().empty() || !getExpand().empty() ||
                  getRandomFeatures() || getWeight()))
    return emitOpError() << "feature maps, expansions and Toeplitz weights "
                         << "need normalize = sum or none, not softmax";
  if (linear && (!getScore().empty() || !getMask().empty()))
    return emitOpError() << "normalize = " << stringifyNormalizeKind(getNormalize())
                         << " (linear family) admits no score modifier or "
                         << "mask region: they break the factorization";
  if (failed(verifyNormalizerAttrs(*this, getNormalize(), getEps(),
                                   getClamp())))
    return failure();
  if (getRandomFeatures() && !getFeature().empty())
    return emitOpError() << "has both a feature region and random_features";
  if (auto rf = getRandomFeatures())
    if (failed(verifyRandomFeatures(*this, *rf)))
      return failure();
  if (auto w = getWeight())
    if (failed(verifyWeight(*this, *w, /*inVariant=*/true)))
      return failure();
  if (auto pack = getPack()) {
    auto rows = dictInt(*pack, "rows"), operand = dictInt(*pack, "operand");
    if (!rows || *rows <= 0)
      return emitOpError() << "pack needs a positive integer 'rows', got "
                           << *pack;
    if (!operand || *operand < 0)
      return emitOpError() << "pack needs a non-negative integer 'operand' "
                           << "(the attention's variant operand)";
    if (linear || !getScore().empty() || !getMask().empty())
      return emitOpError() << "Luna's pack needs normalize = softmax and no "
                           << "score, mask, feature or weight";
  }
  if (auto p = getPartition()) {
    if (failed(verifyPartition(*this, *p)))
      return failure();
    if (linear || getPack() || getMap())
      return emitOpError() << "a partition needs normalize = softmax and no "
                           << "pack or map";
  }
  if (auto m = getMap()) {
    if (failed(verifyMap(*this, *m)))
      return failure();
    if (linear || getPack() || !getScore().empty() || !getMask().empty())
      return emitOpError() << "a map needs normalize = softmax and no score, "
                           << "mask or pack";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  if (failed(verifyRank4Float(*this, getQuery().getType(), "query")) ||
      failed(verifyRank4Float(*this, getKey().getType(), "key")) ||
      failed(verifyRank4Float(*this, getValue().getType(), "value")) ||
      failed(verifyRank4Float(*this, getResult().getType(), "result")))
    return failure();
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto v = cast<RankedTensorType>(getValue().getType());
  auto o = cast<RankedTensorType>(getResult().getType());
  if (q.getElementType() != k.getElementType() ||
      q.getElementType() != v.getElementType() ||
      q.getElementType() != o.getElementType())
    return emitOpError() << "query, key, value and result must have the same "
                         << "element type";
  if (failed(expectSameDim(*this, q, 0, "query", k, 0, "key", "batch")) ||
      failed(expectSameDim(*this, q, 0, "query", v, 0, "value", "batch")) ||
      failed(expectSameDim(*this, q, 3, "query", k, 3, "key", "head dim")) ||
      failed(expectSameDim(*this, k, 1, "key", v, 1, "value",
                           "key/value heads")) ||
      failed(expectSameDim(*this, k, 2, "key", v, 2, "value", "key length")) ||
      failed(expectSameDim(*this, o, 0, "result", q, 0, "query", "batch")) ||
      failed(expectSameDim(*this, o, 1, "result", q, 1, "query", "heads")) ||
      failed(expectSameDim(*this, o, 2, "result", q, 2, "query",
                           "query length")) ||
      failed(expectSameDim(*this, o, 3, "result", v, 3, "value",
                           "value head dim")))
    return failure();
  if (failed(verifyHeadGroups(*this, q, k)))
    return failure();
  if (Value lens = getKvLengths()) {
    auto lt = cast<RankedTensorType>(lens.getType());
    if (lt.getRank() != 1)
      return emitOpError() << "kv_lengths must be a rank-1 tensor [batch], "
                           << "got " << lt;
    if (!compatible(lt.getDimSize(0), q.getDimSize(0)))
      return emitOpError() << "kv_lengths has " << dimStr(lt.getDimSize(0))
                           << " entries but the batch is "
                           << dimStr(q.getDimSize(0));
  }
  if (auto scale = getScale())
    if (!(scale->convertToDouble() > 0.0))
      return emitOpError() << "scale must be positive, got "
                           << scale->convertToDouble();
  return success();
}

LogicalResult
AttentionOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto variant = symbolTable.lookupNearestSymbolFrom<VariantOp>(
      *this, getVariantAttr());
  if (!variant)
    return emitOpError() << "refers to unknown variant " << getVariantAttr();
  int64_t needed = 0;
  if (auto w = variant.getWeight())
    if (auto operand = dictInt(*w, "operand"))
      needed = *operand + 1;
  if (auto pack = variant.getPack())
    if (auto operand = dictInt(*pack, "operand"))
      needed = std::max(needed, *operand + 1);
  if (auto p = variant.getPartition())
    if (auto operand = dictInt(*p, "bias"))
      needed = std::max(needed, *operand + 1);
  if (auto m = variant.getMap())
    for (StringRef key : {"isi", "csi"})
      if (auto operand = dictInt(*m, key))
        needed = std::max(needed, *operand + 1);
  if (int64_t(getVariantOperands().size()) < needed)
    return emitOpError() << "variant " << getVariantAttr() << " reads operand #"
                         << needed - 1 << " but the attention has "
                         << getVariantOperands().size() << " operands";
  // Grid variants are self-attention over the grid's tokens.
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  std::optional<std::pair<int64_t, int64_t>> grid;
  if (auto p = variant.getPartition())
    grid = dictGrid(*p);
  if (auto m = variant.getMap())
    grid = dictGrid(*m);
  if (grid) {
    int64_t tokens = grid->first * grid->second;
    if (!compatible(q.getDimSize(2), tokens) ||
        !compatible(k.getDimSize(2), tokens))
      return emitOpError() << "variant " << getVariantAttr() << " works on a "
                           << grid->first << " x " << grid->second
                           << " grid of " << tokens << " tokens, but N = "
                           << dimStr(q.getDimSize(2)) << " and M = "
                           << dimStr(k.getDimSize(2));
  }
  if (auto m = variant.getMap()) {
    if (getCausal() || getKvLengths())
      return emitOpError() << "variant " << getVariantAttr() << " ("
                           << m->getAs<StringAttr>("kind").getValue()
                           << ") takes neither causal nor kv_lengths";
    bool emha = m->getAs<StringAttr>("kind").getValue() == "emha";
    if (emha && !compatible(q.getDimSize(1), k.getDimSize(1)))
      return emitOpError() << "emha pairs every query head with every key "
                           << "head: the key/value heads ("
                           << dimStr(k.getDimSize(1))
                           << ") must equal the query heads ("
                           << dimStr(q.getDimSize(1)) << ")";
  }
  if (variant.getNormalize() != NormalizeKind::softmax) {
    auto k = cast<RankedTensorType>(getKey().getType());
    if (getCausal() && !(compatible(q.getDimSize(2), k.getDimSize(2))))
      return emitOpError() << "causal linear-family attention needs as many "
                           << "keys as queries (self-attention), got N = "
                           << dimStr(q.getDimSize(2)) << " and M = "
                           << dimStr(k.getDimSize(2));
    if (auto w = variant.getWeight())
      if (w->getAs<StringAttr>("kind") &&
          w->getAs<StringAttr>("kind").getValue() == "momentum" && !getCausal())
        return emitOpError() << "the momentum weight is defined for causal "
                             << "attention only; add causal = true";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Primitive ops
//===----------------------------------------------------------------------===//

/// Checks that `type` is a rank-4 f32 score tensor.
static LogicalResult verifyScores(Operation *op, Type type, StringRef what) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() != 4 || !t.getElementType().isF32())
    return op->emitOpError() << what << " must be a rank-4 f32 score tensor "
                             << "[batch, heads, queries, keys], got " << type;
  return success();
}

LogicalResult ScoreOp::verify() {
  if (failed(verifyRank4Float(*this, getQuery().getType(), "query")) ||
      failed(verifyRank4Float(*this, getKey().getType(), "key")) ||
      failed(verifyScores(*this, getScores().getType(), "result")))
    return failure();
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto s = cast<RankedTensorType>(getScores().getType());
  if (failed(expectSameDim(*this, q, 0, "query", k, 0, "key", "batch")) ||
      failed(expectSameDim(*this, q, 3, "query", k, 3, "key", "head dim")) ||
      failed(expectSameDim(*this, s, 0, "scores", q, 0, "query", "batch")) ||
      failed(expectSameDim(*this, s, 1, "scores", q, 1, "query", "heads")) ||
      failed(expectSameDim(*this, s, 2, "scores", q, 2, "query",
                           "query length")) ||
      failed(expectSameDim(*this, s, 3, "scores", k, 2, "key", "key length")))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive, got "
                         << getScale().convertToDouble();
  return verifyHeadGroups(*this, q, k);
}

LogicalResult ScoreModOp::verify() {
  return verifyScores(*this, getScores().getType(), "scores");
}

LogicalResult ScoreModOp::verifyRegions() {
  return verifyScalarBody(*this, getBody(), "score_mod",
                          scoreArgTypes(getContext()),
                          Float32Type::get(getContext()));
}

LogicalResult MaskOp::verify() {
  return verifyScores(*this, getScores().getType(), "scores");
}

LogicalResult MaskOp::verifyRegions() {
  return verifyScalarBody(*this, getBody(), "mask",
                          maskArgTypes(getContext()),
                          IntegerType::get(getContext(), 1));
}

LogicalResult NormalizeOp::verify() {
  return verifyNormalizerAttrs(*this, getKind(), getEps(), getClamp());
}

LogicalResult FeatureOp::verify() {
  if (failed(verifyRank4Float(*this, getInput().getType(), "input")) ||
      failed(verifyRank4Float(*this, getResult().getType(), "result")))
    return failure();
  if (getRole() != "query" && getRole() != "key")
    return emitOpError() << "role must be \"query\" or \"key\", got \""
                         << getRole() << "\"";
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  for (unsigned d = 0; d < 3; ++d)
    if (failed(expectSameDim(*this, in, d, "input", out, d, "result",
                             d == 0 ? "batch" : d == 1 ? "heads" : "length")))
      return failure();
  if (getRandomFeatures() && !getMap().empty())
    return emitOpError() << "has both a map region and random_features";
  if (auto rf = getRandomFeatures())
    if (failed(verifyRandomFeatures(*this, *rf)))
      return failure();
  int64_t base = in.getDimSize(3);
  if (auto rf = getRandomFeatures())
    base = *dictInt(*rf, "features");
  int64_t factors = 1;
  if (!getExpand().empty())
    factors = getExpand().front().getTerminator()->getNumOperands();
  if (!ShapedType::isDynamic(base) && !ShapedType::isDynamic(out.getDimSize(3)) &&
      out.getDimSize(3) != base * factors)
    return emitOpError() << "result feature width must be " << base * factors
                         << " (" << base << " x " << factors
                         << " expansion factors), got " << out.getDimSize(3);
  return success();
}

LogicalResult FeatureOp::verifyRegions() {
  if (failed(verifyScalarBody(*this, getMap(), "map",
                              {Float32Type::get(getContext())},
                              Float32Type::get(getContext()))))
    return failure();
  return verifyExpandBody(*this, getExpand());
}

LogicalResult ToeplitzOp::verify() {
  if (failed(verifyScores(*this, getScores().getType(), "scores")) ||
      failed(verifyWeight(*this, getWeight(), /*inVariant=*/false)))
    return failure();
  bool rpe = getWeight().getAs<StringAttr>("kind").getValue() == "rpe";
  if (rpe != bool(getBias()))
    return emitOpError() << (rpe ? "an rpe weight needs a bias operand"
                                 : "only an rpe weight takes a bias operand");
  if (Value bias = getBias()) {
    auto bt = cast<RankedTensorType>(bias.getType());
    auto st = cast<RankedTensorType>(getScores().getType());
    if (bt.getRank() != 2 || !bt.getElementType().isF32())
      return emitOpError() << "bias must be an f32 tensor [heads, 2W+1], got "
                           << bt;
    if (failed(expectSameDim(*this, bt, 0, "bias", st, 1, "scores", "heads")))
      return failure();
    if (!ShapedType::isDynamic(bt.getDimSize(1)) && bt.getDimSize(1) % 2 == 0)
      return emitOpError() << "bias needs an odd number of relative positions "
                           << "(2W+1), got " << bt.getDimSize(1);
  }
  return success();
}

LogicalResult AxialScoreOp::verify() {
  if (failed(verifyRank4Float(*this, getQuery().getType(), "query")) ||
      failed(verifyRank4Float(*this, getKey().getType(), "key")))
    return failure();
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto s = cast<RankedTensorType>(getScores().getType());
  if (getAxis() != "row" && getAxis() != "col")
    return emitOpError() << "axis must be \"row\" or \"col\", got \""
                         << getAxis() << "\"";
  ArrayRef<int64_t> grid = getGrid();
  if (grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0)
    return emitOpError() << "grid must be two positive extents [rows, cols]";
  int64_t tokens = grid[0] * grid[1];
  if (!compatible(q.getDimSize(2), tokens) ||
      !compatible(k.getDimSize(2), tokens))
    return emitOpError() << "the " << grid[0] << " x " << grid[1]
                         << " grid has " << tokens << " tokens, but the query "
                         << "has " << dimStr(q.getDimSize(2))
                         << " and the key " << dimStr(k.getDimSize(2));
  int64_t side = getAxis() == "row" ? grid[0] : grid[1];
  if (s.getRank() != 4 || !s.getElementType().isF32() ||
      !compatible(s.getDimSize(2), side) || !compatible(s.getDimSize(3), side))
    return emitOpError() << "result must be an f32 map [B, H, " << side
                         << ", " << side << "] for axis \"" << getAxis()
                         << "\", got " << s;
  if (failed(expectSameDim(*this, q, 0, "query", k, 0, "key", "batch")) ||
      failed(expectSameDim(*this, q, 3, "query", k, 3, "key", "head dim")) ||
      failed(expectSameDim(*this, s, 0, "scores", q, 0, "query", "batch")) ||
      failed(expectSameDim(*this, s, 1, "scores", q, 1, "query", "heads")))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive, got "
                         << getScale().convertToDouble();
  return verifyHeadGroups(*this, q, k);
}

LogicalResult SeparableOp::verify() {
  if (failed(verifyRank4Float(*this, getValue().getType(), "value")) ||
      failed(verifyRank4Float(*this, getResult().getType(), "result")))
    return failure();
  ArrayRef<int64_t> grid = getGrid();
  if (grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0)
    return emitOpError() << "grid must be two positive extents [rows, cols]";
  auto a = cast<RankedTensorType>(getRows().getType());
  auto bm = cast<RankedTensorType>(getCols().getType());
  auto v = cast<RankedTensorType>(getValue().getType());
  auto o = cast<RankedTensorType>(getResult().getType());
  for (auto [t, side, what] : {std::tuple{a, grid[0], "rows"},
                               std::tuple{bm, grid[1], "cols"}})
    if (t.getRank() != 4 || !t.getElementType().isF32() ||
        !compatible(t.getDimSize(2), side) ||
        !compatible(t.getDimSize(3), side))
      return emitOpError() << what << " must be an f32 map [B, H, " << side
                           << ", " << side << "], got " << t;
  int64_t tokens = grid[0] * grid[1];
  if (!compatible(v.getDimSize(2), tokens) ||
      !compatible(o.getDimSize(2), tokens))
    return emitOpError() << "the " << grid[0] << " x " << grid[1]
                         << " grid has " << tokens << " tokens, but the value "
                         << "has " << dimStr(v.getDimSize(2))
                         << " and the result " << dimStr(o.getDimSize(2));
  if (failed(expectSameDim(*this, o, 0, "result", v, 0, "value", "batch")) ||
      failed(expectSameDim(*this, o, 1, "result", a, 1, "rows", "heads")) ||
      failed(expectSameDim(*this, a, 1, "rows", bm, 1, "cols", "heads")) ||
      failed(expectSameDim(*this, o, 3, "result", v, 3, "value",
                           "value head dim")))
    return failure();
  return verifyHeadGroups(*this, o, v);
}

LogicalResult PairScoreOp::verify() {
  if (failed(verifyRank4Float(*this, getQuery().getType(), "query")) ||
      failed(verifyRank4Float(*this, getKey().getType(), "key")))
    return failure();
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto s = cast<RankedTensorType>(getScores().getType());
  if (s.getRank() != 5 || !s.getElementType().isF32())
    return emitOpError() << "result must be an f32 tensor [B, H, G, N, M] "
                         << "(query head, key head, query, key), got " << s;
  if (failed(expectSameDim(*this, q, 0, "query", k, 0, "key", "batch")) ||
      failed(expectSameDim(*this, q, 3, "query", k, 3, "key", "head dim")) ||
      failed(expectSameDim(*this, s, 0, "scores", q, 0, "query", "batch")) ||
      failed(expectSameDim(*this, s, 1, "scores", q, 1, "query",
                           "query heads")) ||
      failed(expectSameDim(*this, s, 2, "scores", k, 1, "key", "key heads")) ||
      failed(expectSameDim(*this, s, 3, "scores", q, 2, "query",
                           "query length")) ||
      failed(expectSameDim(*this, s, 4, "scores", k, 2, "key", "key length")))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive, got "
                         << getScale().convertToDouble();
  return success();
}

LogicalResult HeadConvOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto w = cast<RankedTensorType>(getWeight().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if ((in.getRank() != 4 && in.getRank() != 5) ||
      !in.getElementType().isF32())
    return emitOpError() << "input must be f32 maps [B, H, C, N, M] (grouped) "
                         << "or [B, C, N, M] (full), got " << in;
  if (failed(verifyScores(*this, out, "result")))
    return failure();
  if (w.getRank() != 4 || !w.getElementType().isF32())
    return emitOpError() << "weight must be an f32 tensor [H, C, k, k], got "
                         << w;
  int64_t k = w.getDimSize(2);
  if (!ShapedType::isDynamic(k) && (k <= 0 || k % 2 == 0))
    return emitOpError() << "the kernel size must be odd (zero padding (k - "
                         << "1) / 2 on each side), got " << k;
  if (failed(expectSameDim(*this, w, 2, "weight", w, 3, "weight",
                           "kernel size")))
    return failure();
  bool grouped = in.getRank() == 5;
  unsigned c = grouped ? 2 : 1, n = grouped ? 3 : 2;
  if (failed(expectSameDim(*this, w, 1, "weight", in, c, "input",
                           "input channels")) ||
      failed(expectSameDim(*this, w, 0, "weight", out, 1, "result",
                           "output heads")) ||
      failed(expectSameDim(*this, out, 0, "result", in, 0, "input",
                           "batch")) ||
      failed(expectSameDim(*this, out, 2, "result", in, n, "input",
                           "query length")) ||
      failed(expectSameDim(*this, out, 3, "result", in, n + 1, "input",
                           "key length")))
    return failure();
  if (grouped && failed(expectSameDim(*this, out, 1, "result", in, 1, "input",
                                      "heads")))
    return failure();
  return success();
}

LogicalResult PackOp::verify() {
  if (failed(verifyRank4Float(*this, getKey().getType(), "key")) ||
      failed(verifyRank4Float(*this, getValue().getType(), "value")))
    return failure();
  auto k = cast<RankedTensorType>(getKey().getType());
  auto v = cast<RankedTensorType>(getValue().getType());
  auto mem = cast<RankedTensorType>(getMemory().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (mem.getRank() != 3 || !mem.getElementType().isF32())
    return emitOpError() << "memory must be an f32 tensor [heads, rows, dim], "
                         << "got " << mem;
  if (getRows() <= 0)
    return emitOpError() << "rows must be positive, got " << getRows();
  if (!compatible(mem.getDimSize(1), getRows()))
    return emitOpError() << "memory has " << dimStr(mem.getDimSize(1))
                         << " rows but rows = " << getRows();
  if (failed(expectSameDim(*this, mem, 2, "memory", k, 3, "key", "head dim")) ||
      failed(expectSameDim(*this, k, 3, "key", v, 3, "value",
                           "head dim (Luna ties keys and values)")))
    return failure();
  int64_t rank = getCausal() ? 5 : 4;
  if (out.getRank() != rank)
    return emitOpError() << "result must have rank " << rank << " ("
                         << (getCausal() ? "[B, H, N, rows, Dv]"
                                         : "[B, H, rows, Dv]")
                         << "), got " << out;
  if (!compatible(out.getDimSize(rank - 2), getRows()))
    return emitOpError() << "result has " << dimStr(out.getDimSize(rank - 2))
                         << " packed rows but rows = " << getRows();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive";
  return success();
}

LogicalResult UnpackOp::verify() {
  if (failed(verifyRank4Float(*this, getQuery().getType(), "query")) ||
      failed(verifyRank4Float(*this, getResult().getType(), "result")))
    return failure();
  auto packed = cast<RankedTensorType>(getPacked().getType());
  if (packed.getRank() != 4 && packed.getRank() != 5)
    return emitOpError() << "packed must be [B, H, rows, D] or, causal, "
                         << "[B, H, N, rows, D], got " << packed;
  auto q = cast<RankedTensorType>(getQuery().getType());
  if (failed(expectSameDim(*this, q, 3, "query", packed,
                           packed.getRank() - 1, "packed", "head dim")))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive";
  return success();
}

LogicalResult EmaOp::verify() {
  auto x = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (x.getRank() != 3 || !isa<FloatType>(x.getElementType()))
    return emitOpError() << "input must be a float tensor [batch, length, "
                         << "channels], got " << x;
  if (out != x)
    return emitOpError() << "result must have the input's type " << x
                         << ", got " << out;
  auto delta = cast<RankedTensorType>(getDelta().getType());
  for (auto [value, name] :
       {std::pair<Value, StringRef>{getDelta(), "delta"},
        {getAlpha(), "alpha"},
        {getBeta(), "beta"},
        {getGamma(), "gamma"}}) {
    auto t = cast<RankedTensorType>(value.getType());
    if (t.getRank() != 2 || !t.getElementType().isF32())
      return emitOpError() << name << " must be an f32 tensor [channels, "
                           << "ema_dim], got " << t;
    if (failed(expectSameDim(*this, t, 0, name, x, 2, "input", "channels")) ||
        failed(expectSameDim(*this, t, 1, name, delta, 1, "delta",
                             "ema_dim")))
      return failure();
  }
  if (getCompat() != "paper" && getCompat() != "code")
    return emitOpError() << "compat must be \"paper\" or \"code\", got \""
                         << getCompat() << "\"";
  if (Value omega = getOmega()) {
    auto t = cast<RankedTensorType>(omega.getType());
    if (t.getRank() != 1 || !t.getElementType().isF32())
      return emitOpError() << "omega must be an f32 tensor [channels], got "
                           << t;
    if (failed(expectSameDim(*this, t, 0, "omega", x, 2, "input",
                             "channels")))
      return failure();
  } else if (getCompat() == "code") {
    return emitOpError() << "compat = \"code\" needs omega (the skip "
                         << "weight of silu(y + omega * x))";
  }
  return success();
}

LogicalResult AggregateOp::verify() {
  if (failed(verifyScores(*this, getWeights().getType(), "weights")) ||
      failed(verifyRank4Float(*this, getValue().getType(), "value")) ||
      failed(verifyRank4Float(*this, getResult().getType(), "result")))
    return failure();
  auto w = cast<RankedTensorType>(getWeights().getType());
  auto v = cast<RankedTensorType>(getValue().getType());
  auto o = cast<RankedTensorType>(getResult().getType());
  if (failed(expectSameDim(*this, w, 0, "weights", v, 0, "value", "batch")) ||
      failed(expectSameDim(*this, w, 3, "weights", v, 2, "value",
                           "key length")) ||
      failed(expectSameDim(*this, o, 0, "result", w, 0, "weights", "batch")) ||
      failed(expectSameDim(*this, o, 1, "result", w, 1, "weights", "heads")) ||
      failed(expectSameDim(*this, o, 2, "result", w, 2, "weights",
                           "query length")) ||
      failed(expectSameDim(*this, o, 3, "result", v, 3, "value",
                           "value head dim")))
    return failure();
  int64_t h = w.getDimSize(1), g = v.getDimSize(1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(g) &&
      (g <= 0 || h % g != 0))
    return emitOpError() << "query heads (" << h << ") must be a multiple of "
                         << "value heads (" << g << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "body has " << block.getNumArguments()
                         << " arguments but the kernel has "
                         << getInputs().size() << " inputs";
  for (auto [idx, pair] : llvm::enumerate(
           llvm::zip(block.getArgumentTypes(), getInputs().getTypes()))) {
    auto [argType, inType] = pair;
    if (argType != inType)
      return emitOpError() << "body argument #" << idx << " has type "
                           << argType << " but input #" << idx << " has type "
                           << inType;
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return emitOpError() << "body must end in attn.yield";
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "body yields " << yield.getValues().size()
                         << " values whose types do not match the results";
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  return success();
}

#define GET_OP_CLASSES
#include "dialect/AttnOps.cpp.inc"
