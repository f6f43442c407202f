//===- ApplyConfig.cpp - pin choices and knobs to one point ---------------===//
//
// Implements --attn-apply-config: every attn.choice is replaced by the body of
// its chosen alternative, every attn.knob by a constant.
//
//===----------------------------------------------------------------------===//

#include "dialect/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPLYCONFIGPASS
#include "dialect/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Parses "a=x,b=y" into a map; reports malformed entries on `loc`.
static FailureOr<llvm::StringMap<std::string>> parseConfig(StringRef text,
                                                           Location loc) {
  llvm::StringMap<std::string> result;
  SmallVector<StringRef> entries;
  text.split(entries, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef entry : entries) {
    auto [name, value] = entry.split('=');
    name = name.trim();
    value = value.trim();
    if (name.empty() || value.empty() || !entry.contains('='))
      return emitError(loc) << "malformed configuration entry '" << entry
                            << "': expected name=value",
             failure();
    if (!result.try_emplace(name, value.str()).second)
      return emitError(loc) << "configuration names '" << name << "' twice",
             failure();
  }
  return result;
}

/// Inlines region `index` of `choice` before it and replaces its results.
static void inlineAlternative(ChoiceOp choice, unsigned index) {
  Block &body = choice.getAlternatives()[index].front();
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<Value> yielded(yield.getValues());
  Block *parent = choice->getBlock();
  parent->getOperations().splice(Block::iterator(choice),
                                 body.getOperations(), body.begin(),
                                 Block::iterator(yield));
  choice->replaceAllUsesWith(yielded);
  choice->erase();
}

struct ApplyConfigPass
    : public mlir::attn::impl::AttnApplyConfigPassBase<ApplyConfigPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto parsed = parseConfig(config, module.getLoc());
    if (failed(parsed))
      return signalPassFailure();
    llvm::StringMap<std::string> &cfg = *parsed;
    // Every name the module declares, reachable or not, so that naming a
    // choice that sits inside an unchosen alternative is not an error.
    llvm::StringSet<> declared;
    module.walk([&](Operation *op) {
      if (auto k = dyn_cast<KnobOp>(op))
        declared.insert(k.getName());
      else if (auto c = dyn_cast<ChoiceOp>(op))
        declared.insert(c.getName());
    });
    bool failedAny = false;

    // Knobs first: their constants may feed shapes inside alternatives.
    SmallVector<KnobOp> knobs;
    module.walk([&](KnobOp k) { knobs.push_back(k); });
    for (KnobOp knob : knobs) {
      auto it = cfg.find(knob.getName());
      if (it == cfg.end()) {
        if (!allowPartial) {
          knob.emitError() << "knob '" << knob.getName()
                           << "' is not configured";
          failedAny = true;
        }
        continue;
      }
      int64_t value;
      if (StringRef(it->second).getAsInteger(10, value) ||
          !llvm::is_contained(knob.getValues(), value)) {
        auto diag = knob.emitError() << "knob '" << knob.getName()
                                     << "' cannot take '" << it->second
                                     << "'; allowed values: ";
        llvm::interleaveComma(knob.getValues(), diag);
        failedAny = true;
        continue;
      }
      OpBuilder b(knob);
      Value c = b.create<arith::ConstantIndexOp>(knob.getLoc(), value);
      knob.replaceAllUsesWith(c);
      knob.erase();
    }

    // Choices, outermost first; nested choices are reached after inlining.
    SmallVector<ChoiceOp> worklist;
    module.walk<WalkOrder::PreOrder>([&](ChoiceOp c) {
      worklist.push_back(c);
      return WalkResult::skip();
    });
    while (!worklist.empty()) {
      ChoiceOp choice = worklist.pop_back_val();
      auto it = cfg.find(choice.getName());
      if (it == cfg.end()) {
        if (!allowPartial) {
          choice.emitError() << "choice '" << choice.getName()
                             << "' is not configured";
          failedAny = true;
        }
        continue;
      }
      std::optional<unsigned> index;
      for (auto [i, label] : llvm::enumerate(choice.getLabels()))
        if (cast<StringAttr>(label).getValue() == it->second)
          index = i;
      unsigned asNumber;
      if (!index && !StringRef(it->second).getAsInteger(10, asNumber) &&
          asNumber < choice.getAlternatives().size())
        index = asNumber;
      if (!index) {
        auto diag = choice.emitError()
                    << "choice '" << choice.getName() << "' has no "
                    << "alternative '" << it->second << "'; alternatives: ";
        llvm::interleaveComma(choice.getLabels(), diag, [&](Attribute a) {
          diag << cast<StringAttr>(a).getValue();
        });
        failedAny = true;
        continue;
      }
      Block &body = choice.getAlternatives()[*index].front();
      SmallVector<ChoiceOp> nested;
      body.walk<WalkOrder::PreOrder>([&](ChoiceOp c) {
        nested.push_back(c);
        return WalkResult::skip();
      });
      inlineAlternative(choice, *index);
      worklist.append(nested.begin(), nested.end());
    }

    for (auto &entry : cfg)
      if (!declared.contains(entry.getKey())) {
        module.emitError() << "configuration names '" << entry.getKey()
                           << "', which is no choice or knob of this module";
        failedAny = true;
      }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
