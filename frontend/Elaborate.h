//===- Elaborate.h - architectures to straight-line graphs ------*- C++ -*-===//
//
// Evaluates the body of every `arch` of a module under one configuration
// (docs/Architectures.md §1): `repeat` is unrolled, each `choose` takes the
// configured alternative (per layer inside a `repeat`), block calls become
// ArchNodes and weights named by block path.  Each attention core becomes a
// synthetic `kernel` declaration (q, k, v and the variant's tensor
// parameters -> the attention) that Sema checks like a user kernel, so every
// variant is available in architectures.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_ELABORATE_H
#define ATTN_FRONTEND_ELABORATE_H

#include "frontend/AST.h"
#include "frontend/ArchGraph.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn::frontend {

/// One choice of an architecture, as the configuration names it.
struct ChoiceSite {
  std::string name;
  std::vector<std::string> labels;
  /// True when the choice is inside a `repeat` (one value per layer).
  bool perLayer = false;
  Location loc;
};

/// One `name=value`, `name=[v0,v1,...]` or `name.LAYER=value` entry of
/// `--config` (docs/Architectures.md §1), by choice name.
struct ConfigEntry {
  std::vector<std::string> values;
  bool isList = false;
  /// `name.3=value` entries: layer -> value.
  std::map<int64_t, std::string> layers;
  /// Set by the elaborator when an architecture has the choice.
  bool used = false;
};

/// Parses a `--config` text (whitespace ignored; commas inside brackets
/// and parentheses belong to the value).  Returns std::nullopt, or the
/// error naming the malformed entry.
std::optional<std::string>
parseConfig(llvm::StringRef text, std::map<std::string, ConfigEntry> &out);

/// The result of elaborating a module's architectures.
struct Elaboration {
  std::vector<ArchGraph> archs;
  /// The synthetic attention kernels the graphs call (deduplicated).
  std::vector<KernelDeclAST> kernels;
};

/// Elaborates every `arch` of `module`.  `config` is the `--config` text
/// (`heads=6,depth=9,mixer=[softmax,linear_elu,...],ratio.3=2`); `dims` the
/// values of the module's dims (after overrides).  Reports errors at the
/// source and fails if there was any.
mlir::FailureOr<Elaboration>
elaborateArchs(mlir::MLIRContext &context, const ModuleAST &module,
               const ModuleAST &prelude,
               const std::map<std::string, int64_t> &dims,
               const std::string &config);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_ELABORATE_H
