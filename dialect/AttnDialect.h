//===- AttnDialect.h - attn dialect declaration -----------------*- C++ -*-===//
//
// Declares the attn dialect class, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNDIALECT_H
#define ATTN_DIALECT_ATTNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/AttnDialect.h.inc"
#include "dialect/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/AttnAttrs.h.inc"

#endif // ATTN_DIALECT_ATTNDIALECT_H
