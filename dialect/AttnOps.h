//===- AttnOps.h - attn dialect operations ----------------------*- C++ -*-===//
//
// Declares the ops of the attn dialect (generated from AttnOps.td and
// AttnChoiceOps.td) and small helpers shared by passes and the backend.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNOPS_H
#define ATTN_DIALECT_ATTNOPS_H

#include "dialect/AttnDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/AttnOps.h.inc"

namespace mlir::attn {

/// Attribute names the frontend puts on kernel functions and their
/// arguments; the manifest writer reads them back.
constexpr llvm::StringLiteral kArgNameAttr = "attn.name";
constexpr llvm::StringLiteral kArgDimsAttr = "attn.dims";
constexpr llvm::StringLiteral kKernelAttr = "attn.kernel";
/// On an architecture function (docs/Architectures.md): the unit marker, the
/// configuration it was elaborated with (name -> label), and on each weight
/// argument how attn-run fills it ({dist, a, b}).
constexpr llvm::StringLiteral kArchAttr = "attn.arch";
constexpr llvm::StringLiteral kArchConfigAttr = "attn.config";
constexpr llvm::StringLiteral kArgInitAttr = "attn.init";
/// On a function outlined by --attn-outline-blocks.
constexpr llvm::StringLiteral kBlockKernelAttr = "attn.block_kernel";
/// Discardable attribute on attn.mask ops made by --attn-decompose: which
/// part of the attention produced the mask ("causal", "kv_lengths").
constexpr llvm::StringLiteral kMaskOriginAttr = "origin";
/// Discardable attribute on the attn.mask of a window2d partition (origin
/// "window2d"): `{grid = array<i64: rows, cols>, window, shift}`, which the
/// window_tiled lowering iterates instead of evaluating the mask.
constexpr llvm::StringLiteral kWindowAttr = "window2d";

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTNOPS_H
