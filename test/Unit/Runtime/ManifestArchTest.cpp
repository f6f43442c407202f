//===- ManifestArchTest.cpp - Block references and archs in manifests
//------===//
//
// docs/Architectures.md §4: parsing the "block" reference kind and the
// top-level `archs`, and each malformed case's message.
//
//===----------------------------------------------------------------------===//

#include "runtime/Manifest.h"

#include "FakeManifest.h"
#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <functional>

using namespace attn::rt;
using namespace attn::rt::test;
using Json = nlohmann::ordered_json;

namespace {

Json archManifest() { return Json::parse(fakeArchManifest()); }

/// Expects the fake arch manifest changed by `edit` to be rejected with
/// exactly "m.json: " + `message`.
void expectError(const std::function<void(Json &)> &edit,
                 const std::string &message) {
  Json j = archManifest();
  edit(j);
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_FALSE(m.ok()) << "expected: " << message;
  EXPECT_EQ(m.message(), "m.json: " + message);
}

TEST(ManifestArchTest, ParsesBlockKernelsAndArchs) {
  Result<Manifest> m = parseManifest(fakeArchManifest(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  const KernelSpec *lin = m->findKernel("blk_linear");
  ASSERT_TRUE(lin && lin->reference);
  EXPECT_TRUE(lin->reference->isBlock());
  EXPECT_EQ(lin->reference->out, "out");
  ASSERT_EQ(lin->reference->ops.size(), 1u);
  const BlockOpSpec &op = lin->reference->ops[0];
  EXPECT_EQ(op.op, "linear");
  EXPECT_EQ(op.mode, "mul");
  EXPECT_EQ(op.inputs, (std::vector<std::string>{"x", "w", "b"}));
  EXPECT_EQ(op.out, "out");
  EXPECT_EQ(op.shape, (std::vector<int64_t>{1, 2, 5, 8}));
  // The first output of a kernel with several is `out`.
  EXPECT_EQ(m->findKernel("blk_add_relu")->reference->out, "sum");

  ASSERT_EQ(m->archs.size(), 2u);
  const ArchSpec *net = m->findArch("net");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(m->findArch("nope"), nullptr);
  ASSERT_EQ(net->inputs.size(), 1u);
  EXPECT_EQ(net->inputs[0].name, "x");
  EXPECT_EQ(net->inputs[0].shape, (std::vector<int64_t>{1, 2, 5, 8}));
  ASSERT_EQ(net->weights.size(), 2u);
  ASSERT_TRUE(net->weights[0].init.has_value());
  EXPECT_EQ(net->weights[0].init->dist, WeightDist::Uniform);
  EXPECT_EQ(net->weights[0].init->bound, 0.35);
  EXPECT_EQ(net->weights[1].init->dist, WeightDist::Normal);
  EXPECT_EQ(net->weights[1].init->std, 0.1);
  EXPECT_EQ(net->values.size(), 2u);
  ASSERT_EQ(net->calls.size(), 3u);
  EXPECT_EQ(net->calls[1].kernel, "attn");
  EXPECT_EQ(net->calls[1].args,
            (std::vector<std::string>{"%q", "x", "x", "%a"}));
  EXPECT_EQ(net->findTensor("%a")->name, "%a");
  EXPECT_EQ(net->findTensor("bq")->dtype, DType::F32);
  EXPECT_EQ(net->findTensor("nope"), nullptr);
}

TEST(ManifestArchTest, ParsesEveryOpsAttributes) {
  Json j = archManifest();
  Json &k = j["kernels"][0];
  k["args"] = Json::parse(R"J([
    {"name": "x", "role": "input", "dtype": "f32", "shape": [1, 16, 4]},
    {"name": "w", "role": "input", "dtype": "f32", "shape": [4, 3]},
    {"name": "w2", "role": "input", "dtype": "f32", "shape": [4, 3, 3]},
    {"name": "s", "role": "input", "dtype": "i32", "shape": [4, 4]},
    {"name": "out", "role": "output", "dtype": "f32", "shape": [1, 4, 4]}])J");
  k["reference"]["ops"] = Json::parse(R"J([
    {"op": "conv1d", "inputs": ["x", "w"], "out": "%0", "shape": [1, 16, 4], "mode": "adder", "padding": "causal"},
    {"op": "conv2d", "inputs": ["%0", "w2"], "out": "%1", "shape": [1, 16, 4], "grid": [4, 4]},
    {"op": "linear", "inputs": ["%1", "s", "s"], "out": "%2", "shape": [1, 16, 4], "mode": "shift"},
    {"op": "rmsnorm", "inputs": ["%2", "%2"], "out": "%3", "shape": [1, 16, 4], "eps": 1e-5},
    {"op": "slice", "inputs": ["%3"], "out": "%4", "shape": [1, 16, 2], "offset": 2, "size": 2},
    {"op": "split_heads", "inputs": ["%3"], "out": "%5", "shape": [1, 2, 16, 2], "heads": 2},
    {"op": "pool", "inputs": ["%3"], "out": "out", "shape": [1, 4, 4], "mode": "max", "grid": [4, 4], "window": 2, "stride": 2}])J");
  // Calls to this kernel would no longer match: drop the archs.
  j.erase("archs");
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  const std::vector<BlockOpSpec> &ops = m->kernels[0].reference->ops;
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[0].mode, "adder");
  EXPECT_EQ(ops[0].padding, "causal");
  EXPECT_EQ(ops[1].mode, "mul");
  EXPECT_EQ(ops[1].grid, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(ops[1].stride, 1);
  EXPECT_EQ(ops[1].window, 0);
  EXPECT_EQ(ops[2].mode, "shift");
  EXPECT_EQ(ops[3].eps, 1e-5);
  EXPECT_EQ(ops[4].offset, 2);
  EXPECT_EQ(ops[4].size, 2);
  EXPECT_EQ(ops[5].heads, 2);
  EXPECT_EQ(ops[6].mode, "max");
  EXPECT_EQ(ops[6].window, 2);
  EXPECT_EQ(ops[6].stride, 2);
  EXPECT_TRUE(m->archs.empty());
}

TEST(ManifestArchTest, MalformedBlockReferences) {
  const std::string k = "kernel 'blk_linear': kernels[0].reference";
  auto op = [](Json &j) -> Json & {
    return j["kernels"][0]["reference"]["ops"][0];
  };
  expectError([&](Json &j) { j["kernels"][0]["reference"].erase("ops"); },
              k + ".ops: missing");
  expectError(
      [&](Json &j) { j["kernels"][0]["reference"]["ops"] = Json::array(); },
      k + ".ops: a block kernel needs at least one op");
  expectError([&](Json &j) { j["kernels"][0]["reference"]["kind"] = "blok"; },
              "kernels[0].reference.kind: unknown reference kind 'blok' "
              "(expected attention, linear, luna, ema, block, "
              "coupler or emha)");
  expectError([&](Json &j) { op(j)["op"] = "dropout"; },
              k + ".ops[0].op: unknown op 'dropout' (expected linear, "
                  "layernorm, rmsnorm, gelu, relu, silu, add, split_heads, "
                  "merge_heads, slice, concat, conv1d, conv2d, pool, scores, "
                  "blend, map_conv, softmax or attend)");
  expectError([&](Json &j) { op(j).erase("mode"); },
              k + ".ops[0].mode: missing");
  expectError([&](Json &j) { op(j)["mode"] = "div"; },
              k + ".ops[0].mode: unknown mode 'div' (expected mul, adder or "
                  "shift)");
  expectError([&](Json &j) { op(j).erase("inputs"); },
              k + ".ops[0].inputs: missing");
  expectError([&](Json &j) { op(j)["inputs"] = {"x"}; },
              k + ".ops[0].inputs: linear (mode mul) takes 2 or 3 inputs, "
                  "found 1");
  expectError([&](Json &j) { op(j)["inputs"][1] = "%9"; },
              k + ".ops[0].inputs[1]: '%9' is neither an input of the kernel "
                  "(x, w, b, out) nor a temporary written by an earlier op");
  expectError([&](Json &j) { op(j)["inputs"][1] = "out"; },
              k + ".ops[0].inputs[1]: reads the output 'out' before an op "
                  "writes it");
  expectError([&](Json &j) { op(j)["mode"] = "shift"; },
              k + ".ops[0].inputs[1]: 'w' must have dtype i32 here");
  expectError([&](Json &j) { op(j)["out"] = "x"; },
              k + ".ops[0].out: writes the input argument 'x'");
  expectError([&](Json &j) { op(j)["out"] = "t0"; },
              k + ".ops[0].out: 't0' is neither an output of the kernel (x, "
                  "w, b, out) nor a temporary '%N'");
  expectError(
      [&](Json &j) {
        op(j)["shape"] = {1, 2, 5, 0};
      },
      k + ".ops[0].shape[3]: must be at least 1, found 0");
  expectError(
      [&](Json &j) {
        op(j)["shape"] = {1, 2, 5, 9};
      },
      k + ".ops[0].shape: [1, 2, 5, 9] disagrees with the output "
          "'out' [1, 2, 5, 8]");
  expectError(
      [&](Json &j) { j["kernels"][0]["reference"]["ops"].push_back(op(j)); },
      k + ".ops[1].out: 'out' is written twice");
  expectError([&](Json &j) { op(j)["out"] = "%0"; },
              k + ".ops: no op writes the output 'out'");
  auto replace = [&](const char *text) {
    return [text, op](Json &j) { op(j) = Json::parse(text); };
  };
  expectError(replace(R"J({"op": "layernorm", "inputs": ["x", "b", "b"],
      "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].eps: missing");
  expectError(replace(R"J({"op": "rmsnorm", "inputs": ["x", "b"], "eps": -1,
      "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].eps: must not be negative");
  expectError(replace(R"J({"op": "split_heads", "inputs": ["x"], "heads": 0,
      "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].heads: must be at least 1, found 0");
  expectError(replace(R"J({"op": "slice", "inputs": ["x"], "offset": 1,
      "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].size: missing");
  expectError(replace(R"J({"op": "conv1d", "inputs": ["x", "w"], "mode": "mul",
      "padding": "valid", "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].padding: unknown padding 'valid' (expected same or "
                  "causal)");
  expectError(replace(R"J({"op": "conv2d", "inputs": ["x", "w"], "grid": [4],
      "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].grid: expected [Hh, Ww], found [4]");
  expectError(replace(R"J({"op": "pool", "inputs": ["x"], "mode": "avg",
      "grid": [2, 2], "out": "out", "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].window: missing");
  expectError(replace(R"J({"op": "pool", "inputs": ["x"], "mode": "avg",
      "grid": [2, 2], "window": 2, "stride": 0, "out": "out",
      "shape": [1, 2, 5, 8]})J"),
              k + ".ops[0].stride: must be at least 1, found 0");
  expectError(replace(R"J({"op": "gelu", "inputs": ["x"], "out": "out",
      "shape": "big"})J"),
              k + ".ops[0].shape: expected an array of integers, found a "
                  "string");
}

TEST(ManifestArchTest, MalformedArchs) {
  const std::string a = "arch 'net': archs[0]";
  auto arch = [](Json &j) -> Json & { return j["archs"][0]; };
  expectError([&](Json &j) { j["archs"] = Json::object(); },
              "archs: expected an array, found an object");
  expectError([&](Json &j) { arch(j).erase("name"); },
              "archs[0].name: missing");
  expectError([&](Json &j) { j["archs"][1]["name"] = "net"; },
              "archs[1].name: duplicate arch name 'net'");
  expectError([&](Json &j) { arch(j).erase("inputs"); },
              a + ".inputs: missing");
  expectError([&](Json &j) { arch(j)["outputs"] = Json::array(); },
              a + ".outputs: the arch has no outputs");
  expectError([&](Json &j) { arch(j)["inputs"][0]["dtype"] = "f8"; },
              a + ".inputs[0].dtype: unknown dtype 'f8' (expected f16, bf16, "
                  "f32, f64 or i32)");
  expectError([&](Json &j) { arch(j)["inputs"][0]["shape"][0] = -1; },
              a + ".inputs[0].shape[0]: must be at least 1, found -1");
  expectError([&](Json &j) { arch(j)["weights"][0].erase("init"); },
              a + ".weights[0].init: missing (weights need one for seeded "
                  "random values)");
  expectError([&](Json &j) { arch(j)["weights"][0]["init"]["dist"] = "beta"; },
              a + ".weights[0].init.dist: unknown dist 'beta' (expected "
                  "uniform, normal, shift or sign)");
  expectError([&](Json &j) { arch(j)["weights"][0]["init"].erase("bound"); },
              a + ".weights[0].init.bound: missing");
  expectError([&](Json &j) { arch(j)["weights"][1]["init"]["std"] = -1; },
              a + ".weights[1].init.std: must not be negative");
  expectError(
      [&](Json &j) {
        arch(j)["weights"][0]["init"] =
            Json::parse(R"J({"dist": "shift", "min": 0, "max": -3})J");
      },
      a + ".weights[0].init: min 0 is greater than max -3");
  expectError(
      [&](Json &j) { arch(j)["weights"][0]["dtype"] = "i32"; },
      a + ".weights[0].init.dist: a uniform init needs a floating-point "
          "weight, found dtype i32");
  expectError(
      [&](Json &j) {
        arch(j)["values"][0]["init"] = {{"dist", "sign"}};
      },
      a + ".values[0].init: only weights have an init");
  expectError([&](Json &j) { arch(j)["values"][0]["name"] = "wq"; },
              a + ".values[0].name: duplicate tensor name 'wq' (names are "
                  "unique across inputs, outputs, weights and values)");
  expectError([&](Json &j) { arch(j).erase("calls"); }, a + ".calls: missing");
  expectError([&](Json &j) { arch(j)["calls"] = Json::array(); },
              a + ".calls: the arch has no calls");
  expectError([&](Json &j) { arch(j)["calls"][0]["kernel"] = "nope"; },
              a + ".calls[0].kernel: the manifest has no kernel named 'nope'");
  expectError([&](Json &j) { arch(j)["calls"][0]["args"].erase(3); },
              a + ".calls[0].args: kernel 'blk_linear' takes 4 arguments (x, "
                  "w, b, out), found 3");
  expectError([&](Json &j) { arch(j)["calls"][0]["args"][1] = "w9"; },
              a + ".calls[0].args[1]: 'w9' is not an input, output, weight or "
                  "value of the arch");
  expectError([&](Json &j) { arch(j)["calls"][0]["args"][1] = "bq"; },
              a + ".calls[0].args[1]: 'bq' (for blk_linear's argument 'w') is "
                  "[8] but the kernel expects rank 2");
  expectError([&](Json &j) { arch(j)["weights"][0]["dtype"] = "f16"; },
              a + ".calls[0].args[1]: 'wq' (for blk_linear's argument 'w') "
                  "has dtype f16 but the kernel expects f32");
  expectError(
      [&](Json &j) {
        arch(j)["weights"][0]["shape"] = {8, 9};
      },
      a + ".calls[0].args[1]: 'wq' (for blk_linear's argument 'w') is "
          "[8, 9] but the kernel fixes dim 1 = 8");
  expectError(
      [&](Json &j) {
        arch(j)["values"].push_back(Json::parse(
            R"J({"name": "%k", "dtype": "f32", "shape": [1, 2, 5, 8]})J"));
        arch(j)["calls"][1]["args"][1] = "%k";
      },
      a + ".calls[1].args[1]: reads '%k' before any call writes it");
  expectError(
      [&](Json &j) {
        arch(j)["values"].push_back(Json::parse(
            R"J({"name": "%k", "dtype": "f32", "shape": [2, 2, 5, 8]})J"));
        arch(j)["calls"][1]["args"][1] = "%k";
      },
      a + ".calls[1].args[1]: '%k' (for attn's argument 'k') has B = 2 but "
          "'%q' has B = 1");
  expectError([&](Json &j) { arch(j)["calls"][0]["args"][3] = "x"; },
              a + ".calls[0].args[3]: writes the input 'x'");
  expectError(
      [&](Json &j) {
        arch(j)["weights"].push_back(Json::parse(R"J({"name": "w4",
            "dtype": "f32", "shape": [1, 2, 5, 8], "init": {"dist": "sign"}})J"));
        arch(j)["calls"][0]["args"][3] = "w4";
      },
      a + ".calls[0].args[3]: writes the weight 'w4'");
  expectError(
      [&](Json &j) {
        arch(j)["calls"][2]["args"] = {"x", "%a", "y", "y"};
      },
      a + ".calls[2].args[3]: 'y' is written twice by the call");
  expectError(
      [&](Json &j) {
        arch(j)["calls"][2]["args"] = {"x", "%a", "%a", "z"};
      },
      a + ".calls[2].args[2]: '%a' is both read and written by the call");
  expectError([&](Json &j) { arch(j)["calls"].erase(2); },
              a + ".outputs: no call writes the output 'y'");
  expectError(
      [&](Json &j) {
        arch(j)["values"].push_back(Json::parse(
            R"J({"name": "%unused", "dtype": "f32", "shape": [1]})J"));
      },
      a + ".values: no call writes the value '%unused'");
}

} // namespace
