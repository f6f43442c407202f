//===- TestUtil.h - Helpers shared by the runtime unit tests ----*- C++ -*-===//

#ifndef ATTN_TEST_UNIT_RUNTIME_TESTUTIL_H
#define ATTN_TEST_UNIT_RUNTIME_TESTUTIL_H

#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace attn::rt::test {

/// A fresh directory under $TMPDIR (or /tmp), removed when destroyed.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base && *base ? base : "/tmp") + "/attnrt-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    char *made = mkdtemp(buf.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    dirPath = made ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dirPath, ec);
  }
  const std::string &path() const { return dirPath; }
  std::string file(const std::string &name) const {
    return dirPath + "/" + name;
  }

private:
  std::string dirPath;
};

inline void writeFile(const std::string &path, const std::string &content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), std::streamsize(content.size()));
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

/// Builds a tensor with the given values (C order).
inline Tensor makeTensor(DType dtype, std::vector<int64_t> shape,
                         const std::vector<double> &values) {
  Result<Tensor> t = Tensor::create(dtype, std::move(shape));
  EXPECT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(size_t(t->numElements()), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    t->setDouble(int64_t(i), values[i]);
  return t.take();
}

/// Path of the fake kernel library built next to the tests.
inline std::string fakeKernelsPath() { return ATTN_FAKE_KERNELS_PATH; }

/// Copies the fake kernel library into `dir` as `<name>.so`, writes
/// `manifest` as `<name>.manifest.json`, and returns the library path.
inline std::string installFakeLibrary(const TempDir &dir,
                                      const std::string &manifest,
                                      const std::string &name = "fake") {
  std::string so = dir.file(name + ".so");
  std::filesystem::copy_file(fakeKernelsPath(), so,
                             std::filesystem::copy_options::overwrite_existing);
  writeFile(dir.file(name + ".manifest.json"), manifest);
  return so;
}

} // namespace attn::rt::test

#endif // ATTN_TEST_UNIT_RUNTIME_TESTUTIL_H
