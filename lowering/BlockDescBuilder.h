//===- BlockDescBuilder.h - block kernels and architectures -----*- C++ -*-===//
//
// Reads the functions --attn-outline-blocks made: each `attn.block_kernel`
// function becomes a BlockKernelDesc, each `attn.arch` function an
// ArchDesc.  Unsupported IR is reported at the offending op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_BLOCKDESCBUILDER_H
#define ATTN_LOWERING_BLOCKDESCBUILDER_H

#include "lowering/ArchDesc.h"

#include "mlir/IR/BuiltinOps.h"

namespace attn {

mlir::FailureOr<std::vector<BlockKernelDesc>>
buildBlockKernelDescs(mlir::ModuleOp module);

mlir::FailureOr<std::vector<ArchDesc>> buildArchDescs(mlir::ModuleOp module);

} // namespace attn

#endif // ATTN_LOWERING_BLOCKDESCBUILDER_H
