//===- ScalarExpr.cpp - neutral scalar expression trees -------------------===//

#include "lowering/ScalarExpr.h"

#include <cstdio>
#include <sstream>

using namespace attn;

ScalarExpr ScalarExpr::intLit(int64_t v) {
  ScalarExpr e;
  e.op = "int";
  e.type = ScalarType::Int;
  e.intValue = v;
  return e;
}

ScalarExpr ScalarExpr::floatLit(double v) {
  ScalarExpr e;
  e.op = "float";
  e.type = ScalarType::Float;
  e.floatValue = v;
  return e;
}

ScalarExpr ScalarExpr::var(const std::string &name, ScalarType type) {
  ScalarExpr e;
  e.op = "var";
  e.type = type;
  e.name = name;
  return e;
}

ScalarExpr ScalarExpr::dim(const std::string &role) {
  ScalarExpr e;
  e.op = "dim";
  e.type = ScalarType::Int;
  e.name = role;
  return e;
}

ScalarExpr ScalarExpr::make(const std::string &op, ScalarType type,
                            std::vector<ScalarExpr> args) {
  ScalarExpr e;
  e.op = op;
  e.type = type;
  e.args = std::move(args);
  return e;
}

/// Prints a double so that it reads back as a float literal (with '.' or
/// 'e') and round-trips exactly.
static std::string formatFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEni") == std::string::npos)
    s += ".0";
  return s;
}

std::string ScalarExpr::toString() const {
  // "int" and "float" are literals without arguments and conversions with
  // one.
  if (op == "int" && args.empty())
    return std::to_string(intValue);
  if (op == "float" && args.empty())
    return formatFloat(floatValue);
  if (op == "bool")
    return intValue ? "true" : "false";
  if (op == "var")
    return name;
  if (op == "dim")
    return "(dim " + name + ")";
  std::ostringstream os;
  os << "(" << op;
  if (op == "load")
    os << " " << name;
  for (const ScalarExpr &a : args)
    os << " " << a.toString();
  os << ")";
  return os.str();
}

bool ScalarExpr::mentions(const std::string &v) const {
  if (op == "var" && name == v)
    return true;
  for (const ScalarExpr &a : args)
    if (a.mentions(v))
      return true;
  return false;
}
