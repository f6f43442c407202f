//===- AttnChoiceOps.cpp - searchable choice verifiers --------------------===//
//
// Verifiers of attn.choice and attn.knob.
//
//===----------------------------------------------------------------------===//

#include "dialect/AttnOps.h"

#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::attn;

LogicalResult ChoiceOp::verifyRegions() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  auto labels = getLabels();
  if (getAlternatives().empty())
    return emitOpError() << "needs at least one alternative";
  if (labels.size() != getAlternatives().size())
    return emitOpError() << "has " << getAlternatives().size()
                         << " alternatives but " << labels.size()
                         << " labels";
  llvm::SmallSet<StringRef, 8> seen;
  for (Attribute label : labels) {
    StringRef text = cast<StringAttr>(label).getValue();
    if (!seen.insert(text).second)
      return emitOpError() << "has duplicate label '" << text << "'";
  }
  for (auto [idx, region] : llvm::enumerate(getAlternatives())) {
    auto yield = dyn_cast<YieldOp>(region.front().getTerminator());
    if (!yield)
      return emitOpError() << "alternative #" << idx
                           << " must end in attn.yield";
    if (yield.getValues().getTypes() != getResultTypes())
      return emitOpError() << "alternative #" << idx << " ('"
                           << cast<StringAttr>(labels[idx]).getValue()
                           << "') yields types that differ from the results";
  }
  return success();
}

LogicalResult KnobOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  ArrayRef<int64_t> values = getValues();
  if (values.empty())
    return emitOpError() << "'" << getName() << "' needs at least one value";
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t v : values)
    if (!seen.insert(v).second)
      return emitOpError() << "'" << getName() << "' lists " << v
                           << " twice";
  return success();
}
