//===- AST.cpp - printing the .attn AST -----------------------------------===//
//
// `dump` prints one node per line, indented by depth, each followed by its
// location (`@file:line:col`), in the spirit of Toy's `-emit=ast`.
//
//===----------------------------------------------------------------------===//

#include "frontend/AST.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Casting.h"

using namespace attn::frontend;
using llvm::cast;

llvm::StringRef attn::frontend::spell(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Rem:
    return "%";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "&&";
  case BinaryOp::Or:
    return "||";
  }
  return "?";
}

void attn::frontend::printExpr(const ExprAST &expr, llvm::raw_ostream &os) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    os << cast<IntExprAST>(expr).getValue();
    return;
  case ExprAST::Kind::Float:
    os << cast<FloatExprAST>(expr).getValue();
    return;
  case ExprAST::Kind::Bool:
    os << (cast<BoolExprAST>(expr).getValue() ? "true" : "false");
    return;
  case ExprAST::Kind::Name:
    os << cast<NameExprAST>(expr).getName();
    return;
  case ExprAST::Kind::Unary: {
    const auto &u = cast<UnaryExprAST>(expr);
    os << (u.getOp() == UnaryOp::Neg ? "-" : "!");
    printExpr(u.getOperand(), os);
    return;
  }
  case ExprAST::Kind::Binary: {
    const auto &b = cast<BinaryExprAST>(expr);
    os << "(";
    printExpr(b.getLHS(), os);
    os << " " << spell(b.getOp()) << " ";
    printExpr(b.getRHS(), os);
    os << ")";
    return;
  }
  case ExprAST::Kind::Ternary: {
    const auto &t = cast<TernaryExprAST>(expr);
    os << "(";
    printExpr(t.getCond(), os);
    os << " ? ";
    printExpr(t.getThen(), os);
    os << " : ";
    printExpr(t.getElse(), os);
    os << ")";
    return;
  }
  case ExprAST::Kind::Call: {
    const auto &c = cast<CallExprAST>(expr);
    os << c.getCallee() << "(";
    llvm::interleaveComma(c.getArgs(), os, [&](const ArgAST &arg) {
      if (!arg.name.empty())
        os << arg.name << " = ";
      printExpr(*arg.value, os);
    });
    os << ")";
    return;
  }
  case ExprAST::Kind::List: {
    const auto &l = cast<ListExprAST>(expr);
    os << "[";
    llvm::interleaveComma(l.getElements(), os,
                          [&](const ExprPtr &e) { printExpr(*e, os); });
    os << "]";
    return;
  }
  case ExprAST::Kind::Index: {
    const auto &x = cast<IndexExprAST>(expr);
    os << x.getName() << "[";
    printExpr(x.getIndex(), os);
    os << "]";
    return;
  }
  }
}

namespace {

/// Prints the AST with indentation, one node per line.
class ASTDumper {
public:
  explicit ASTDumper(llvm::raw_ostream &os) : os(os) {}

  void dump(const ModuleAST &module);

private:
  void dump(const DimDeclAST &decl);
  void dump(const KernelDeclAST &decl);
  void dump(const VariantDeclAST &decl);
  void dump(const ArchDeclAST &decl);
  void dump(const ArchStmtAST &stmt);
  void dump(const ExprAST &expr);
  void printType(const TensorTypeAST &type);
  /// The parameters and the result of a kernel or an architecture.
  void dumpSignature(const std::vector<KernelParamAST> &params,
                     const std::string &resultName,
                     const TensorTypeAST &resultType);

  /// Starts a line at the current depth.
  llvm::raw_ostream &line() { return os.indent(2 * depth); }
  /// Ends a line with a location.
  void end(const Location &loc) {
    os << " @" << (loc.file ? *loc.file : "<unknown>") << ":" << loc.line
       << ":" << loc.col << "\n";
  }

  /// Indents the nodes printed while it is alive.
  struct Indent {
    explicit Indent(unsigned &depth) : depth(depth) { ++depth; }
    ~Indent() { --depth; }
    unsigned &depth;
  };

  llvm::raw_ostream &os;
  unsigned depth = 0;
};

} // namespace

void ASTDumper::dump(const ModuleAST &module) {
  line() << "Module:\n";
  Indent indent(depth);
  for (auto [kind, index] : module.order) {
    switch (kind) {
    case ModuleAST::DeclKind::Dim:
      dump(module.dims[index]);
      break;
    case ModuleAST::DeclKind::Kernel:
      dump(module.kernels[index]);
      break;
    case ModuleAST::DeclKind::Variant:
      dump(module.variants[index]);
      break;
    case ModuleAST::DeclKind::Arch:
      dump(module.archs[index]);
      break;
    }
  }
}

void ASTDumper::dump(const DimDeclAST &decl) {
  line() << "Dim";
  end(decl.loc);
  Indent indent(depth);
  for (const DimDefAST &def : decl.defs) {
    line() << def.name << " = ";
    if (def.value)
      os << *def.value;
    else
      os << "?";
    end(def.loc);
  }
}

void ASTDumper::printType(const TensorTypeAST &type) {
  os << type.dtype << "[";
  llvm::interleaveComma(type.dims, os, [&](const DimRefAST &dim) {
    if (dim.isLiteral())
      os << dim.value;
    else
      os << dim.name;
  });
  os << "]";
}

void ASTDumper::dumpSignature(const std::vector<KernelParamAST> &params,
                              const std::string &resultName,
                              const TensorTypeAST &resultType) {
  for (const KernelParamAST &param : params) {
    line() << "Param " << param.name << ": ";
    printType(param.type);
    end(param.loc);
  }
  line() << "Result " << (resultName.empty() ? "out" : resultName)
         << ": ";
  printType(resultType);
  end(resultType.loc);
}

void ASTDumper::dump(const KernelDeclAST &decl) {
  line() << "Kernel " << decl.name;
  end(decl.loc);
  Indent indent(depth);
  dumpSignature(decl.params, decl.resultName, decl.resultType);
  line() << "Return";
  end(decl.returnLoc);
  Indent bodyIndent(depth);
  dump(*decl.body);
}

void ASTDumper::dump(const VariantDeclAST &decl) {
  line() << "Variant " << decl.name;
  end(decl.loc);
  Indent indent(depth);
  for (const VariantParamAST &param : decl.params) {
    line() << "Param " << param.name << ": " << param.type;
    if (param.listLength)
      os << "[" << *param.listLength << "]";
    end(param.loc);
    if (param.defaultValue) {
      Indent defaultIndent(depth);
      dump(*param.defaultValue);
    }
  }
  for (const VariantItemAST &item : decl.items) {
    line() << "Item " << item.name;
    if (item.hasBinders) {
      os << "(";
      llvm::interleaveComma(item.binders, os,
                            [&](const BinderAST &b) { os << b.name; });
      os << ")";
    }
    end(item.loc);
    Indent itemIndent(depth);
    dump(*item.value);
  }
}

void ASTDumper::dump(const ArchDeclAST &decl) {
  line() << "Arch " << decl.name;
  end(decl.loc);
  Indent indent(depth);
  dumpSignature(decl.params, decl.resultName, decl.resultType);
  for (const ArchStmtAST &stmt : decl.body)
    dump(stmt);
}

void ASTDumper::dump(const ArchStmtAST &stmt) {
  switch (stmt.kind) {
  case ArchStmtAST::Kind::Choose: {
    line() << "Choose " << stmt.name;
    end(stmt.loc);
    Indent indent(depth);
    for (const ExprPtr &alt : stmt.alternatives)
      dump(*alt);
    return;
  }
  case ArchStmtAST::Kind::Repeat: {
    line() << "Repeat";
    end(stmt.loc);
    Indent indent(depth);
    dump(*stmt.value);
    for (const ArchStmtAST &inner : stmt.body)
      dump(inner);
    return;
  }
  case ArchStmtAST::Kind::Assign:
    line() << "Assign " << stmt.name;
    break;
  case ArchStmtAST::Kind::Return:
    line() << "Return";
    break;
  }
  end(stmt.loc);
  Indent indent(depth);
  dump(*stmt.value);
}

void ASTDumper::dump(const ExprAST &expr) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Int:
    line() << "Int " << cast<IntExprAST>(expr).getValue();
    end(expr.getLoc());
    return;
  case ExprAST::Kind::Float:
    line() << "Float " << cast<FloatExprAST>(expr).getValue();
    end(expr.getLoc());
    return;
  case ExprAST::Kind::Bool:
    line() << "Bool " << (cast<BoolExprAST>(expr).getValue() ? "true" : "false");
    end(expr.getLoc());
    return;
  case ExprAST::Kind::Name:
    line() << "Name " << cast<NameExprAST>(expr).getName();
    end(expr.getLoc());
    return;
  case ExprAST::Kind::Unary: {
    const auto &u = cast<UnaryExprAST>(expr);
    line() << "Unary " << (u.getOp() == UnaryOp::Neg ? "-" : "!");
    end(expr.getLoc());
    Indent indent(depth);
    dump(u.getOperand());
    return;
  }
  case ExprAST::Kind::Binary: {
    const auto &b = cast<BinaryExprAST>(expr);
    line() << "Binary " << spell(b.getOp());
    end(expr.getLoc());
    Indent indent(depth);
    dump(b.getLHS());
    dump(b.getRHS());
    return;
  }
  case ExprAST::Kind::Ternary: {
    const auto &t = cast<TernaryExprAST>(expr);
    line() << "Ternary";
    end(expr.getLoc());
    Indent indent(depth);
    dump(t.getCond());
    dump(t.getThen());
    dump(t.getElse());
    return;
  }
  case ExprAST::Kind::Call: {
    const auto &c = cast<CallExprAST>(expr);
    line() << "Call " << c.getCallee();
    end(expr.getLoc());
    Indent indent(depth);
    for (const ArgAST &arg : c.getArgs()) {
      line() << "Arg" << (arg.name.empty() ? "" : " " + arg.name);
      end(arg.loc);
      Indent argIndent(depth);
      dump(*arg.value);
    }
    return;
  }
  case ExprAST::Kind::List: {
    line() << "List";
    end(expr.getLoc());
    Indent indent(depth);
    for (const ExprPtr &element : cast<ListExprAST>(expr).getElements())
      dump(*element);
    return;
  }
  case ExprAST::Kind::Index: {
    const auto &x = cast<IndexExprAST>(expr);
    line() << "Index " << x.getName();
    end(expr.getLoc());
    Indent indent(depth);
    dump(x.getIndex());
    return;
  }
  }
}

void attn::frontend::dump(const ModuleAST &module, llvm::raw_ostream &os) {
  ASTDumper(os).dump(module);
}
