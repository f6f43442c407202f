//===- SelectForms.cpp - choose how each attention core is lowered --------===//
//
// Implements --attn-select-forms (docs/LinearFamily.md §1): the form of an
// attn.aggregate follows from the primitives that feed it.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSELECTFORMSPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// What the score chain of one aggregate contains.
struct ChainFacts {
  NormalizeKind normalize = NormalizeKind::softmax;
  bool causal = false;
  bool rpe = false;
  bool momentum = false;
  /// A window2d partition's mask (Swin windows): iterate the windows.
  bool window = false;
  /// EIT's map convolutions: the maps are materialized.
  bool mapConv = false;
  /// A mask that is neither causal nor kv_lengths (breaks factorization).
  MaskOp otherMask;
};

static FailureOr<ChainFacts> inspect(AggregateOp agg) {
  ChainFacts facts;
  Value weights = agg.getWeights();
  if (auto conv = weights.getDefiningOp<HeadConvOp>()) {
    facts.mapConv = true;
    weights = conv.getInput();
  }
  auto norm = weights.getDefiningOp<NormalizeOp>();
  if (!norm)
    return agg.emitOpError() << "weights must come from attn.normalize",
           failure();
  facts.normalize = norm.getKind();
  Value cur = norm.getScores();
  while (Operation *def = cur.getDefiningOp()) {
    if (auto mask = dyn_cast<MaskOp>(def)) {
      auto origin = mask->getAttrOfType<StringAttr>(kMaskOriginAttr);
      if (origin && origin.getValue() == "causal")
        facts.causal = true;
      else if (origin && origin.getValue() == "window2d")
        facts.window = true;
      else if (!origin || origin.getValue() != "kv_lengths")
        facts.otherMask = mask;
      cur = mask.getScores();
    } else if (auto toep = dyn_cast<ToeplitzOp>(def)) {
      StringRef kind = toep.getWeight().getAs<StringAttr>("kind").getValue();
      facts.rpe |= kind == "rpe";
      facts.momentum |= kind == "momentum";
      cur = toep.getScores();
    } else if (auto mod = dyn_cast<ScoreModOp>(def)) {
      cur = mod.getScores();
    } else {
      break;
    }
  }
  return facts;
}

struct SelectFormsPass
    : public mlir::attn::impl::AttnSelectFormsPassBase<SelectFormsPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](AggregateOp agg) {
      if (agg.getForm())
        return;
      FailureOr<ChainFacts> facts = inspect(agg);
      if (failed(facts)) {
        failedAny = true;
        return;
      }
      KernelForm form = KernelForm::two_pass_tiled;
      if (facts->mapConv)
        form = KernelForm::halo_tiled;
      else if (facts->window && facts->normalize == NormalizeKind::softmax)
        form = KernelForm::window_tiled;
      if (facts->normalize != NormalizeKind::softmax) {
        if (facts->otherMask) {
          facts->otherMask.emitOpError()
              << "cannot be applied to a linear-family attention: only "
              << "causal and kv_lengths masks keep the factorization";
          failedAny = true;
          return;
        }
        if (facts->rpe)
          form = KernelForm::fft_toeplitz;
        else if (facts->causal)
          form = KernelForm::chunked_scan;
        else if (facts->momentum) {
          agg.emitOpError() << "a momentum weight needs a causal mask";
          failedAny = true;
          return;
        } else
          form = KernelForm::associative;
      }
      agg.setFormAttr(KernelFormAttr::get(agg.getContext(), form));
    });
    getOperation().walk([&](SeparableOp sep) {
      if (!sep.getForm())
        sep.setFormAttr(
            KernelFormAttr::get(sep.getContext(), KernelForm::separable));
    });
    getOperation().walk([&](UnpackOp unpack) {
      if (unpack.getForm())
        return;
      auto pack = unpack.getPacked().getDefiningOp<PackOp>();
      KernelForm form = pack && pack.getCausal() ? KernelForm::luna_scan
                                                 : KernelForm::pack_unpack;
      unpack.setFormAttr(KernelFormAttr::get(unpack.getContext(), form));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
