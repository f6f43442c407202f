//===- Frontend.h - the .attn frontend's public entry points ----*- C++ -*-===//
//
// What tools call to turn `.attn` source into the attn dialect.  Errors are
// reported as MLIR diagnostics at FileLineColLoc locations of the source, so
// a SourceMgrDiagnosticHandler prints them with file:line:col and a caret,
// and `attnc -verify-diagnostics` can test them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_FRONTEND_H
#define ATTN_FRONTEND_FRONTEND_H

#include "frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace attn::frontend {

/// Options that change how a source is compiled.
struct FrontendOptions {
  /// `--dim N=4096`: replaces the default of a declared dim (also a `?` one).
  std::map<std::string, int64_t> dimOverrides;
  /// `--config`: the point of the architectures' choices
  /// (docs/Architectures.md §1).
  std::string config;
};

/// Parses the main buffer of `sourceMgr`.  Returns null after reporting
/// errors on `context`'s diagnostic engine.
std::unique_ptr<ModuleAST> parseSource(llvm::SourceMgr &sourceMgr,
                                       mlir::MLIRContext &context);

/// Prints the AST, with locations, for `attnc -emit=ast`.
void dumpAST(const ModuleAST &module, llvm::raw_ostream &os);

/// Checks the AST and generates the attn dialect (architecture level).
/// Returns null after reporting errors.
mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(const ModuleAST &module,
                                               mlir::MLIRContext &context,
                                               const FrontendOptions &options);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_FRONTEND_H
