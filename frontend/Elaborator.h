//===- Elaborator.h - the architecture elaborator (private) -----*- C++ -*-===//
//
// Shared by Elaborate.cpp (driver, statements, expressions, argument
// helpers), ElaborateBlocks.cpp (projections, norms, convolutions, ...) and
// ElaborateAttention.cpp (attention blocks and their cores).  Not part of
// the frontend's interface: Elaborate.h is.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_ELABORATOR_H
#define ATTN_FRONTEND_ELABORATOR_H

#include "frontend/Elaborate.h"
#include "frontend/Lexer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace attn::frontend::elab {

/// What an architecture name or expression denotes.
struct Value {
  enum class Kind { Tensor, Int, Float, Bool, Ref };
  Kind kind = Kind::Int;
  int tensor = -1;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  /// Kind::Ref: an expression evaluated where it is used (a variant such as
  /// `vicinity(grid = [14, 14])`, an activation name), with the names of
  /// the architecture already substituted.
  std::shared_ptr<ExprAST> ref;

  static Value tensorValue(int id) {
    Value v;
    v.kind = Kind::Tensor;
    v.tensor = id;
    return v;
  }
  static Value intValue(int64_t x) {
    Value v;
    v.kind = Kind::Int;
    v.i = x;
    return v;
  }
};

/// Deep copy of an expression; a name for which `subst` returns an
/// expression is replaced by it.
using NameSubst = std::function<ExprPtr(const NameExprAST &)>;
ExprPtr cloneExpr(const ExprAST &expr, const NameSubst &subst);

/// U(-bound, bound), the initializer of projections, biases and kernels.
inline WeightInit uniform(double bound) { return {"uniform", bound, 0.0}; }

/// A tensor parameter of a variant that an architecture provides as a
/// weight of the attention block.
struct VariantWeight {
  std::string name;
  std::vector<int64_t> shape;
  WeightInit init;
};

/// The arguments of a block call, split and checked against the names the
/// block takes.
struct BlockArgs {
  std::vector<const ArgAST *> positional;
  std::map<std::string, const ArgAST *> named;
  const ArgAST *get(const std::string &name) const {
    auto it = named.find(name);
    return it == named.end() ? nullptr : it->second;
  }
};

/// Evaluates architectures (Elaborate.h).  One instance per module; the
/// per-architecture state is reset by run().
class Elaborator {
public:
  Elaborator(mlir::MLIRContext &context, const ModuleAST &module,
             const ModuleAST &prelude,
             const std::map<std::string, int64_t> &dims)
      : context(context), module(module), prelude(prelude), dims(dims) {}

  mlir::FailureOr<Elaboration> run(const std::string &configText);

private:
  mlir::InFlightDiagnostic emitError(const Location &loc) {
    hadError = true;
    return mlir::emitError(toMLIRLoc(context, loc));
  }

  // Statements.
  void collectChoices(const std::vector<ArchStmtAST> &body, bool inRepeat,
                      std::map<std::string, ChoiceSite> &sites);
  bool runBody(const std::vector<ArchStmtAST> &body);
  bool runChoose(const ArchStmtAST &stmt);
  bool runRepeat(const ArchStmtAST &stmt);

  // Expressions.
  std::optional<Value> eval(const ExprAST &expr);
  std::optional<Value> evalBinary(const BinaryExprAST &expr);
  std::optional<Value> evalCall(const CallExprAST &call);
  std::optional<int64_t> evalInt(const ExprAST &expr, llvm::StringRef what);
  std::optional<double> evalFloat(const ExprAST &expr, llvm::StringRef what);
  std::optional<bool> evalBool(const ExprAST &expr, llvm::StringRef what);
  std::optional<std::vector<int64_t>> evalIntList(const ExprAST &expr,
                                                  llvm::StringRef what,
                                                  size_t length);
  std::optional<int> evalTensor(const ExprAST &expr, llvm::StringRef what);
  /// A reference (variant, activation): the expression with the
  /// architecture's names substituted.
  std::shared_ptr<ExprAST> evalRef(const ExprAST &expr);
  /// The bare name a reference denotes (`gelu`), or "" with an error.
  std::string refName(const ExprAST &expr, llvm::StringRef what);

  // Blocks.
  bool splitArgs(const CallExprAST &call, unsigned maxPositional,
                 std::initializer_list<const char *> names, BlockArgs &out);
  std::string blockPath(const BlockArgs &args, llvm::StringRef base,
                        bool numbered = false);
  int newTensor(std::vector<int64_t> shape, std::string dtype = "f32");
  int addWeight(const std::string &path, llvm::StringRef leaf,
                std::vector<int64_t> shape, WeightInit init,
                const Location &loc, std::string dtype = "f32");
  int addNode(ArchNode node, std::vector<int64_t> shape);
  /// Adds node `op` over `inputs` with result `shape`; `attrs` sets its
  /// attributes.
  int addOp(llvm::StringRef op, std::vector<int> inputs,
            std::vector<int64_t> shape, const Location &loc,
            const std::string &path,
            llvm::function_ref<void(ArchNode &)> attrs = nullptr);

  // Named arguments of block calls; each returns `dflt` when the argument
  // is absent and reports a malformed one.
  /// An integer in [lo, hi].
  std::optional<int64_t>
  intArg(const BlockArgs &args, const char *name, int64_t dflt,
         int64_t lo = std::numeric_limits<int64_t>::min(),
         int64_t hi = std::numeric_limits<int64_t>::max());
  std::optional<bool> boolArg(const BlockArgs &args, const char *name,
                              bool dflt);
  std::optional<double> floatArg(const BlockArgs &args, const char *name,
                                 double dflt);
  /// A bare name among `allowed` (`mode = adder`).
  std::optional<std::string> keywordArg(const BlockArgs &args,
                                        const char *name, const char *dflt,
                                        llvm::ArrayRef<llvm::StringRef> allowed,
                                        llvm::StringRef callee);
  /// The required `grid = [h, w]` of a block on a token grid.
  std::optional<std::vector<int64_t>> gridArg(const BlockArgs &args,
                                              llvm::StringRef callee,
                                              const Location &loc);
  /// The tensor given as positional argument `index`.
  std::optional<int> tensorArg(const BlockArgs &args, unsigned index,
                               llvm::StringRef callee);
  /// A copy: adding tensors may move the graph's storage.
  std::vector<int64_t> shapeOf(int value) const {
    return graph->values[value].shape;
  }
  int64_t channels(int value) const { return shapeOf(value).back(); }

  std::optional<int> projection(int x, int64_t out, const std::string &path,
                                const std::string &mode, bool bias,
                                const Location &loc,
                                llvm::StringRef weightLeaf = "w",
                                llvm::StringRef biasLeaf = "b");
  std::optional<int> norm(int x, const std::string &kind, double eps,
                          const std::string &path, const Location &loc);
  std::optional<int> activation(int x, const std::string &kind,
                                const std::string &path, const Location &loc);
  std::optional<int> attentionBlock(const CallExprAST &call);
  /// Multi-head attention over `qIn` (queries) and `kvIn` (keys, values):
  /// the projections, the core and the output projection to `out`
  /// channels, weights under `path` (attention_block, shiftadd_block).
  std::optional<int> multiHeadAttention(int qIn, int kvIn, int64_t heads,
                                        int64_t kvHeads, int64_t headDim,
                                        int64_t out, bool bias,
                                        std::shared_ptr<ExprAST> variant,
                                        bool causal, const std::string &path,
                                        const Location &loc);
  /// The tensor parameters of `variant` an architecture provides as
  /// weights (Luna's memory [H, rows, D], window2d's relative bias
  /// [H, (2w - 1)^2]) for queries of shape `qs`.
  std::optional<std::vector<VariantWeight>>
  variantWeights(const ExprAST &variant, const std::vector<int64_t> &qs,
                 const Location &loc);
  /// The synthetic kernel computing `variant` on q, k, v (and the tensor
  /// parameters), shared by identical uses.
  std::string syntheticKernel(int q, int k, int v, const ExprAST &variant,
                              bool causal,
                              const std::vector<VariantWeight> &params,
                              const Location &loc);
  std::optional<int> attentionCore(int q, int k, int v,
                                   std::shared_ptr<ExprAST> variant,
                                   bool causal, const std::string &path,
                                   const Location &loc);
  /// Evolving attention (spec V6) on materialized maps, carrying the map
  /// between the evolving blocks of the architecture.
  std::optional<int> evolvingCore(int q, int k, int v, const ExprAST &variant,
                                  bool causal, const std::string &path,
                                  const Location &loc);
  std::optional<int> mlpBlock(const CallExprAST &call);
  std::optional<int> linearBlock(const CallExprAST &call,
                                 const std::string &mode);
  std::optional<int> normBlock(const CallExprAST &call,
                               const std::string &kind);
  std::optional<int> convBlock(const CallExprAST &call, int rank);
  std::optional<int> poolBlock(const CallExprAST &call);
  std::optional<int> sliceBlock(const CallExprAST &call);
  std::optional<int> concatBlock(const CallExprAST &call);
  std::optional<int> shiftAddBlock(const CallExprAST &call);
  /// pool(x) with `stride`-sized windows on `grid` (strided queries).
  std::optional<int> poolTokens(int x, const std::vector<int64_t> &grid,
                                int64_t window, int64_t stride,
                                const std::string &mode,
                                const std::string &path, const Location &loc);

  const VariantDeclAST *findVariant(llvm::StringRef name) const;

  mlir::MLIRContext &context;
  const ModuleAST &module;
  const ModuleAST &prelude;
  const std::map<std::string, int64_t> &dims;
  bool hadError = false;

  std::map<std::string, ConfigEntry> config;
  Elaboration result;
  /// Synthetic kernels by their deduplication key.
  std::map<std::string, std::string> kernelByKey;

  // Per architecture.
  ArchGraph *graph = nullptr;
  std::map<std::string, ChoiceSite> sites;
  std::map<std::string, Value> env;
  /// Block-path prefix segments and the names used in each scope.
  std::vector<std::string> path;
  std::vector<std::map<std::string, int>> used;
  /// Block paths given explicitly with `name =` (their weights are shared).
  std::set<std::string> sharedPaths;
  /// The current layer (the running index over every `repeat`), -1 outside.
  int64_t layer = -1;
  int64_t nextLayer = 0;
  /// Per-layer choices: the label taken at each layer.
  std::map<std::string, std::vector<std::string>> perLayerTaken;
  std::optional<int> output;
  /// The map the last evolving attention block exported.
  std::optional<int> carriedMap;
};

} // namespace attn::frontend::elab

#endif // ATTN_FRONTEND_ELABORATOR_H
