//===- BindingTest.cpp - Binding symbolic dims from argument shapes -------===//

#include "runtime/Binding.h"

#include "FakeManifest.h"
#include "TestUtil.h"

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

class BindingTest : public ::testing::Test {
protected:
  void SetUp() override {
    Result<Manifest> m = parseManifest(fakeManifest(), "fake.manifest.json");
    ASSERT_TRUE(m.ok()) << m.message();
    manifest = m.take();
    attn = manifest.findKernel("attn");
    ASSERT_NE(attn, nullptr);
  }

  static Tensor zeros(DType t, std::vector<int64_t> shape) {
    Result<Tensor> r = Tensor::create(t, std::move(shape));
    EXPECT_TRUE(r.ok());
    return r.take();
  }

  void expectBindError(const TensorMap &args, const std::string &message,
                       const std::map<std::string, int64_t> &given = {}) {
    Result<DimBindings> b = bindDims(*attn, args, given);
    ASSERT_FALSE(b.ok()) << "expected: " << message;
    EXPECT_EQ(b.message(), message);
  }

  Manifest manifest;
  const KernelSpec *attn = nullptr;
};

TEST_F(BindingTest, BindsFromShapes) {
  TensorMap args;
  args.emplace("q", zeros(DType::F32, {2, 4, 16, 8}));
  args.emplace("k", zeros(DType::F32, {2, 2, 17, 8}));
  Result<DimBindings> b = bindDims(*attn, args);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->lookup("B"), std::optional<int64_t>(2));
  EXPECT_EQ(b->lookup("H"), std::optional<int64_t>(4));
  EXPECT_EQ(b->lookup("G"), std::optional<int64_t>(2));
  EXPECT_EQ(b->lookup("N"), std::optional<int64_t>(16));
  EXPECT_EQ(b->lookup("M"), std::optional<int64_t>(17));
  EXPECT_EQ(b->lookup("D"), std::optional<int64_t>(8));
  EXPECT_TRUE(unboundDims(*attn, *b).empty());
  Result<std::vector<int64_t>> out = resolveShape(attn->args[3], *b);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, (std::vector<int64_t>{2, 4, 16, 8}));
}

TEST_F(BindingTest, DisagreementNamesWhoBoundTheDim) {
  TensorMap args;
  args.emplace("q", zeros(DType::F32, {1, 2, 16, 8}));
  args.emplace("k", zeros(DType::F32, {1, 2, 17, 8}));
  args.emplace("v", zeros(DType::F32, {1, 2, 18, 8}));
  expectBindError(args, "argument 'v': dim 2 (M) is 18 but 'k' bound M = 17");
}

TEST_F(BindingTest, FixedAndGivenDims) {
  TensorMap args;
  args.emplace("q", zeros(DType::F32, {1, 2, 16, 4}));
  expectBindError(args,
                  "argument 'q': dim 3 (D) is 4 but the library fixes D = 8");
  args.clear();
  args.emplace("q", zeros(DType::F32, {1, 2, 17, 8}));
  expectBindError(args, "argument 'q': dim 2 (N) is 17 but --dim gave N = 16",
                  {{"N", 16}});
  expectBindError(args, "--dim D=4: the library fixes D = 8", {{"D", 4}});
  expectBindError(
      args,
      "kernel 'attn' has no dim named 'X' (its dims are B, H, G, N, M, D)",
      {{"X", 3}});
  expectBindError(args, "--dim N=0: dims must be positive", {{"N", 0}});
  expectBindError(
      args,
      "--dim M=4294967296: extents above 2147483647 do not fit in a "
      "Halide buffer",
      {{"M", int64_t(1) << 32}});
  Result<DimBindings> ok = bindDims(*attn, args, {{"D", 8}, {"M", 5}});
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->lookup("M"), std::optional<int64_t>(5));
  EXPECT_EQ(ok->origins.at("M"), "--dim gave");
}

TEST_F(BindingTest, DTypeRankAndUnknownArguments) {
  TensorMap args;
  args.emplace("q", zeros(DType::F64, {1, 2, 16, 8}));
  expectBindError(args,
                  "argument 'q': expected dtype f32 but got f64[1, 2, 16, 8]");
  args.clear();
  args.emplace("q", zeros(DType::F32, {2, 16, 8}));
  expectBindError(args,
                  "argument 'q': expected rank 4 (shape [B, H, N, D]) but got "
                  "f32[2, 16, 8]");
  args.clear();
  args.emplace("bias", zeros(DType::F32, {1}));
  expectBindError(
      args, "kernel 'attn' has no argument named 'bias' (its arguments are q, "
            "k, v, out)");
  args.clear();
  args.emplace("q", zeros(DType::F32, {1, 2, 0, 8}));
  expectBindError(args, "argument 'q': dim 2 (N) is 0; dims must be positive");
}

TEST_F(BindingTest, LiteralExtentsMustMatch) {
  KernelSpec k;
  k.name = "lit";
  k.dims = {{"N", std::nullopt}};
  ArgSpec a;
  a.name = "x";
  a.shape = {ShapeEntry{"", 4}, ShapeEntry{"N", 0}};
  k.args.push_back(a);
  TensorMap args;
  args.emplace("x", zeros(DType::F32, {3, 2}));
  Result<DimBindings> b = bindDims(k, args);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message(), "argument 'x': dim 0 is 3 but the kernel expects 4");
}

TEST_F(BindingTest, UnboundDimsAreListed) {
  TensorMap args;
  args.emplace("q", zeros(DType::F32, {1, 2, 16, 8}));
  Result<DimBindings> b = bindDims(*attn, args);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(unboundDims(*attn, *b), (std::vector<std::string>{"G", "M"}));
  Result<std::vector<int64_t>> k = resolveShape(attn->args[1], *b);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.message(), "argument 'k': dims G, M are not bound");
}

} // namespace
