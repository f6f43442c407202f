//===- ExprTest.cpp - The manifest expression language --------------------===//

#include "runtime/Expr.h"

#include "TestUtil.h"

#include <cmath>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

Value eval(const std::string &text, const EvalContext &ctx = EvalContext()) {
  Result<Expr> e = parseExpr(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.message();
  if (!e.ok())
    return Value();
  Result<Value> v = evaluate(*e, ctx);
  EXPECT_TRUE(v.ok()) << text << ": " << v.message();
  return v.ok() ? *v : Value();
}

void expectInt(const std::string &text, int64_t want,
               const EvalContext &ctx = {}) {
  Value v = eval(text, ctx);
  EXPECT_EQ(v.type, Value::Type::Int) << text;
  EXPECT_EQ(v.i, want) << text;
}

void expectFloat(const std::string &text, double want,
                 const EvalContext &ctx = {}) {
  Value v = eval(text, ctx);
  EXPECT_EQ(v.type, Value::Type::Float) << text;
  EXPECT_DOUBLE_EQ(v.f, want) << text;
}

void expectBool(const std::string &text, bool want,
                const EvalContext &ctx = {}) {
  Value v = eval(text, ctx);
  EXPECT_EQ(v.type, Value::Type::Bool) << text;
  EXPECT_EQ(v.b, want) << text;
}

void expectParseError(const std::string &text, const std::string &needle) {
  Result<Expr> e = parseExpr(text);
  ASSERT_FALSE(e.ok()) << text;
  EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
}

void expectEvalError(const std::string &text, const std::string &needle,
                     const EvalContext &ctx = {}) {
  Result<Expr> e = parseExpr(text);
  ASSERT_TRUE(e.ok()) << e.message();
  Result<Value> v = evaluate(*e, ctx);
  ASSERT_FALSE(v.ok()) << text;
  EXPECT_NE(v.message().find(needle), std::string::npos) << v.message();
}

TEST(ExprTest, Literals) {
  expectInt("42", 42);
  expectInt("-3", -3);
  expectFloat("1.0", 1.0);
  expectFloat("-8.0", -8.0);
  expectFloat("1e-06", 1e-6);
  expectFloat("2E3", 2000.0);
  expectBool("true", true);
  expectBool("false", false);
}

TEST(ExprTest, IntegerVersusFloatArithmetic) {
  expectInt("(add 1 2)", 3);
  expectFloat("(add 1 2.0)", 3.0);
  expectInt("(div 7 2)", 3);
  expectInt("(div -7 2)", -3); // Truncates toward zero.
  expectInt("(rem -7 2)", -1);
  expectFloat("(div 7.0 2)", 3.5);
  expectFloat("(rem 7.5 2)", 1.5);
  expectInt("(mul (sub 2 5) 4)", -12);
  expectInt("(min 3 -4)", -4);
  expectFloat("(max 3 4.5)", 4.5);
  expectInt("(neg 5)", -5);
  expectInt("(abs -5)", 5);
  expectFloat("(abs -2.5)", 2.5);
  expectFloat("(div 1.0 0)", INFINITY);
}

TEST(ExprTest, FloatFunctions) {
  expectFloat("(exp 0)", 1.0);
  expectFloat("(exp2 3)", 8.0);
  expectFloat("(log 1)", 0.0);
  expectFloat("(tanh 0.0)", 0.0);
  expectFloat("(sqrt 16)", 4.0);
  expectFloat("(rsqrt 64)", 0.125);
  expectFloat("(sin 0)", 0.0);
  expectFloat("(cos 0)", 1.0);
  expectFloat("(floor -1.5)", -2.0);
  expectFloat("(pow 2 10)", 1024.0);
}

TEST(ExprTest, ComparisonsAndLogic) {
  expectBool("(lt 1 2)", true);
  expectBool("(le 2 2)", true);
  expectBool("(gt 1 2.5)", false);
  expectBool("(ge 3 3.0)", true);
  expectBool("(eq 1 1.0)", true);
  expectBool("(ne true false)", true);
  expectBool("(and true (lt 1 2) true)", true);
  expectBool("(or false false)", false);
  expectBool("(not false)", true);
  expectFloat("(select (lt 1 2) 1.5 2.5)", 1.5);
  expectInt("(select false 1 2)", 2);
  // Short-circuit: the division by zero is never evaluated.
  expectBool("(and false (eq (div 1 0) 0))", false);
  expectBool("(or true (eq (div 1 0) 0))", true);
  // NaN compares unequal to everything.
  expectBool("(eq (log -1) (log -1))", false);
  expectBool("(ne (log -1) 0)", true);
}

TEST(ExprTest, Conversions) {
  expectFloat("(float 3)", 3.0);
  expectInt("(int 2.7)", 2);
  expectInt("(int -2.7)", -2);
  expectInt("(int 5)", 5);
}

TEST(ExprTest, VariablesDimsAndLoads) {
  EvalContext ctx;
  ctx.s = 0.5;
  ctx.b = 1;
  ctx.h = 3;
  ctx.i = 10;
  ctx.j = 4;
  ctx.dims[int(DimRole::N)] = 16;
  ctx.dims[int(DimRole::M)] = 32;
  ctx.dims[int(DimRole::D)] = 64;
  ctx.dims[int(DimRole::H)] = 8;
  TensorMap tensors;
  tensors.emplace("kv_len", makeTensor(DType::I32, {2}, {7, 9}));
  tensors.emplace("bias", makeTensor(DType::F32, {2, 2}, {0.5, 1.5, 2.5, 3.5}));
  ctx.tensors = &tensors;
  expectFloat("s", 0.5, ctx);
  expectInt("(add i j)", 14, ctx);
  expectInt("(sub (dim M) (dim N))", 16, ctx);
  // The causal mask of the manifest example, bottom-right aligned.
  expectBool("(le j (add i (sub (dim M) (dim N))))", true, ctx);
  expectFloat("(rsqrt (float (dim D)))", 0.125, ctx);
  expectInt("(load kv_len b)", 9, ctx);
  expectBool("(lt j (load kv_len b))", true, ctx);
  expectFloat("(load bias 1 0)", 2.5, ctx);
  // ALiBi as written in the DSL examples.
  expectFloat("(sub s (mul (exp2 (div (mul -8.0 (add h 1)) (float (dim H)))) "
              "(abs (sub i j))))",
              0.5 - std::exp2(-8.0 * 4 / 8.0) * 6, ctx);
}

TEST(ExprTest, RestrictedVariableSets) {
  // Feature maps read x (a float); expansions read i; nothing else.
  Result<Expr> f =
      parseExpr("(select (gt x 0.0) (add x 1.0) (exp x))", {ExprVar::X});
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_FALSE(f->isConstant());
  EXPECT_EQ(f->str(), "(select (gt x 0.0) (add x 1.0) (exp x))");
  EvalContext ctx;
  ctx.x = -1.0;
  Result<Value> v = evaluate(*f, ctx);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->type, Value::Type::Float);
  EXPECT_DOUBLE_EQ(v->f, std::exp(-1.0));
  ctx.x = 2.0;
  EXPECT_DOUBLE_EQ(evaluate(*f, ctx)->f, 3.0);

  Result<Expr> e = parseExpr("(sin (float (add i (dim N))))", {ExprVar::I});
  ASSERT_TRUE(e.ok()) << e.message();
  Result<Expr> bad = parseExpr("(add x i)", {ExprVar::X});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("column 8: unknown variable 'i' (expected x, "
                               "true, false or a number)"),
            std::string::npos)
      << bad.message();
  bad = parseExpr("(add s j)", {ExprVar::I});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("unknown variable 's' (expected i, true, "
                               "false or a number)"),
            std::string::npos)
      << bad.message();
  // The default set is unchanged: x is not a variable there.
  bad = parseExpr("x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("unknown variable 'x' (expected s, b, h, i, j, "
                               "true, false or a number)"),
            std::string::npos)
      << bad.message();
}

TEST(ExprTest, PrintAndConstant) {
  Result<Expr> e = parseExpr("  ( le j\n(add i (sub (dim M) (dim N))) ) ");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e->str(), "(le j (add i (sub (dim M) (dim N))))");
  EXPECT_FALSE(e->isConstant());
  Result<Expr> c = parseExpr("(rsqrt (float (dim D)))");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->isConstant());
  EXPECT_EQ(parseExpr("0.125")->str(), "0.125");
  EXPECT_EQ(parseExpr("2.0")->str(), "2.0");
  EXPECT_FALSE(parseExpr("(load x 0)")->isConstant());
}

TEST(ExprTest, ParseErrors) {
  expectParseError("", "expected an expression but reached the end of input");
  expectParseError(
      "(add 1 2",
      "column 9: expected ')' to close the 'add' opened at column 2");
  expectParseError("(add 1 2))",
                   "unexpected ')' after the end of the expression");
  expectParseError("(add 1 2) 3", "unexpected '3' after the end");
  expectParseError(")", "expected an expression but found ')'");
  expectParseError("(frob 1)", "column 2: unknown operator 'frob'");
  expectParseError("(add 1)", "'add' (column 2) takes 2 operand(s) but has 1");
  expectParseError("(select true 1)", "takes 3 operand(s) but has 2");
  expectParseError("(and true)", "takes at least 2 operand(s)");
  expectParseError("(add x 1)", "unknown variable 'x'");
  expectParseError("(dim Q)", "unknown dim role 'Q'");
  expectParseError("(dim (add 1 2))", "'dim' expects a name first");
  expectParseError("(dim N 1)",
                   "'dim' (column 2) takes 1 operand(s) but has 2");
  expectParseError("(load)", "'load' expects a name first");
  expectParseError("()", "expected an operator name after '('");
  expectParseError("1.2.3", "malformed float literal '1.2.3'");
  expectParseError("12abc", "malformed integer literal '12abc'");
  expectParseError("99999999999999999999", "does not fit in 64 bits");
  expectParseError("1e999", "malformed float literal");
}

TEST(ExprTest, EvaluationErrors) {
  expectEvalError("(div 1 0)", "integer division by zero");
  expectEvalError("(rem 1 0)", "integer division by zero");
  expectEvalError("(add 9223372036854775807 1)", "integer overflow");
  expectEvalError("(mul 4611686018427387904 2)", "integer overflow");
  expectEvalError("(neg -9223372036854775808)", "integer overflow");
  expectEvalError("(add true 1)",
                  "operand true is a boolean, expected a number");
  expectEvalError("(not 1)", "operand 1 is a number, expected a boolean");
  expectEvalError("(select 1 2 3)", "expected a boolean");
  expectEvalError("(lt true 1)", "cannot compare a boolean with a number");
  expectEvalError("(int 1e300)", "cannot convert");
  expectEvalError("(load x 0)", "no arguments are available");
  EvalContext ctx;
  TensorMap tensors;
  tensors.emplace("kv_len", makeTensor(DType::I32, {2}, {7, 9}));
  ctx.tensors = &tensors;
  expectEvalError("(load nope 0)", "no argument named 'nope'", ctx);
  expectEvalError("(load kv_len 2)",
                  "index 2 is out of range [0, 2) in dim 0 of 'kv_len'", ctx);
  expectEvalError("(load kv_len 0 0)", "has rank 1 but 2 indices were given",
                  ctx);
  expectEvalError("(load kv_len 0.5)", "is not an integer", ctx);
  // Errors name the failing sub-expression.
  expectEvalError("(add 1 (div 2 0))", "evaluating (div 2 0)");
}

} // namespace
