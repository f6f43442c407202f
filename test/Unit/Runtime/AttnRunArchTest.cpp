//===- AttnRunArchTest.cpp - attn-run on a library with architectures -----===//
//
// Runs the built attn-run binary on the fake library with the manifest of
// fakeArchManifest(): running, checking and timing an architecture, weights
// files, and kernels of the library run one by one.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"
#include "runtime/SafeTensors.h"

#include "FakeManifest.h"
#include "RunTool.h"
#include "TestUtil.h"

#include <cstdio>
#include <cstring>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

class AttnRunArchTest : public ::testing::Test {
protected:
  void SetUp() override { lib = installFakeLibrary(dir, fakeArchManifest()); }
  bool contains(const RunResult &r, const std::string &needle) {
    return r.output.find(needle) != std::string::npos;
  }
  TempDir dir;
  std::string lib;
};

TEST_F(AttnRunArchTest, RunsTheFirstArchByDefault) {
  RunResult r = runTool(lib);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "net: ran 3 calls, y f32[1, 2, 5, 8], z f32[1, 2, "
                          "5, 8]"))
      << r.output;
}

TEST_F(AttnRunArchTest, CheckPassesAndFails) {
  RunResult r = runTool(lib + " --check reference --seed 4");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "call 0 blk_linear -> %q: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "call 1 attn -> %a: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "call 2 blk_add_relu -> z: max_abs_err="))
      << r.output;
  EXPECT_TRUE(contains(r, "end-to-end net -> y: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "net: 3 calls, 6 checks, all PASS")) << r.output;

  r = runTool(lib + " --arch net_wrong --check reference");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(
      contains(r, "call 0 blk_linear_wrong -> %q: max_abs_err=1.00e-03"))
      << r.output;
  EXPECT_TRUE(contains(r, "net_wrong: 3 calls, 6 checks, 3 FAIL")) << r.output;
}

TEST_F(AttnRunArchTest, WeightsFiles) {
  std::string w = dir.file("w.safetensors"), y1 = dir.file("y1.npy"),
              y2 = dir.file("y2.npy");
  RunResult r =
      runTool(lib + " --seed 9 --save-weights " + w + " --output y=" + y1);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  Result<SafeTensors> file = readSafeTensors(w);
  ASSERT_TRUE(file.ok()) << file.message();
  EXPECT_EQ(file->tensors.size(), 2u);
  // The weights from the file and the inputs from the same seed give the
  // same output.
  r = runTool(lib + " --seed 9 --weights " + w + " --output y=" + y2);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(readFile(y1), readFile(y2));

  // A file with a wrong tensor: every problem is named.
  TensorMap bad;
  bad.emplace("wq", file->tensors.at("wq").clone());
  bad.emplace("bq", makeTensor(DType::F32, {9}, std::vector<double>(9, 0.0)));
  ASSERT_TRUE(writeSafeTensors(w, bad).ok());
  r = runTool(lib + " --weights " + w);
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r, "attn-run: error: " + w +
                              ": the weights do not match arch 'net' (1 "
                              "problem):\n  tensor 'bq' has shape [9] but the "
                              "arch expects f32[8]"))
      << r.output;
}

TEST_F(AttnRunArchTest, BenchReportsTheProgramsFlops) {
  RunResult r = runTool(lib + " --bench");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "net (3 calls): median ")) << r.output;
  EXPECT_TRUE(contains(r, " GFLOP/s")) << r.output;
}

TEST_F(AttnRunArchTest, ProfileTimesEveryCallAndKernel) {
  RunResult r = runTool(lib + " --profile");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "call 0 ")) << r.output;
  EXPECT_TRUE(contains(r, ": median ")) << r.output;
  EXPECT_TRUE(contains(r, "% of ")) << r.output;
  EXPECT_TRUE(contains(r, "kernel ")) << r.output;
  // Profiling replaces the plain run's summary line.
  EXPECT_FALSE(contains(r, ": ran ")) << r.output;
}

TEST_F(AttnRunArchTest, KernelsStillRunOneByOne) {
  RunResult r = runTool(lib + " --kernel blk_add_relu --check reference");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r, "blk_add_relu.sum: max_abs_err=")) << r.output;
  EXPECT_TRUE(contains(r, "blk_add_relu.act: max_abs_err=")) << r.output;
  r = runTool(lib + " --kernel blk_linear_wrong --check reference");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r, "blk_linear_wrong: max_abs_err=1.00e-03"))
      << r.output;
}

TEST_F(AttnRunArchTest, Errors) {
  RunResult r = runTool(lib + " --arch nope");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "has no architecture named 'nope' (it has net, "
                          "net_wrong)"))
      << r.output;
  r = runTool(lib + " --arch net --kernel attn");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--kernel and --arch exclude each other"))
      << r.output;
  r = runTool(lib + " --dim N=4");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--dim does not apply to an architecture"))
      << r.output;
  r = runTool(lib + " --kernel attn --weights w.safetensors");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "--weights applies to architectures")) << r.output;
  r = runTool(lib + " --input q=" + dir.file("x.npy"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "arch 'net' has no input named 'q' (its inputs "
                          "are x)"))
      << r.output;
  // A library without archs refuses --arch.
  std::string plain = installFakeLibrary(dir, fakeManifest(), "plain");
  r = runTool(plain + " --arch net");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_TRUE(contains(r, "has no architecture named 'net' (it has none)"))
      << r.output;
}

} // namespace
