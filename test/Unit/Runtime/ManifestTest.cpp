//===- ManifestTest.cpp - Manifest parsing and validation -----------------===//

#include "runtime/Manifest.h"

#include "TestUtil.h"

#include <nlohmann/json.hpp>

using namespace attn::rt;
using namespace attn::rt::test;
using Json = nlohmann::ordered_json;

namespace {

/// The example of docs/Manifest.md.
Json exampleManifest() {
  return Json::parse(R"J({
  "format": "attnc-manifest",
  "version": 1,
  "compiler": "attnc 0.1.0",
  "source": "examples/mha.attn",
  "source_hash": "9f0c6d2a1b3e4f57",
  "target": "x86-64-linux-avx-avx2-avx512-f16c-fma-sse41",
  "library": "mha.so",
  "kernels": [
    {
      "name": "mha",
      "entry": "mha",
      "schedule": {"source": "heuristic", "query_tile": 64},
      "dims": {"B": 1, "H": 8, "N": null, "D": 64},
      "args": [
        {"name": "q",   "role": "input",  "dtype": "f32", "shape": ["B", "H", "N", "D"]},
        {"name": "k",   "role": "input",  "dtype": "f32", "shape": ["B", "H", "N", "D"]},
        {"name": "v",   "role": "input",  "dtype": "f32", "shape": ["B", "H", "N", "D"]},
        {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "D"]}
      ],
      "reference": {
        "kind": "attention",
        "query": "q", "key": "k", "value": "v", "out": "out",
        "kv_lengths": null,
        "causal": true,
        "normalize": "softmax",
        "scale": "0.125",
        "score_mods": [],
        "masks": ["(le j (add i (sub (dim M) (dim N))))"]
      }
    }
  ]
})J");
}

/// Expects `j` to be rejected with exactly "m.json: " + `message`.
void expectError(const Json &j, const std::string &message) {
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_FALSE(m.ok()) << "expected: " << message;
  EXPECT_EQ(m.message(), "m.json: " + message);
}

/// Expects `j` to be rejected with a message containing `needle`.
void expectErrorContaining(const Json &j, const std::string &needle) {
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_FALSE(m.ok()) << "expected: " << needle;
  EXPECT_NE(m.message().find(needle), std::string::npos) << m.message();
}

TEST(ManifestTest, ParsesTheDocumentedExample) {
  Result<Manifest> m =
      parseManifest(exampleManifest().dump(2), "mha.manifest.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(m->sourceHash, "9f0c6d2a1b3e4f57");
  EXPECT_EQ(m->target, "x86-64-linux-avx-avx2-avx512-f16c-fma-sse41");
  ASSERT_EQ(m->kernels.size(), 1u);
  const KernelSpec &k = m->kernels[0];
  EXPECT_EQ(k.name, "mha");
  EXPECT_EQ(k.entry, "mha");
  EXPECT_EQ(k.scheduleJson, R"({"source":"heuristic","query_tile":64})");
  EXPECT_EQ(k.scheduleKnobs, (std::map<std::string, int64_t>{
                                 {"query_tile", 64}}));
  EXPECT_EQ(k.form, "");      // Optional: absent here.
  EXPECT_EQ(k.tuningKey, ""); // Optional: absent here.
  ASSERT_EQ(k.dims.size(), 4u);
  EXPECT_EQ(k.dims[0].first, "B"); // Manifest order is kept.
  EXPECT_EQ(k.dims[2].first, "N");
  EXPECT_FALSE(k.dims[2].second.has_value());
  EXPECT_EQ(k.fixedDim("D"), std::optional<int64_t>(64));
  ASSERT_EQ(k.args.size(), 4u);
  EXPECT_EQ(k.args[3].role, ArgRole::Output);
  EXPECT_EQ(k.args[0].shape[2].name, "N");
  EXPECT_EQ(k.argNames(), "q, k, v, out");
  ASSERT_TRUE(k.reference.has_value());
  EXPECT_TRUE(k.reference->causal);
  EXPECT_FALSE(k.reference->kvLengths.has_value());
  EXPECT_EQ(k.reference->scale.str(), "0.125");
  ASSERT_EQ(k.reference->masks.size(), 1u);
  EXPECT_EQ(k.reference->masks[0].str(),
            "(le j (add i (sub (dim M) (dim N))))");
  EXPECT_EQ(m->findKernel("mha"), &k);
  EXPECT_EQ(m->findKernel("nope"), nullptr);
}

TEST(ManifestTest, ReadsFormAndTuningKey) {
  Json j = exampleManifest();
  j["kernels"][0]["form"] = "two_pass_tiled";
  j["kernels"][0]["tuning_key"] = std::string(64, 'a');
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->kernels[0].form, "two_pass_tiled");
  EXPECT_EQ(m->kernels[0].tuningKey, std::string(64, 'a'));
  j["kernels"][0]["tuning_key"] = 3;
  expectError(j, "kernels[0].tuning_key: expected a string, found a number");
}

TEST(ManifestTest, ReadsDeviceAndGpuFootprint) {
  Json j = exampleManifest();
  Result<Manifest> cpu = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(cpu.ok()) << cpu.message();
  EXPECT_EQ(cpu->device, "cpu");
  EXPECT_EQ(cpu->kernels[0].gpuThreads, 0);
  j["device"] = "opencl";
  j["kernels"][0]["gpu"] = {{"threads", 128}, {"shared_bytes", 4096}};
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->device, "opencl");
  EXPECT_EQ(m->kernels[0].gpuThreads, 128);
  EXPECT_EQ(m->kernels[0].gpuSharedBytes, 4096);
  j["kernels"][0]["gpu"] = {{"threads", -1}, {"shared_bytes", 0}};
  expectError(j, "kernels[0].gpu.threads: expected a non-negative integer");
  j["kernels"][0]["gpu"] = {{"threads", 1}};
  expectError(j, "kernels[0].gpu.shared_bytes: missing");
  j["kernels"][0]["gpu"] = 3;
  expectError(j, "kernels[0].gpu: expected an object, found a number");
  j["kernels"][0].erase("gpu");
  j["device"] = "metal";
  expectError(j, "device: expected \"cpu\", \"cuda\" or \"opencl\", "
                 "found \"metal\"");
}

TEST(ManifestTest, OptionalFieldsAndDefaults) {
  Json j = exampleManifest();
  j.erase("compiler");
  j.erase("target");
  j["kernels"][0].erase("schedule");
  Json &ref = j["kernels"][0]["reference"];
  ref.erase("scale");
  ref.erase("score_mods");
  ref.erase("masks");
  ref.erase("causal");
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->kernels[0].scheduleJson, "{}");
  EXPECT_EQ(m->kernels[0].reference->scale.str(), "(rsqrt (float (dim D)))");
  EXPECT_FALSE(m->kernels[0].reference->causal);
  j["kernels"][0]["reference"]["scale"] =
      0.25; // A JSON number is accepted too.
  m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->kernels[0].reference->scale.str(), "0.25");
}

TEST(ManifestTest, TopLevelErrors) {
  Result<Manifest> bad = parseManifest("{\"format\": ", "m.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message().rfind("m.json: invalid JSON: ", 0), 0u)
      << bad.message();
  expectError(Json::array(),
              "expected a JSON object at the top level, found an array");
  Json j = exampleManifest();
  j.erase("format");
  expectError(j, "format: missing");
  j = exampleManifest();
  j["format"] = "other";
  expectError(j, "format: expected \"attnc-manifest\", found \"other\"");
  j = exampleManifest();
  j["version"] = 2;
  expectError(j,
              "version: unsupported manifest version 2 (this runtime reads 1)");
  j["version"] = "1";
  expectError(j, "version: expected an integer, found a string");
  j = exampleManifest();
  j["source_hash"] = "xyz";
  expectError(j, "source_hash: expected 16 hex digits, found \"xyz\"");
  j["source_hash"] = 12;
  expectError(j, "source_hash: expected a string, found a number");
  j = exampleManifest();
  j["target"] = 3;
  expectError(j, "target: expected a string, found a number");
  j = exampleManifest();
  j["kernels"] = Json::array();
  expectError(j, "kernels: the library has no kernels");
  j["kernels"] = Json::object();
  expectError(j, "kernels: expected an array, found an object");
  j = exampleManifest();
  j["kernels"].push_back(j["kernels"][0]);
  expectError(j, "kernels[1].name: duplicate kernel name 'mha'");
}

TEST(ManifestTest, KernelErrors) {
  Json j = exampleManifest();
  j["kernels"][0].erase("entry");
  expectError(j, "kernels[0].entry: missing");
  j = exampleManifest();
  j["kernels"][0]["entry"] = "mha-f32";
  expectError(j, "kernels[0].entry: 'mha-f32' is not a C identifier");
  j = exampleManifest();
  j["kernels"][0]["dims"]["N"] = 0;
  expectError(j, "kernels[0].dims.N: must be positive, found 0");
  j["kernels"][0]["dims"]["N"] = "?";
  expectError(
      j,
      "kernels[0].dims.N: expected a positive integer or null, found a string");
  j = exampleManifest();
  j["kernels"][0]["schedule"] = 3;
  expectError(j, "kernels[0].schedule: expected an object, found a number");
  j = exampleManifest();
  j["kernels"][0]["args"] = Json::array();
  expectError(j, "kernels[0].args: the kernel has no output argument");
}

TEST(ManifestTest, ArgumentErrors) {
  Json j = exampleManifest();
  j["kernels"][0]["args"][2]["dtype"] = "f8";
  expectError(
      j,
      "kernels[0].args[2].dtype: unknown dtype 'f8' (expected f16, bf16, f32, "
      "f64 or i32)");
  j = exampleManifest();
  j["kernels"][0]["args"][1]["role"] = "inout";
  expectError(j, "kernels[0].args[1].role: unknown role 'inout' (expected "
                 "input or output)");
  j = exampleManifest();
  j["kernels"][0]["args"][1]["shape"][2] = "M";
  expectError(j,
              "kernels[0].args[1].shape[2]: dim 'M' is not declared in dims");
  j["kernels"][0]["args"][1]["shape"][2] = 0;
  expectError(j,
              "kernels[0].args[1].shape[2]: extent must be positive, found 0");
  j["kernels"][0]["args"][1]["shape"][2] = 1.5;
  expectError(
      j,
      "kernels[0].args[1].shape[2]: expected a dim name or an integer, found a "
      "number");
  j = exampleManifest();
  j["kernels"][0]["args"][1]["name"] = "q";
  expectError(j, "kernels[0].args[1].name: duplicate argument name 'q'");
  j = exampleManifest();
  std::swap(j["kernels"][0]["args"][2], j["kernels"][0]["args"][3]);
  expectError(j, "kernels[0].args[3].role: input 'v' follows an output "
                 "(outputs come last)");
  j = exampleManifest();
  j["kernels"][0]["args"][0].erase("shape");
  expectError(j, "kernels[0].args[0].shape: missing");
}

TEST(ManifestTest, ReferenceErrors) {
  Json j = exampleManifest();
  j["kernels"][0]["reference"]["kind"] = "performer";
  expectError(
      j, "kernels[0].reference.kind: unknown reference kind 'performer' "
         "(expected attention, linear, luna, ema, block, coupler or emha)");
  j = exampleManifest();
  j["kernels"][0]["reference"]["key"] = "kk";
  expectError(
      j,
      "kernels[0].reference.key: 'kk' is not an argument of the kernel (q, k, "
      "v, out)");
  j = exampleManifest();
  j["kernels"][0]["reference"]["out"] = "v";
  expectError(j, "kernels[0].reference.out: argument 'v' must be an output");
  j = exampleManifest();
  j["kernels"][0]["reference"]["kv_lengths"] = "k";
  expectError(j, "kernels[0].reference.kv_lengths: argument 'k' must have rank "
                 "1, found 4");
  j = exampleManifest();
  j["kernels"][0]["reference"]["causal"] = "yes";
  expectError(
      j, "kernels[0].reference.causal: expected a boolean, found a string");
  j = exampleManifest();
  j["kernels"][0]["reference"]["masks"][0] = "(le j (add i";
  expectErrorContaining(
      j, "kernels[0].reference.masks[0]: in expression \"(le j (add i\": "
         "column 13: expected ')'");
  j = exampleManifest();
  j["kernels"][0]["reference"]["score_mods"] = Json::array({"(mul s 2.0)", 7});
  expectError(
      j,
      "kernels[0].reference.score_mods[1]: expected a string, found a number");
  j = exampleManifest();
  j["kernels"][0]["reference"]["scale"] = "(frob)";
  expectErrorContaining(
      j, "kernels[0].reference.scale: in expression \"(frob)\": column 2: "
         "unknown operator 'frob'");
}

TEST(ManifestTest, KvLengthsMustBeAnI32Vector) {
  Json j = exampleManifest();
  Json &k = j["kernels"][0];
  k["dims"]["M"] = nullptr;
  k["args"].insert(
      k["args"].begin() + 3,
      Json::parse(R"({"name": "kv_len", "role": "input", "dtype": "i32",
                                   "shape": ["B"]})"));
  k["reference"]["kv_lengths"] = "kv_len";
  Result<Manifest> m = parseManifest(j.dump(), "m.json");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(*m->kernels[0].reference->kvLengths, "kv_len");
  k["args"][3]["dtype"] = "f32";
  expectError(
      j, "kernels[0].reference.kv_lengths: argument 'kv_len' must have an i32 "
         "dtype, found f32");
}

TEST(ManifestTest, LoadManifestNamesTheFile) {
  TempDir dir;
  Result<Manifest> missing = loadManifest(dir.file("x.manifest.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("x.manifest.json: cannot open manifest"),
            std::string::npos);
  writeFile(dir.file("y.manifest.json"), exampleManifest().dump());
  EXPECT_TRUE(loadManifest(dir.file("y.manifest.json")).ok());
}

} // namespace
