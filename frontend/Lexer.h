//===- Lexer.h - the .attn lexer -------------------------------*- C++ -*-===//
//
// Splits a source buffer into tokens.  `#` starts a comment that runs to the
// end of the line.  Malformed input is reported as an MLIR diagnostic and
// yields an `error` token.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_LEXER_H
#define ATTN_FRONTEND_LEXER_H

#include "frontend/Token.h"

#include "mlir/IR/Location.h"

namespace attn::frontend {

/// Converts a frontend location to an MLIR `FileLineColLoc`.
mlir::Location toMLIRLoc(mlir::MLIRContext &context, const Location &loc);

/// Lexes one buffer.  The buffer must outlive the lexer and the tokens.
class Lexer {
public:
  Lexer(llvm::StringRef buffer, llvm::StringRef fileName,
        mlir::MLIRContext &context);

  /// The current token.
  const Token &getCurToken() const { return curToken; }

  /// Moves to the next token and returns it.
  const Token &consume() {
    curToken = lexToken();
    return curToken;
  }

private:
  Token lexToken();
  Token lexIdentifier(const char *start, Location loc);
  Token lexNumber(const char *start, Location loc);
  Token makeToken(TokenKind kind, const char *start, Location loc);
  Token makeError(const char *start, Location loc);

  /// Skips whitespace and comments.
  void skipTrivia();
  /// Advances one character, keeping line and column up to date.
  void advance();
  Location currentLoc() const;

  llvm::StringRef buffer;
  const char *cur;
  std::shared_ptr<std::string> fileName;
  unsigned line = 1;
  unsigned col = 1;
  mlir::MLIRContext &context;
  Token curToken;
};

} // namespace attn::frontend

#endif // ATTN_FRONTEND_LEXER_H
