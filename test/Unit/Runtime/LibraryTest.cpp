//===- LibraryTest.cpp - Loading and calling a (fake) kernel library ------===//

#include "runtime/Library.h"
#include "runtime/Check.h"
#include "runtime/Random.h"
#include "runtime/Reference.h"

#include "FakeManifest.h"
#include "TestUtil.h"

#include <dlfcn.h>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

std::unique_ptr<Library> openOrFail(const std::string &path) {
  Result<std::unique_ptr<Library>> lib = Library::open(path);
  EXPECT_TRUE(lib.ok()) << lib.message();
  return lib.ok() ? lib.take() : nullptr;
}

TEST(LibraryTest, ManifestPath) {
  EXPECT_EQ(Library::manifestPathFor("a/b/mha.so"), "a/b/mha.manifest.json");
  EXPECT_EQ(Library::manifestPathFor("x.so.1"), "x.so.1.manifest.json");
  EXPECT_EQ(Library::manifestPathFor("lib"), "lib.manifest.json");
}

TEST(LibraryTest, HalideBufferLayout) {
  Tensor t = makeTensor(DType::F16, {2, 3, 5}, std::vector<double>(30, 0.0));
  halide_buffer_t buf;
  std::vector<halide_dimension_t> dims;
  ASSERT_TRUE(makeHalideBuffer(t, buf, dims).ok());
  EXPECT_EQ(buf.dimensions, 3);
  EXPECT_EQ(buf.type.code, halide_type_float);
  EXPECT_EQ(buf.type.bits, 16);
  EXPECT_EQ(buf.host, static_cast<uint8_t *>(t.data()));
  EXPECT_EQ(buf.dim[0].extent, 5); // Innermost first.
  EXPECT_EQ(buf.dim[0].stride, 1);
  EXPECT_EQ(buf.dim[1].extent, 3);
  EXPECT_EQ(buf.dim[1].stride, 5);
  EXPECT_EQ(buf.dim[2].extent, 2);
  EXPECT_EQ(buf.dim[2].stride, 15);
  Tensor b = makeTensor(DType::BF16, {1}, {0});
  ASSERT_TRUE(makeHalideBuffer(b, buf, dims).ok());
  EXPECT_EQ(buf.type.code, halide_type_bfloat);
  Tensor i = makeTensor(DType::I32, {1}, {0});
  ASSERT_TRUE(makeHalideBuffer(i, buf, dims).ok());
  EXPECT_EQ(buf.type.code, halide_type_int);
  EXPECT_EQ(buf.type.bits, 32);
}

TEST(LibraryTest, OpensAndCallsWithSymbolicDims) {
  TempDir dir;
  std::unique_ptr<Library> lib =
      openOrFail(installFakeLibrary(dir, fakeManifest()));
  ASSERT_TRUE(lib);
  EXPECT_EQ(lib->manifest().kernels.size(), 6u);
  Result<const KernelSpec *> k = lib->findKernel("add_one");
  ASSERT_TRUE(k.ok());
  for (int64_t n : {1, 17, 3}) { // One library serves every length.
    TensorMap args;
    std::vector<double> values;
    for (int64_t e = 0; e < n * 3; ++e)
      values.push_back(double(e) * 0.5);
    args.emplace("q", makeTensor(DType::F32, {n, 3}, values));
    Status s = lib->call(**k, args);
    ASSERT_TRUE(s.ok()) << s.message();
    const Tensor &out = args.at("out");
    EXPECT_EQ(out.shape(), (std::vector<int64_t>{n, 3}));
    for (int64_t e = 0; e < n * 3; ++e)
      EXPECT_EQ(out.getDouble(e), values[size_t(e)] + 1.0);
  }
}

TEST(LibraryTest, ShapeAndDTypeErrorsBeforeCalling) {
  TempDir dir;
  std::unique_ptr<Library> lib =
      openOrFail(installFakeLibrary(dir, fakeManifest()));
  ASSERT_TRUE(lib);
  const KernelSpec &attn = **lib->findKernel("attn");
  TensorMap args;
  args.emplace(
      "q", makeTensor(DType::F32, {1, 2, 16, 8}, std::vector<double>(256, 0)));
  args.emplace(
      "k", makeTensor(DType::F32, {1, 2, 17, 8}, std::vector<double>(272, 0)));
  args.emplace(
      "v", makeTensor(DType::F32, {1, 2, 18, 8}, std::vector<double>(288, 0)));
  Status s = lib->call(attn, args);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(
      s.message(),
      "kernel 'attn': argument 'v': dim 2 (M) is 18 but 'k' bound M = 17");

  args.erase("v");
  s = lib->call(attn, args);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "kernel 'attn': input 'v' is missing");

  TensorMap wrongType;
  wrongType.emplace("q", makeTensor(DType::F64, {2, 2}, {0, 0, 0, 0}));
  s = lib->call(**lib->findKernel("add_one"), wrongType);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(
      s.message(),
      "kernel 'add_one': argument 'q': expected dtype f32 but got f64[2, 2]");

  // A wrong-shaped output given by the caller is rejected too.
  TensorMap badOut;
  badOut.emplace("q", makeTensor(DType::F32, {2, 2}, {0, 0, 0, 0}));
  badOut.emplace("out",
                 makeTensor(DType::F32, {2, 3}, std::vector<double>(6, 0)));
  s = lib->call(**lib->findKernel("add_one"), badOut);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "kernel 'add_one': argument 'out': dim 1 (D) is 3 but 'q' bound "
            "D = 2");
}

TEST(LibraryTest, KernelFailureIsReportedWithHalideMessage) {
  TempDir dir;
  std::unique_ptr<Library> lib =
      openOrFail(installFakeLibrary(dir, fakeManifest()));
  ASSERT_TRUE(lib);
  TensorMap args;
  args.emplace("q", makeTensor(DType::F32, {4}, {1, 2, 3, 4}));
  Status s = lib->call(**lib->findKernel("fail"), args);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "kernel 'fail' (fail_argv) failed with "
            "halide_error_code_requirement_failed (-27): fail: requirement "
            "failed on purpose");
}

TEST(LibraryTest, SetNumThreadsReachesTheLibrary) {
  TempDir dir;
  std::string path = installFakeLibrary(dir, fakeManifest());
  std::unique_ptr<Library> lib = openOrFail(path);
  ASSERT_TRUE(lib);
  EXPECT_TRUE(lib->setNumThreads(3));
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto query = reinterpret_cast<int (*)()>(dlsym(handle, "fake_num_threads"));
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(query(), 3);
  dlclose(handle);
}

TEST(LibraryTest, OpenErrors) {
  TempDir dir;
  // No manifest next to the library.
  Result<std::unique_ptr<Library>> r = Library::open(dir.file("none.so"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("none.manifest.json: cannot open manifest"),
            std::string::npos)
      << r.message();

  // Manifest present, library missing.
  writeFile(dir.file("ghost.manifest.json"), fakeManifest());
  r = Library::open(dir.file("ghost.so"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("cannot load library " + dir.file("ghost.so")),
            std::string::npos)
      << r.message();

  // Hash mismatch.
  std::string stale =
      installFakeLibrary(dir, fakeManifest("fedcba9876543210"), "stale");
  r = Library::open(stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "library " + stale +
                " has source hash '0123456789abcdef' but its manifest " +
                dir.file("stale.manifest.json") +
                " says 'fedcba9876543210'; the two files come from "
                "different builds");

  // An entry point the library does not export.
  std::string manifest = fakeManifest();
  size_t at = manifest.find("\"entry\": \"fail\"");
  ASSERT_NE(at, std::string::npos);
  manifest.replace(at, 15, "\"entry\": \"gone\"");
  std::string missingEntry = installFakeLibrary(dir, manifest, "noentry");
  r = Library::open(missingEntry);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "library " + missingEntry +
                " does not export gone_argv, the entry point of kernel "
                "'fail' named in its manifest");

  // An invalid manifest.
  std::string broken =
      installFakeLibrary(dir, "{\"format\": \"attnc-manifest\"}", "broken");
  r = Library::open(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("broken.manifest.json: version: missing"),
            std::string::npos)
      << r.message();

  // Unknown kernel.
  std::unique_ptr<Library> lib =
      openOrFail(installFakeLibrary(dir, fakeManifest()));
  ASSERT_TRUE(lib);
  Result<const KernelSpec *> k = lib->findKernel("mha");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(
      k.message().find("has no kernel named 'mha' (it has add_one, fail, attn, "
                       "attn_causal, attn_wrong, attn_kv)"),
      std::string::npos)
      << k.message();
}

/// Runs kernel `name` on random inputs and checks it against the reference.
CheckResult runAndCheck(const Library &lib, const std::string &name,
                        const std::map<std::string, int64_t> &dims,
                        uint64_t seed) {
  const KernelSpec &k = **lib.findKernel(name);
  TensorMap args;
  Result<DimBindings> b = bindDims(k, args, dims);
  EXPECT_TRUE(b.ok()) << b.message();
  for (const ArgSpec &arg : k.args)
    if (arg.role == ArgRole::Input) {
      Result<Tensor> t = makeRandomInput(k, arg, *b, seed);
      EXPECT_TRUE(t.ok()) << t.message();
      args.emplace(arg.name, t.take());
    }
  Status s = lib.call(k, args, dims);
  EXPECT_TRUE(s.ok()) << s.message();
  Result<ReferenceOutput> ref = computeReference(k, args);
  EXPECT_TRUE(ref.ok()) << ref.message();
  Result<CheckResult> r = checkAgainstReference(args.at("out"), *ref);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : CheckResult();
}

TEST(LibraryTest, EndToEndCheckAgainstReference) {
  TempDir dir;
  std::unique_ptr<Library> lib =
      openOrFail(installFakeLibrary(dir, fakeManifest()));
  ASSERT_TRUE(lib);
  for (int64_t n : {1, 17, 33}) {
    std::map<std::string, int64_t> dims = {
        {"B", 3}, {"H", 4}, {"G", 2}, {"N", n}, {"M", n + 2}};
    for (const char *name : {"attn", "attn_causal", "attn_kv"}) {
      CheckResult r = runAndCheck(*lib, name, dims, 7);
      EXPECT_TRUE(r.pass) << name << " N=" << n << ": "
                          << formatCheckLine(name, r);
    }
    CheckResult wrong = runAndCheck(*lib, "attn_wrong", dims, 7);
    EXPECT_FALSE(wrong.pass) << formatCheckLine("attn_wrong", wrong);
    EXPECT_NEAR(wrong.maxAbsErr, 1e-3, 1e-5);
  }
}

} // namespace
