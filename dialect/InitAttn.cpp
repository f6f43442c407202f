//===- InitAttn.cpp - registration of what attn tools use -----------------===//

#include "dialect/InitAttn.h"
#include "dialect/AttnDialect.h"
#include "dialect/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

void mlir::attn::registerAttnDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

void mlir::attn::registerAllAttnPasses() {
  registerAttnPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}
