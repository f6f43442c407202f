//===- Lexer.cpp - the .attn lexer ----------------------------------------===//
//
// Hand-written scanner: identifiers and keywords, integer and floating
// literals (`1e-6`, `30.0`), punctuation, `#` line comments.
//
//===----------------------------------------------------------------------===//

#include "frontend/Lexer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cctype>
#include <cstdlib>

using namespace attn::frontend;

mlir::Location attn::frontend::toMLIRLoc(mlir::MLIRContext &context,
                                         const Location &loc) {
  return mlir::FileLineColLoc::get(&context, loc.file ? *loc.file : "<unknown>",
                                   loc.line, loc.col);
}

std::string attn::frontend::describeKind(TokenKind kind) {
  switch (kind) {
  case TokenKind::eof:
    return "end of file";
  case TokenKind::error:
    return "invalid token";
  case TokenKind::identifier:
    return "identifier";
  case TokenKind::integer:
    return "integer";
  case TokenKind::floating:
    return "number";
  case TokenKind::kw_dim:
    return "'dim'";
  case TokenKind::kw_kernel:
    return "'kernel'";
  case TokenKind::kw_variant:
    return "'variant'";
  case TokenKind::kw_arch:
    return "'arch'";
  case TokenKind::kw_return:
    return "'return'";
  case TokenKind::kw_true:
    return "'true'";
  case TokenKind::kw_false:
    return "'false'";
  case TokenKind::lParen:
    return "'('";
  case TokenKind::rParen:
    return "')'";
  case TokenKind::lSquare:
    return "'['";
  case TokenKind::rSquare:
    return "']'";
  case TokenKind::lBrace:
    return "'{'";
  case TokenKind::rBrace:
    return "'}'";
  case TokenKind::comma:
    return "','";
  case TokenKind::colon:
    return "':'";
  case TokenKind::equal:
    return "'='";
  case TokenKind::arrow:
    return "'->'";
  case TokenKind::plus:
    return "'+'";
  case TokenKind::minus:
    return "'-'";
  case TokenKind::star:
    return "'*'";
  case TokenKind::slash:
    return "'/'";
  case TokenKind::percent:
    return "'%'";
  case TokenKind::less:
    return "'<'";
  case TokenKind::lessEq:
    return "'<='";
  case TokenKind::greater:
    return "'>'";
  case TokenKind::greaterEq:
    return "'>='";
  case TokenKind::eqEq:
    return "'=='";
  case TokenKind::notEq:
    return "'!='";
  case TokenKind::ampAmp:
    return "'&&'";
  case TokenKind::pipePipe:
    return "'||'";
  case TokenKind::bang:
    return "'!'";
  case TokenKind::question:
    return "'?'";
  }
  return "token";
}

std::string attn::frontend::describeToken(const Token &token) {
  switch (token.kind) {
  case TokenKind::identifier:
    return "identifier '" + token.spelling.str() + "'";
  case TokenKind::integer:
  case TokenKind::floating:
    return "number " + token.spelling.str();
  default:
    return describeKind(token.kind);
  }
}

Lexer::Lexer(llvm::StringRef buffer, llvm::StringRef fileName,
             mlir::MLIRContext &context)
    : buffer(buffer), cur(buffer.begin()),
      fileName(std::make_shared<std::string>(fileName.str())),
      context(context) {
  curToken = lexToken();
}

Location Lexer::currentLoc() const { return Location{fileName, line, col}; }

void Lexer::advance() {
  if (*cur == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++cur;
}

void Lexer::skipTrivia() {
  while (cur != buffer.end()) {
    char c = *cur;
    if (c == '#') {
      while (cur != buffer.end() && *cur != '\n')
        advance();
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c)))
      return;
    advance();
  }
}

Token Lexer::makeToken(TokenKind kind, const char *start, Location loc) {
  Token tok;
  tok.kind = kind;
  tok.spelling = llvm::StringRef(start, cur - start);
  tok.loc = std::move(loc);
  return tok;
}

Token Lexer::makeError(const char *start, Location loc) {
  return makeToken(TokenKind::error, start, std::move(loc));
}

Token Lexer::lexToken() {
  skipTrivia();
  Location loc = currentLoc();
  const char *start = cur;
  if (cur == buffer.end())
    return makeToken(TokenKind::eof, start, loc);

  char c = *cur;
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexIdentifier(start, loc);
  if (std::isdigit(static_cast<unsigned char>(c)))
    return lexNumber(start, loc);

  advance();
  auto next = [&](char expected) {
    if (cur != buffer.end() && *cur == expected) {
      advance();
      return true;
    }
    return false;
  };
  switch (c) {
  case '(':
    return makeToken(TokenKind::lParen, start, loc);
  case ')':
    return makeToken(TokenKind::rParen, start, loc);
  case '[':
    return makeToken(TokenKind::lSquare, start, loc);
  case ']':
    return makeToken(TokenKind::rSquare, start, loc);
  case '{':
    return makeToken(TokenKind::lBrace, start, loc);
  case '}':
    return makeToken(TokenKind::rBrace, start, loc);
  case ',':
    return makeToken(TokenKind::comma, start, loc);
  case ':':
    return makeToken(TokenKind::colon, start, loc);
  case '+':
    return makeToken(TokenKind::plus, start, loc);
  case '*':
    return makeToken(TokenKind::star, start, loc);
  case '/':
    return makeToken(TokenKind::slash, start, loc);
  case '%':
    return makeToken(TokenKind::percent, start, loc);
  case '?':
    return makeToken(TokenKind::question, start, loc);
  case '-':
    return makeToken(next('>') ? TokenKind::arrow : TokenKind::minus, start,
                     loc);
  case '=':
    return makeToken(next('=') ? TokenKind::eqEq : TokenKind::equal, start,
                     loc);
  case '<':
    return makeToken(next('=') ? TokenKind::lessEq : TokenKind::less, start,
                     loc);
  case '>':
    return makeToken(next('=') ? TokenKind::greaterEq : TokenKind::greater,
                     start, loc);
  case '!':
    return makeToken(next('=') ? TokenKind::notEq : TokenKind::bang, start,
                     loc);
  case '&':
    if (next('&'))
      return makeToken(TokenKind::ampAmp, start, loc);
    mlir::emitError(toMLIRLoc(context, loc))
        << "unexpected character '&'; did you mean '&&'?";
    return makeError(start, loc);
  case '|':
    if (next('|'))
      return makeToken(TokenKind::pipePipe, start, loc);
    mlir::emitError(toMLIRLoc(context, loc))
        << "unexpected character '|'; did you mean '||'?";
    return makeError(start, loc);
  default:
    break;
  }
  auto diag = mlir::emitError(toMLIRLoc(context, loc));
  if (std::isprint(static_cast<unsigned char>(c)))
    diag << "unexpected character '" << c << "'";
  else
    diag << "unexpected byte 0x" << llvm::utohexstr(static_cast<unsigned char>(c));
  return makeError(start, loc);
}

/// identifier ::= [a-zA-Z_][a-zA-Z0-9_]*
Token Lexer::lexIdentifier(const char *start, Location loc) {
  while (cur != buffer.end() &&
         (std::isalnum(static_cast<unsigned char>(*cur)) || *cur == '_'))
    advance();
  Token tok = makeToken(TokenKind::identifier, start, loc);
  tok.kind = llvm::StringSwitch<TokenKind>(tok.spelling)
                 .Case("dim", TokenKind::kw_dim)
                 .Case("kernel", TokenKind::kw_kernel)
                 .Case("variant", TokenKind::kw_variant)
                 .Case("arch", TokenKind::kw_arch)
                 .Case("return", TokenKind::kw_return)
                 .Case("true", TokenKind::kw_true)
                 .Case("false", TokenKind::kw_false)
                 .Default(TokenKind::identifier);
  return tok;
}

/// integer  ::= [0-9]+
/// floating ::= [0-9]+ ( '.' [0-9]+ )? ( [eE] [+-]? [0-9]+ )?
///              (with a '.' or an exponent)
Token Lexer::lexNumber(const char *start, Location loc) {
  auto isDigit = [&]() {
    return cur != buffer.end() && std::isdigit(static_cast<unsigned char>(*cur));
  };
  bool isFloat = false;
  while (isDigit())
    advance();
  if (cur != buffer.end() && *cur == '.') {
    isFloat = true;
    advance();
    if (!isDigit()) {
      mlir::emitError(toMLIRLoc(context, loc))
          << "expected a digit after '.' in the number '"
          << llvm::StringRef(start, cur - start) << "'";
      return makeError(start, loc);
    }
    while (isDigit())
      advance();
  }
  if (cur != buffer.end() && (*cur == 'e' || *cur == 'E')) {
    isFloat = true;
    advance();
    if (cur != buffer.end() && (*cur == '+' || *cur == '-'))
      advance();
    if (!isDigit()) {
      mlir::emitError(toMLIRLoc(context, loc))
          << "expected exponent digits in the number '"
          << llvm::StringRef(start, cur - start) << "'";
      return makeError(start, loc);
    }
    while (isDigit())
      advance();
  }
  if (cur != buffer.end() &&
      (std::isalpha(static_cast<unsigned char>(*cur)) || *cur == '_')) {
    while (cur != buffer.end() &&
           (std::isalnum(static_cast<unsigned char>(*cur)) || *cur == '_'))
      advance();
    mlir::emitError(toMLIRLoc(context, loc))
        << "invalid number '" << llvm::StringRef(start, cur - start) << "'";
    return makeError(start, loc);
  }

  Token tok = makeToken(isFloat ? TokenKind::floating : TokenKind::integer,
                        start, loc);
  std::string text = tok.spelling.str();
  if (isFloat) {
    tok.floatValue = std::strtod(text.c_str(), nullptr);
    return tok;
  }
  if (tok.spelling.getAsInteger(10, tok.intValue)) {
    mlir::emitError(toMLIRLoc(context, loc))
        << "integer literal " << tok.spelling
        << " does not fit in 64 bits";
    return makeError(start, loc);
  }
  return tok;
}
