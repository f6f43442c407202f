//===- Parser.h - the .attn recursive-descent parser ------------*- C++ -*-===//
//
// Builds a ModuleAST from tokens.  Each parse function quotes the grammar
// rule (EBNF, see docs/DSL.md) it implements.  The parser stops at the first
// error, which it reports as an MLIR diagnostic saying what was expected.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_PARSER_H
#define ATTN_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Lexer.h"

#include <memory>

namespace attn::frontend {

class Parser {
public:
  Parser(Lexer &lexer, mlir::MLIRContext &context)
      : lexer(lexer), context(context) {}

  /// Parses a whole buffer; null after an error.
  std::unique_ptr<ModuleAST> parseModule();

private:
  // Declarations.
  bool parseDimDecl(ModuleAST &module);
  bool parseKernelDecl(ModuleAST &module);
  /// Parameters and result of a kernel or an architecture (`what` names
  /// it in messages).
  bool parseSignature(std::vector<KernelParamAST> &params,
                      std::string &resultName, TensorTypeAST &resultType,
                      const std::string &what);
  bool parseKernelParam(std::vector<KernelParamAST> &params,
                        const std::string &what);
  bool parseTensorType(TensorTypeAST &type, llvm::StringRef what);
  bool parseDimList(TensorTypeAST &type, llvm::StringRef what);
  bool parseVariantDecl(ModuleAST &module);
  bool parseVariantParam(VariantDeclAST &variant);
  bool parseVariantItem(VariantDeclAST &variant);
  bool parseArchDecl(ModuleAST &module);
  bool parseArchBlock(std::vector<ArchStmtAST> &body, const std::string &what);
  bool parseArchStmt(std::vector<ArchStmtAST> &body);

  // Expressions.
  ExprPtr parseExpr();
  ExprPtr parseOrExpr();
  ExprPtr parseAndExpr();
  ExprPtr parseCmpExpr();
  ExprPtr parseAddExpr();
  ExprPtr parseMulExpr();
  ExprPtr parseUnaryExpr();
  ExprPtr parsePrimary();
  ExprPtr parseCallArgs(Token callee);
  ExprPtr parseListExpr();

  // Helpers.
  const Token &tok() const { return lexer.getCurToken(); }
  void consume() {
    prevEnd = tok().spelling.data() + tok().spelling.size();
    lexer.consume();
  }
  /// Reports "expected WHAT[ CONTEXT], got TOKEN" at the current token,
  /// unless the lexer already reported it.  Always returns false.
  bool emitExpected(llvm::StringRef what, llvm::StringRef context = "");
  /// Like emitExpected for a closing token; at end of file, adds a note at
  /// the opening token.
  bool emitExpectedClose(llvm::StringRef what, llvm::StringRef context,
                         const Token &open);
  /// Consumes a token of `kind` or reports what was expected.
  bool expect(TokenKind kind, llvm::StringRef context = "");
  /// Consumes an identifier into `name`/`loc` or reports what was expected.
  bool expectIdentifier(std::string &name, Location &loc,
                        llvm::StringRef what);
  mlir::InFlightDiagnostic emitError(const Location &loc);

  Lexer &lexer;
  mlir::MLIRContext &context;
  /// The end of the last consumed token's spelling (for source text).
  const char *prevEnd = nullptr;
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_PARSER_H
