//===- AST.h - the .attn abstract syntax tree -------------------*- C++ -*-===//
//
// Plain data for a parsed `.attn` module: declarations (`dim`, `kernel`,
// `variant`, `arch`), tensor types and expressions.  Every node carries its
// source location.  No MLIR types appear here; meaning is given by Sema and
// MLIRGen.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_AST_H
#define ATTN_FRONTEND_AST_H

#include "frontend/Token.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attn::frontend {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Base class of expressions (LLVM-style RTTI through `getKind`).
class ExprAST {
public:
  enum class Kind {
    Int, Float, Bool, Name, Unary, Binary, Ternary, Call, List, Index
  };

  ExprAST(Kind kind, Location loc) : kind(kind), loc(std::move(loc)) {}
  virtual ~ExprAST() = default;

  Kind getKind() const { return kind; }
  const Location &getLoc() const { return loc; }

private:
  const Kind kind;
  Location loc;
};

using ExprPtr = std::unique_ptr<ExprAST>;

/// An integer literal: `256`.
class IntExprAST : public ExprAST {
public:
  IntExprAST(Location loc, int64_t value)
      : ExprAST(Kind::Int, std::move(loc)), value(value) {}
  int64_t getValue() const { return value; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Int; }

private:
  int64_t value;
};

/// A floating literal: `30.0`, `1e-6`.
class FloatExprAST : public ExprAST {
public:
  FloatExprAST(Location loc, double value)
      : ExprAST(Kind::Float, std::move(loc)), value(value) {}
  double getValue() const { return value; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Float; }

private:
  double value;
};

/// `true` or `false`.
class BoolExprAST : public ExprAST {
public:
  BoolExprAST(Location loc, bool value)
      : ExprAST(Kind::Bool, std::move(loc)), value(value) {}
  bool getValue() const { return value; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Bool; }

private:
  bool value;
};

/// A name: an index (`i`), a parameter, a dim, a kernel argument or a variant.
class NameExprAST : public ExprAST {
public:
  NameExprAST(Location loc, std::string name)
      : ExprAST(Kind::Name, std::move(loc)), name(std::move(name)) {}
  llvm::StringRef getName() const { return name; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Name; }

private:
  std::string name;
};

/// Unary operators.
enum class UnaryOp { Neg, Not };

/// `-x` or `!x`.
class UnaryExprAST : public ExprAST {
public:
  UnaryExprAST(Location loc, UnaryOp op, ExprPtr operand)
      : ExprAST(Kind::Unary, std::move(loc)), op(op),
        operand(std::move(operand)) {}
  UnaryOp getOp() const { return op; }
  const ExprAST &getOperand() const { return *operand; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Unary; }

private:
  UnaryOp op;
  ExprPtr operand;
};

/// Binary operators, loosest binding last.
enum class BinaryOp {
  Add, Sub, Mul, Div, Rem,
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or,
};

/// The source spelling of a binary operator (`+`, `<=`, `&&`, ...).
llvm::StringRef spell(BinaryOp op);

/// `lhs op rhs`; the location is the operator's.
class BinaryExprAST : public ExprAST {
public:
  BinaryExprAST(Location loc, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : ExprAST(Kind::Binary, std::move(loc)), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  const ExprAST &getLHS() const { return *lhs; }
  const ExprAST &getRHS() const { return *rhs; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Binary; }

private:
  BinaryOp op;
  ExprPtr lhs, rhs;
};

/// `cond ? a : b`; the location is the `?`.
class TernaryExprAST : public ExprAST {
public:
  TernaryExprAST(Location loc, ExprPtr cond, ExprPtr thenExpr,
                 ExprPtr elseExpr)
      : ExprAST(Kind::Ternary, std::move(loc)), cond(std::move(cond)),
        thenExpr(std::move(thenExpr)), elseExpr(std::move(elseExpr)) {}
  const ExprAST &getCond() const { return *cond; }
  const ExprAST &getThen() const { return *thenExpr; }
  const ExprAST &getElse() const { return *elseExpr; }
  static bool classof(const ExprAST *e) {
    return e->getKind() == Kind::Ternary;
  }

private:
  ExprPtr cond, thenExpr, elseExpr;
};

/// One argument of a call: positional (`q`) or named (`causal = true`).
struct ArgAST {
  /// Empty for a positional argument.
  std::string name;
  /// The location of the name (or of the value when positional).
  Location loc;
  ExprPtr value;
};

/// `callee(args)`: a function (`exp(x)`), `attention(...)` or a variant with
/// parameters (`sliding(window = 128)`).
class CallExprAST : public ExprAST {
public:
  CallExprAST(Location loc, std::string callee, std::vector<ArgAST> args)
      : ExprAST(Kind::Call, std::move(loc)), callee(std::move(callee)),
        args(std::move(args)) {}
  llvm::StringRef getCallee() const { return callee; }
  const std::vector<ArgAST> &getArgs() const { return args; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Call; }

private:
  std::string callee;
  std::vector<ArgAST> args;
};

/// A list literal `[e1, ..., eN]`: the value of `expand` or of an `int[K]`
/// variant parameter; the location is the `[`.
class ListExprAST : public ExprAST {
public:
  ListExprAST(Location loc, std::vector<ExprPtr> elements)
      : ExprAST(Kind::List, std::move(loc)), elements(std::move(elements)) {}
  const std::vector<ExprPtr> &getElements() const { return elements; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

/// An element of a list parameter: `grid[0]`; the location is the name's.
class IndexExprAST : public ExprAST {
public:
  IndexExprAST(Location loc, std::string name, Location nameLoc,
               ExprPtr index)
      : ExprAST(Kind::Index, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), index(std::move(index)) {}
  llvm::StringRef getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const ExprAST &getIndex() const { return *index; }
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Index; }

private:
  std::string name;
  Location nameLoc;
  ExprPtr index;
};

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// One extent of a tensor type: a dim name (`N`) or a literal (`64`).
struct DimRefAST {
  Location loc;
  /// Empty for a literal.
  std::string name;
  int64_t value = 0;
  bool isLiteral() const { return name.empty(); }
};

/// `f32[B, H, N, D]`.
struct TensorTypeAST {
  Location loc;
  /// The element type as written: f32, f16, bf16, f64 or i32.
  std::string dtype;
  std::vector<DimRefAST> dims;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// `N = 1024` or `N = ?` inside a `dim` declaration.
struct DimDefAST {
  Location loc;
  std::string name;
  /// Empty for a symbolic dim (`?`).
  std::optional<int64_t> value;
  Location valueLoc;
};

/// `dim B = 2, H = 8, N = ?`.
struct DimDeclAST {
  Location loc;
  std::vector<DimDefAST> defs;
};

/// `q: f32[B, H, N, D]`.
struct KernelParamAST {
  Location loc;
  std::string name;
  TensorTypeAST type;
};

/// `kernel name(params) -> [name:] type { return expr }`.
struct KernelDeclAST {
  Location loc;
  std::string name;
  Location nameLoc;
  std::vector<KernelParamAST> params;
  /// Empty when the result is not named (it is then called `out`).
  std::string resultName;
  TensorTypeAST resultType;
  /// The `return` keyword.
  Location returnLoc;
  ExprPtr body;
};

/// `window: int = 256`, `grid: int[2] = [14, 14]`, `bias: tensor`.
struct VariantParamAST {
  Location loc;
  std::string name;
  /// The type name as written: int, f32, f64, bool, feature or tensor.
  std::string type;
  Location typeLoc;
  /// `K` of a list type `int[K]`; empty for a scalar type.
  std::optional<int64_t> listLength;
  Location listLengthLoc;
  /// Null when there is no default.
  ExprPtr defaultValue;
};

/// A name bound by a variant item: `s` in `score(s, b, h, i, j)`.
struct BinderAST {
  Location loc;
  std::string name;
};

/// An item of a variant body: `score(s, b, h, i, j) = expr`,
/// `mask(b, h, i, j) = expr`, `normalize = softmax`, `scale = expr`,
/// `feature(x) = expr`, `feature = expr`, `expand(i) = [...]`,
/// `weight = expr`, `pack = expr`, `require = expr`.
struct VariantItemAST {
  Location loc;
  std::string name;
  /// True when the item has a parameter list (possibly empty).
  bool hasBinders = false;
  std::vector<BinderAST> binders;
  ExprPtr value;
  /// The value as written (whitespace collapsed), for messages that quote
  /// it (`require`).
  std::string valueText;
};

/// `variant name[(params)] { items }`.
struct VariantDeclAST {
  Location loc;
  std::string name;
  Location nameLoc;
  std::vector<VariantParamAST> params;
  std::vector<VariantItemAST> items;
};

/// A statement of an `arch` body.
struct ArchStmtAST {
  enum class Kind {
    /// `choose NAME in { alt, ... }`: `name`, `alternatives`.
    Choose,
    /// `repeat COUNT { body }`: `value` is the count.
    Repeat,
    /// `NAME = expr`: `name`, `value`.
    Assign,
    /// `return expr`: `value`.
    Return,
  };
  Kind kind = Kind::Assign;
  Location loc;
  std::string name;
  Location nameLoc;
  std::vector<ExprPtr> alternatives;
  /// The source text of each alternative (whitespace removed): its label.
  std::vector<std::string> labels;
  ExprPtr value;
  std::vector<ArchStmtAST> body;
};

/// `arch name(params) -> [name:] type { statements }`: a whole forward pass
/// built from blocks (docs/Architectures.md).
struct ArchDeclAST {
  Location loc;
  std::string name;
  Location nameLoc;
  std::vector<KernelParamAST> params;
  std::string resultName;
  TensorTypeAST resultType;
  std::vector<ArchStmtAST> body;
};

/// A whole source file.  Declarations are kept per kind; `order` records
/// their order in the file for printing.
class ModuleAST {
public:
  enum class DeclKind { Dim, Kernel, Variant, Arch };

  std::vector<DimDeclAST> dims;
  std::vector<KernelDeclAST> kernels;
  std::vector<VariantDeclAST> variants;
  std::vector<ArchDeclAST> archs;
  /// (kind, index into the vector of that kind), in source order.
  std::vector<std::pair<DeclKind, size_t>> order;
};

/// Prints `module` with locations (`attnc -emit=ast`).
void dump(const ModuleAST &module, llvm::raw_ostream &os);

/// Prints an expression in source syntax, fully parenthesized.
void printExpr(const ExprAST &expr, llvm::raw_ostream &os);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_AST_H
