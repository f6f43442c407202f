//===- BlockReferenceTest.cpp - The "block" reference kind
//-----------------===//
//
// docs/Architectures.md §2: every op on tiny cases computed by hand (shift
// mode's integer semantics, convolution padding, pooling, the head layout
// round trip), shape errors, several outputs, FLOPs, and f64 inputs for
// every reference kind.
//
//===----------------------------------------------------------------------===//

#include "runtime/BlockReference.h"

#include "ReferenceTestUtil.h"

#include <cmath>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

Json arg(const std::string &name, const std::string &role,
         const std::string &dtype, const std::vector<int64_t> &shape) {
  return Json{
      {"name", name}, {"role", role}, {"dtype", dtype}, {"shape", shape}};
}

/// A one-kernel manifest "blk" with `args` and a block reference of `ops`.
Json blockManifest(const Json &args, const Json &ops) {
  Json kernel = {{"name", "blk"},
                 {"entry", "blk"},
                 {"dims", Json::object()},
                 {"args", args},
                 {"reference", {{"kind", "block"}, {"ops", ops}}}};
  return Json{{"format", "attnc-manifest"},
              {"version", 1},
              {"source_hash", "0123456789abcdef"},
              {"kernels", Json::array({kernel})}};
}

KernelSpec blockKernel(const Json &args, const Json &ops) {
  return parseKernel(blockManifest(args, ops), "blk.json");
}

/// A kernel of one op `op` (with `attrs`) from inputs `ins` to out.
KernelSpec oneOp(const std::string &op, const Json &ins,
                 const std::vector<int64_t> &outShape,
                 const Json &attrs = Json::object()) {
  Json args = Json::array();
  Json names = Json::array();
  // A braced list of one input arrives as that input, not as an array.
  for (const Json &in : ins.is_array() ? ins : Json::array({ins})) {
    args.push_back(in);
    names.push_back(in["name"]);
  }
  args.push_back(arg("out", "output", "f32", outShape));
  Json o = {{"op", op}, {"inputs", names}, {"out", "out"}, {"shape", outShape}};
  for (auto it = attrs.begin(); it != attrs.end(); ++it)
    o[it.key()] = it.value();
  return blockKernel(args, Json::array({o}));
}

/// Evaluates `kernel` on `args` and returns the float64 output.
std::vector<double> eval(const KernelSpec &kernel, const TensorMap &args) {
  Result<ReferenceOutput> r = computeReference(kernel, args);
  EXPECT_TRUE(r.ok()) << r.message();
  std::vector<double> out;
  if (!r.ok())
    return out;
  for (int64_t i = 0; i < r->ref64.numElements(); ++i)
    out.push_back(r->ref64.getDouble(i));
  expectBaselineClose(*r);
  return out;
}

void expectValues(const std::vector<double> &got,
                  const std::vector<double> &want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

Tensor f32(std::vector<int64_t> shape, const std::vector<double> &v) {
  return makeTensor(DType::F32, std::move(shape), v);
}
Tensor i32(std::vector<int64_t> shape, const std::vector<double> &v) {
  return makeTensor(DType::I32, std::move(shape), v);
}

TEST(BlockReferenceTest, LinearMulAndAdder) {
  KernelSpec k =
      oneOp("linear",
            {arg("x", "input", "f32", {2, 3}), arg("w", "input", "f32", {2, 3}),
             arg("b", "input", "f32", {2})},
            {2, 2}, {{"mode", "mul"}});
  TensorMap args;
  args.emplace("x", f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  args.emplace("w", f32({2, 3}, {1, 0, -1, 0.5, 0.5, 0.5}));
  args.emplace("b", f32({2}, {10, -1}));
  expectValues(eval(k, args), {8, 2, 8, 6.5});

  KernelSpec adder =
      oneOp("linear",
            {arg("x", "input", "f32", {1, 2}), arg("w", "input", "f32", {2, 2}),
             arg("b", "input", "f32", {2})},
            {1, 2}, {{"mode", "adder"}});
  TensorMap a2;
  a2.emplace("x", f32({1, 2}, {1, -2}));
  a2.emplace("w", f32({2, 2}, {0, 0, 1, 1}));
  a2.emplace("b", f32({2}, {0.5, 0}));
  expectValues(eval(adder, a2), {-2.5, -3});
}

KernelSpec shiftKernel(int64_t K, int64_t F, bool bias) {
  Json ins = {arg("x", "input", "f32", {1, K}),
              arg("s", "input", "i32", {F, K}),
              arg("g", "input", "i32", {F, K})};
  if (bias)
    ins.push_back(arg("b", "input", "f32", {F}));
  return oneOp("linear", ins, {1, F}, {{"mode", "shift"}});
}

TEST(BlockReferenceTest, ShiftModeIntegerSemantics) {
  // xq = [98304, -45875 (from -45875.2), 0 (from 0.196608)];
  // f0 = (98304 >> 0) - (-45875 >> 1) + (0 >> 31) = 98304 + 22938 (the
  // arithmetic shift floors -22937.5) = 121242; f1 = -(98304 >> 2) = -24576.
  KernelSpec k = shiftKernel(3, 2, true);
  TensorMap args;
  args.emplace("x", f32({1, 3}, {1.5, -0.7, 3e-6}));
  args.emplace("s", i32({2, 3}, {0, -1, -31, -2, 0, 0}));
  args.emplace("g", i32({2, 3}, {1, -1, 1, -1, 0, 1}));
  args.emplace("b", f32({2}, {0.25, 0}));
  Result<ReferenceOutput> r = computeReference(k, args);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->ref64.getDouble(0), 121242.0 / 65536.0 + 0.25);
  EXPECT_EQ(r->ref64.getDouble(1), -24576.0 / 65536.0);
  // The baseline computes the same integers, then converts in float.
  EXPECT_EQ(r->baseline.getDouble(0), double(121242.0f / 65536.0f + 0.25f));
  EXPECT_EQ(r->baseline.getDouble(1), -0.375);
}

TEST(BlockReferenceTest, ShiftModeRoundsHalfToEvenAndClamps) {
  // The identity sign matrix reads xq back: round half to even of x * 2^16
  // (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -1.5 -> -2), clamped to int32.
  const double u = 1.0 / 65536.0;
  const int64_t F = 6;
  KernelSpec k = shiftKernel(F, F, false);
  std::vector<double> sign(size_t(F * F), 0), shift(size_t(F * F), 0);
  for (int64_t f = 0; f < F; ++f)
    sign[size_t(f * F + f)] = 1;
  TensorMap args;
  args.emplace("x",
               f32({1, F}, {0.5 * u, 1.5 * u, 2.5 * u, -1.5 * u, 1e6, -1e6}));
  args.emplace("s", i32({F, F}, shift));
  args.emplace("g", i32({F, F}, sign));
  expectValues(eval(k, args),
               {0, 2 * u, 2 * u, -2 * u, 2147483647.0 * u, -2147483648.0 * u},
               0);
}

TEST(BlockReferenceTest, ShiftModeRejectsOutOfRangeWeights) {
  KernelSpec k = shiftKernel(2, 1, false);
  TensorMap args;
  args.emplace("x", f32({1, 2}, {1, 1}));
  args.emplace("s", i32({1, 2}, {0, 1}));
  args.emplace("g", i32({1, 2}, {1, 1}));
  expectReferenceError(k, args,
                       "kernel 'blk': reference.ops[0] (linear -> 'out'): the "
                       "shift 's' is 1 at [0, 1], outside [-31, 0]");
  args.at("s").setDouble(1, -3);
  args.at("g").setDouble(0, 2);
  expectReferenceError(k, args,
                       "kernel 'blk': reference.ops[0] (linear -> 'out'): the "
                       "sign 'g' is 2 at [0, 0], outside {-1, 0, 1}");
}

TEST(BlockReferenceTest, Norms) {
  KernelSpec ln =
      oneOp("layernorm",
            {arg("x", "input", "f32", {1, 4}), arg("g", "input", "f32", {4}),
             arg("b", "input", "f32", {4})},
            {1, 4}, {{"eps", 0.75}});
  TensorMap args;
  args.emplace("x", f32({1, 4}, {1, 2, 3, 4}));
  args.emplace("g", f32({4}, {1, 1, 2, 2}));
  args.emplace("b", f32({4}, {0, 0, 0, 1}));
  // mean 2.5, biased variance 1.25, + eps = 2.
  const double s = std::sqrt(2.0);
  expectValues(eval(ln, args), {-1.5 / s, -0.5 / s, 1.0 / s, 3.0 / s + 1});

  KernelSpec rms =
      oneOp("rmsnorm",
            {arg("x", "input", "f32", {1, 2}), arg("g", "input", "f32", {2})},
            {1, 2}, {{"eps", 0.0}});
  TensorMap a2;
  a2.emplace("x", f32({1, 2}, {3, 4}));
  a2.emplace("g", f32({2}, {1, 2}));
  expectValues(eval(rms, a2), {3 / std::sqrt(12.5), 8 / std::sqrt(12.5)});
}

TEST(BlockReferenceTest, ActivationsAndAdd) {
  TensorMap args;
  args.emplace("x", f32({3}, {1, -1, 0}));
  auto act = [&](const char *op) {
    return eval(oneOp(op, {arg("x", "input", "f32", {3})}, {3}), args);
  };
  expectValues(act("gelu"), {0.8413447460685429, -0.15865525393145707, 0});
  expectValues(act("relu"), {1, 0, 0});
  expectValues(act("silu"), {0.7310585786300049, -0.2689414213699951, 0});

  KernelSpec add = oneOp(
      "add", {arg("x", "input", "f32", {3}), arg("y", "input", "f32", {3})},
      {3});
  args.emplace("y", f32({3}, {0.5, 0.25, -2}));
  expectValues(eval(add, args), {1.5, -0.75, -2});
}

TEST(BlockReferenceTest, SplitMergeHeadsRoundTrip) {
  // x [2, 3, 6] -> split (H = 2) [2, 2, 3, 3] -> merge [2, 3, 6] == x.
  Json args = {arg("x", "input", "f32", {2, 3, 6}),
               arg("heads", "output", "f32", {2, 2, 3, 3}),
               arg("back", "output", "f32", {2, 3, 6})};
  Json ops = Json::parse(R"J([
    {"op": "split_heads", "inputs": ["x"], "out": "heads", "shape": [2, 2, 3, 3], "heads": 2},
    {"op": "merge_heads", "inputs": ["heads"], "out": "back", "shape": [2, 3, 6]}])J");
  KernelSpec k = blockKernel(args, ops);
  TensorMap in;
  in.emplace("x", filled({2, 3, 6}, 4));
  Result<std::vector<NamedReferenceOutput>> outs =
      computeReferenceOutputs(k, in);
  ASSERT_TRUE(outs.ok()) << outs.message();
  ASSERT_EQ(outs->size(), 2u);
  EXPECT_EQ((*outs)[0].name, "heads");
  EXPECT_EQ((*outs)[1].name, "back");
  const Tensor &x = in.at("x"), &heads = (*outs)[0].output.ref64,
               &back = (*outs)[1].output.ref64;
  for (int64_t i = 0; i < x.numElements(); ++i)
    EXPECT_EQ(back.getDouble(i), x.getDouble(i));
  // heads[b, h, n, d] = x[b, n, h * 3 + d].
  EXPECT_EQ(heads.getDouble(heads.flatIndex({1, 1, 2, 0})),
            x.getDouble(x.flatIndex({1, 2, 3})));
  EXPECT_EQ(heads.getDouble(heads.flatIndex({0, 0, 1, 2})),
            x.getDouble(x.flatIndex({0, 1, 2})));
  // computeReference gives the first output.
  Result<ReferenceOutput> first = computeReference(k, in);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_EQ(first->ref64.shape(), (std::vector<int64_t>{2, 2, 3, 3}));
}

TEST(BlockReferenceTest, SliceAndConcat) {
  Json args = {arg("x", "input", "f32", {2, 3}),
               arg("out", "output", "f32", {2, 5})};
  Json ops = Json::parse(R"J([
    {"op": "slice", "inputs": ["x"], "out": "%0", "shape": [2, 2], "offset": 1, "size": 2},
    {"op": "concat", "inputs": ["%0", "x"], "out": "out", "shape": [2, 5]}])J");
  TensorMap in;
  in.emplace("x", f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  expectValues(eval(blockKernel(args, ops), in),
               {2, 3, 1, 2, 3, 5, 6, 4, 5, 6});
}

TEST(BlockReferenceTest, Conv1dPaddingAndModes) {
  auto conv = [](const char *mode, const char *padding) {
    return oneOp("conv1d",
                 {arg("x", "input", "f32", {1, 4, 1}),
                  arg("w", "input", "f32", {1, 3}),
                  arg("b", "input", "f32", {1})},
                 {1, 4, 1}, {{"mode", mode}, {"padding", padding}});
  };
  TensorMap args;
  args.emplace("x", f32({1, 4, 1}, {1, 2, 3, 4}));
  args.emplace("w", f32({1, 3}, {1, 10, 100}));
  args.emplace("b", f32({1}, {0.5}));
  // same: p = 1; causal: p = 2; zeros outside [0, N).
  expectValues(eval(conv("mul", "same"), args), {210.5, 321.5, 432.5, 43.5});
  expectValues(eval(conv("mul", "causal"), args), {100.5, 210.5, 321.5, 432.5});
  // adder: -sum |x - w| with the padded x = 0 still counted.
  // t0: |0-1| + |1-10| + |2-100| = 108; t1: 0+8+97; t2: 1+7+96; t3: 2+6+100.
  expectValues(eval(conv("adder", "same"), args),
               {-107.5, -104.5, -103.5, -107.5});
}

TEST(BlockReferenceTest, Conv2dPaddingAndStride) {
  auto conv = [](int64_t stride, int64_t outTokens) {
    return oneOp("conv2d",
                 {arg("x", "input", "f32", {1, 9, 1}),
                  arg("w", "input", "f32", {1, 3, 3})},
                 {1, outTokens, 1}, {{"grid", {3, 3}}, {"stride", stride}});
  };
  TensorMap args;
  args.emplace("x", f32({1, 9, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  args.emplace("w", f32({1, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1}));
  // Padding 1: each output sums the 3x3 neighbourhood inside the grid.
  expectValues(eval(conv(1, 9), args), {12, 21, 16, 27, 45, 33, 24, 39, 28});
  // Stride 2: Ho = (3 + 2 - 3) / 2 + 1 = 2, the corners.
  expectValues(eval(conv(2, 4), args), {12, 16, 24, 28});
}

TEST(BlockReferenceTest, Pool) {
  auto pool = [](const char *mode, int64_t window, int64_t stride,
                 int64_t outTokens) {
    return oneOp("pool", {arg("x", "input", "f32", {1, 16, 1})},
                 {1, outTokens, 1},
                 {{"mode", mode},
                  {"grid", {4, 4}},
                  {"window", window},
                  {"stride", stride}});
  };
  std::vector<double> v;
  for (int i = 0; i < 16; ++i)
    v.push_back(i);
  TensorMap args;
  args.emplace("x", f32({1, 16, 1}, v));
  expectValues(eval(pool("avg", 2, 2, 4), args), {2.5, 4.5, 10.5, 12.5});
  expectValues(eval(pool("max", 2, 2, 4), args), {5, 7, 13, 15});
  // No padding: window 3, stride 1 gives 2 x 2.
  expectValues(eval(pool("max", 3, 1, 4), args), {10, 11, 14, 15});
}

TEST(BlockReferenceTest, ShapeErrorsNameTheOpAndValue) {
  Json args = {arg("x", "input", "f32", {2, 3}),
               arg("w", "input", "f32", {4, 3}),
               arg("out", "output", "f32", {2, 4})};
  Json ops = Json::parse(R"J([
    {"op": "linear", "inputs": ["x", "w"], "out": "%0", "shape": [2, 5], "mode": "mul"},
    {"op": "relu", "inputs": ["%0"], "out": "out", "shape": [2, 4]}])J");
  KernelSpec k = blockKernel(args, ops);
  TensorMap in;
  in.emplace("x", filled({2, 3}, 1));
  in.emplace("w", filled({4, 3}, 2));
  expectReferenceError(k, in,
                       "kernel 'blk': reference.ops[0] (linear -> '%0'): the "
                       "result '%0' is [2, 4] but the op's shape is [2, 5]");

  in.at("w") = filled({4, 2}, 2);
  expectReferenceError(k, in,
                       "kernel 'blk': reference.ops[0] (linear -> '%0'): "
                       "input 'w' [4, 2] must be [4, 3] ([F, K], K from x)");
  in.erase("w");
  expectReferenceError(k, in,
                       "kernel 'blk': reference.ops[0] (linear -> '%0'): the "
                       "input 'w' is missing");
}

TEST(BlockReferenceTest, FlopsAndIntegerRanges) {
  Json args = {
      arg("x", "input", "f32", {2, 3}), arg("w", "input", "f32", {4, 3}),
      arg("s", "input", "i32", {4, 4}), arg("g", "input", "i32", {4, 4}),
      arg("out", "output", "f32", {2, 4})};
  Json ops = Json::parse(R"J([
    {"op": "linear", "inputs": ["x", "w"], "out": "%0", "shape": [2, 4], "mode": "mul"},
    {"op": "layernorm", "inputs": ["%0", "%0b", "%0b"], "out": "%1", "shape": [2, 4], "eps": 0.0}])J");
  // A temporary that no op writes is rejected when the manifest is parsed.
  expectManifestRejected(blockManifest(args, ops), "blk.json",
                         "kernel 'blk': kernels[0].reference.ops[1].inputs[1]: "
                         "'%0b' is neither an input");
  ops = Json::parse(R"J([
    {"op": "linear", "inputs": ["x", "w"], "out": "%0", "shape": [2, 4], "mode": "mul"},
    {"op": "gelu", "inputs": ["%0"], "out": "%1", "shape": [2, 4]},
    {"op": "linear", "inputs": ["%1", "s", "g"], "out": "out", "shape": [2, 4], "mode": "shift"}])J");
  KernelSpec k = blockKernel(args, ops);
  TensorMap in;
  in.emplace("x", filled({2, 3}, 1));
  in.emplace("w", filled({4, 3}, 2));
  in.emplace("s", i32({4, 4}, std::vector<double>(16, -1)));
  in.emplace("g", i32({4, 4}, std::vector<double>(16, 1)));
  Result<double> flops = referenceFlops(k, in);
  ASSERT_TRUE(flops.ok()) << flops.message();
  // 2*2*3*4 + 8 + 2*2*4*4.
  EXPECT_DOUBLE_EQ(*flops, 48 + 8 + 64);
  EXPECT_EQ(blockIntegerInputRange(k, "s"),
            (std::pair<int64_t, int64_t>{-14, 0}));
  EXPECT_EQ(blockIntegerInputRange(k, "g"),
            (std::pair<int64_t, int64_t>{-1, 1}));
  EXPECT_FALSE(blockIntegerInputRange(k, "x").has_value());
  Result<AttentionShape> as = attentionShape(k, in);
  ASSERT_FALSE(as.ok());
  EXPECT_EQ(as.message(), "reference: kernel 'blk' has kind block, which is "
                          "not an attention (no query, key or value)");
}

TEST(BlockReferenceTest, PrecisionsCanBeEvaluatedAlone) {
  KernelSpec k = oneOp("gelu", {arg("x", "input", "f32", {5})}, {5});
  TensorMap in;
  in.emplace("x", filled({5}, 3));
  Result<std::vector<NamedReferenceOutput>> both = computeBlockReference(k, in);
  Result<std::vector<NamedReferenceOutput>> r64 =
      computeBlockReference(k, in, ReferencePrecision::Float64Only);
  Result<std::vector<NamedReferenceOutput>> r32 =
      computeBlockReference(k, in, ReferencePrecision::Float32Only);
  ASSERT_TRUE(both.ok() && r64.ok() && r32.ok());
  EXPECT_EQ((*r64)[0].output.baseline.numElements(), 0);
  EXPECT_EQ((*r32)[0].output.ref64.numElements(), 0);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*r64)[0].output.ref64.getDouble(i),
              (*both)[0].output.ref64.getDouble(i));
    EXPECT_EQ((*r32)[0].output.baseline.getDouble(i),
              (*both)[0].output.baseline.getDouble(i));
  }
}

/// The same values as `t`, as an f64 tensor.
Tensor asF64(const Tensor &t) {
  Tensor out = Tensor::create(DType::F64, t.shape()).take();
  for (int64_t i = 0; i < t.numElements(); ++i)
    out.setDouble(i, t.getDouble(i));
  return out;
}

/// computeReference gives the same results from f64 inputs holding the
/// same values as f32 ones.
void expectF64InputsAgree(const Json &manifest, TensorMap args32) {
  KernelSpec k = parseKernel(manifest, "kind.json");
  TensorMap args64;
  for (const auto &[name, t] : args32)
    args64.emplace(name, isFloat(t.dtype()) ? asF64(t) : t.clone());
  Result<ReferenceOutput> a = computeReference(k, args32);
  Result<ReferenceOutput> b = computeReference(k, args64);
  ASSERT_TRUE(a.ok() && b.ok()) << a.message() << b.message();
  ASSERT_EQ(a->ref64.numElements(), b->ref64.numElements());
  for (int64_t i = 0; i < a->ref64.numElements(); ++i) {
    EXPECT_EQ(a->ref64.getDouble(i), b->ref64.getDouble(i)) << i;
    EXPECT_EQ(a->baseline.getDouble(i), b->baseline.getDouble(i)) << i;
  }
}

Json kindManifest(const Json &args, const Json &ref) {
  Json kernel = {{"name", "k"},
                 {"entry", "k"},
                 {"dims", Json::object()},
                 {"args", args},
                 {"reference", ref}};
  return Json{{"format", "attnc-manifest"},
              {"version", 1},
              {"source_hash", "0123456789abcdef"},
              {"kernels", Json::array({kernel})}};
}

TEST(BlockReferenceTest, EveryKindAcceptsF64Inputs) {
  const std::vector<int64_t> s4 = {1, 2, 3, 4};
  Json qkv = {arg("q", "input", "f32", s4), arg("k", "input", "f32", s4),
              arg("v", "input", "f32", s4)};
  TensorMap in;
  in.emplace("q", filled(s4, 1));
  in.emplace("k", filled(s4, 2));
  in.emplace("v", filled(s4, 3));
  auto with = [&](Json args, const std::vector<Json> &extra) {
    for (const Json &e : extra)
      args.push_back(e);
    args.push_back(arg("out", "output", "f32", s4));
    return args;
  };
  auto clone = [](const TensorMap &m) {
    TensorMap c;
    for (const auto &[n, t] : m)
      c.emplace(n, t.clone());
    return c;
  };
  Json attention = {
      {"kind", "attention"}, {"query", "q"},
      {"key", "k"},          {"value", "v"},
      {"out", "out"},        {"masks", Json::array({"(le j i)"})}};
  expectF64InputsAgree(kindManifest(with(qkv, {}), attention), clone(in));
  Json linear = Json::parse(R"J({"kind": "linear", "query": "q", "key": "k",
    "value": "v", "out": "out", "feature": {"pointwise": "(max x 0.0)"},
    "normalize": "sum", "eps": 1e-6})J");
  expectF64InputsAgree(kindManifest(with(qkv, {}), linear), clone(in));
  Json luna = Json::parse(R"J({"kind": "luna", "query": "q", "key": "k",
    "value": "v", "out": "out", "memory": "P", "rows": 2})J");
  TensorMap lin = clone(in);
  lin.emplace("P", filled({2, 2, 4}, 5));
  expectF64InputsAgree(
      kindManifest(with(qkv, {arg("P", "input", "f32", {2, 2, 4})}), luna),
      std::move(lin));

  Json emaArgs = {arg("x", "input", "f32", {1, 5, 3})};
  TensorMap ein;
  ein.emplace("x", filled({1, 5, 3}, 6));
  for (const char *n : {"delta", "alpha", "beta", "gamma"}) {
    emaArgs.push_back(arg(n, "input", "f32", {3, 2}));
    ein.emplace(n, filled({3, 2}, 7 + int64_t(ein.size())));
  }
  emaArgs.push_back(arg("omega", "input", "f32", {3}));
  ein.emplace("omega", filled({3}, 11));
  emaArgs.push_back(arg("out", "output", "f32", {1, 5, 3}));
  Json ema = Json::parse(R"J({"kind": "ema", "input": "x", "delta": "delta",
    "alpha": "alpha", "beta": "beta", "gamma": "gamma", "omega": "omega",
    "out": "out", "compat": "code"})J");
  expectF64InputsAgree(kindManifest(emaArgs, ema), std::move(ein));

  Json blockArgs = {arg("x", "input", "f32", {3, 4}),
                    arg("w", "input", "f32", {2, 4}),
                    arg("out", "output", "f32", {3, 2})};
  Json block = {{"kind", "block"}, {"ops", Json::parse(R"J([
    {"op": "linear", "inputs": ["x", "w"], "out": "%0", "shape": [3, 2], "mode": "mul"},
    {"op": "gelu", "inputs": ["%0"], "out": "out", "shape": [3, 2]}])J")}};
  TensorMap bin;
  bin.emplace("x", filled({3, 4}, 8));
  bin.emplace("w", filled({2, 4}, 9));
  expectF64InputsAgree(kindManifest(blockArgs, block), std::move(bin));
}

//===----------------------------------------------------------------------===//
// The materialized-map ops (evolving attention)
//===----------------------------------------------------------------------===//

TEST(BlockReferenceTest, ScoresAndAttendGroupHeads) {
  // H = 4 heads over G = 2 key groups: heads 0, 1 read group 0 and heads
  // 2, 3 group 1 (h / (H / G); h % G would give 10, 200, 30, 400).
  KernelSpec s = oneOp("scores",
                       {arg("q", "input", "f32", {1, 4, 1, 1}),
                        arg("k", "input", "f32", {1, 2, 1, 1})},
                       {1, 4, 1, 1}, {{"scale", 1.0}});
  TensorMap args;
  args.emplace("q", f32({1, 4, 1, 1}, {1, 2, 3, 4}));
  args.emplace("k", f32({1, 2, 1, 1}, {10, 100}));
  expectValues(eval(s, args), {10, 20, 300, 400});

  // Scale 0.5, D = 2, M = 2: h0 = [1, 2], h1 = [3, -1]; k0 = [1, 0],
  // k1 = [0.5, 1].
  KernelSpec s2 = oneOp("scores",
                        {arg("q", "input", "f32", {1, 2, 1, 2}),
                         arg("k", "input", "f32", {1, 1, 2, 2})},
                        {1, 2, 1, 2}, {{"scale", 0.5}});
  TensorMap a2;
  a2.emplace("q", f32({1, 2, 1, 2}, {1, 2, 3, -1}));
  a2.emplace("k", f32({1, 1, 2, 2}, {1, 0, 0.5, 1}));
  expectValues(eval(s2, a2), {0.5, 1.25, 1.5, 0.25});

  // attend: h0 = [0.25, 0.75], h1 = [1, -1] over v0 = [4, 8], v1 = [0, 4].
  KernelSpec at = oneOp("attend",
                        {arg("a", "input", "f32", {1, 2, 1, 2}),
                         arg("v", "input", "f32", {1, 1, 2, 2})},
                        {1, 2, 1, 2});
  TensorMap a3;
  a3.emplace("a", f32({1, 2, 1, 2}, {0.25, 0.75, 1, -1}));
  a3.emplace("v", f32({1, 1, 2, 2}, {4, 8, 0, 4}));
  expectValues(eval(at, a3), {1, 5, 4, 4});
}

TEST(BlockReferenceTest, Blend) {
  KernelSpec k = oneOp("blend",
                       {arg("a", "input", "f32", {2}),
                        arg("b", "input", "f32", {2})},
                       {2}, {{"weight", 0.25}});
  TensorMap args;
  args.emplace("a", f32({2}, {1, 2}));
  args.emplace("b", f32({2}, {3, -2}));
  expectValues(eval(k, args), {1.5, 1.0});
}

TEST(BlockReferenceTest, MapConvPaddingOrientationAndChannels) {
  auto conv = [](int64_t H, int64_t N, int64_t M, int64_t k,
                 const char *act) {
    return oneOp("map_conv",
                 {arg("x", "input", "f32", {1, H, N, M}),
                  arg("w", "input", "f32", {H, H, k, k}),
                  arg("b", "input", "f32", {H})},
                 {1, H, N, M}, {{"act", act}, {"window", k}});
  };
  // Zero padding: all-ones 3x3 weights sum the neighbourhood inside the map.
  TensorMap args;
  args.emplace("x", f32({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6}));
  args.emplace("w", f32({1, 1, 3, 3}, std::vector<double>(9, 1.0)));
  args.emplace("b", f32({1}, {0.5}));
  expectValues(eval(conv(1, 2, 3, 3, "none"), args),
               {12.5, 21.5, 16.5, 12.5, 21.5, 16.5});
  // Orientation: w[0,0,0,1] = 1 reads x[i-1, j], w[0,0,1,2] = 10 reads
  // x[i, j+1].
  std::vector<double> w(9, 0.0);
  w[0 * 3 + 1] = 1;
  w[1 * 3 + 2] = 10;
  TensorMap a2;
  a2.emplace("x", f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  a2.emplace("w", f32({1, 1, 3, 3}, w));
  a2.emplace("b", f32({1}, {0}));
  expectValues(eval(conv(1, 3, 3, 3, "none"), a2),
               {20, 30, 0, 51, 62, 3, 84, 95, 6});
  // Heads are channels (w[o, c]); leaky_relu scales negatives by 0.01:
  // o0 = c0 + 2 c1 = [7, 10]; o1 = -2 - c0 + 0.5 c1 = [-1.5, -2].
  TensorMap a3;
  a3.emplace("x", f32({1, 2, 1, 2}, {1, 2, 3, 4}));
  a3.emplace("w", f32({2, 2, 1, 1}, {1, 2, -1, 0.5}));
  a3.emplace("b", f32({2}, {0, -2}));
  expectValues(eval(conv(2, 1, 2, 1, "leaky_relu"), a3),
               {7, 10, -0.015, -0.02});
  expectValues(eval(conv(2, 1, 2, 1, "none"), a3), {7, 10, -1.5, -2});
}

TEST(BlockReferenceTest, SoftmaxCausalAlignsBottomRight) {
  auto softmax = [](int64_t N, int64_t M, bool causal) {
    return oneOp("softmax", {arg("x", "input", "f32", {1, 1, N, M})},
                 {1, 1, N, M}, {{"causal", causal}});
  };
  // N = 3 > M = 2: row i keeps j <= i - 1, so row 0 keeps nothing (zeros).
  TensorMap args;
  args.emplace("x", f32({1, 1, 3, 2}, {5, 7, 2, 9, 0, std::log(3.0)}));
  // (log 3 and log 2 are rounded to float inputs: tolerance 1e-7.)
  expectValues(eval(softmax(3, 2, true), args), {0, 0, 1, 0, 0.25, 0.75},
               1e-7);
  double e2 = std::exp(2.0), e7 = std::exp(7.0);
  expectValues(eval(softmax(3, 2, false), args),
               {1 / (1 + e2), e2 / (1 + e2), 1 / (1 + e7), e7 / (1 + e7),
                0.25, 0.75},
               1e-7);
  // N = 2 < M = 3: row 0 keeps j <= 1 (the excluded 5000 would overflow
  // without the mask), row 1 everything; large logits are max-subtracted.
  TensorMap a2;
  a2.emplace("x", f32({1, 1, 2, 3}, {1000, 1000, 5000, 0, 0, std::log(2.0)}));
  expectValues(eval(softmax(2, 3, true), a2), {0.5, 0.5, 0, 0.25, 0.25, 0.5},
               1e-7);
}

/// The evolving chain of docs/Architectures.md §2 as one kernel with
/// outputs (L, O); weights alpha, beta.
Json evolvingArgs(int64_t H, int64_t N, int64_t M, int64_t D, int64_t k) {
  return {arg("q", "input", "f32", {1, H, N, D}),
          arg("k", "input", "f32", {1, H, M, D}),
          arg("prev", "input", "f32", {1, H, N, M}),
          arg("w", "input", "f32", {H, H, k, k}),
          arg("b", "input", "f32", {H}),
          arg("v", "input", "f32", {1, H, M, D}),
          arg("L", "output", "f32", {1, H, N, M}),
          arg("O", "output", "f32", {1, H, N, D})};
}

Json evolvingOps(int64_t H, int64_t N, int64_t M, int64_t D, double alpha,
                 double beta) {
  Json map = {1, H, N, M}, out = {1, H, N, D};
  return Json::array(
      {{{"op", "scores"}, {"inputs", {"q", "k"}}, {"out", "%0"},
        {"shape", map}, {"scale", 0.5}},
       {{"op", "blend"}, {"inputs", {"%0", "prev"}}, {"out", "%1"},
        {"shape", map}, {"weight", beta}},
       {{"op", "map_conv"}, {"inputs", {"%1", "w", "b"}}, {"out", "%2"},
        {"shape", map}, {"act", "leaky_relu"}, {"window", 3}},
       {{"op", "blend"}, {"inputs", {"%1", "%2"}}, {"out", "L"},
        {"shape", map}, {"weight", alpha}},
       {{"op", "softmax"}, {"inputs", {"L"}}, {"out", "%4"}, {"shape", map},
        {"causal", false}},
       {{"op", "attend"}, {"inputs", {"%4", "v"}}, {"out", "O"},
        {"shape", out}}});
}

TEST(BlockReferenceTest, EvolvingChainFlopsAndIdentity) {
  const int64_t H = 2, N = 3, M = 4, D = 2;
  TensorMap in;
  in.emplace("q", filled({1, H, N, D}, 1));
  in.emplace("k", filled({1, H, M, D}, 2));
  in.emplace("prev", filled({1, H, N, M}, 3));
  in.emplace("w", filled({H, H, 3, 3}, 4));
  in.emplace("b", filled({H}, 5));
  in.emplace("v", filled({1, H, M, D}, 6));
  KernelSpec evo = blockKernel(evolvingArgs(H, N, M, D, 3),
                               evolvingOps(H, N, M, D, 0.3, 0.6));
  Result<std::vector<NamedReferenceOutput>> r = computeBlockReference(evo, in);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "L");
  EXPECT_EQ((*r)[1].name, "O");
  for (const NamedReferenceOutput &o : *r)
    expectBaselineClose(o.output);
  Result<double> flops = blockFlops(evo, in);
  ASSERT_TRUE(flops.ok()) << flops.message();
  const double cells = H * N * M;
  // scores 2·cells·D, two blends 3·cells, map_conv 2·cells·H·9, softmax
  // 3·cells, attend 2·cells·D.
  EXPECT_DOUBLE_EQ(*flops, 2 * cells * D + 6 * cells + 2 * cells * H * 9 +
                               3 * cells + 2 * cells * D);

  // The spec's identity: alpha = beta = 0 is plain softmax attention, and
  // the exported map is the scaled scores.
  KernelSpec zero = blockKernel(evolvingArgs(H, N, M, D, 3),
                                evolvingOps(H, N, M, D, 0.0, 0.0));
  Json plainArgs = {arg("q", "input", "f32", {1, H, N, D}),
                    arg("k", "input", "f32", {1, H, M, D}),
                    arg("v", "input", "f32", {1, H, M, D}),
                    arg("S", "output", "f32", {1, H, N, M}),
                    arg("O", "output", "f32", {1, H, N, D})};
  Json map = {1, H, N, M};
  Json plainOps = Json::array(
      {{{"op", "scores"}, {"inputs", {"q", "k"}}, {"out", "S"},
        {"shape", map}, {"scale", 0.5}},
       {{"op", "softmax"}, {"inputs", {"S"}}, {"out", "%1"}, {"shape", map}},
       {{"op", "attend"}, {"inputs", {"%1", "v"}}, {"out", "O"},
        {"shape", {1, H, N, D}}}});
  KernelSpec plain = blockKernel(plainArgs, plainOps);
  Result<std::vector<NamedReferenceOutput>> a = computeBlockReference(zero, in);
  Result<std::vector<NamedReferenceOutput>> b =
      computeBlockReference(plain, in);
  ASSERT_TRUE(a.ok() && b.ok()) << a.message() << b.message();
  for (size_t o = 0; o < 2; ++o)
    for (int64_t i = 0; i < (*a)[o].output.ref64.numElements(); ++i)
      EXPECT_NEAR((*a)[o].output.ref64.getDouble(i),
                  (*b)[o].output.ref64.getDouble(i), 1e-15)
          << (*a)[o].name << " " << i;
}

TEST(BlockReferenceTest, MapOpErrors) {
  // Heads that are no multiple of the key groups.
  KernelSpec s = oneOp("scores",
                       {arg("q", "input", "f32", {1, 3, 2, 2}),
                        arg("k", "input", "f32", {1, 2, 2, 2})},
                       {1, 3, 2, 2}, {{"scale", 1.0}});
  TensorMap in;
  in.emplace("q", filled({1, 3, 2, 2}, 1));
  in.emplace("k", filled({1, 2, 2, 2}, 2));
  expectReferenceError(s, in,
                       "kernel 'blk': reference.ops[0] (scores -> 'out'): "
                       "the heads of 'q' [1, 3, 2, 2] are no multiple of the "
                       "groups of 'k' [1, 2, 2, 2]");
  // A map_conv weight that is not [H, H, k, k].
  KernelSpec c = oneOp("map_conv",
                       {arg("x", "input", "f32", {1, 2, 3, 3}),
                        arg("w", "input", "f32", {2, 1, 3, 3}),
                        arg("b", "input", "f32", {2})},
                       {1, 2, 3, 3}, {{"act", "none"}});
  TensorMap ci;
  ci.emplace("x", filled({1, 2, 3, 3}, 1));
  ci.emplace("w", filled({2, 1, 3, 3}, 2));
  ci.emplace("b", filled({2}, 3));
  expectReferenceError(c, ci,
                       "kernel 'blk': reference.ops[0] (map_conv -> 'out'): "
                       "input 'w' [2, 1, 3, 3] must be [2, 2, 3, 3] ([H, H, k, "
                       "k], H from x)");
  // The manifest refuses unknown activations and non-boolean causal.
  Json cargs = {arg("x", "input", "f32", {1, 1, 2, 2}),
                arg("w", "input", "f32", {1, 1, 1, 1}),
                arg("b", "input", "f32", {1}),
                arg("out", "output", "f32", {1, 1, 2, 2})};
  expectManifestRejected(
      blockManifest(cargs, Json::parse(R"J([{"op": "map_conv",
        "inputs": ["x", "w", "b"], "out": "out", "shape": [1, 1, 2, 2],
        "act": "gelu"}])J")),
      "blk.json", "reference.ops[0].act");
  expectManifestRejected(
      blockManifest(cargs, Json::parse(R"J([{"op": "softmax",
        "inputs": ["x"], "out": "out", "shape": [1, 1, 2, 2],
        "causal": 1}])J")),
      "blk.json", "reference.ops[0].causal: expected a boolean");
  expectManifestRejected(
      blockManifest(cargs, Json::parse(R"J([{"op": "blend",
        "inputs": ["x", "x"], "out": "out", "shape": [1, 1, 2, 2]}])J")),
      "blk.json", "reference.ops[0].weight: missing");
}

} // namespace
