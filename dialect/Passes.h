//===- Passes.h - attn dialect passes ---------------------------*- C++ -*-===//
//
// Declarations of the attn dialect's passes (generated from Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_PASSES_H
#define ATTN_DIALECT_PASSES_H

#include "dialect/AttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "dialect/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialect/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_DIALECT_PASSES_H
