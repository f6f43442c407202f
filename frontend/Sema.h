//===- Sema.h - semantic checks of the .attn language -----------*- C++ -*-===//
//
// Resolves names, types and shapes of a parsed module (plus the prelude) and
// records what MLIRGen needs: dim values, the checked signature of each
// kernel, the resolved `attention` (or `ema`) call, the type of every variant
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
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LogicalResult.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace attn::frontend {

/// The type of a scalar expression in a variant body.
enum class ScalarKind { Int, Float, Bool };

/// How a scalar kind is named in messages: `int`, `f32`, `bool`.
llvm::StringRef spell(ScalarKind kind);

/// A compile-time constant (variant parameters, `scale`).  Variant
/// parameters also take non-scalar values: a list of ints (`int[K]`), a
/// built-in feature map (`feature`) or a kernel argument (`tensor`).
struct ConstValue {
  /// What the value is.
  enum class Form { Scalar, IntList, Feature, Tensor };

  Form form = Form::Scalar;
  ScalarKind kind = ScalarKind::Int;
  int64_t intValue = 0;
  double floatValue = 0.0;
  bool boolValue = false;
  /// IntList: the elements.
  std::vector<int64_t> list;
  /// Feature: the map's name; Tensor: the kernel parameter's name.
  std::string name;
  /// Tensor: the kernel parameter's index.
  unsigned tensor = 0;
  /// Tensor: no tensor (the default `none` of an optional tensor
  /// parameter, `bias: tensor = none`).
  bool absent = false;

  static ConstValue getInt(int64_t v);
  static ConstValue getFloat(double v);
  static ConstValue getBool(bool v);
  static ConstValue getList(std::vector<int64_t> elements);
  static ConstValue getFeature(llvm::StringRef name);
  static ConstValue getTensor(llvm::StringRef name, unsigned index);
  /// The value `none` of an optional tensor parameter.
  static ConstValue getAbsentTensor();
  /// The value as a double (ints converted).
  double asDouble() const;
  /// The value for messages: `3`, `2.5`, `true`, `[14, 14]`, `relu`, `b`,
  /// `none`.
  std::string str() const;
  bool operator==(const ConstValue &other) const;
  bool operator<(const ConstValue &other) const;
};

/// The type of a variant parameter: a scalar (`int f32 f64 bool`), a list
/// of ints (`int[K]`), a feature map (`feature`) or a tensor (`tensor`).
struct ParamType {
  ConstValue::Form form = ConstValue::Form::Scalar;
  /// The kind of a scalar.
  ScalarKind scalar = ScalarKind::Int;
  /// K of `int[K]`.
  unsigned length = 0;
  /// As written: `int`, `f32`, `int[2]`, `feature`, `tensor`.
  std::string str() const;
};

/// The built-in feature maps (`feature = NAME`): identity, relu, elu1,
/// softplus, exp.
bool isFeatureMap(llvm::StringRef name);
/// "identity, relu, elu1, softplus or exp".
std::string featureMapNames();

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

/// The role a name spells (`B H N M D G`), if any.
std::optional<Role> roleByName(llvm::StringRef name);
/// The name of a role: `B`, `H`, `N`, `M`, `D`, `G`.
llvm::StringRef spell(Role role);

/// What a name in a variant body refers to.
struct NameRef {
  /// Binder: an item parameter; Param: a variant parameter; Dim: a declared
  /// dim (its role at the call, or its value); Role: a role of the call
  /// (`N` in the prelude, or an undeclared role name).
  enum class Kind { Binder, Param, Dim, Role };
  Kind kind = Kind::Dim;
  /// The binder position or the parameter index.
  unsigned index = 0;
  /// The dim name for Kind::Dim.
  std::string dim;
  /// The role for Kind::Role.
  Role role = Role::B;
};

/// The row normalizer of a variant.
enum class Normalizer { Softmax, Sum, None };

/// The structural part of a variant at one use (issue 5, docs/Variants.md):
/// Swin's 2-D windows (`partition = window2d(...)`), Couplformer's coupled
/// row and column maps (`map = coupler(grid)`) or EIT's head-mixing map
/// convolutions (`map = emha(isi, csi, kernel)`).
struct StructureUse {
  enum class Kind { None, Window2d, Coupler, Emha };
  Kind kind = Kind::None;
  /// Window2d, Coupler: the token grid [rows, cols] (N = rows * cols).
  int64_t gridRows = 0, gridCols = 0;
  /// Window2d: the window side and the cyclic shift as given, and as used
  /// (min(rows, cols) <= window: window = min(rows, cols), no shift).
  int64_t window = 0, shift = 0, givenWindow = 0, givenShift = 0;
  /// Window2d: the bias table [H, (2 window - 1)^2] as the attention's
  /// variant operand, when given (the parameter's index in `biasParam`).
  std::optional<unsigned> biasOperand, biasParam;
  /// Emha: the ISI and CSI conv weights [H, H, k, k] (variant operands and
  /// the parameters' indices) and the kernel size k (odd).
  unsigned isiOperand = 0, csiOperand = 0, isiParam = 0, csiParam = 0;
  int64_t kernelSize = 0;
};

/// The linear-family part of a variant at one use, with the parameter
/// values of that use (docs/LinearFamily.md).
struct LinearUse {
  Normalizer normalize = Normalizer::Softmax;
  /// `sum`: the eps (also with clamp).
  std::optional<double> eps;
  bool clamp = false;

  /// The base feature map: none (the identity), a built-in map, the
  /// variant's `feature(x) = expr` or FAVOR+ random features.
  enum class Feature { Identity, Builtin, Pointwise, Favor };
  Feature feature = Feature::Identity;
  /// Builtin: relu, elu1, softplus or exp.
  std::string builtin;
  /// Favor: the number of features and the seed.
  int64_t features = 0, seed = 0;

  /// The Toeplitz weight.
  enum class Weight { None, Momentum, Rpe };
  Weight weight = Weight::None;
  double beta = 0.0, gamma = 1.0;
  /// Rpe: the index of the bias among the attention's variant operands.
  unsigned rpeOperand = 0;

  /// Luna (`pack = luna(P, p)`, docs/LinearFamily.md §6): softmax attention
  /// through a packed memory of `packRows` rows, the attention's variant
  /// operand `packOperand`.
  bool pack = false;
  unsigned packOperand = 0;
  int64_t packRows = 0;

  /// `partition = ...` or `map = ...` (issue 5).
  StructureUse structure;
};

/// A checked variant.
struct VariantInfo {
  const VariantDeclAST *decl = nullptr;
  bool fromPrelude = false;
  const VariantItemAST *score = nullptr;
  const VariantItemAST *mask = nullptr;
  const VariantItemAST *scale = nullptr;
  /// `normalize = ...` (null: softmax) and the normalizer it names.
  const VariantItemAST *normalize = nullptr;
  Normalizer normalizer = Normalizer::Softmax;
  /// `feature(x) = expr` or `feature = ...`.
  const VariantItemAST *feature = nullptr;
  /// `expand(i) = [...]`.
  const VariantItemAST *expand = nullptr;
  /// `weight = momentum(...) | rpe(...)`.
  const VariantItemAST *weight = nullptr;
  /// `pack = luna(P, p)` and the index of its memory parameter `P`.
  const VariantItemAST *pack = nullptr;
  unsigned packMemory = 0;
  /// `partition = window2d(grid, window, shift [, bias])` (Swin's windows).
  const VariantItemAST *partition = nullptr;
  /// `map = coupler(grid)` or `map = emha(isi, csi [, kernel])`.
  const VariantItemAST *map = nullptr;
  /// `require = cond` items, in order.
  std::vector<const VariantItemAST *> requirements;
  /// True when an item of the linear family is malformed (reported at the
  /// declaration): uses fail without another error.
  bool bad = false;
  /// True when `scale` failed to evaluate with the default parameters (an
  /// error has been reported).
  bool badScale = false;
  /// True when the linear-family items failed to evaluate with the default
  /// parameters (reported): uses with those values fail silently.
  bool badDefaults = false;
  std::vector<ParamType> paramTypes;
  /// The scalar kind of each parameter (Int for non-scalar ones).
  std::vector<ScalarKind> paramKinds;
  /// Default values, converted to the parameter types.
  std::vector<std::optional<ConstValue>> defaults;
  /// Dims read by `score`, `mask`, `feature` and `expand`, with the first
  /// place each is read.
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
  /// The extent of each role at this call (empty: symbolic).
  std::map<Role, std::optional<int64_t>> roleValues;
  /// The linear-family settings of the variant with these parameters.
  LinearUse linear;
  /// The kernel parameters bound to the variant's tensor parameters, in
  /// order (the attention's variant operands).
  std::vector<unsigned> variantOperands;
};

/// A checked `ema(...)` call: Mega's EMA SeqMix (docs/LinearFamily.md §7).
struct EmaInfo {
  Location loc;
  /// The kernel parameters: x [B, L, C], delta/alpha/beta/gamma [C, n] and
  /// the optional omega [C].
  unsigned input = 0, delta = 0, alpha = 0, beta = 0, gamma = 0;
  std::optional<unsigned> omega;
  /// `paper` (the default) or `code`.
  std::string compat = "paper";
};

/// A checked kernel: its body is `attention(...)` or, when `ema` is set,
/// `ema(...)`.
struct KernelInfo {
  const KernelDeclAST *decl = nullptr;
  std::vector<ResolvedType> paramTypes;
  ResolvedType resultType;
  AttentionInfo attention;
  std::optional<EmaInfo> ema;
};

/// Checks a module; on success its accessors describe it.
class Sema {
public:
  Sema(mlir::MLIRContext &context, const FrontendOptions &options)
      : context(context), options(options) {}

  /// Checks `module` with the variants of `prelude` in scope.  Reports
  /// every error found and fails if there was any.
  /// `synthetic` holds the attention kernels of elaborated architectures
  /// (Elaborate.h), checked after the user's kernels.
  mlir::LogicalResult check(const ModuleAST &module, const ModuleAST &prelude,
                            const std::vector<KernelDeclAST> &synthetic = {});

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
  /// The (parameter index, element) an element of a list parameter reads.
  std::pair<unsigned, unsigned> getIndexRef(const IndexExprAST &expr) const {
    return indexRefs.at(&expr);
  }

private:
  mlir::InFlightDiagnostic emitError(const Location &loc);
  void attachNote(mlir::InFlightDiagnostic &diag, const Location &loc,
                  llvm::StringRef message);

  // Declarations.
  void checkDims(const ModuleAST &module);
  void declareVariants(const ModuleAST &module, bool fromPrelude);
  void checkVariant(VariantInfo &info);
  std::optional<ParamType> checkParamType(const VariantParamAST &param);
  bool checkBinders(const VariantItemAST &item,
                    const llvm::StringMap<const VariantParamAST *> &params,
                    llvm::StringRef what);
  void checkNormalizeItem(VariantInfo &info, const VariantItemAST &item);
  void checkFeatureItem(VariantInfo &info, const VariantItemAST &item);
  void checkExpandItem(VariantInfo &info, const VariantItemAST &item);
  void checkWeightItem(VariantInfo &info, const VariantItemAST &item);
  void checkPackItem(VariantInfo &info, const VariantItemAST &item);
  void checkPartitionItem(VariantInfo &info, const VariantItemAST &item);
  void checkMapItem(VariantInfo &info, const VariantItemAST &item);
  /// Evaluates the `partition` or `map` item of `info` with `values` into
  /// `out` (as resolveLinear, whose `eval`/`where` rules it follows).
  bool resolveStructure(const VariantInfo &info,
                        const std::vector<ConstValue> &values,
                        const std::vector<const ArgAST *> *given,
                        const Location &useLoc, StructureUse &out);
  /// Checks the structure of the variant of `attention` against the call's
  /// shapes (the grid against N, the tensors' shapes, the masks it admits).
  bool checkStructure(const VariantInfo &info, const KernelInfo &kernel,
                      const AttentionInfo &attention,
                      const std::vector<const ArgAST *> &given,
                      const Location &useLoc);
  void checkRequireItem(VariantInfo &info, const VariantItemAST &item);
  void checkLinearConsistency(VariantInfo &info);
  /// Evaluates the linear-family items of `info` with parameter `values`.
  /// `given` (at a use) holds the argument that gave each parameter; errors
  /// about an expression that reads a given parameter are reported at that
  /// argument (a bare parameter) or at `useLoc`, others at the expression.
  bool resolveLinear(const VariantInfo &info,
                     const std::vector<ConstValue> &values,
                     const std::vector<const ArgAST *> *given,
                     const Location &useLoc, LinearUse &out);
  /// Checks the `require` items of the variant of `attention` at a use.
  bool checkRequires(const VariantInfo &info, const AttentionInfo &attention,
                     const Location &useLoc);
  /// A value given at a use for a tensor parameter: a kernel parameter,
  /// of type f32[H, R] unless `checkedLater` (Luna's memory, whose shape is
  /// checked by checkMemory once the rows are known, and emha's conv
  /// weights, checked by checkStructure).
  std::optional<ConstValue> checkTensorArg(const ArgAST &arg,
                                           llvm::StringRef what,
                                           const KernelInfo &kernel,
                                           const AttentionInfo &attention,
                                           bool checkedLater);
  /// Checks Luna's memory, given at a use by `arg`: f32[H, rows, D].
  bool checkMemory(const ArgAST &arg, const KernelInfo &kernel,
                   const AttentionInfo &attention);
  /// Reports an error once per location and message (variant items are
  /// evaluated at the declaration and at every use).
  void emitOnce(const Location &loc, const std::string &message);
  void checkKernel(const KernelDeclAST &kernel);
  std::optional<ResolvedType> resolveType(const TensorTypeAST &type,
                                          llvm::StringRef what);
  bool checkAttention(const CallExprAST &call, KernelInfo &info);
  /// How a built-in call (`attention`, `ema`) takes its arguments.
  struct BuiltinArgs {
    /// The callee: "attention".
    llvm::StringRef callee;
    /// The most positional arguments, which come before the named ones.
    unsigned maxPositional;
    /// The positional arguments for messages: "q, k and v".
    llvm::StringRef positionalNames;
    /// What the call takes for messages: "3 positional arguments (q, k, v)".
    llvm::StringRef positionalLimit;
  };
  /// Splits the arguments of the built-in call `call` into `positional` and
  /// named ones, each name given once; hands each named one, in order, to
  /// `checkNamed`, which returns false once it has reported an error.
  /// Returns false when the positional arguments are malformed (reported;
  /// the call cannot be checked further); clears `ok` when a named argument
  /// is repeated or rejected.
  bool splitBuiltinArgs(const CallExprAST &call, const BuiltinArgs &spec,
                        std::vector<const ArgAST *> &positional,
                        llvm::function_ref<bool(const ArgAST &)> checkNamed,
                        bool &ok);
  /// Reports the argument `name` of `callee`, given again at `loc`, with a
  /// note at `first`.
  void emitGivenTwice(const Location &loc, llvm::StringRef name,
                      llvm::StringRef callee, const Location &first);
  /// The parameter of `kernel` that `arg`, the `role` argument of the
  /// built-in call `callee`, names; reports an error when it names none.
  std::optional<unsigned> findKernelParam(const ArgAST &arg,
                                          const KernelDeclAST &kernel,
                                          llvm::StringRef callee,
                                          llvm::StringRef role);
  /// Checks `v`, the scale of `what` ("attention", "variant 'x'") written
  /// at `loc`: a positive finite number.  Reports an error otherwise.
  bool checkScaleValue(const ConstValue &v, const Location &loc,
                       llvm::StringRef what);
  /// Checks the result type of the kernel of `info` against `expected`, the
  /// result of its `callee` call.  `layout` ends the message of a rank or
  /// element type mismatch; dim i is named `dimNames[i]` in messages and
  /// given by the parameter `sources[i]`.
  bool checkResultType(const KernelInfo &info, const ResolvedType &expected,
                       llvm::StringRef callee, llvm::StringRef layout,
                       llvm::ArrayRef<const char *> dimNames,
                       llvm::ArrayRef<llvm::StringRef> sources);
  bool checkVariantUse(const ExprAST &expr, AttentionInfo &attention,
                       const KernelInfo &kernel);
  /// Checks `ema(x, delta, alpha, beta, gamma [, omega] [, compat = ...])`
  /// and records it in `info.ema`.
  bool checkEma(const CallExprAST &call, KernelInfo &info);
  bool checkShapes(const CallExprAST &call, KernelInfo &info,
                   const std::vector<const ArgAST *> &qkv);

  // Variant bodies.
  /// Names visible in the body of an item (score, mask, feature, expand,
  /// require).
  struct Scope {
    const VariantInfo &variant;
    const VariantItemAST &item;
    /// The kind of each binder (`s` of score and `x` of feature are f32).
    llvm::ArrayRef<ScalarKind> binderKinds;
    /// The binders for messages: "s, b, h, i, j by position".
    llvm::StringRef binderHint;
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
    /// At a use (`require`): the extents of the call's roles.  Role names
    /// then read them: before dims when `rolesFirst` (the prelude), else
    /// when no dim has that name.
    const std::map<Role, std::optional<int64_t>> *roleValues = nullptr;
    bool rolesFirst = false;
  };
  std::optional<ConstValue> evalConst(const ExprAST &expr,
                                      const ConstScope &scope);
  std::optional<ConstValue> evalConstCall(const CallExprAST &call,
                                          const ConstScope &scope);
  /// Checks `name[index]`: `name` a list parameter of `variant` (of the
  /// given types) and the index a constant in range.  Returns the
  /// (parameter, element).
  std::optional<std::pair<unsigned, unsigned>>
  checkIndex(const IndexExprAST &expr, const VariantDeclAST &variant,
             llvm::ArrayRef<ParamType> types);
  void emitListError(const ExprAST &expr);
  /// Evaluates a parameter value (a default or a value given at a use) of
  /// a non-tensor `type`; `scopeWhat` names the expression for errors in
  /// it, `what` the parameter.
  std::optional<ConstValue> evalParamValue(const ExprAST &expr,
                                           const ParamType &type,
                                           const std::string &scopeWhat,
                                           const std::string &what);
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
  llvm::DenseMap<const IndexExprAST *, std::pair<unsigned, unsigned>>
      indexRefs;
  /// Errors reported by emitOnce: "file:line:col: message".
  std::set<std::string> reported;
  /// When set, errors are reported here instead of at the offending token
  /// (requirements of prelude variants are reported at the use).
  std::optional<Location> errorLocOverride;
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_SEMA_H
