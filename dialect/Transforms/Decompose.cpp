//===- Decompose.cpp - attn.attention into primitive ops ------------------===//
//
// Implements --attn-decompose.  A named variant becomes the chain
//   score -> [score_mod: window bias] -> [score_mod] -> [mask: causal]
//         -> [mask: kv_lengths] -> [mask: window2d] -> [mask: variant]
//         -> normalize -> aggregate
// with the variant's regions cloned and their attn.dim ops resolved; the
// linear family, Luna, Couplformer's coupled maps (axial_score x 2 ->
// normalize x 2 -> separable) and EIT's head-mixing maps (pair_score ->
// head_conv -> normalize -> head_conv -> aggregate) have chains of their
// own.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSEPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The tensor and dimension index that define each DimRole.
static std::pair<Value, unsigned> roleSource(AttentionOp op, DimRole role) {
  switch (role) {
  case DimRole::B:
    return {op.getQuery(), 0};
  case DimRole::H:
    return {op.getQuery(), 1};
  case DimRole::N:
    return {op.getQuery(), 2};
  case DimRole::D:
    return {op.getQuery(), 3};
  case DimRole::G:
    return {op.getKey(), 1};
  case DimRole::M:
    return {op.getKey(), 2};
  }
  llvm_unreachable("unknown dim role");
}

/// Materializes the extent of `role` before `anchor` (outside any region
/// being built): a constant when static, else a tensor.dim.
static Value extentBefore(OpBuilder &b, Operation *anchor, AttentionOp op,
                          DimRole role) {
  auto [tensor, index] = roleSource(op, role);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(anchor);
  int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(index);
  if (!ShapedType::isDynamic(size))
    return b.create<arith::ConstantIndexOp>(op.getLoc(), size);
  return b.create<tensor::DimOp>(op.getLoc(), tensor, index);
}

/// The extent of `role` for use at the builder's current insertion point
/// inside a region: a constant there when static, else a tensor.dim placed
/// before `op` (a value from above, which --attn-form-kernels re-creates).
static Value extentInside(OpBuilder &b, Operation *anchor, AttentionOp op,
                          DimRole role) {
  auto [tensor, index] = roleSource(op, role);
  int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(index);
  if (!ShapedType::isDynamic(size))
    return b.create<arith::ConstantIndexOp>(op.getLoc(), size);
  return extentBefore(b, anchor, op, role);
}

/// Replaces every attn.dim inside `region` (owned by `owner`).
static void resolveDims(OpBuilder &b, Region &region, Operation *owner,
                        AttentionOp op) {
  SmallVector<DimOp> dims;
  region.walk([&](DimOp d) { dims.push_back(d); });
  for (DimOp d : dims) {
    auto [tensor, index] = roleSource(op, d.getRole());
    int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(index);
    Value replacement;
    if (!ShapedType::isDynamic(size)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(d);
      replacement = b.create<arith::ConstantIndexOp>(d.getLoc(), size);
    } else {
      replacement = extentBefore(b, owner, op, d.getRole());
    }
    d.replaceAllUsesWith(replacement);
    d.erase();
  }
}

/// Creates a mask op on `scores` whose body is built by `bodyBuilder`
/// (given b, h, i, j; returns the keep predicate).
template <typename BodyFn>
static Value buildMask(OpBuilder &b, Location loc, Value scores,
                       StringRef origin, BodyFn &&bodyBuilder) {
  auto mask = b.create<MaskOp>(loc, scores.getType(), scores);
  mask->setAttr(kMaskOriginAttr, b.getStringAttr(origin));
  Block *block = b.createBlock(&mask.getBody());
  Type idx = b.getIndexType();
  for (int n = 0; n < 4; ++n)
    block->addArgument(idx, loc);
  b.setInsertionPointToStart(block);
  Value keep = bodyBuilder(block->getArgument(0), block->getArgument(1),
                           block->getArgument(2), block->getArgument(3));
  b.create<YieldOp>(loc, ValueRange{keep});
  b.setInsertionPointAfter(mask);
  return mask.getResult();
}

/// The grid row and column of token `t` on a grid of `cols` columns.
static std::pair<Value, Value> gridCoords(OpBuilder &b, Location loc, Value t,
                                          int64_t cols) {
  Value c = b.create<arith::ConstantIndexOp>(loc, cols);
  return {b.create<arith::DivSIOp>(loc, t, c),
          b.create<arith::RemSIOp>(loc, t, c)};
}

struct DecomposePass
    : public mlir::attn::impl::AttnDecomposePassBase<DecomposePass> {
  using Base::Base;

  /// window2d's relative position bias (spec V14, §1.2): a score modifier
  /// s + T[h, (dr + w - 1) (2w - 1) + (dc + w - 1)] with (dr, dc) the row
  /// and column offsets of query i from key j (clamped to the window, so
  /// that pairs the mask excludes still read inside the table).
  Value addWindowBias(OpBuilder &b, AttentionOp op, DictionaryAttr partition,
                      Value bias, Value scores) {
    Location loc = op.getLoc();
    auto grid = partition.getAs<DenseI64ArrayAttr>("grid");
    int64_t w = partition.getAs<IntegerAttr>("window").getInt();
    auto mod = b.create<ScoreModOp>(loc, scores.getType(), scores);
    mod->setAttr(kMaskOriginAttr, b.getStringAttr("window2d_bias"));
    Block *block = b.createBlock(&mod.getBody());
    Type idx = b.getIndexType();
    block->addArgument(b.getF32Type(), loc);
    for (int n = 0; n < 4; ++n)
      block->addArgument(idx, loc);
    b.setInsertionPointToStart(block);
    Value h = block->getArgument(2), i = block->getArgument(3),
          j = block->getArgument(4);
    auto [ri, ci] = gridCoords(b, loc, i, grid[1]);
    auto [rj, cj] = gridCoords(b, loc, j, grid[1]);
    Value lo = b.create<arith::ConstantIndexOp>(loc, 1 - w);
    Value hi = b.create<arith::ConstantIndexOp>(loc, w - 1);
    auto offset = [&](Value a, Value c) {
      Value d = b.create<arith::SubIOp>(loc, a, c);
      d = b.create<arith::MaxSIOp>(loc, d, lo);
      d = b.create<arith::MinSIOp>(loc, d, hi);
      return b.create<arith::AddIOp>(loc, d, hi);
    };
    Value dr = offset(ri, rj), dc = offset(ci, cj);
    Value side = b.create<arith::ConstantIndexOp>(loc, 2 * w - 1);
    Value index = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, dr, side), dc);
    Value t = b.create<tensor::ExtractOp>(loc, bias, ValueRange{h, index});
    Value sum = b.create<arith::AddFOp>(loc, block->getArgument(0), t);
    b.create<YieldOp>(loc, ValueRange{sum});
    b.setInsertionPointAfter(mod);
    return mod.getResult();
  }

  /// window2d's mask: i and j lie in the same window of the grid of
  /// windows offset by the shift (per axis, segment (x + (w - s) % w) / w).
  /// Also records the partition on the mask (kWindowAttr) for the lowering.
  Value addWindowMask(OpBuilder &b, AttentionOp op, DictionaryAttr partition,
                      Value scores) {
    Location loc = op.getLoc();
    auto grid = partition.getAs<DenseI64ArrayAttr>("grid");
    int64_t w = partition.getAs<IntegerAttr>("window").getInt();
    int64_t shift = partition.getAs<IntegerAttr>("shift").getInt();
    int64_t off = (w - shift) % w;
    Value masked = buildMask(b, loc, scores, "window2d",
                             [&](Value, Value, Value i, Value j) {
      Value wc = b.create<arith::ConstantIndexOp>(loc, w);
      Value offc = b.create<arith::ConstantIndexOp>(loc, off);
      auto segment = [&](Value x) -> Value {
        if (off)
          x = b.create<arith::AddIOp>(loc, x, offc);
        return b.create<arith::DivSIOp>(loc, x, wc);
      };
      auto [ri, ci] = gridCoords(b, loc, i, grid[1]);
      auto [rj, cj] = gridCoords(b, loc, j, grid[1]);
      Value sameRow = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              segment(ri), segment(rj));
      Value sameCol = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              segment(ci), segment(cj));
      return b.create<arith::AndIOp>(loc, sameRow, sameCol);
    });
    SmallVector<NamedAttribute> entries;
    for (NamedAttribute a : partition)
      if (a.getName() != "bias" && a.getName() != "kind")
        entries.push_back(a);
    masked.getDefiningOp()->setAttr(kWindowAttr, b.getDictionaryAttr(entries));
    return masked;
  }

  /// Couplformer (spec V5): row and column maps, softmax each, then the
  /// separable aggregate A V B^T.
  LogicalResult decomposeCoupler(AttentionOp op, DictionaryAttr map,
                                 double scale) {
    Location loc = op.getLoc();
    auto grid = map.getAs<DenseI64ArrayAttr>("grid");
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    OpBuilder b(op);
    Value maps[2];
    for (int axis = 0; axis < 2; ++axis) {
      auto type = RankedTensorType::get({qType.getDimSize(0),
                                         qType.getDimSize(1), grid[axis],
                                         grid[axis]},
                                        b.getF32Type());
      Value s = b.create<AxialScoreOp>(
          loc, type, op.getQuery(), op.getKey(),
          b.getStringAttr(axis ? "col" : "row"), grid,
          b.getF64FloatAttr(scale));
      maps[axis] = b.create<NormalizeOp>(loc, type, NormalizeKind::softmax, s,
                                         FloatAttr(), false);
    }
    Value out = b.create<SeparableOp>(loc, op.getResult().getType(), maps[0],
                                      maps[1], op.getValue(), grid,
                                      KernelFormAttr());
    op.getResult().replaceAllUsesWith(out);
    op.erase();
    return success();
  }

  /// EIT's enhanced multi-head attention (spec V10): every head pair's
  /// scores, the grouped ISI convolution, softmax, the CSI convolution,
  /// then the aggregate.
  LogicalResult decomposeEmha(AttentionOp op, DictionaryAttr map,
                              double scale) {
    Location loc = op.getLoc();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    Value isi = op.getVariantOperands()[map.getAs<IntegerAttr>("isi").getInt()];
    Value csi = op.getVariantOperands()[map.getAs<IntegerAttr>("csi").getInt()];
    OpBuilder b(op);
    auto pairType = RankedTensorType::get(
        {qType.getDimSize(0), qType.getDimSize(1), kType.getDimSize(1),
         qType.getDimSize(2), kType.getDimSize(2)},
        b.getF32Type());
    auto mapType = RankedTensorType::get(
        {qType.getDimSize(0), qType.getDimSize(1), qType.getDimSize(2),
         kType.getDimSize(2)},
        b.getF32Type());
    Value s = b.create<PairScoreOp>(loc, pairType, op.getQuery(), op.getKey(),
                                    b.getF64FloatAttr(scale));
    Value mixed = b.create<HeadConvOp>(loc, mapType, s, isi);
    Value a = b.create<NormalizeOp>(loc, mapType, NormalizeKind::softmax,
                                    mixed, FloatAttr(), false);
    Value crossed = b.create<HeadConvOp>(loc, mapType, a, csi);
    Value out = b.create<AggregateOp>(loc, op.getResult().getType(), crossed,
                                      op.getValue(), KernelFormAttr());
    op.getResult().replaceAllUsesWith(out);
    op.erase();
    return success();
  }

  /// Adds the causal and kv_lengths masks of `op` after `scores`.
  Value addCallMasks(OpBuilder &b, AttentionOp op, Operation *scoreOp,
                     Value scores) {
    Location loc = op.getLoc();
    if (op.getCausal()) {
      // j <= i + (M - N): bottom-right aligned (FlashAttention 2.1+).
      scores = buildMask(b, loc, scores, "causal",
                         [&](Value, Value, Value i, Value j) {
        Value n = extentInside(b, scoreOp, op, DimRole::N);
        Value m = extentInside(b, scoreOp, op, DimRole::M);
        Value offset = b.create<arith::SubIOp>(loc, m, n);
        Value limit = b.create<arith::AddIOp>(loc, i, offset);
        return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, j,
                                       limit);
      });
    }
    if (Value lens = op.getKvLengths()) {
      scores = buildMask(b, loc, scores, "kv_lengths",
                         [&](Value batch, Value, Value, Value j) {
        Value len = b.create<tensor::ExtractOp>(loc, lens, ValueRange{batch});
        Value lenIdx =
            b.create<arith::IndexCastOp>(loc, b.getIndexType(), len);
        return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, j,
                                       lenIdx);
      });
    }
    return scores;
  }

  /// Creates the attn.feature of `input` (role query or key) from the
  /// variant's feature map, random features and expansion.
  Value buildFeature(OpBuilder &b, AttentionOp op, VariantOp variant,
                     Value input, StringRef role) {
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t base = inType.getDimSize(3);
    if (auto rf = variant.getRandomFeatures())
      base = rf->getAs<IntegerAttr>("features").getInt();
    int64_t factors = 1;
    if (!variant.getExpand().empty())
      factors = variant.getExpand().front().getTerminator()->getNumOperands();
    int64_t width =
        ShapedType::isDynamic(base) ? ShapedType::kDynamic : base * factors;
    auto type = RankedTensorType::get({inType.getDimSize(0),
                                       inType.getDimSize(1),
                                       inType.getDimSize(2), width},
                                      b.getF32Type());
    auto feature = b.create<FeatureOp>(op.getLoc(), type, input,
                                       b.getStringAttr(role),
                                       variant.getRandomFeaturesAttr());
    IRMapping map;
    if (!variant.getFeature().empty())
      variant.getFeature().cloneInto(&feature.getMap(), map);
    if (!variant.getExpand().empty()) {
      variant.getExpand().cloneInto(&feature.getExpand(), map);
      resolveDims(b, feature.getExpand(), feature, op);
    }
    b.setInsertionPointAfter(feature);
    return feature.getResult();
  }

  /// The linear family: feature -> score (scale 1) -> [toeplitz] -> masks
  /// -> normalize sum|none -> aggregate (docs/LinearFamily.md).
  LogicalResult decomposeLinear(AttentionOp op, VariantOp variant) {
    Location loc = op.getLoc();
    if (op.getScale())
      return op.emitOpError() << "'scale' does not apply to the linear-family "
                              << "variant " << op.getVariantAttr();
    OpBuilder b(op);
    Value fq = buildFeature(b, op, variant, op.getQuery(), "query");
    Value fk = buildFeature(b, op, variant, op.getKey(), "key");
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    auto scoresType = RankedTensorType::get(
        {qType.getDimSize(0), qType.getDimSize(1), qType.getDimSize(2),
         kType.getDimSize(2)},
        b.getF32Type());
    auto scoreOp =
        b.create<ScoreOp>(loc, scoresType, fq, fk, b.getF64FloatAttr(1.0));
    Value scores = scoreOp.getResult();
    if (auto weight = variant.getWeight()) {
      Value bias;
      if (auto operand = weight->getAs<IntegerAttr>("operand"))
        bias = op.getVariantOperands()[operand.getInt()];
      SmallVector<NamedAttribute> entries;
      for (NamedAttribute a : *weight)
        if (a.getName() != "operand")
          entries.push_back(a);
      scores = b.create<ToeplitzOp>(loc, scoresType, scores, bias,
                                    b.getDictionaryAttr(entries));
    }
    scores = addCallMasks(b, op, scoreOp, scores);
    Value weights = b.create<NormalizeOp>(
        loc, scoresType, variant.getNormalize(), scores, variant.getEpsAttr(),
        variant.getClamp());
    Value out = b.create<AggregateOp>(loc, op.getResult().getType(), weights,
                                      op.getValue(), KernelFormAttr());
    op.getResult().replaceAllUsesWith(out);
    op.erase();
    return success();
  }

  /// Luna: pack the keys/values into the memory rows, then unpack
  /// (docs/LinearFamily.md §6).
  LogicalResult decomposeLuna(AttentionOp op, VariantOp variant,
                              double scale) {
    DictionaryAttr pack = *variant.getPack();
    int64_t rows = pack.getAs<IntegerAttr>("rows").getInt();
    Value memory =
        op.getVariantOperands()[pack.getAs<IntegerAttr>("operand").getInt()];
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    auto vType = cast<RankedTensorType>(op.getValue().getType());
    int64_t n = qType.getDimSize(2), m = kType.getDimSize(2);
    if (op.getCausal() && !ShapedType::isDynamic(n) &&
        !ShapedType::isDynamic(m) && n != m)
      return op.emitOpError() << "causal Luna needs as many keys as queries "
                              << "(self-attention), got N = " << n
                              << " and M = " << m;
    SmallVector<int64_t> shape{qType.getDimSize(0), qType.getDimSize(1)};
    if (op.getCausal())
      shape.push_back(n);
    shape.push_back(rows);
    shape.push_back(vType.getDimSize(3));
    OpBuilder b(op);
    auto packed = b.create<PackOp>(
        op.getLoc(), RankedTensorType::get(shape, b.getF32Type()),
        op.getKey(), op.getValue(), memory, op.getKvLengths(),
        b.getI64IntegerAttr(rows), b.getF64FloatAttr(scale),
        op.getCausal() ? b.getUnitAttr() : UnitAttr());
    Value out = b.create<UnpackOp>(op.getLoc(), op.getResult().getType(),
                                   op.getQuery(), packed.getResult(),
                                   b.getF64FloatAttr(scale), KernelFormAttr());
    op.getResult().replaceAllUsesWith(out);
    op.erase();
    return success();
  }

  LogicalResult decompose(AttentionOp op, SymbolTableCollection &symbols) {
    auto variant =
        symbols.lookupNearestSymbolFrom<VariantOp>(op, op.getVariantAttr());
    if (!variant)
      return op.emitOpError() << "refers to unknown variant "
                              << op.getVariantAttr();
    if (variant.getNormalize() != NormalizeKind::softmax)
      return decomposeLinear(op, variant);
    Location loc = op.getLoc();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());

    // Couplformer's code scales its scores by D^(-1/4), not D^(-1/2)
    // (spec V5), although they contract over a whole grid row or column.
    auto map = variant.getMap();
    bool coupler =
        map && map->getAs<StringAttr>("kind").getValue() == "coupler";
    double scale;
    if (auto s = op.getScale())
      scale = s->convertToDouble();
    else if (auto s = variant.getScale())
      scale = s->convertToDouble();
    else if (!ShapedType::isDynamic(qType.getDimSize(3)) &&
             qType.getDimSize(3) > 0)
      scale = coupler ? std::pow(double(qType.getDimSize(3)), -0.25)
                      : 1.0 / std::sqrt(double(qType.getDimSize(3)));
    else
      return op.emitOpError()
             << "the head dim is dynamic, so the default scale rsqrt(D) is "
             << "unknown at compile time; give 'scale' explicitly";

    if (variant.getPack())
      return decomposeLuna(op, variant, scale);
    if (map)
      return coupler ? decomposeCoupler(op, *map, scale)
                     : decomposeEmha(op, *map, scale);

    OpBuilder b(op);
    auto scoresType = RankedTensorType::get(
        {qType.getDimSize(0), qType.getDimSize(1), qType.getDimSize(2),
         kType.getDimSize(2)},
        b.getF32Type());
    auto scoreOp = b.create<ScoreOp>(loc, scoresType, op.getQuery(),
                                     op.getKey(), b.getF64FloatAttr(scale));
    Value scores = scoreOp.getResult();

    auto partition = variant.getPartition();
    if (partition)
      if (auto bias = partition->getAs<IntegerAttr>("bias"))
        scores = addWindowBias(b, op, *partition,
                               op.getVariantOperands()[bias.getInt()], scores);

    if (!variant.getScore().empty()) {
      auto mod = b.create<ScoreModOp>(loc, scoresType, scores);
      IRMapping map;
      variant.getScore().cloneInto(&mod.getBody(), map);
      resolveDims(b, mod.getBody(), mod, op);
      scores = mod.getResult();
      b.setInsertionPointAfter(mod);
    }

    scores = addCallMasks(b, op, scoreOp, scores);

    if (partition)
      scores = addWindowMask(b, op, *partition, scores);

    if (!variant.getMask().empty()) {
      auto mask = b.create<MaskOp>(loc, scoresType, scores);
      IRMapping map;
      variant.getMask().cloneInto(&mask.getBody(), map);
      resolveDims(b, mask.getBody(), mask, op);
      scores = mask.getResult();
      b.setInsertionPointAfter(mask);
    }

    Value weights = b.create<NormalizeOp>(loc, scoresType,
                                          variant.getNormalize(), scores,
                                          FloatAttr(), false);
    Value out = b.create<AggregateOp>(loc, op.getResult().getType(), weights,
                                      op.getValue(), KernelFormAttr());
    op.getResult().replaceAllUsesWith(out);
    op.erase();
    return success();
  }

  void runOnOperation() override {
    SymbolTableCollection symbols;
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops)
      if (failed(decompose(op, symbols)))
        return signalPassFailure();
  }
};

} // namespace
