//===- Expr.cpp - The manifest's S-expression language --------------------===//

#include "runtime/Expr.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

namespace attn::rt {

namespace {

struct OpInfo {
  const char *name;
  ExprOp op;
  int minArgs;
  int maxArgs; ///< -1: unbounded.
};

const OpInfo kOps[] = {
    {"add", ExprOp::Add, 2, 2},       {"sub", ExprOp::Sub, 2, 2},
    {"mul", ExprOp::Mul, 2, 2},       {"div", ExprOp::Div, 2, 2},
    {"rem", ExprOp::Rem, 2, 2},       {"min", ExprOp::Min, 2, 2},
    {"max", ExprOp::Max, 2, 2},       {"neg", ExprOp::Neg, 1, 1},
    {"abs", ExprOp::Abs, 1, 1},       {"exp", ExprOp::Exp, 1, 1},
    {"exp2", ExprOp::Exp2, 1, 1},     {"log", ExprOp::Log, 1, 1},
    {"log1p", ExprOp::Log1p, 1, 1},
    {"tanh", ExprOp::Tanh, 1, 1},     {"sqrt", ExprOp::Sqrt, 1, 1},
    {"rsqrt", ExprOp::Rsqrt, 1, 1},   {"sin", ExprOp::Sin, 1, 1},
    {"cos", ExprOp::Cos, 1, 1},       {"floor", ExprOp::Floor, 1, 1},
    {"pow", ExprOp::Pow, 2, 2},       {"lt", ExprOp::Lt, 2, 2},
    {"le", ExprOp::Le, 2, 2},         {"gt", ExprOp::Gt, 2, 2},
    {"ge", ExprOp::Ge, 2, 2},         {"eq", ExprOp::Eq, 2, 2},
    {"ne", ExprOp::Ne, 2, 2},         {"and", ExprOp::And, 2, -1},
    {"or", ExprOp::Or, 2, -1},        {"not", ExprOp::Not, 1, 1},
    {"select", ExprOp::Select, 3, 3}, {"float", ExprOp::ToFloat, 1, 1},
    {"int", ExprOp::ToInt, 1, 1},     {"dim", ExprOp::Dim, 1, 1},
    {"load", ExprOp::Load, 1, -1},
};

const OpInfo &opInfo(ExprOp op) {
  for (const OpInfo &info : kOps)
    if (info.op == op)
      return info;
  return kOps[0];
}

const char *varName(ExprVar v) {
  switch (v) {
  case ExprVar::S:
    return "s";
  case ExprVar::B:
    return "b";
  case ExprVar::H:
    return "h";
  case ExprVar::I:
    return "i";
  case ExprVar::J:
    return "j";
  case ExprVar::X:
    return "x";
  }
  return "?";
}

struct Token {
  enum Kind { LParen, RParen, Atom, End } kind;
  std::string text;
  size_t column; ///< 1-based.
};

class Parser {
public:
  Parser(const std::string &text, const std::vector<ExprVar> &vars)
      : text(text), vars(vars) {
    advance();
  }

  Result<Expr> parseTop() {
    Result<Expr> e = parseOne();
    if (!e)
      return e;
    if (tok.kind != Token::End)
      return fail("unexpected '" + tok.text +
                  "' after the end of the expression");
    return e;
  }

private:
  Status fail(const std::string &msg) const {
    return Status::error("in expression \"" + text + "\": column " +
                         std::to_string(tok.column) + ": " + msg);
  }

  void advance() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
    tok.column = pos + 1;
    if (pos >= text.size()) {
      tok = {Token::End, "end of input", pos + 1};
      return;
    }
    char c = text[pos];
    if (c == '(' || c == ')') {
      tok = {c == '(' ? Token::LParen : Token::RParen, std::string(1, c),
             pos + 1};
      ++pos;
      return;
    }
    size_t start = pos;
    while (pos < text.size() && text[pos] != '(' && text[pos] != ')' &&
           !std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
    tok = {Token::Atom, text.substr(start, pos - start), start + 1};
  }

  /// expr ::= atom | '(' op expr* ')'
  Result<Expr> parseOne() {
    if (tok.kind == Token::End)
      return fail("expected an expression but reached the end of input");
    if (tok.kind == Token::RParen)
      return fail("expected an expression but found ')'");
    if (tok.kind == Token::Atom) {
      Result<Expr> e = parseAtom(tok.text);
      if (e)
        advance();
      return e;
    }
    advance(); // '('
    if (tok.kind != Token::Atom)
      return fail("expected an operator name after '('");
    const OpInfo *info = nullptr;
    for (const OpInfo &candidate : kOps)
      if (tok.text == candidate.name)
        info = &candidate;
    if (!info)
      return fail("unknown operator '" + tok.text + "'");
    Expr call;
    call.kind = Expr::Kind::Call;
    call.op = info->op;
    size_t opColumn = tok.column;
    advance();

    if (info->op == ExprOp::Dim || info->op == ExprOp::Load) {
      if (tok.kind != Token::Atom)
        return fail(std::string("'") + info->name + "' expects a name first");
      if (info->op == ExprOp::Dim) {
        static const char *roles = "BHNMDG";
        const char *at =
            tok.text.size() == 1 ? std::strchr(roles, tok.text[0]) : nullptr;
        if (!at || !*at)
          return fail("unknown dim role '" + tok.text +
                      "' (expected one of B H N M D G)");
        call.role = DimRole(at - roles);
      } else {
        call.name = tok.text;
      }
      advance();
    }
    while (tok.kind != Token::RParen) {
      if (tok.kind == Token::End)
        return fail("expected ')' to close the '" + std::string(info->name) +
                    "' opened at column " + std::to_string(opColumn));
      Result<Expr> operand = parseOne();
      if (!operand)
        return operand;
      call.operands.push_back(operand.take());
    }
    int n = int(call.operands.size()) + (info->op == ExprOp::Dim ? 1 : 0);
    if (n < info->minArgs || (info->maxArgs >= 0 && n > info->maxArgs)) {
      std::string want = info->maxArgs < 0
                             ? "at least " + std::to_string(info->minArgs)
                             : std::to_string(info->minArgs);
      return fail("'" + std::string(info->name) + "' (column " +
                  std::to_string(opColumn) + ") takes " + want +
                  " operand(s) but has " + std::to_string(n));
    }
    advance(); // ')'
    return call;
  }

  Result<Expr> parseAtom(const std::string &a) {
    Expr e;
    if (a == "true" || a == "false") {
      e.kind = Expr::Kind::Bool;
      e.boolValue = a == "true";
      return e;
    }
    for (ExprVar v : vars)
      if (a == varName(v)) {
        e.kind = Expr::Kind::Var;
        e.var = v;
        return e;
      }
    bool numeric =
        std::isdigit(static_cast<unsigned char>(a[0])) ||
        ((a[0] == '-' || a[0] == '+' || a[0] == '.') && a.size() > 1);
    if (!numeric) {
      std::string expected;
      for (ExprVar v : vars)
        expected += std::string(varName(v)) + ", ";
      return fail("unknown variable '" + a + "' (expected " + expected +
                  "true, false or a number)");
    }
    bool isFloatLit = a.find_first_of(".eE") != std::string::npos;
    errno = 0;
    char *end = nullptr;
    if (isFloatLit) {
      double v = std::strtod(a.c_str(), &end);
      if (*end != '\0' || !std::isfinite(v))
        return fail("malformed float literal '" + a + "'");
      e.kind = Expr::Kind::Float;
      e.floatValue = v;
      return e;
    }
    long long v = std::strtoll(a.c_str(), &end, 10);
    if (*end != '\0')
      return fail("malformed integer literal '" + a + "'");
    if (errno == ERANGE)
      return fail("integer literal '" + a + "' does not fit in 64 bits");
    e.kind = Expr::Kind::Int;
    e.intValue = v;
    return e;
  }

  const std::string &text;
  const std::vector<ExprVar> &vars;
  size_t pos = 0;
  Token tok{Token::End, "", 1};
};

/// The evaluator: returns false and sets `err` on failure.
class Evaluator {
public:
  Evaluator(const EvalContext &ctx, std::string &err) : ctx(ctx), err(err) {}

  bool eval(const Expr &e, Value &out) {
    switch (e.kind) {
    case Expr::Kind::Int:
      out = Value::ofInt(e.intValue);
      return true;
    case Expr::Kind::Float:
      out = Value::ofFloat(e.floatValue);
      return true;
    case Expr::Kind::Bool:
      out = Value::ofBool(e.boolValue);
      return true;
    case Expr::Kind::Var:
      switch (e.var) {
      case ExprVar::S:
        out = Value::ofFloat(ctx.s);
        return true;
      case ExprVar::B:
        out = Value::ofInt(ctx.b);
        return true;
      case ExprVar::H:
        out = Value::ofInt(ctx.h);
        return true;
      case ExprVar::I:
        out = Value::ofInt(ctx.i);
        return true;
      case ExprVar::J:
        out = Value::ofInt(ctx.j);
        return true;
      case ExprVar::X:
        out = Value::ofFloat(ctx.x);
        return true;
      }
      return true;
    case Expr::Kind::Call:
      return evalCall(e, out);
    }
    return fail(e, "unknown expression kind");
  }

private:
  bool fail(const Expr &e, const std::string &msg) {
    err = "evaluating " + e.str() + ": " + msg;
    return false;
  }

  bool number(const Expr &e, const Expr &operand, Value &v) {
    if (!eval(operand, v))
      return false;
    if (!v.isNumber())
      return fail(e, "operand " + operand.str() +
                         " is a boolean, expected a number");
    return true;
  }

  bool boolean(const Expr &e, const Expr &operand, bool &v) {
    Value val;
    if (!eval(operand, val))
      return false;
    if (val.type != Value::Type::Bool)
      return fail(e, "operand " + operand.str() +
                         " is a number, expected a boolean");
    v = val.b;
    return true;
  }

  bool evalCall(const Expr &e, Value &out) {
    const std::vector<Expr> &ops = e.operands;
    switch (e.op) {
    case ExprOp::Add:
    case ExprOp::Sub:
    case ExprOp::Mul:
    case ExprOp::Div:
    case ExprOp::Rem:
    case ExprOp::Min:
    case ExprOp::Max:
      return arith(e, out);
    case ExprOp::Neg:
    case ExprOp::Abs: {
      Value v;
      if (!number(e, ops[0], v))
        return false;
      if (v.type == Value::Type::Int) {
        if (v.i == std::numeric_limits<int64_t>::min())
          return fail(e, "integer overflow");
        out = Value::ofInt(e.op == ExprOp::Neg ? -v.i : (v.i < 0 ? -v.i : v.i));
      } else {
        out = Value::ofFloat(e.op == ExprOp::Neg ? -v.f : std::fabs(v.f));
      }
      return true;
    }
    case ExprOp::Exp:
    case ExprOp::Exp2:
    case ExprOp::Log:
    case ExprOp::Log1p:
    case ExprOp::Tanh:
    case ExprOp::Sqrt:
    case ExprOp::Rsqrt:
    case ExprOp::Sin:
    case ExprOp::Cos:
    case ExprOp::Floor: {
      Value v;
      if (!number(e, ops[0], v))
        return false;
      double x = v.asDouble(), r = 0;
      switch (e.op) {
      case ExprOp::Exp:
        r = std::exp(x);
        break;
      case ExprOp::Exp2:
        r = std::exp2(x);
        break;
      case ExprOp::Log:
        r = std::log(x);
        break;
      case ExprOp::Log1p:
        r = std::log1p(x);
        break;
      case ExprOp::Tanh:
        r = std::tanh(x);
        break;
      case ExprOp::Sqrt:
        r = std::sqrt(x);
        break;
      case ExprOp::Rsqrt:
        r = 1.0 / std::sqrt(x);
        break;
      case ExprOp::Sin:
        r = std::sin(x);
        break;
      case ExprOp::Cos:
        r = std::cos(x);
        break;
      default:
        r = std::floor(x);
        break;
      }
      out = Value::ofFloat(r);
      return true;
    }
    case ExprOp::Pow: {
      Value a, b;
      if (!number(e, ops[0], a) || !number(e, ops[1], b))
        return false;
      out = Value::ofFloat(std::pow(a.asDouble(), b.asDouble()));
      return true;
    }
    case ExprOp::Lt:
    case ExprOp::Le:
    case ExprOp::Gt:
    case ExprOp::Ge:
    case ExprOp::Eq:
    case ExprOp::Ne:
      return compare(e, out);
    case ExprOp::And:
    case ExprOp::Or: {
      bool isAnd = e.op == ExprOp::And;
      for (const Expr &operand : ops) {
        bool v;
        if (!boolean(e, operand, v))
          return false;
        if (v != isAnd) { // Short-circuit.
          out = Value::ofBool(v);
          return true;
        }
      }
      out = Value::ofBool(isAnd);
      return true;
    }
    case ExprOp::Not: {
      bool v;
      if (!boolean(e, ops[0], v))
        return false;
      out = Value::ofBool(!v);
      return true;
    }
    case ExprOp::Select: {
      bool c;
      if (!boolean(e, ops[0], c))
        return false;
      return eval(ops[c ? 1 : 2], out);
    }
    case ExprOp::ToFloat: {
      Value v;
      if (!number(e, ops[0], v))
        return false;
      out = Value::ofFloat(v.asDouble());
      return true;
    }
    case ExprOp::ToInt: {
      Value v;
      if (!number(e, ops[0], v))
        return false;
      if (v.type == Value::Type::Int) {
        out = v;
        return true;
      }
      double t = std::trunc(v.f);
      if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
        return fail(e, "cannot convert " + std::to_string(v.f) +
                           " to a 64-bit integer");
      out = Value::ofInt(int64_t(t));
      return true;
    }
    case ExprOp::Dim:
      out = Value::ofInt(ctx.dims[int(e.role)]);
      return true;
    case ExprOp::Load:
      return load(e, out);
    }
    return fail(e, "unknown operator");
  }

  bool arith(const Expr &e, Value &out) {
    Value a, b;
    if (!number(e, e.operands[0], a) || !number(e, e.operands[1], b))
      return false;
    if (a.type == Value::Type::Int && b.type == Value::Type::Int) {
      int64_t r = 0;
      bool overflow = false;
      switch (e.op) {
      case ExprOp::Add:
        overflow = __builtin_add_overflow(a.i, b.i, &r);
        break;
      case ExprOp::Sub:
        overflow = __builtin_sub_overflow(a.i, b.i, &r);
        break;
      case ExprOp::Mul:
        overflow = __builtin_mul_overflow(a.i, b.i, &r);
        break;
      case ExprOp::Div:
      case ExprOp::Rem:
        if (b.i == 0)
          return fail(e, "integer division by zero");
        if (a.i == std::numeric_limits<int64_t>::min() && b.i == -1)
          overflow = true;
        else
          r = e.op == ExprOp::Div ? a.i / b.i : a.i % b.i;
        break;
      case ExprOp::Min:
        r = a.i < b.i ? a.i : b.i;
        break;
      default:
        r = a.i > b.i ? a.i : b.i;
        break;
      }
      if (overflow)
        return fail(e, "integer overflow");
      out = Value::ofInt(r);
      return true;
    }
    double x = a.asDouble(), y = b.asDouble(), r = 0;
    switch (e.op) {
    case ExprOp::Add:
      r = x + y;
      break;
    case ExprOp::Sub:
      r = x - y;
      break;
    case ExprOp::Mul:
      r = x * y;
      break;
    case ExprOp::Div:
      r = x / y;
      break;
    case ExprOp::Rem:
      r = std::fmod(x, y);
      break;
    case ExprOp::Min:
      r = std::fmin(x, y);
      break;
    default:
      r = std::fmax(x, y);
      break;
    }
    out = Value::ofFloat(r);
    return true;
  }

  bool compare(const Expr &e, Value &out) {
    Value a, b;
    if (!eval(e.operands[0], a) || !eval(e.operands[1], b))
      return false;
    bool isEq = e.op == ExprOp::Eq || e.op == ExprOp::Ne;
    if (a.type == Value::Type::Bool || b.type == Value::Type::Bool) {
      if (!isEq || a.type != b.type)
        return fail(e, "cannot compare a boolean with a number");
      out = Value::ofBool((a.b == b.b) == (e.op == ExprOp::Eq));
      return true;
    }
    int c;
    if (a.type == Value::Type::Int && b.type == Value::Type::Int) {
      c = a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    } else {
      double x = a.asDouble(), y = b.asDouble();
      if (std::isnan(x) || std::isnan(y)) { // Every comparison but ne is false.
        out = Value::ofBool(e.op == ExprOp::Ne);
        return true;
      }
      c = x < y ? -1 : x > y ? 1 : 0;
    }
    bool r = false;
    switch (e.op) {
    case ExprOp::Lt:
      r = c < 0;
      break;
    case ExprOp::Le:
      r = c <= 0;
      break;
    case ExprOp::Gt:
      r = c > 0;
      break;
    case ExprOp::Ge:
      r = c >= 0;
      break;
    case ExprOp::Eq:
      r = c == 0;
      break;
    default:
      r = c != 0;
      break;
    }
    out = Value::ofBool(r);
    return true;
  }

  bool load(const Expr &e, Value &out) {
    if (!ctx.tensors)
      return fail(e, "no arguments are available to load from");
    auto it = ctx.tensors->find(e.name);
    if (it == ctx.tensors->end())
      return fail(e, "no argument named '" + e.name + "'");
    const Tensor &t = it->second;
    if (int64_t(e.operands.size()) != t.rank())
      return fail(e, "argument '" + e.name + "' has rank " +
                         std::to_string(t.rank()) + " but " +
                         std::to_string(e.operands.size()) +
                         " indices were given");
    int64_t flat = 0;
    for (size_t d = 0; d < e.operands.size(); ++d) {
      Value idx;
      if (!eval(e.operands[d], idx))
        return false;
      if (idx.type != Value::Type::Int)
        return fail(e, "index " + e.operands[d].str() + " is not an integer");
      if (idx.i < 0 || idx.i >= t.shape()[d])
        return fail(e, "index " + std::to_string(idx.i) +
                           " is out of range [0, " +
                           std::to_string(t.shape()[d]) + ") in dim " +
                           std::to_string(d) + " of '" + e.name + "'");
      flat = flat * t.shape()[d] + idx.i;
    }
    if (t.dtype() == DType::I32)
      out = Value::ofInt(t.dataAs<int32_t>()[flat]);
    else
      out = Value::ofFloat(t.getDouble(flat));
    return true;
  }

  const EvalContext &ctx;
  std::string &err;
};

std::string formatFloat(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

} // namespace

const char *dimRoleName(DimRole role) {
  static const char *names[] = {"B", "H", "N", "M", "D", "G"};
  return names[int(role)];
}

std::string Expr::str() const {
  switch (kind) {
  case Kind::Int:
    return std::to_string(intValue);
  case Kind::Float:
    return formatFloat(floatValue);
  case Kind::Bool:
    return boolValue ? "true" : "false";
  case Kind::Var:
    return varName(var);
  case Kind::Call:
    break;
  }
  std::string s = "(";
  s += opInfo(op).name;
  if (op == ExprOp::Dim)
    s += std::string(" ") + dimRoleName(role);
  if (op == ExprOp::Load)
    s += " " + name;
  for (const Expr &operand : operands)
    s += " " + operand.str();
  return s + ")";
}

bool Expr::isConstant() const {
  if (kind == Kind::Var)
    return false;
  if (kind == Kind::Call && op == ExprOp::Load)
    return false;
  for (const Expr &operand : operands)
    if (!operand.isConstant())
      return false;
  return true;
}

Result<Expr> parseExpr(const std::string &text) {
  static const std::vector<ExprVar> defaultVars = {
      ExprVar::S, ExprVar::B, ExprVar::H, ExprVar::I, ExprVar::J};
  return parseExpr(text, defaultVars);
}

Result<Expr> parseExpr(const std::string &text,
                       const std::vector<ExprVar> &vars) {
  return Parser(text, vars).parseTop();
}

Result<Value> evaluate(const Expr &expr, const EvalContext &ctx) {
  std::string err;
  Value v;
  if (!Evaluator(ctx, err).eval(expr, v))
    return Status::error(err);
  return v;
}

} // namespace attn::rt
