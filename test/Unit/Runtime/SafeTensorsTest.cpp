//===- SafeTensorsTest.cpp - Reading and writing .safetensors files
//--------===//

#include "runtime/SafeTensors.h"

#include "TestUtil.h"

#include <cstring>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

/// A safetensors file from its header text and data bytes.
std::string makeFile(const std::string &header, const std::string &data) {
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return bytes + header + data;
}

/// The little-endian bytes of floats.
std::string floatBytes(const std::vector<float> &v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.data(), s.size());
  return s;
}

void expectParseError(const std::string &bytes, const std::string &message) {
  Result<SafeTensors> r = parseSafeTensors(bytes, "w.safetensors");
  ASSERT_FALSE(r.ok()) << "expected: " << message;
  EXPECT_EQ(r.message(), "w.safetensors: " + message);
}

TEST(SafeTensorsTest, ReadsAHandWrittenFile) {
  std::string header =
      R"J({"__metadata__": {"format": "pt"},)J"
      R"J( "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]},)J"
      R"J( "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}})J";
  Result<SafeTensors> r = parseSafeTensors(
      makeFile(header, floatBytes({1, 2, 3, -4, 5.5f})), "w.safetensors");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->metadata.at("format"), "pt");
  ASSERT_EQ(r->tensors.size(), 2u);
  const Tensor &a = r->tensors.at("a"), &b = r->tensors.at("b");
  EXPECT_EQ(a.describe(), "f32[3]");
  EXPECT_EQ(a.getDouble(2), 3.0);
  EXPECT_EQ(b.getDouble(0), -4.0);
  EXPECT_EQ(b.getDouble(1), 5.5);
}

TEST(SafeTensorsTest, RoundTripsEveryDtype) {
  TensorMap tensors;
  tensors.emplace("f32", makeTensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, -6}));
  tensors.emplace("f64", makeTensor(DType::F64, {1}, {0.1}));
  tensors.emplace("f16", makeTensor(DType::F16, {3}, {0.5, -2, 65504}));
  tensors.emplace("bf16", makeTensor(DType::BF16, {2}, {1.5, -3}));
  tensors.emplace("layers.0.shift",
                  makeTensor(DType::I32, {2, 2}, {-14, 0, -3, 7}));
  tensors.emplace("scalar", makeTensor(DType::F32, {}, {42}));
  tensors.emplace("empty", makeTensor(DType::F32, {0, 4}, {}));
  std::string bytes = serializeSafeTensors(tensors, {{"arch", "vit"}});
  // The header is padded to 8 bytes, so the data starts aligned.
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | uint8_t(bytes[size_t(i)]);
  EXPECT_EQ(n % 8, 0u);

  Result<SafeTensors> r = parseSafeTensors(bytes, "rt.safetensors");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->metadata, (std::map<std::string, std::string>{{"arch", "vit"}}));
  ASSERT_EQ(r->tensors.size(), tensors.size());
  for (const auto &[name, t] : tensors) {
    const Tensor &got = r->tensors.at(name);
    EXPECT_EQ(got.describe(), t.describe()) << name;
    EXPECT_EQ(std::memcmp(got.data(), t.data(), t.sizeInBytes()), 0) << name;
  }

  TempDir dir;
  ASSERT_TRUE(writeSafeTensors(dir.file("w.safetensors"), tensors).ok());
  Result<SafeTensors> back = readSafeTensors(dir.file("w.safetensors"));
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_TRUE(back->metadata.empty());
  EXPECT_EQ(back->tensors.at("f64").getDouble(0), 0.1);
  Result<SafeTensors> missing = readSafeTensors(dir.file("nope.safetensors"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("nope.safetensors: cannot open"),
            std::string::npos)
      << missing.message();
}

TEST(SafeTensorsTest, Corruptions) {
  const std::string data = floatBytes({1, 2, 3, 4});
  auto one = [](const std::string &entry) {
    return std::string(R"J({"t": )J") + entry + "}";
  };
  expectParseError("abc", "not a safetensors file: 3 bytes, shorter than the "
                          "8-byte header length");
  std::string longHeader = makeFile("{}", "");
  longHeader[0] = 100;
  expectParseError(longHeader, "the header length 100 extends past the end of "
                               "the file (10 bytes)");
  Result<SafeTensors> bad =
      parseSafeTensors(makeFile("{\"t\": ", data), "w.safetensors");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      bad.message().rfind("w.safetensors: the header is not valid JSON: ", 0),
      0u)
      << bad.message();
  expectParseError(makeFile("[1, 2]", data), "the header is not a JSON object");
  expectParseError(makeFile(one("3"), data),
                   "tensor 't': expected an object with dtype, shape and "
                   "data_offsets");
  expectParseError(
      makeFile(
          one(R"J({"dtype": "I64", "shape": [2], "data_offsets": [0, 16]})J"),
          data),
      "tensor 't': unsupported dtype 'I64' (supported: F16, BF16, F32, F64, "
      "I32)");
  expectParseError(
      makeFile(one(R"J({"shape": [2], "data_offsets": [0, 8]})J"), data),
      "tensor 't': dtype is missing or not a string");
  expectParseError(
      makeFile(
          one(R"J({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})J"),
          data),
      "tensor 't': shape [-2] has an entry that is not a non-negative "
      "integer");
  expectParseError(
      makeFile(one(R"J({"dtype": "F32", "shape": [2], "data_offsets": [0]})J"),
               data),
      "tensor 't': data_offsets must be [BEGIN, END], two non-negative "
      "integers");
  expectParseError(
      makeFile(
          one(R"J({"dtype": "F32", "shape": [0], "data_offsets": [8, 4]})J"),
          data),
      "tensor 't': data_offsets [8, 4] end before they begin");
  expectParseError(
      makeFile(
          one(R"J({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})J"),
          data),
      "tensor 't': F32 [3] needs 12 bytes but data_offsets [0, 8] hold 8");
  expectParseError(
      makeFile(
          one(R"J({"dtype": "F32", "shape": [4], "data_offsets": [4, 20]})J"),
          data),
      "tensor 't': data_offsets [4, 20] extend past the end of the data (16 "
      "bytes)");
  expectParseError(
      makeFile(R"J({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})J",
               data),
      "tensors 'a' and 'b' overlap (data_offsets [0, 8] and [4, 12])");
  expectParseError(
      makeFile(one(R"J({"dtype": "F32", "shape": [1], "data_offsets": [0, 4],
                        "extra": 1})J"),
               data),
      "tensor 't': unknown field 'extra'");
  expectParseError(makeFile(R"J({"__metadata__": [1]})J", data),
                   "__metadata__ is not an object");
  expectParseError(makeFile(R"J({"__metadata__": {"n": 1}})J", data),
                   "__metadata__ entry 'n' is not a string");
}

} // namespace
