//===- TestUtil.h - Helpers shared by the runtime unit tests ----*- C++ -*-===//

#ifndef ATTN_TEST_UNIT_RUNTIME_TESTUTIL_H
#define ATTN_TEST_UNIT_RUNTIME_TESTUTIL_H

#include "runtime/Tensor.h"

#include "../Common/TempFiles.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace attn::rt::test {

using unittest::readFile;
using unittest::TempDir;
using unittest::writeFile;

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
