//===- MLIRGen.h - .attn to the attn dialect --------------------*- C++ -*-===//
//
// Generates architecture-level IR from a module Sema has checked: one
// `func.func` per kernel holding an `attn.attention` (or an `attn.ema`), and
// one `attn.variant` per distinct use of a variant (parameter values and dim
// roles).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_MLIRGEN_H
#define ATTN_FRONTEND_MLIRGEN_H

#include "frontend/Sema.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace attn::frontend {

/// Generates the module for a successful `sema`; null (after reporting) if
/// the result does not verify.
mlir::OwningOpRef<mlir::ModuleOp> generateModule(mlir::MLIRContext &context,
                                                 const Sema &sema);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_MLIRGEN_H
