//===- AttnRunTest.cpp - The attn-run tool on the fake kernel library -----===//
//
// Runs the built attn-run binary as a user would and checks its output and
// exit status.  The compiler-built libraries are covered by the integration
// tests; these cover the tool's own logic.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"

#include "FakeManifest.h"
#include "RunTool.h"
#include "TestUtil.h"

#include <cstdio>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

class AttnRunTest : public ::testing::Test {
protected:
  void SetUp() override { lib = installFakeLibrary(dir, fakeManifest()); }
  bool contains(const RunResult &r, const std::string &needle) {
    return r.output.find(needle) != std::string::npos;
  }
  TempDir dir;
  std::string lib;
  const std::string dims =
      " --dim B=2 --dim H=4 --dim G=2 --dim N=17 --dim M=19";
};

TEST_F(AttnRunTest, Help) {
  RunResult r = runTool("--help");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_TRUE(contains(r, "usage: attn-run LIB")) << r.output;
  EXPECT_TRUE(contains(r, "--check reference"));
}

TEST_F(AttnRunTest, CheckPassesAndFails) {
  RunResult r =
      runTool(lib + " --kernel attn --check reference --seed 3" + dims);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "attn: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, " PASS")) << r.output;

  r = runTool(lib + " --kernel attn_wrong --check reference" + dims);
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r, "attn_wrong: max_abs_err=1.00e-03")) << r.output;
  EXPECT_TRUE(contains(r, " FAIL")) << r.output;
}

TEST_F(AttnRunTest, RunsEveryKernelByDefault) {
  // add_one takes N and D from --dim; fail fixes N = 4, so --dim N=17 is an
  // error for it: exit 1, but every other kernel still runs.
  RunResult r = runTool(lib + " --check reference" + dims + " --dim D=8");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r, "attn: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "attn_causal: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "attn_kv: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "attn_wrong: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "add_one: max_abs_err") == false) << r.output;
  EXPECT_TRUE(contains(
      r, "kernel 'add_one': the manifest has no reference description"))
      << r.output;
  EXPECT_TRUE(contains(r, "kernel 'fail': --dim N=17: the library fixes N = 4"))
      << r.output;
  r = runTool(lib + " --kernel fail --dim N=4");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(
      r, "attn-run: error: kernel 'fail' (fail_argv) failed with "
         "halide_error_code_requirement_failed (-27): fail: requirement "
         "failed on purpose"))
      << r.output;
}

TEST_F(AttnRunTest, UnboundDimsAreExplained) {
  RunResult r =
      runTool(lib + " --kernel attn --dim B=1 --dim H=2 --dim G=1 --dim M=4");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(
      r, "kernel 'attn': dim N is symbolic: give --dim N=... or an input "
         "that has it"))
      << r.output;
  r = runTool(lib + " --kernel attn --dim B=1 --dim H=2");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(
      contains(r, "dims N, G, M are symbolic: give --dim N=... --dim G=... "
                  "--dim M=... or inputs that have them"))
      << r.output;
}

TEST_F(AttnRunTest, InputsOutputsAndBinding) {
  Tensor q = makeTensor(DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(writeNpy(dir.file("q.npy"), q).ok());
  RunResult r =
      runTool(lib + " --kernel add_one --input q=" + dir.file("q.npy") +
              " --output " + dir.file("out.npy"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "add_one: ran, out f32[3, 2]")) << r.output;
  Result<Tensor> out = readNpy(dir.file("out.npy"));
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(out->describe(), "f32[3, 2]");
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(out->getDouble(i), q.getDouble(i) + 1);

  // NAME=FILE form of --output.
  r = runTool(lib + " --kernel add_one --input q=" + dir.file("q.npy") +
              " --output out=" + dir.file("out2.npy"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(readNpy(dir.file("out2.npy")).ok());

  // An input's shape disagreeing with --dim.
  r = runTool(lib + " --kernel add_one --input q=" + dir.file("q.npy") +
              " --dim N=4");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "argument 'q': dim 0 (N) is 3 but --dim gave N = 4"))
      << r.output;

  // Wrong dtype in the file.
  Tensor q64 = makeTensor(DType::F64, {3, 2}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(writeNpy(dir.file("q64.npy"), q64).ok());
  r = runTool(lib + " --kernel add_one --input q=" + dir.file("q64.npy"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "argument 'q': expected dtype f32 but got f64[3, 2]"))
      << r.output;
}

TEST_F(AttnRunTest, BadInputsAreErrorsNotCrashes) {
  writeFile(dir.file("bad.npy"), "not numpy");
  RunResult r =
      runTool(lib + " --kernel add_one --input q=" + dir.file("bad.npy"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "bad.npy: not a NumPy .npy file")) << r.output;

  r = runTool(lib + " --kernel add_one --input q=" + dir.file("missing.npy"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "missing.npy: cannot open file")) << r.output;

  r = runTool(lib + " --kernel add_one --input x=" + dir.file("bad.npy"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(
      r, "no selected kernel has an argument named 'x' (add_one: q, out)"))
      << r.output;

  r = runTool(lib + " --kernel nope");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "has no kernel named 'nope'")) << r.output;

  r = runTool(lib + " --frobnicate");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "unknown option '--frobnicate'")) << r.output;

  r = runTool(lib + " --dim N");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--dim expects NAME=INTEGER, got 'N'")) << r.output;

  r = runTool(lib + " --check");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--check needs a value")) << r.output;

  r = runTool(lib + " --output x.npy");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--output needs --kernel")) << r.output;

  r = runTool(dir.file("nothing.so"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "nothing.manifest.json: cannot open manifest"))
      << r.output;

  r = runTool(lib + " --kernel add_one --dim N=99999999999 --dim D=2");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(
      contains(r, "--dim N=99999999999: extents above 2147483647 do not fit"))
      << r.output;

  r = runTool("");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "no library given")) << r.output;

  std::string stale =
      installFakeLibrary(dir, fakeManifest("00000000000000ff"), "stale");
  r = runTool(stale + " --kernel add_one --dim N=2 --dim D=2");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "the two files come from different builds"))
      << r.output;
}

TEST_F(AttnRunTest, BenchAndThreads) {
  RunResult r = runTool(lib + " --kernel attn --bench --threads 2" + dims);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "attn: median ")) << r.output;
  EXPECT_TRUE(contains(r, " GFLOP/s")) << r.output;
}

TEST_F(AttnRunTest, SameSeedSameData) {
  std::string cmd = lib + " --kernel attn" + dims + " --seed 5 --output ";
  ASSERT_EQ(runTool(cmd + dir.file("a.npy")).exitCode, 0);
  ASSERT_EQ(runTool(cmd + dir.file("b.npy")).exitCode, 0);
  EXPECT_EQ(readFile(dir.file("a.npy")), readFile(dir.file("b.npy")));
  std::string other = lib + " --kernel attn" + dims + " --seed 6 --output ";
  ASSERT_EQ(runTool(other + dir.file("c.npy")).exitCode, 0);
  EXPECT_NE(readFile(dir.file("a.npy")), readFile(dir.file("c.npy")));
}

} // namespace
