//===- Parser.cpp - the .attn recursive-descent parser --------------------===//
//
// The grammar rule above each function is the one in docs/DSL.md.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"

using namespace attn::frontend;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

mlir::InFlightDiagnostic Parser::emitError(const Location &loc) {
  return mlir::emitError(toMLIRLoc(context, loc));
}

bool Parser::emitExpected(llvm::StringRef what, llvm::StringRef ctx) {
  if (tok().is(TokenKind::error))
    return false; // The lexer has reported it.
  auto diag = emitError(tok().loc) << "expected " << what;
  if (!ctx.empty())
    diag << " " << ctx;
  diag << ", got " << describeToken(tok());
  return false;
}

bool Parser::emitExpectedClose(llvm::StringRef what, llvm::StringRef ctx,
                               const Token &open) {
  if (tok().is(TokenKind::error))
    return false;
  auto diag = emitError(tok().loc) << "expected " << what << " " << ctx
                                   << ", got " << describeToken(tok());
  if (tok().is(TokenKind::eof))
    diag.attachNote(toMLIRLoc(context, open.loc))
        << describeKind(open.kind) << " opened here";
  return false;
}

bool Parser::expect(TokenKind kind, llvm::StringRef ctx) {
  if (tok().is(kind)) {
    consume();
    return true;
  }
  return emitExpected(describeKind(kind), ctx);
}

bool Parser::expectIdentifier(std::string &name, Location &loc,
                              llvm::StringRef what) {
  if (tok().isNot(TokenKind::identifier))
    return emitExpected(what);
  name = tok().spelling.str();
  loc = tok().loc;
  consume();
  return true;
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// module ::= { dimDecl | variantDecl | kernelDecl | archDecl } EOF
std::unique_ptr<ModuleAST> Parser::parseModule() {
  auto module = std::make_unique<ModuleAST>();
  while (true) {
    bool ok;
    switch (tok().kind) {
    case TokenKind::eof:
      return module;
    case TokenKind::kw_dim:
      ok = parseDimDecl(*module);
      break;
    case TokenKind::kw_kernel:
      ok = parseKernelDecl(*module);
      break;
    case TokenKind::kw_variant:
      ok = parseVariantDecl(*module);
      break;
    case TokenKind::kw_arch:
      ok = parseArchDecl(*module);
      break;
    default:
      ok = emitExpected("'dim', 'variant', 'kernel' or 'arch'",
                        "at the top level");
      break;
    }
    if (!ok)
      return nullptr;
  }
}

/// dimDecl ::= 'dim' dimDef { ',' dimDef }
/// dimDef  ::= IDENT '=' ( [ '-' ] INTEGER | '?' )
bool Parser::parseDimDecl(ModuleAST &module) {
  DimDeclAST decl;
  decl.loc = tok().loc;
  consume(); // 'dim'
  do {
    DimDefAST def;
    if (!expectIdentifier(def.name, def.loc, "a dim name"))
      return false;
    if (!expect(TokenKind::equal, "after the dim name '" + def.name + "'"))
      return false;
    def.valueLoc = tok().loc;
    if (tok().is(TokenKind::question)) {
      consume();
    } else {
      bool negative = false;
      if (tok().is(TokenKind::minus)) {
        negative = true;
        consume();
      }
      if (tok().isNot(TokenKind::integer))
        return emitExpected("an integer or '?'",
                            "as the value of dim '" + def.name + "'");
      def.value = negative ? -tok().intValue : tok().intValue;
      consume();
    }
    decl.defs.push_back(std::move(def));
  } while (tok().is(TokenKind::comma) && (consume(), true));
  module.order.emplace_back(ModuleAST::DeclKind::Dim, module.dims.size());
  module.dims.push_back(std::move(decl));
  return true;
}

/// kernelDecl ::= 'kernel' IDENT signature '{' 'return' expr '}'
bool Parser::parseKernelDecl(ModuleAST &module) {
  KernelDeclAST kernel;
  kernel.loc = tok().loc;
  consume(); // 'kernel'
  if (!expectIdentifier(kernel.name, kernel.nameLoc, "a kernel name"))
    return false;
  std::string what = "kernel '" + kernel.name + "'";
  if (!parseSignature(kernel.params, kernel.resultName, kernel.resultType,
                      what))
    return false;

  Token openBrace = tok();
  if (!expect(TokenKind::lBrace, "to start the body of " + what))
    return false;
  kernel.returnLoc = tok().loc;
  if (!expect(TokenKind::kw_return, "in the body of " + what))
    return false;
  kernel.body = parseExpr();
  if (!kernel.body)
    return false;
  if (tok().isNot(TokenKind::rBrace))
    return emitExpectedClose("'}'", "to close the body of " + what,
                             openBrace);
  consume();
  module.order.emplace_back(ModuleAST::DeclKind::Kernel,
                            module.kernels.size());
  module.kernels.push_back(std::move(kernel));
  return true;
}

/// signature ::= '(' [ param { ',' param } ] ')' '->' [ IDENT ':' ] tensorType
bool Parser::parseSignature(std::vector<KernelParamAST> &params,
                            std::string &resultName,
                            TensorTypeAST &resultType,
                            const std::string &what) {
  Token open = tok();
  if (!expect(TokenKind::lParen, "to start the parameters of " + what))
    return false;
  if (tok().isNot(TokenKind::rParen)) {
    do {
      if (!parseKernelParam(params, what))
        return false;
    } while (tok().is(TokenKind::comma) && (consume(), true));
  }
  if (tok().isNot(TokenKind::rParen))
    return emitExpectedClose("')'", "to close the parameters of " + what,
                             open);
  consume();

  if (!expect(TokenKind::arrow, "and the result type of " + what))
    return false;
  if (tok().isNot(TokenKind::identifier))
    return emitExpected("the result type", "of " + what);
  // Either a result name (`out: f32[...]`) or the element type.
  Token first = tok();
  consume();
  if (tok().is(TokenKind::colon)) {
    resultName = first.spelling.str();
    consume();
    return parseTensorType(resultType, "the result of " + what);
  }
  // `first` was the element type.
  resultType.loc = first.loc;
  resultType.dtype = first.spelling.str();
  return parseDimList(resultType, "the result of " + what);
}

/// param ::= IDENT ':' tensorType
bool Parser::parseKernelParam(std::vector<KernelParamAST> &params,
                              const std::string &what) {
  KernelParamAST param;
  if (!expectIdentifier(param.name, param.loc,
                        "a parameter name in " + what))
    return false;
  if (!expect(TokenKind::colon, "after the parameter name '" + param.name +
                                    "'"))
    return false;
  if (!parseTensorType(param.type, "parameter '" + param.name + "'"))
    return false;
  params.push_back(std::move(param));
  return true;
}

/// tensorType ::= IDENT dimList
bool Parser::parseTensorType(TensorTypeAST &type, llvm::StringRef what) {
  type.loc = tok().loc;
  if (tok().isNot(TokenKind::identifier))
    return emitExpected("a tensor type such as f32[B, N]", "for " + what.str());
  type.dtype = tok().spelling.str();
  consume();
  return parseDimList(type, what);
}

/// dimList ::= '[' dimRef { ',' dimRef } ']'
/// dimRef  ::= IDENT | INTEGER
bool Parser::parseDimList(TensorTypeAST &type, llvm::StringRef what) {
  Token open = tok();
  if (!expect(TokenKind::lSquare,
              "after the element type in the type of " + what.str()))
    return false;
  do {
    DimRefAST dim;
    dim.loc = tok().loc;
    if (tok().is(TokenKind::identifier)) {
      dim.name = tok().spelling.str();
    } else if (tok().is(TokenKind::integer)) {
      dim.value = tok().intValue;
    } else {
      return emitExpected("a dim name or an integer",
                          "in the type of " + what.str());
    }
    consume();
    type.dims.push_back(std::move(dim));
  } while (tok().is(TokenKind::comma) && (consume(), true));
  if (tok().isNot(TokenKind::rSquare))
    return emitExpectedClose("']'", "to close the type of " + what.str(),
                             open);
  consume();
  return true;
}

/// variantDecl ::= 'variant' IDENT
///                 [ '(' [ variantParam { ',' variantParam } ] ')' ]
///                 '{' { variantItem } '}'
bool Parser::parseVariantDecl(ModuleAST &module) {
  VariantDeclAST variant;
  variant.loc = tok().loc;
  consume(); // 'variant'
  if (!expectIdentifier(variant.name, variant.nameLoc, "a variant name"))
    return false;
  std::string what = "variant '" + variant.name + "'";

  if (tok().is(TokenKind::lParen)) {
    Token open = tok();
    consume();
    if (tok().isNot(TokenKind::rParen)) {
      do {
        if (!parseVariantParam(variant))
          return false;
      } while (tok().is(TokenKind::comma) && (consume(), true));
    }
    if (tok().isNot(TokenKind::rParen))
      return emitExpectedClose("')'", "to close the parameters of " + what,
                               open);
    consume();
  }

  Token open = tok();
  if (!expect(TokenKind::lBrace, "to start the body of " + what))
    return false;
  while (tok().is(TokenKind::identifier)) {
    if (!parseVariantItem(variant))
      return false;
  }
  if (tok().isNot(TokenKind::rBrace))
    return emitExpectedClose("'}'",
                             "to close the body of " + what +
                                 " (or an item such as 'score(...) = ...')",
                             open);
  consume();
  module.order.emplace_back(ModuleAST::DeclKind::Variant,
                            module.variants.size());
  module.variants.push_back(std::move(variant));
  return true;
}

/// variantParam ::= IDENT ':' paramType [ '=' expr ]
/// paramType    ::= IDENT [ '[' INTEGER ']' ]
bool Parser::parseVariantParam(VariantDeclAST &variant) {
  VariantParamAST param;
  if (!expectIdentifier(param.name, param.loc,
                        "a parameter name in variant '" + variant.name + "'"))
    return false;
  if (!expect(TokenKind::colon,
              "and a type (int, f32, f64, bool, feature, tensor, int[K]) "
              "after the parameter name '" +
                  param.name + "'"))
    return false;
  if (!expectIdentifier(
          param.type, param.typeLoc,
          "a parameter type (int, f32, f64, bool, feature, tensor or int[K])"))
    return false;
  if (tok().is(TokenKind::lSquare)) {
    Token open = tok();
    consume();
    param.listLengthLoc = tok().loc;
    if (tok().isNot(TokenKind::integer))
      return emitExpected("the length of the list type",
                          "of parameter '" + param.name + "', as in int[2]");
    param.listLength = tok().intValue;
    consume();
    if (tok().isNot(TokenKind::rSquare))
      return emitExpectedClose("']'",
                               "to close the type of parameter '" +
                                   param.name + "'",
                               open);
    consume();
  }
  if (tok().is(TokenKind::equal)) {
    consume();
    param.defaultValue = parseExpr();
    if (!param.defaultValue)
      return false;
  }
  variant.params.push_back(std::move(param));
  return true;
}

/// variantItem ::= IDENT [ '(' [ IDENT { ',' IDENT } ] ')' ] '=' expr
bool Parser::parseVariantItem(VariantDeclAST &variant) {
  VariantItemAST item;
  item.loc = tok().loc;
  item.name = tok().spelling.str();
  consume();
  if (tok().is(TokenKind::lParen)) {
    Token open = tok();
    item.hasBinders = true;
    consume();
    if (tok().isNot(TokenKind::rParen)) {
      do {
        BinderAST binder;
        if (!expectIdentifier(binder.name, binder.loc,
                              "a parameter name of '" + item.name + "'"))
          return false;
        item.binders.push_back(std::move(binder));
      } while (tok().is(TokenKind::comma) && (consume(), true));
    }
    if (tok().isNot(TokenKind::rParen))
      return emitExpectedClose("')'",
                               "to close the parameters of '" + item.name +
                                   "'",
                               open);
    consume();
  }
  if (!expect(TokenKind::equal, "after '" + item.name + "' in variant '" +
                                    variant.name + "'"))
    return false;
  const char *begin = tok().spelling.data();
  item.value = parseExpr();
  if (!item.value)
    return false;
  // The value as written, whitespace (and comments) collapsed.
  llvm::StringRef text(begin, prevEnd - begin);
  bool space = false;
  while (!text.empty()) {
    char c = text.front();
    if (c == '#') {
      text = text.drop_until([](char ch) { return ch == '\n'; });
      continue;
    }
    text = text.drop_front();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !item.valueText.empty() && item.valueText.back() != '[' &&
        item.valueText.back() != '(' && c != ']' && c != ')' && c != ',')
      item.valueText += ' ';
    space = false;
    item.valueText += c;
  }
  variant.items.push_back(std::move(item));
  return true;
}

/// archDecl ::= 'arch' IDENT signature '{' { archStmt } '}'
bool Parser::parseArchDecl(ModuleAST &module) {
  ArchDeclAST arch;
  arch.loc = tok().loc;
  consume(); // 'arch'
  if (!expectIdentifier(arch.name, arch.nameLoc, "an architecture name"))
    return false;
  std::string what = "architecture '" + arch.name + "'";
  if (!parseSignature(arch.params, arch.resultName, arch.resultType, what))
    return false;
  if (!parseArchBlock(arch.body, "the body of " + what))
    return false;
  module.order.emplace_back(ModuleAST::DeclKind::Arch, module.archs.size());
  module.archs.push_back(std::move(arch));
  return true;
}

/// archBlock ::= '{' { archStmt } '}'
bool Parser::parseArchBlock(std::vector<ArchStmtAST> &body,
                            const std::string &what) {
  Token open = tok();
  if (!expect(TokenKind::lBrace, "to start " + what))
    return false;
  while (tok().isNot(TokenKind::rBrace)) {
    if (tok().is(TokenKind::eof))
      return emitExpectedClose("'}'", "to close " + what, open);
    if (!parseArchStmt(body))
      return false;
  }
  consume();
  return true;
}

/// archStmt ::= 'choose' IDENT 'in' '{' expr { ',' expr } '}'
///            | 'repeat' expr archBlock
///            | IDENT '=' expr
///            | 'return' expr
/// `choose`, `in` and `repeat` are contextual: they are keywords only at
/// the start of an architecture statement.
bool Parser::parseArchStmt(std::vector<ArchStmtAST> &body) {
  ArchStmtAST stmt;
  stmt.loc = tok().loc;
  if (tok().is(TokenKind::kw_return)) {
    consume();
    stmt.kind = ArchStmtAST::Kind::Return;
    stmt.value = parseExpr();
    if (!stmt.value)
      return false;
    body.push_back(std::move(stmt));
    return true;
  }
  if (tok().isNot(TokenKind::identifier))
    return emitExpected("'choose', 'repeat', 'return' or an assignment",
                        "in an architecture");
  Token first = tok();
  consume();
  if (first.spelling == "choose" && tok().is(TokenKind::identifier)) {
    stmt.kind = ArchStmtAST::Kind::Choose;
    stmt.name = tok().spelling.str();
    stmt.nameLoc = tok().loc;
    consume();
    if (tok().isNot(TokenKind::identifier) || tok().spelling != "in")
      return emitExpected("'in'", "after 'choose " + stmt.name + "'");
    consume();
    Token open = tok();
    if (!expect(TokenKind::lBrace,
                "to start the alternatives of '" + stmt.name + "'"))
      return false;
    do {
      const char *begin = tok().spelling.data();
      ExprPtr alt = parseExpr();
      if (!alt)
        return false;
      std::string label;
      for (char c : llvm::StringRef(begin, prevEnd - begin))
        if (!llvm::isSpace(c))
          label.push_back(c);
      stmt.labels.push_back(std::move(label));
      stmt.alternatives.push_back(std::move(alt));
    } while (tok().is(TokenKind::comma) && (consume(), true));
    if (tok().isNot(TokenKind::rBrace))
      return emitExpectedClose("'}'",
                               "to close the alternatives of '" + stmt.name +
                                   "'",
                               open);
    consume();
    body.push_back(std::move(stmt));
    return true;
  }
  if (first.spelling == "repeat" && tok().isNot(TokenKind::equal)) {
    stmt.kind = ArchStmtAST::Kind::Repeat;
    stmt.value = parseExpr();
    if (!stmt.value)
      return false;
    return parseArchBlock(stmt.body, "the body of 'repeat'") &&
           (body.push_back(std::move(stmt)), true);
  }
  stmt.kind = ArchStmtAST::Kind::Assign;
  stmt.name = first.spelling.str();
  stmt.nameLoc = first.loc;
  if (!expect(TokenKind::equal, "after '" + stmt.name +
                                    "' (an architecture statement is "
                                    "'choose', 'repeat', 'return' or "
                                    "NAME = expr)"))
    return false;
  stmt.value = parseExpr();
  if (!stmt.value)
    return false;
  body.push_back(std::move(stmt));
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// expr ::= orExpr [ '?' expr ':' expr ]
ExprPtr Parser::parseExpr() {
  ExprPtr cond = parseOrExpr();
  if (!cond || tok().isNot(TokenKind::question))
    return cond;
  Location loc = tok().loc;
  consume();
  ExprPtr thenExpr = parseExpr();
  if (!thenExpr)
    return nullptr;
  if (!expect(TokenKind::colon, "between the branches of '?'"))
    return nullptr;
  ExprPtr elseExpr = parseExpr();
  if (!elseExpr)
    return nullptr;
  return std::make_unique<TernaryExprAST>(loc, std::move(cond),
                                          std::move(thenExpr),
                                          std::move(elseExpr));
}

/// orExpr ::= andExpr { '||' andExpr }
ExprPtr Parser::parseOrExpr() {
  ExprPtr lhs = parseAndExpr();
  while (lhs && tok().is(TokenKind::pipePipe)) {
    Location loc = tok().loc;
    consume();
    ExprPtr rhs = parseAndExpr();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(loc, BinaryOp::Or, std::move(lhs),
                                          std::move(rhs));
  }
  return lhs;
}

/// andExpr ::= cmpExpr { '&&' cmpExpr }
ExprPtr Parser::parseAndExpr() {
  ExprPtr lhs = parseCmpExpr();
  while (lhs && tok().is(TokenKind::ampAmp)) {
    Location loc = tok().loc;
    consume();
    ExprPtr rhs = parseCmpExpr();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(loc, BinaryOp::And, std::move(lhs),
                                          std::move(rhs));
  }
  return lhs;
}

/// The comparison operator a token spells, if any.
static std::optional<BinaryOp> comparisonOp(TokenKind kind) {
  switch (kind) {
  case TokenKind::less:
    return BinaryOp::Lt;
  case TokenKind::lessEq:
    return BinaryOp::Le;
  case TokenKind::greater:
    return BinaryOp::Gt;
  case TokenKind::greaterEq:
    return BinaryOp::Ge;
  case TokenKind::eqEq:
    return BinaryOp::Eq;
  case TokenKind::notEq:
    return BinaryOp::Ne;
  default:
    return std::nullopt;
  }
}

/// cmpExpr ::= addExpr [ ( '<' | '<=' | '>' | '>=' | '==' | '!=' ) addExpr ]
ExprPtr Parser::parseCmpExpr() {
  ExprPtr lhs = parseAddExpr();
  if (!lhs)
    return nullptr;
  std::optional<BinaryOp> op = comparisonOp(tok().kind);
  if (!op)
    return lhs;
  Location loc = tok().loc;
  consume();
  ExprPtr rhs = parseAddExpr();
  if (!rhs)
    return nullptr;
  if (comparisonOp(tok().kind)) {
    emitError(tok().loc) << "comparisons do not chain: expected '&&' or "
                            "parentheses, got "
                         << describeToken(tok());
    return nullptr;
  }
  return std::make_unique<BinaryExprAST>(loc, *op, std::move(lhs),
                                         std::move(rhs));
}

/// addExpr ::= mulExpr { ( '+' | '-' ) mulExpr }
ExprPtr Parser::parseAddExpr() {
  ExprPtr lhs = parseMulExpr();
  while (lhs && (tok().is(TokenKind::plus) || tok().is(TokenKind::minus))) {
    BinaryOp op = tok().is(TokenKind::plus) ? BinaryOp::Add : BinaryOp::Sub;
    Location loc = tok().loc;
    consume();
    ExprPtr rhs = parseMulExpr();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(loc, op, std::move(lhs),
                                          std::move(rhs));
  }
  return lhs;
}

/// mulExpr ::= unaryExpr { ( '*' | '/' | '%' ) unaryExpr }
ExprPtr Parser::parseMulExpr() {
  ExprPtr lhs = parseUnaryExpr();
  while (lhs && (tok().is(TokenKind::star) || tok().is(TokenKind::slash) ||
                 tok().is(TokenKind::percent))) {
    BinaryOp op = tok().is(TokenKind::star)    ? BinaryOp::Mul
                  : tok().is(TokenKind::slash) ? BinaryOp::Div
                                               : BinaryOp::Rem;
    Location loc = tok().loc;
    consume();
    ExprPtr rhs = parseUnaryExpr();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(loc, op, std::move(lhs),
                                          std::move(rhs));
  }
  return lhs;
}

/// unaryExpr ::= ( '-' | '!' ) unaryExpr | primary
ExprPtr Parser::parseUnaryExpr() {
  if (tok().is(TokenKind::minus) || tok().is(TokenKind::bang)) {
    UnaryOp op = tok().is(TokenKind::minus) ? UnaryOp::Neg : UnaryOp::Not;
    Location loc = tok().loc;
    consume();
    ExprPtr operand = parseUnaryExpr();
    if (!operand)
      return nullptr;
    return std::make_unique<UnaryExprAST>(loc, op, std::move(operand));
  }
  return parsePrimary();
}

/// primary ::= INTEGER | FLOAT | 'true' | 'false'
///           | IDENT [ '(' [ arg { ',' arg } ] ')' | '[' expr ']' ]
///           | '(' expr ')'
///           | listExpr
ExprPtr Parser::parsePrimary() {
  Token t = tok();
  switch (t.kind) {
  case TokenKind::integer:
    consume();
    return std::make_unique<IntExprAST>(t.loc, t.intValue);
  case TokenKind::floating:
    consume();
    return std::make_unique<FloatExprAST>(t.loc, t.floatValue);
  case TokenKind::kw_true:
  case TokenKind::kw_false:
    consume();
    return std::make_unique<BoolExprAST>(t.loc, t.is(TokenKind::kw_true));
  case TokenKind::identifier:
    consume();
    if (tok().is(TokenKind::lParen))
      return parseCallArgs(t);
    if (tok().is(TokenKind::lSquare)) {
      // An element of a list parameter: grid[0].
      Token open = tok();
      consume();
      ExprPtr index = parseExpr();
      if (!index)
        return nullptr;
      if (tok().isNot(TokenKind::rSquare)) {
        emitExpectedClose("']'",
                          "to close the index of '" + t.spelling.str() + "'",
                          open);
        return nullptr;
      }
      consume();
      return std::make_unique<IndexExprAST>(t.loc, t.spelling.str(), t.loc,
                                            std::move(index));
    }
    return std::make_unique<NameExprAST>(t.loc, t.spelling.str());
  case TokenKind::lSquare:
    return parseListExpr();
  case TokenKind::lParen: {
    consume();
    ExprPtr inner = parseExpr();
    if (!inner)
      return nullptr;
    if (tok().isNot(TokenKind::rParen)) {
      emitExpectedClose("')'", "to close the parenthesized expression", t);
      return nullptr;
    }
    consume();
    return inner;
  }
  default:
    emitExpected("an expression");
    return nullptr;
  }
}

/// call ::= IDENT '(' [ arg { ',' arg } ] ')'
/// arg  ::= [ ( IDENT | 'variant' ) '=' ] expr
ExprPtr Parser::parseCallArgs(Token callee) {
  Token open = tok();
  consume(); // '('
  std::string what = "'" + callee.spelling.str() + "'";
  std::vector<ArgAST> args;
  if (tok().isNot(TokenKind::rParen)) {
    do {
      ArgAST arg;
      arg.loc = tok().loc;
      // A keyword can name an argument (`variant = alibi`).
      if (tok().is(TokenKind::kw_variant) || tok().is(TokenKind::kw_dim) ||
          tok().is(TokenKind::kw_kernel) || tok().is(TokenKind::kw_arch)) {
        arg.name = tok().spelling.str();
        consume();
        if (!expect(TokenKind::equal,
                    "after the argument name '" + arg.name + "'"))
          return nullptr;
        arg.value = parseExpr();
        if (!arg.value)
          return nullptr;
        args.push_back(std::move(arg));
        continue;
      }
      arg.value = parseExpr();
      if (!arg.value)
        return nullptr;
      // `name = value`: the expression parsed so far was the name.
      if (tok().is(TokenKind::equal)) {
        auto *name = llvm::dyn_cast<NameExprAST>(arg.value.get());
        if (!name) {
          emitError(tok().loc)
              << "expected ',' or ')' after an argument of " << what
              << ", got '=' (only a name can be given a value)";
          return nullptr;
        }
        arg.name = name->getName().str();
        consume();
        arg.value = parseExpr();
        if (!arg.value)
          return nullptr;
      }
      args.push_back(std::move(arg));
    } while (tok().is(TokenKind::comma) && (consume(), true));
  }
  if (tok().isNot(TokenKind::rParen)) {
    emitExpectedClose("')'", "to close the argument list of " + what, open);
    return nullptr;
  }
  consume();
  return std::make_unique<CallExprAST>(callee.loc, callee.spelling.str(),
                                       std::move(args));
}

/// listExpr ::= '[' [ expr { ',' expr } ] ']'
ExprPtr Parser::parseListExpr() {
  Token open = tok();
  consume(); // '['
  std::vector<ExprPtr> elements;
  if (tok().isNot(TokenKind::rSquare)) {
    do {
      ExprPtr element = parseExpr();
      if (!element)
        return nullptr;
      elements.push_back(std::move(element));
    } while (tok().is(TokenKind::comma) && (consume(), true));
  }
  if (tok().isNot(TokenKind::rSquare)) {
    emitExpectedClose("']'", "to close the list", open);
    return nullptr;
  }
  consume();
  return std::make_unique<ListExprAST>(open.loc, std::move(elements));
}
