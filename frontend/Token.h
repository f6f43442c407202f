//===- Token.h - tokens of the .attn language ------------------*- C++ -*-===//
//
// The token kinds the lexer produces and the source location every token and
// AST node carries.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FRONTEND_TOKEN_H
#define ATTN_FRONTEND_TOKEN_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>

namespace attn::frontend {

/// A position in a source file (1-based line and column).
struct Location {
  std::shared_ptr<std::string> file;
  unsigned line = 0;
  unsigned col = 0;
};

/// The kinds of tokens.
enum class TokenKind {
  eof,
  error, ///< A malformed token; the lexer has already reported it.

  identifier,
  integer,
  floating,

  // Keywords.
  kw_dim,
  kw_kernel,
  kw_variant,
  kw_arch,
  kw_return,
  kw_true,
  kw_false,

  // Punctuation.
  lParen,   ///< (
  rParen,   ///< )
  lSquare,  ///< [
  rSquare,  ///< ]
  lBrace,   ///< {
  rBrace,   ///< }
  comma,    ///< ,
  colon,    ///< :
  equal,    ///< =
  arrow,    ///< ->
  plus,     ///< +
  minus,    ///< -
  star,     ///< *
  slash,    ///< /
  percent,  ///< %
  less,     ///< <
  lessEq,   ///< <=
  greater,  ///< >
  greaterEq, ///< >=
  eqEq,     ///< ==
  notEq,    ///< !=
  ampAmp,   ///< &&
  pipePipe, ///< ||
  bang,     ///< !
  question, ///< ?
};

/// One token: its kind, its spelling and where it starts.
struct Token {
  TokenKind kind = TokenKind::eof;
  llvm::StringRef spelling;
  Location loc;
  /// The value of an `integer` token.
  int64_t intValue = 0;
  /// The value of a `floating` token.
  double floatValue = 0.0;

  bool is(TokenKind k) const { return kind == k; }
  bool isNot(TokenKind k) const { return kind != k; }
};

/// How a token kind is shown in messages: `'('`, `identifier`, ...
std::string describeKind(TokenKind kind);

/// How a concrete token is shown in messages: `','`, `identifier 'foo'`,
/// `end of file`.
std::string describeToken(const Token &token);

} // namespace attn::frontend

#endif // ATTN_FRONTEND_TOKEN_H
