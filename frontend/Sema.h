//===- Sema.h - semantic checks of the .attn language -----------*- C++ -*-===//
//
// Resolves names, types and shapes of a parsed module (plus the prelude) and
// records what MLIRGen needs: dim values, the checked signature of each
// kernel, the resolved `attention` call, the type of every variant
// expression and what each name in a variant body refers to.  Errors are
// MLIR diagnostics at the offending token.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_SEMA_H
#define ATTN_FRONTEND_SEMA_H

#include "frontend/AST.h"
#include "frontend/Frontend.h"
#include "frontend/Lexer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LogicalResult.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn::frontend {

/// The type of a scalar expression in a variant body.
enum class ScalarKind { Int, Float, Bool };

/// How a scalar kind is named in messages: `int`, `f32`, `bool`.
llvm::StringRef spell(ScalarKind kind);

/// A compile-time constant (variant parameters, `scale`).
struct ConstValue {
  ScalarKind kind = ScalarKind::Int;
  int64_t intValue = 0;
  double floatValue = 0.0;
  bool boolValue = false;

  static ConstValue getInt(int64_t v);
  static ConstValue getFloat(double v);
  static ConstValue getBool(bool v);
  /// The value as a double (ints converted).
  double asDouble() const;
  bool operator==(const ConstValue &other) const;
  bool operator<(const ConstValue &other) const;
};

/// Prints a number for messages: `2.5`, `0`, `1e-06`.
std::string formatNumber(double value);

/// Element types of tensors.
enum class DType { F32, F16, BF16, F64, I32 };

/// The spelling of an element type: f32, f16, bf16, f64, i32.
llvm::StringRef spell(DType dtype);

/// A declared dim with its value after `--dim` overrides.
struct DimInfo {
  std::string name;
  /// Empty for a symbolic dim (`?`).
  std::optional<int64_t> value;
  Location loc;
};

/// One extent of a checked tensor type.
struct ResolvedDim {
  /// The dim name, or empty for a literal.
  std::string name;
  /// Empty when symbolic.
  std::optional<int64_t> value;
};

/// A checked tensor type.
struct ResolvedType {
  DType dtype = DType::F32;
  std::vector<ResolvedDim> dims;
};

/// The role of a dimension in an attention problem (mirrors the dialect's
/// DimRole): q is [B, H, N, D], k and v are [B, G, M, D].
enum class Role { B, H, N, M, D, G };

/// What a name in a variant body refers to.
struct NameRef {
  enum class Kind { Binder, Param, Dim };
  Kind kind = Kind::Dim;
  /// The binder position or the parameter index.
  unsigned index = 0;
  /// The dim name for Kind::Dim.
  std::string dim;
};

/// A checked variant.
struct VariantInfo {
  const VariantDeclAST *decl = nullptr;
  bool fromPrelude = false;
  const VariantItemAST *score = nullptr;
  const VariantItemAST *mask = nullptr;
  const VariantItemAST *scale = nullptr;
  /// True when `scale` failed to evaluate with the default parameters (an
  /// error has been reported).
  bool badScale = false;
  std::vector<ScalarKind> paramKinds;
  /// Default values, converted to the parameter types.
  std::vector<std::optional<ConstValue>> defaults;
  /// Dims read by `score` and `mask`, with the first place each is read.
  std::vector<std::pair<std::string, Location>> dimsRead;
};

/// A checked `attention(...)` call.
struct AttentionInfo {
  Location loc;
  unsigned query = 0, key = 0, value = 0;
  std::optional<unsigned> kvLengths;
  const VariantInfo *variant = nullptr;
  /// One value per variant parameter, converted to its type.
  std::vector<ConstValue> paramValues;
  /// True when every parameter has its default value.
  bool defaultParams = true;
  /// The variant's `scale` item evaluated with `paramValues`.
  std::optional<double> variantScale;
  bool causal = false;
  /// The `scale = ...` argument.
  std::optional<double> scale;
  /// The roles of the user's dim names at this call.
  std::map<std::string, Role> roles;
};

/// A checked kernel.
struct KernelInfo {
  const KernelDeclAST *decl = nullptr;
  std::vector<ResolvedType> paramTypes;
  ResolvedType resultType;
  AttentionInfo attention;
};

/// Checks a module; on success its accessors describe it.
class Sema {
public:
  Sema(mlir::MLIRContext &context, const FrontendOptions &options)
      : context(context), options(options) {}

  /// Checks `module` with the variants of `prelude` in scope.  Reports
  /// every error found and fails if there was any.
  mlir::LogicalResult check(const ModuleAST &module, const ModuleAST &prelude);

  const std::vector<DimInfo> &getDims() const { return dims; }
  const DimInfo *lookupDim(llvm::StringRef name) const;
  const std::vector<KernelInfo> &getKernels() const { return kernels; }
  /// Every variant name in scope (user and prelude).
  std::vector<std::string> getVariantNames() const;
  /// The type Sema gave to a variant expression.
  ScalarKind getType(const ExprAST &expr) const { return types.at(&expr); }
  /// What a name in a variant body refers to.
  const NameRef &getNameRef(const NameExprAST &expr) const {
    return nameRefs.at(&expr);
  }

private:
  mlir::InFlightDiagnostic emitError(const Location &loc);
  void attachNote(mlir::InFlightDiagnostic &diag, const Location &loc,
                  llvm::StringRef message);

  // Declarations.
  void checkDims(const ModuleAST &module);
  void declareVariants(const ModuleAST &module, bool fromPrelude);
  void checkVariant(VariantInfo &info);
  void checkKernel(const KernelDeclAST &kernel);
  std::optional<ResolvedType> resolveType(const TensorTypeAST &type,
                                          llvm::StringRef what);
  bool checkAttention(const CallExprAST &call, KernelInfo &info);
  bool checkVariantUse(const ExprAST &expr, AttentionInfo &attention,
                       const KernelInfo &kernel);
  bool checkShapes(const CallExprAST &call, KernelInfo &info,
                   const std::vector<const ArgAST *> &qkv);

  // Variant bodies.
  /// Names visible in a score or mask body.
  struct Scope {
    const VariantInfo &variant;
    const VariantItemAST &item;
    /// True in `score` (its first binder is the f32 score).
    bool isScore;
    std::vector<std::pair<std::string, Location>> &dimsRead;
  };
  std::optional<ScalarKind> checkExpr(const ExprAST &expr, Scope &scope);
  std::optional<ScalarKind> checkCall(const CallExprAST &call, Scope &scope);

  // Constant expressions.
  /// Names visible in a constant expression: dims with static values and,
  /// inside a variant, its parameters.
  struct ConstScope {
    /// What is being evaluated, for messages ("the scale of attention").
    std::string what;
    const VariantDeclAST *variant = nullptr;
    const std::vector<ConstValue> *paramValues = nullptr;
  };
  std::optional<ConstValue> evalConst(const ExprAST &expr,
                                      const ConstScope &scope);
  std::optional<ConstValue> evalConstCall(const CallExprAST &call,
                                          const ConstScope &scope);
  /// Converts `value` to `kind` (int → float is allowed) or reports an error
  /// at `loc` naming `what`.
  std::optional<ConstValue> convertTo(const ConstValue &value,
                                      ScalarKind kind, const Location &loc,
                                      llvm::StringRef what);

  mlir::MLIRContext &context;
  const FrontendOptions &options;
  bool hadError = false;

  std::vector<DimInfo> dims;
  llvm::StringMap<unsigned> dimIndex;
  /// Variants by name; user variants replace prelude ones.
  std::map<std::string, VariantInfo> variants;
  std::vector<KernelInfo> kernels;
  llvm::DenseMap<const ExprAST *, ScalarKind> types;
  llvm::DenseMap<const NameExprAST *, NameRef> nameRefs;
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_SEMA_H
