//===- Frontend.cpp - the .attn frontend's entry points -------------------===//
//
// parseSource, dumpAST and generateMLIR (see Frontend.h), plus the prelude:
// the built-in variants, parsed from prelude.attn embedded at build time.
//
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"

#include "frontend/ArchGen.h"
#include "frontend/Elaborate.h"
#include "frontend/Lexer.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Verifier.h"

using namespace attn::frontend;

/// The text of prelude.attn.
static const char kPrelude[] =
#include "frontend/Prelude.inc"
    ;

std::unique_ptr<ModuleAST>
attn::frontend::parseSource(llvm::SourceMgr &sourceMgr,
                            mlir::MLIRContext &context) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  Lexer lexer(buffer->getBuffer(), buffer->getBufferIdentifier(), context);
  return Parser(lexer, context).parseModule();
}

void attn::frontend::dumpAST(const ModuleAST &module, llvm::raw_ostream &os) {
  dump(module, os);
}

mlir::OwningOpRef<mlir::ModuleOp>
attn::frontend::generateMLIR(const ModuleAST &module,
                             mlir::MLIRContext &context,
                             const FrontendOptions &options) {
  context.loadDialect<mlir::attn::AttnDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect, mlir::math::MathDialect>();

  Lexer preludeLexer(kPrelude, "prelude.attn", context);
  std::unique_ptr<ModuleAST> prelude =
      Parser(preludeLexer, context).parseModule();
  if (!prelude)
    return nullptr;

  // Architectures are elaborated first: their attention cores become
  // synthetic kernels that Sema checks with the user's.
  std::map<std::string, int64_t> dims;
  for (const DimDeclAST &decl : module.dims)
    for (const DimDefAST &def : decl.defs)
      if (def.value)
        dims[def.name] = *def.value;
  for (auto &[name, value] : options.dimOverrides)
    dims[name] = value;
  Elaboration elaboration;
  if (!module.archs.empty() || !options.config.empty()) {
    mlir::FailureOr<Elaboration> result =
        elaborateArchs(context, module, *prelude, dims, options.config);
    if (mlir::failed(result))
      return nullptr;
    elaboration = std::move(*result);
  }

  Sema sema(context, options);
  if (mlir::failed(sema.check(module, *prelude, elaboration.kernels)))
    return nullptr;
  mlir::OwningOpRef<mlir::ModuleOp> generated = generateModule(context, sema);
  if (!generated)
    return nullptr;
  for (const ArchGraph &graph : elaboration.archs)
    generateArch(*generated, graph);
  if (mlir::failed(mlir::verify(*generated)))
    return nullptr;
  return generated;
}
