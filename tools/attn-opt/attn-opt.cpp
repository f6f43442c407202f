//===- attn-opt.cpp - the attn pass driver --------------------------------===//
//
// mlir-opt for the attn dialect: registers attn, the upstream dialects its IR
// uses, the attn passes and a few generic ones (canonicalize, cse,
// symbol-dce).  Nothing else, to keep the tool small and fast to build.
//
//===----------------------------------------------------------------------===//

#include "dialect/InitAttn.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::attn::registerAttnDialects(registry);
  mlir::attn::registerAllAttnPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
