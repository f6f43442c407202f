//===- FormKernels.cpp - group primitive chains into attn.kernel ----------===//
//
// Implements --attn-form-kernels.  Each chain
//   [feature] -> score -> (score_mod | toeplitz | mask)* -> normalize -> aggregate, and pack -> unpack
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
static FailureOr<SmallVector<Operation *>> collectChain(AggregateOp agg) {
  SmallVector<Operation *> chain{agg};
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
      if (isa<AggregateOp, UnpackOp, EmaOp>(op) &&
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
      else
        formed = form(cast<UnpackOp>(root), name);
      if (failed(formed))
        return signalPassFailure();
    }
  }
};

} // namespace
