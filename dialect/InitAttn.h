//===- InitAttn.h - registration of what attn tools use ---------*- C++ -*-===//
//
// The one place that lists the dialects and passes attnc's tools register.
// Only what is parsed or produced is registered (DESIGN.md §3: registering
// everything makes each tool ten times slower to build).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_INITATTN_H
#define ATTN_DIALECT_INITATTN_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::attn {

/// Adds attn and the upstream dialects its IR uses (func, arith, math,
/// tensor) to `registry`.
void registerAttnDialects(DialectRegistry &registry);

/// Registers the attn passes and the upstream passes the tools offer.
void registerAllAttnPasses();

} // namespace mlir::attn

#endif // ATTN_DIALECT_INITATTN_H
