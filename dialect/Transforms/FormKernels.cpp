//===- FormKernels.cpp - group primitive chains into attn.kernel ----------===//
//
// Implements --attn-form-kernels.  Each chain
//   [feature] -> score -> (score_mod | toeplitz | mask)* -> normalize -> aggregate,
//   pack -> unpack,
//   (axial_score -> normalize) x 2 -> separable (Couplformer),
//   pair_score -> head_conv -> normalize -> head_conv -> aggregate (EIT)
// becomes one isolated attn.kernel, the unit the Halide backend fuses.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFORMKERNELSPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Collects the chain that ends in `agg`, first op first.  Fails (with a
/// diagnostic) when the chain is malformed or shared.
/// The single-use op of type OpT that defines `v`, or a diagnostic at `user`.
template <typename OpT>
static FailureOr<OpT> singleUseDef(Value v, Operation *user, StringRef what) {
  auto def = v.getDefiningOp<OpT>();
  if (!def)
    return user->emitOpError() << what << " to form a kernel", failure();
  if (!def->hasOneUse())
    return def->emitOpError() << "result is used outside its attention "
                              << "chain; it cannot be fused",
           failure();
  return def;
}

/// EIT's chain ending in `agg`: pair_score -> head_conv -> normalize ->
/// head_conv (first op first).
static FailureOr<SmallVector<Operation *>>
collectHeadMixChain(AggregateOp agg, HeadConvOp csi) {
  SmallVector<Operation *> chain{agg, csi};
  auto norm = singleUseDef<NormalizeOp>(csi.getInput(), csi,
                                        "input must come from attn.normalize");
  if (failed(norm))
    return failure();
  auto isi = singleUseDef<HeadConvOp>(norm->getScores(), *norm,
                                      "scores must come from attn.head_conv");
  if (failed(isi))
    return failure();
  auto pair = singleUseDef<PairScoreOp>(
      isi->getInput(), *isi, "input must come from attn.pair_score");
  if (failed(pair))
    return failure();
  chain.append({*norm, *isi, *pair});
  std::reverse(chain.begin(), chain.end());
  return chain;
}

static FailureOr<SmallVector<Operation *>> collectChain(AggregateOp agg) {
  SmallVector<Operation *> chain{agg};
  if (auto conv = agg.getWeights().getDefiningOp<HeadConvOp>()) {
    if (!conv->hasOneUse())
      return conv->emitOpError() << "result is used outside its attention "
                                 << "chain; it cannot be fused",
             failure();
    return collectHeadMixChain(agg, conv);
  }
  auto norm = agg.getWeights().getDefiningOp<NormalizeOp>();
  if (!norm)
    return agg.emitOpError() << "weights must come from attn.normalize to "
                             << "form a kernel",
           failure();
  chain.push_back(norm);
  Value cur = norm.getScores();
  while (true) {
    Operation *def = cur.getDefiningOp();
    if (!def)
      return agg.emitOpError() << "score chain does not start at attn.score",
             failure();
    if (!def->hasOneUse())
      return def->emitOpError() << "result is used outside its attention "
                                << "chain; it cannot be fused",
             failure();
    chain.push_back(def);
    if (auto score = dyn_cast<ScoreOp>(def)) {
      // Linear family: the feature maps of the queries and keys belong to
      // the kernel too.
      for (Value in : {score.getQuery(), score.getKey()})
        if (auto feature = in.getDefiningOp<FeatureOp>()) {
          if (!feature->hasOneUse())
            return feature->emitOpError()
                       << "result is used outside its attention chain; it "
                       << "cannot be fused",
                   failure();
          chain.push_back(feature);
        }
      break;
    }
    if (auto mod = dyn_cast<ScoreModOp>(def))
      cur = mod.getScores();
    else if (auto toep = dyn_cast<ToeplitzOp>(def))
      cur = toep.getScores();
    else if (auto mask = dyn_cast<MaskOp>(def))
      cur = mask.getScores();
    else
      return def->emitOpError() << "cannot be part of an attention kernel",
             failure();
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

/// True when `v` is cheap to re-create inside the kernel: a constant, or a
/// tensor.dim (its tensor operand then becomes a kernel input).
static bool isRematerializable(Value v) {
  Operation *def = v.getDefiningOp();
  return def && (isa<arith::ConstantOp>(def) || isa<tensor::DimOp>(def));
}

struct FormKernelsPass
    : public mlir::attn::impl::AttnFormKernelsPassBase<FormKernelsPass> {
  using Base::Base;

  LogicalResult form(AggregateOp agg, StringRef name) {
    auto chain = collectChain(agg);
    if (failed(chain))
      return failure();
    return form(agg, *chain,
                agg.getForm() ? *agg.getForm() : KernelForm::two_pass_tiled,
                name);
  }

  /// Luna: the pack and the unpack that reads it.
  LogicalResult form(UnpackOp unpack, StringRef name) {
    auto pack = unpack.getPacked().getDefiningOp<PackOp>();
    if (!pack || !pack->hasOneUse())
      return unpack.emitOpError() << "packed must come from an attn.pack used "
                                  << "only here to form a kernel",
             failure();
    SmallVector<Operation *> chain{pack, unpack};
    return form(unpack, chain,
                unpack.getForm() ? *unpack.getForm() : KernelForm::pack_unpack,
                name);
  }

  /// Couplformer: both maps (axial_score -> normalize) and the separable
  /// aggregate.
  LogicalResult form(SeparableOp sep, StringRef name) {
    SmallVector<Operation *> chain;
    for (Value map : {sep.getRows(), sep.getCols()}) {
      auto norm = singleUseDef<NormalizeOp>(
          map, sep, "maps must come from attn.normalize");
      if (failed(norm))
        return failure();
      auto score = singleUseDef<AxialScoreOp>(
          norm->getScores(), *norm, "scores must come from attn.axial_score");
      if (failed(score))
        return failure();
      chain.append({*score, *norm});
    }
    chain.push_back(sep);
    return form(sep, chain,
                sep.getForm() ? *sep.getForm() : KernelForm::separable, name);
  }

  /// Mega's EMA: one op.
  LogicalResult form(EmaOp ema, StringRef name) {
    SmallVector<Operation *> chain{ema};
    return form(ema, chain, KernelForm::ema, name);
  }

  LogicalResult form(Operation *root, SmallVector<Operation *> &chainOps,
                     KernelForm kernelForm, StringRef name) {
    SmallVector<Operation *> *chain = &chainOps;
    Value rootResult = root->getResult(0);
    llvm::SmallPtrSet<Operation *, 8> inChain(chain->begin(), chain->end());

    // Values read by the chain but defined outside it.
    llvm::SetVector<Value> outside;
    for (Operation *op : *chain) {
      for (Value operand : op->getOperands())
        if (!inChain.contains(operand.getDefiningOp()))
          outside.insert(operand);
      for (Region &region : op->getRegions()) {
        llvm::SetVector<Value> above;
        getUsedValuesDefinedAbove(region, above);
        for (Value v : above)
          if (!inChain.contains(v.getDefiningOp()))
            outside.insert(v);
      }
    }
    // Constants and dims are cloned in; the tensors dims read are inputs.
    llvm::SetVector<Value> inputs, remat;
    for (Value v : outside) {
      if (isRematerializable(v)) {
        if (auto dim = v.getDefiningOp<tensor::DimOp>()) {
          inputs.insert(dim.getSource());
          if (isRematerializable(dim.getIndex()))
            remat.insert(dim.getIndex());
          else
            inputs.insert(dim.getIndex());
        }
        remat.insert(v);
      } else {
        inputs.insert(v);
      }
    }

    OpBuilder b(root);
    auto kernel = b.create<KernelOp>(
        root->getLoc(), TypeRange{rootResult.getType()},
        b.getStringAttr(name), kernelForm,
        b.getDictionaryAttr({}), inputs.getArrayRef());
    Block *body = b.createBlock(&kernel.getBody());
    IRMapping map;
    for (Value in : inputs)
      map.map(in, body->addArgument(in.getType(), in.getLoc()));
    b.setInsertionPointToStart(body);
    for (Value v : remat)
      b.clone(*v.getDefiningOp(), map);
    for (Operation *op : *chain)
      b.clone(*op, map);
    b.create<YieldOp>(root->getLoc(), ValueRange{map.lookup(rootResult)});

    rootResult.replaceAllUsesWith(kernel.getResult(0));
    for (Operation *op : llvm::reverse(*chain))
      op->erase();
    for (Value v : llvm::reverse(remat))
      if (Operation *def = v.getDefiningOp(); def && def->use_empty())
        def->erase();
    return success();
  }

  void runOnOperation() override {
    SmallVector<Operation *> roots;
    getOperation().walk([&](Operation *op) {
      if (isa<AggregateOp, UnpackOp, EmaOp, SeparableOp>(op) &&
          !op->getParentOfType<KernelOp>()) // already formed
        roots.push_back(op);
    });
    llvm::StringMap<unsigned> counts;
    for (Operation *root : roots) {
      std::string name = "kernel";
      if (auto fn = root->getParentOfType<func::FuncOp>())
        name = fn.getSymName().str();
      unsigned n = counts[name]++;
      if (n)
        name += "_" + std::to_string(n);
      LogicalResult formed = failure();
      if (auto agg = dyn_cast<AggregateOp>(root))
        formed = form(agg, name);
      else if (auto ema = dyn_cast<EmaOp>(root))
        formed = form(ema, name);
      else if (auto sep = dyn_cast<SeparableOp>(root))
        formed = form(sep, name);
      else
        formed = form(cast<UnpackOp>(root), name);
      if (failed(formed))
        return signalPassFailure();
    }
  }
};

} // namespace
