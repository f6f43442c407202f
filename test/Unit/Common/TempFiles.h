//===- TempFiles.h - temporary directories and files for unit tests -*- C++ -*-===//
//
// Shared by the unit-test executables (runtime, search): a directory that
// removes itself and whole-file reads and writes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_UNIT_COMMON_TEMPFILES_H
#define ATTN_TEST_UNIT_COMMON_TEMPFILES_H

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace attn::unittest {

/// A fresh directory under $TMPDIR (or /tmp), removed when destroyed.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base && *base ? base : "/tmp") + "/attntest-XXXXXX";
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
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
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

} // namespace attn::unittest

#endif // ATTN_TEST_UNIT_COMMON_TEMPFILES_H
