//===- ArchGen.h - elaborated architectures to the attn dialect -*- C++ -*-===//
//
// Appends the `attn.arch` function of an elaborated architecture to a module
// that already holds the synthetic attention kernels it calls.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_ARCHGEN_H
#define ATTN_FRONTEND_ARCHGEN_H

#include "frontend/ArchGraph.h"

#include "mlir/IR/BuiltinOps.h"

namespace attn::frontend {

/// Appends `graph` to `module` as a function marked `attn.arch`.
void generateArch(mlir::ModuleOp module, const ArchGraph &graph);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_ARCHGEN_H
