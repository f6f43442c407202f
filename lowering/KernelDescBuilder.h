//===- KernelDescBuilder.h - attn dialect to kernel descriptions -*- C++ -*-===//
//
// Reads the kernel functions of a module after --attn-form-kernels and
// describes each as an AttentionKernelDesc.  Unsupported shapes of IR are
// reported as diagnostics at the offending op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_KERNELDESCBUILDER_H
#define ATTN_LOWERING_KERNELDESCBUILDER_H

#include "lowering/KernelDesc.h"

#include "mlir/IR/BuiltinOps.h"

namespace attn {

/// Describes every kernel function (`attn.kernel` attribute) of `module`.
mlir::FailureOr<std::vector<AttentionKernelDesc>>
buildKernelDescs(mlir::ModuleOp module);

} // namespace attn

#endif // ATTN_LOWERING_KERNELDESCBUILDER_H
