//===- ArchRunnerTest.cpp - Running whole architectures on fake kernels
//----===//
//
// The archs of fakeArchManifest(): binding weights (random and from
// safetensors), running the calls, and the per-call and end-to-end checks,
// which pass for correct kernels and fail for blk_linear_wrong.
//
//===----------------------------------------------------------------------===//

#include "runtime/ArchRunner.h"
#include "runtime/SafeTensors.h"

#include "FakeManifest.h"
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

class ArchRunnerTest : public ::testing::Test {
protected:
  void SetUp() override {
    Result<std::unique_ptr<Library>> l =
        Library::open(installFakeLibrary(dir, fakeArchManifest()));
    ASSERT_TRUE(l.ok()) << l.message();
    lib = l.take();
  }

  std::unique_ptr<ArchRunner> runner(const std::string &arch) {
    const ArchSpec *spec = lib->manifest().findArch(arch);
    EXPECT_NE(spec, nullptr);
    Result<std::unique_ptr<ArchRunner>> r = ArchRunner::create(*lib, *spec);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? r.take() : nullptr;
  }

  TempDir dir;
  std::unique_ptr<Library> lib;
};

bool sameData(const Tensor &a, const Tensor &b) {
  return a.describe() == b.describe() &&
         std::memcmp(a.data(), b.data(), a.sizeInBytes()) == 0;
}

TEST_F(ArchRunnerTest, CorrectKernelsPassEveryCheck) {
  std::unique_ptr<ArchRunner> r = runner("net");
  ASSERT_TRUE(r);
  r->randomInputs(1);
  r->randomWeights(2);
  Result<ArchCheckReport> report = r->runAndCheck();
  ASSERT_TRUE(report.ok()) << report.message();
  ASSERT_EQ(report->calls.size(), 4u); // blk_add_relu has two outputs.
  EXPECT_EQ(report->calls[0].call, 0);
  EXPECT_EQ(report->calls[0].kernel, "blk_linear");
  EXPECT_EQ(report->calls[0].value, "%q");
  EXPECT_EQ(report->calls[1].kernel, "attn");
  EXPECT_EQ(report->calls[2].value, "y");
  EXPECT_EQ(report->calls[3].value, "z");
  ASSERT_EQ(report->endToEnd.size(), 2u);
  EXPECT_EQ(report->endToEnd[0].call, -1);
  EXPECT_EQ(report->endToEnd[0].value, "y");
  for (const auto *lines : {&report->calls, &report->endToEnd})
    for (const ArchCheckLine &l : *lines) {
      EXPECT_TRUE(l.result.pass) << l.format("net");
      EXPECT_GT(l.result.baselineErr, 0) << l.format("net");
    }
  EXPECT_TRUE(report->pass());
  EXPECT_EQ(report->calls[0].format("net").rfind(
                "call 0 blk_linear -> %q: max_abs_err=", 0),
            0u);
  EXPECT_EQ(report->endToEnd[1].format("net").rfind(
                "end-to-end net -> z: max_abs_err=", 0),
            0u);
  // y = x + attention(...), z = relu(y): the program really ran.
  const Tensor &x = *r->tensor("x"), &a = *r->tensor("%a"),
               &y = *r->tensor("y"), &z = *r->tensor("z");
  for (int64_t i = 0; i < x.numElements(); ++i) {
    EXPECT_EQ(y.getDouble(i),
              double(float(x.getDouble(i)) + float(a.getDouble(i))));
    EXPECT_EQ(z.getDouble(i), std::max(0.0, y.getDouble(i)));
  }
  Result<double> flops = r->flops();
  ASSERT_TRUE(flops.ok()) << flops.message();
  // linear 2*10*8*8, attention 4*1*2*5*5*8, add and relu 80 each.
  EXPECT_DOUBLE_EQ(*flops, 1280 + 1600 + 80 + 80);
}

TEST_F(ArchRunnerTest, WrongKernelFailsPerCallAndEndToEnd) {
  std::unique_ptr<ArchRunner> r = runner("net_wrong");
  ASSERT_TRUE(r);
  r->randomInputs(1);
  r->randomWeights(2);
  Result<ArchCheckReport> report = r->runAndCheck();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_FALSE(report->pass());
  EXPECT_FALSE(report->calls[0].result.pass);
  EXPECT_NEAR(report->calls[0].result.maxAbsErr, 1e-3, 1e-5);
  // The later calls are checked on their actual inputs: they are right.
  for (size_t i = 1; i < report->calls.size(); ++i)
    EXPECT_TRUE(report->calls[i].result.pass) << report->calls[i].format("n");
  // The error propagates to the outputs.
  for (const ArchCheckLine &l : report->endToEnd)
    EXPECT_FALSE(l.result.pass) << l.format("net_wrong");
}

TEST_F(ArchRunnerTest, WeightBindingErrorsListEveryProblem) {
  std::unique_ptr<ArchRunner> r = runner("net");
  ASSERT_TRUE(r);
  TensorMap weights;
  weights.emplace("wq",
                  makeTensor(DType::F32, {8, 4}, std::vector<double>(32, 0.0)));
  weights.emplace("extra", makeTensor(DType::F32, {2}, {1, 2}));
  Status s = r->setWeights(weights);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "the weights do not match arch 'net' (3 problems):\n"
            "  tensor 'wq' has shape [8, 4] but the arch expects f32[8, 8]\n"
            "  missing tensor 'bq' (f32[8])\n"
            "  unexpected tensor 'extra' f32[2] (not a weight of the arch)");

  weights.clear();
  weights.emplace("wq",
                  makeTensor(DType::F16, {8, 8}, std::vector<double>(64, 0.0)));
  weights.emplace("bq",
                  makeTensor(DType::F32, {8}, std::vector<double>(8, 0.0)));
  s = r->setWeights(weights);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the weights do not match arch 'net' (1 problem):\n"
                         "  tensor 'wq' has dtype f16 but the arch expects "
                         "f32[8, 8]");

  // The same problems from a file, prefixed with its path.
  std::string path = dir.file("bad.safetensors");
  ASSERT_TRUE(writeSafeTensors(path, weights).ok());
  s = r->loadWeights(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(path + ": the weights do not match", 0), 0u)
      << s.message();
  writeFile(path, "garbage");
  s = r->loadWeights(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(path + ": not a safetensors file", 0), 0u)
      << s.message();
}

TEST_F(ArchRunnerTest, InputsAreCheckedAndLookedUp) {
  std::unique_ptr<ArchRunner> r = runner("net");
  ASSERT_TRUE(r);
  Status s = r->setInput("x", makeTensor(DType::F32, {2}, {1, 2}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "input 'x' of arch 'net' is f32[1, 2, 5, 8], got f32[2]");
  s = r->setInput("wq", makeTensor(DType::F32, {2}, {1, 2}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "arch 'net' has no input named 'wq' (its inputs are x)");
  Tensor x = makeTensor(DType::F32, {1, 2, 5, 8}, std::vector<double>(80, 0.5));
  ASSERT_TRUE(r->setInput("x", x).ok());
  EXPECT_TRUE(sameData(*r->tensor("x"), x));
  EXPECT_EQ(r->tensor("nope"), nullptr);
  EXPECT_EQ(r->tensor("%q")->describe(), "f32[1, 2, 5, 8]");
}

TEST_F(ArchRunnerTest, RandomWeightsAreDeterministicAndOrderIndependent) {
  std::unique_ptr<ArchRunner> a = runner("net"), b = runner("net");
  ASSERT_TRUE(a && b);
  a->randomWeights(7);
  b->randomWeights(7);
  EXPECT_TRUE(sameData(*a->tensor("wq"), *b->tensor("wq")));
  EXPECT_TRUE(sameData(*a->tensor("bq"), *b->tensor("bq")));
  b->randomWeights(8);
  EXPECT_FALSE(sameData(*a->tensor("wq"), *b->tensor("wq")));

  // The same weights listed in the other order get the same values.
  ArchSpec reversed = *lib->manifest().findArch("net");
  std::reverse(reversed.weights.begin(), reversed.weights.end());
  Result<std::unique_ptr<ArchRunner>> c = ArchRunner::create(*lib, reversed);
  ASSERT_TRUE(c.ok()) << c.message();
  (*c)->randomWeights(7);
  EXPECT_TRUE(sameData(*a->tensor("wq"), *(*c)->tensor("wq")));
  EXPECT_TRUE(sameData(*a->tensor("bq"), *(*c)->tensor("bq")));
  // wq is U(-0.35, 0.35).
  const Tensor &wq = *a->tensor("wq");
  for (int64_t i = 0; i < wq.numElements(); ++i)
    EXPECT_LE(std::fabs(wq.getDouble(i)), 0.35);
}

TEST(ArchRunnerInitTest, Distributions) {
  Tensor t = Tensor::create(DType::F64, {20000}).take();
  WeightInitSpec normal;
  normal.dist = WeightDist::Normal;
  normal.mean = 1.0;
  normal.std = 0.5;
  fillWeight(t, normal, 3);
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < t.numElements(); ++i) {
    sum += t.getDouble(i);
    sq += t.getDouble(i) * t.getDouble(i);
  }
  double mean = sum / 20000, var = sq / 20000 - mean * mean;
  EXPECT_NEAR(mean, 1.0, 0.02);
  EXPECT_NEAR(std::sqrt(var), 0.5, 0.02);

  Tensor ints = Tensor::create(DType::I32, {1000}).take();
  WeightInitSpec shift;
  shift.dist = WeightDist::Shift;
  shift.min = -14;
  shift.max = 0;
  fillWeight(ints, shift, 4);
  double lo = 0, hi = -14;
  for (int64_t i = 0; i < ints.numElements(); ++i) {
    lo = std::min(lo, ints.getDouble(i));
    hi = std::max(hi, ints.getDouble(i));
  }
  EXPECT_EQ(lo, -14);
  EXPECT_EQ(hi, 0);
  WeightInitSpec sign;
  sign.dist = WeightDist::Sign;
  fillWeight(ints, sign, 5);
  int counts[3] = {0, 0, 0};
  for (int64_t i = 0; i < ints.numElements(); ++i) {
    double v = ints.getDouble(i);
    ASSERT_TRUE(v == -1 || v == 0 || v == 1) << v;
    ++counts[int(v) + 1];
  }
  EXPECT_GT(counts[0], 250);
  EXPECT_GT(counts[1], 250);
  EXPECT_GT(counts[2], 250);
  EXPECT_NE(weightSeed(1, "a"), weightSeed(1, "b"));
  EXPECT_NE(weightSeed(1, "a"), weightSeed(2, "a"));
}

TEST_F(ArchRunnerTest, SavedWeightsLoadBack) {
  std::unique_ptr<ArchRunner> a = runner("net"), b = runner("net");
  ASSERT_TRUE(a && b);
  a->randomInputs(3);
  b->randomInputs(3);
  a->randomWeights(11);
  std::string path = dir.file("w.safetensors");
  ASSERT_TRUE(a->saveWeights(path).ok());
  Result<SafeTensors> file = readSafeTensors(path);
  ASSERT_TRUE(file.ok()) << file.message();
  EXPECT_EQ(file->metadata.at("arch"), "net");
  EXPECT_EQ(file->tensors.size(), 2u);
  ASSERT_TRUE(b->loadWeights(path).ok());
  EXPECT_TRUE(sameData(*a->tensor("wq"), *b->tensor("wq")));
  ASSERT_TRUE(a->run().ok());
  ASSERT_TRUE(b->run().ok());
  EXPECT_TRUE(sameData(*a->tensor("y"), *b->tensor("y")));
  // Runs are repeatable (the prepared calls are reused).
  Tensor y = a->tensor("y")->clone();
  ASSERT_TRUE(a->run().ok());
  EXPECT_TRUE(sameData(*a->tensor("y"), y));
}

} // namespace
