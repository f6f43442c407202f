//===- NpyTest.cpp - .npy reading and writing -----------------------------===//

#include "runtime/Npy.h"

#include "TestUtil.h"

#include <cmath>
#include <cstring>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

/// Builds .npy bytes by hand: magic, version, header length, header, data.
std::string npyBytes(const std::string &dict, const std::string &data,
                     int major = 1, bool pad = true) {
  std::string header = dict;
  size_t lenBytes = major == 1 ? 2 : 4;
  if (pad) {
    size_t total = 6 + 2 + lenBytes + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
  }
  std::string out("\x93NUMPY", 6);
  out.push_back(char(major));
  out.push_back(0);
  for (size_t i = 0; i < lenBytes; ++i)
    out.push_back(char((header.size() >> (8 * i)) & 0xff));
  return out + header + data;
}

std::string floatData(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}

/// Expects parsing `bytes` to fail with a message containing `needle` and
/// naming the file.
void expectError(const std::string &bytes, const std::string &needle) {
  Result<Tensor> t = parseNpy(bytes, "bad.npy");
  ASSERT_FALSE(t.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(t.message().rfind("bad.npy: ", 0), 0u) << t.message();
  EXPECT_NE(t.message().find(needle), std::string::npos) << t.message();
}

class NpyRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(NpyRoundTrip, EveryDTypeAndRank) {
  DType dtype = GetParam();
  TempDir dir;
  for (std::vector<int64_t> shape : std::vector<std::vector<int64_t>>{
           {}, {5}, {2, 3}, {1, 2, 3, 4}, {0, 3}}) {
    Result<Tensor> t = Tensor::create(dtype, shape);
    ASSERT_TRUE(t.ok());
    for (int64_t i = 0; i < t->numElements(); ++i)
      t->setDouble(i, dtype == DType::I32 ? double(i * 7 - 11)
                                          : 0.25 * double(i) - 1.5);
    std::string path = dir.file("t.npy");
    ASSERT_TRUE(writeNpy(path, *t).ok());
    std::string bytes = readFile(path);
    // The data starts at a multiple of 64 bytes, as NumPy writes it.
    size_t headerLen = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9]))
                                                       << 8;
    EXPECT_EQ((10 + headerLen) % 64, 0u);
    EXPECT_EQ(bytes[10 + headerLen - 1], '\n');
    Result<Tensor> back = readNpy(path);
    ASSERT_TRUE(back.ok()) << back.message();
    DType expectType = dtype == DType::BF16 ? DType::F32 : dtype;
    EXPECT_EQ(back->dtype(), expectType);
    EXPECT_EQ(back->shape(), shape);
    for (int64_t i = 0; i < t->numElements(); ++i)
      EXPECT_EQ(back->getDouble(i), t->getDouble(i));
  }
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, NpyRoundTrip,
                         ::testing::Values(DType::F16, DType::BF16, DType::F32,
                                           DType::F64, DType::I32),
                         [](const ::testing::TestParamInfo<DType> &info) {
                           return std::string(dtypeName(info.param));
                         });

TEST(NpyTest, ReadsWhatNumPyWrites) {
  // np.save of np.array([1, 2, 3], dtype='<f4') with NumPy's spelling.
  std::string bytes =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
               floatData({1, 2, 3}));
  Result<Tensor> t = parseNpy(bytes, "x.npy");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->describe(), "f32[3]");
  EXPECT_EQ(t->getDouble(2), 3.0);
}

TEST(NpyTest, ReadsVersions2And3AndDoubleQuotes) {
  for (int major : {2, 3}) {
    std::string bytes = npyBytes(
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2)}",
        floatData({4, 5}), major);
    Result<Tensor> t = parseNpy(bytes, "x.npy");
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->describe(), "f32[1, 2]");
    EXPECT_EQ(t->getDouble(1), 5.0);
  }
}

TEST(NpyTest, ReadsPython2LongSuffixAndScalar) {
  std::string bytes =
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 1L), }",
               std::string(8, '\0'));
  EXPECT_TRUE(parseNpy(bytes, "x.npy").ok());
  double v = 2.5;
  std::string scalar =
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
               std::string(reinterpret_cast<char *>(&v), 8));
  Result<Tensor> t = parseNpy(scalar, "x.npy");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->rank(), 0);
  EXPECT_EQ(t->getDouble(0), 2.5);
}

TEST(NpyTest, CorruptMagicVersionAndLength) {
  expectError("", "missing the \\x93NUMPY magic");
  expectError("PK\x03\x04 not numpy at all", "missing the \\x93NUMPY magic");
  expectError(std::string("\x93NUMPY", 6), "ends inside the version");
  expectError(std::string("\x93NUMPY\x04\x00", 8) + std::string(2, '\0'),
              "unsupported .npy format version 4.0");
  expectError(std::string("\x93NUMPY\x01\x01", 8) + std::string(2, '\0'),
              "unsupported .npy format version 1.1");
  expectError(std::string("\x93NUMPY\x01\x00\x10", 9),
              "ends inside the header length");
  expectError(std::string("\x93NUMPY\x01\x00\x50\x00{'descr'", 17),
              "the header says 80 bytes but only 7 follow");
}

TEST(NpyTest, CorruptHeaderDictionary) {
  std::string data = floatData({1});
  expectError(npyBytes("'descr': '<f4'", data), "expected '{'");
  expectError(npyBytes("{'descr': '<f4', 'fortran_order': False}", data),
              "missing key 'shape'");
  expectError(
      npyBytes(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
          data),
      "unsupported value for key 'x'");
  expectError(
      npyBytes(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 'y'}",
          data),
      "unexpected key 'x'");
  expectError(npyBytes("{'descr': '<f4', 'descr': '<f4'}", data),
              "duplicate key 'descr'");
  expectError(npyBytes("{'descr': '<f4' 'fortran_order': False}", data),
              "expected ',' or '}'");
  expectError(npyBytes("{'descr: '<f4'}", data), "expected ':'");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1; 2)}",
               data),
      "expected ',' or ')' in the shape tuple");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
               data),
      "expected a non-negative integer");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", data),
      "unsupported value for key 'fortran_order'");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': '1'}", data),
      "'shape' must be a tuple");
  expectError(
      npyBytes("{'descr': (1,), 'fortran_order': False, 'shape': (1,)}", data),
      "'descr' must be a string");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
               data),
      "unexpected text after the header");
  expectError(
      npyBytes(
          "{'descr': '<f4\xc3\xa9', 'fortran_order': False, 'shape': (1,)}",
          data),
      "non-ASCII byte");
  expectError(
      npyBytes("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", data),
      "expected ',' or '}' after the value of 'descr'");
  expectError(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(99999999999999999999,)}",
                       data),
              "does not fit in 64 bits");
  expectError(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(4294967296, 4294967296)}",
                       data),
              "more elements than fit in 64 bits");
}

TEST(NpyTest, UnsupportedLayouts) {
  std::string data = floatData({1, 2});
  expectError(
      npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
               data),
      "big-endian data ('>f4') is not supported");
  expectError(
      npyBytes("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }",
               data),
      "unsupported dtype '<u1' (supported: <f2, <f4, <f8, <i4)");
  expectError(
      npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }",
               data),
      "Fortran-order arrays are not supported");
}

TEST(NpyTest, WrongDataSize) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  expectError(npyBytes(dict, floatData({1, 2, 3})),
              "truncated data: shape [2, 2] of '<f4' needs 16 bytes but the "
              "file has 12");
  expectError(npyBytes(dict, floatData({1, 2, 3, 4, 5})),
              "unexpected 4 trailing bytes after the 16 bytes of data");
}

TEST(NpyTest, FileErrorsNameTheFile) {
  TempDir dir;
  Result<Tensor> missing = readNpy(dir.file("nope.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("nope.npy: cannot open file"),
            std::string::npos)
      << missing.message();
  Result<Tensor> isDir = readNpy(dir.path());
  ASSERT_FALSE(isDir.ok());
  EXPECT_NE(isDir.message().find("is a directory"), std::string::npos);
  writeFile(dir.file("text.npy"), "hello");
  Result<Tensor> text = readNpy(dir.file("text.npy"));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.message().find("text.npy: not a NumPy .npy file"),
            std::string::npos);
  Tensor t = makeTensor(DType::F32, {1}, {1});
  Status s = writeNpy(dir.file("no/such/dir/out.npy"), t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out.npy: cannot open for writing"),
            std::string::npos);
}

} // namespace
