//===- SpaceTest.cpp - the search space of an architecture ----------------===//
//
// ArchSpace (frontend/Space.h): choices, exact counting with per-layer
// choices under `repeat`s whose counts are chosen, the --config text in both
// directions, sampling (validity, distinctness, determinism), the genetic
// operators and the errors of build().
//
//===----------------------------------------------------------------------===//

#include "frontend/Space.h"

#include "frontend/Frontend.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

using namespace attn::frontend;

namespace attn::frontend {
/// Prints a point in failure messages.
void PrintTo(const SpacePoint &p, std::ostream *os) {
  *os << "{";
  for (auto &[name, values] : p.values) {
    *os << " " << name << "=[";
    for (size_t n = 0; n < values.size(); ++n)
      *os << (n ? "," : "") << values[n];
    *os << "]";
  }
  *os << " }";
}
} // namespace attn::frontend

namespace {

/// A parsed source whose diagnostics go to `diags`.
class Source {
public:
  explicit Source(const std::string &text) {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "t.attn"), llvm::SMLoc());
    handler = std::make_unique<mlir::SourceMgrDiagnosticHandler>(
        sourceMgr, &context, os);
    ast = parseSource(sourceMgr, context);
  }

  mlir::FailureOr<ArchSpace> space(const std::string &arch = "",
                                   const FrontendOptions &options = {}) {
    EXPECT_TRUE(ast) << diags;
    if (!ast)
      return mlir::failure();
    return ArchSpace::build(context, *ast, options, arch);
  }

  std::string diags;

private:
  llvm::raw_string_ostream os{diags};
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<mlir::SourceMgrDiagnosticHandler> handler;
  std::unique_ptr<ModuleAST> ast;
};

const char *const kHeader = "dim B = 1, N = 4, E = 8\n"
                            "arch net(x: f32[B, N, E]) -> f32[B, N, E] {\n";

/// One depth choice over a per-layer choice: 3 + 3^2 = 12 points.
const char *const kSimple =
    "  choose d in {1, 2}\n"
    "  repeat d {\n"
    "    choose m in {relu, gelu, silu}\n"
    "    x = x + mlp(x, hidden = 8, act = m)\n"
    "  }\n"
    "  return x\n"
    "}\n";

/// A global choice the counts do not read, the depth through an assignment,
/// and two `repeat`s (the second one's layers do not start at 0).
const char *const kTwoRepeats =
    "  choose h in {2, 4}\n"
    "  choose d in {1, 2}\n"
    "  n = d * 2\n"
    "  repeat n {\n"
    "    choose m in {relu, gelu, silu}\n"
    "    x = x + mlp(x, hidden = 8, act = m)\n"
    "  }\n"
    "  repeat d {\n"
    "    choose r in {1, 2}\n"
    "    x = x + attention_block(x, heads = h, head_dim = 4 * r)\n"
    "  }\n"
    "  return x\n"
    "}\n";

/// Nested `repeat`s: the outer choice is taken at layers 0 and d + 1.
const char *const kNested =
    "  choose d in {1, 2}\n"
    "  repeat 2 {\n"
    "    choose a in {1, 2}\n"
    "    x = x + mlp(x, hidden = 4 * a)\n"
    "    repeat d {\n"
    "      choose b in {relu, gelu}\n"
    "      x = x + mlp(x, hidden = 8, act = b)\n"
    "    }\n"
    "  }\n"
    "  return x\n"
    "}\n";

/// heads = 3 does not divide the width 8: a third of the points are
/// invalid.
const char *const kInvalidHeads =
    "  choose h in {2, 3, 4}\n"
    "  choose d in {1, 2}\n"
    "  repeat d {\n"
    "    choose m in {softmax, relu_attention}\n"
    "    x = x + attention_block(x, heads = h, variant = m)\n"
    "  }\n"
    "  return x\n"
    "}\n"
    "variant relu_attention {\n"
    "  feature(x) = relu(x)\n"
    "  normalize = sum(eps = 1e-6)\n"
    "}\n";

/// toConfig of the first sample of kTwoRepeats with seed 1.
const char *const kPinnedSample = "h=2,d=1,m=[relu,relu],r.2=1";

std::string arch(const char *body) { return std::string(kHeader) + body; }

SpacePoint point(std::map<std::string, std::vector<int>> values) {
  SpacePoint p;
  p.values = std::move(values);
  return p;
}

//===----------------------------------------------------------------------===//
// Choices and counting
//===----------------------------------------------------------------------===//

TEST(SpaceTest, ChoicesAreListedInSourceOrder) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_EQ(space->arch(), "net");
  const auto &c = space->choices();
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].name, "h");
  EXPECT_FALSE(c[0].perLayer);
  EXPECT_EQ(c[0].site, "t.attn:3:10");
  EXPECT_EQ(c[0].labels, (std::vector<std::string>{"2", "4"}));
  EXPECT_EQ(c[1].name, "d");
  EXPECT_EQ(c[2].name, "m");
  EXPECT_TRUE(c[2].perLayer);
  EXPECT_EQ(c[2].labels,
            (std::vector<std::string>{"relu", "gelu", "silu"}));
  EXPECT_EQ(c[2].site, "t.attn:7:12");
  EXPECT_EQ(c[3].name, "r");
  EXPECT_TRUE(c[3].perLayer);
  EXPECT_EQ(space->countChoices(), (std::vector<std::string>{"d"}));
}

TEST(SpaceTest, CountsPerLayerChoicesUnderAChosenDepth) {
  Source src(arch(kSimple));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  // d = 1: 3 points, d = 2: 3^2.
  EXPECT_EQ(space->sizeText(), "12");
  EXPECT_NEAR(space->sizeLog10(), std::log10(12.0), 1e-12);
  EXPECT_EQ(space->layers(point({{"d", {0}}})).at("m"), 1);
  EXPECT_EQ(space->layers(point({{"d", {1}}})).at("m"), 2);
}

TEST(SpaceTest, CountsThroughAssignmentsAndTwoRepeats) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  // h: x2.  d = 1: m 2 layers (9), r 1 layer (2) = 18.
  //         d = 2: m 4 layers (81), r 2 layers (4) = 324.
  EXPECT_EQ(space->sizeText(), "684");
  auto layers = space->layers(point({{"h", {1}}, {"d", {1}}}));
  EXPECT_EQ(layers.at("m"), 4);
  EXPECT_EQ(layers.at("r"), 2);
  // Layer indices run on over both repeats.
  auto at = space->layerIndices(point({{"h", {0}}, {"d", {0}}}));
  EXPECT_EQ(at.at("m"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(at.at("r"), (std::vector<int64_t>{2}));
}

TEST(SpaceTest, CountsNestedRepeats) {
  Source src(arch(kNested));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  // d = 1: a 2 layers, b 2 layers: 4 * 4.  d = 2: a 2, b 4: 4 * 16.
  EXPECT_EQ(space->sizeText(), "80");
  auto at = space->layerIndices(point({{"d", {1}}}));
  EXPECT_EQ(at.at("a"), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(at.at("b"), (std::vector<int64_t>{1, 2, 4, 5}));
}

TEST(SpaceTest, NoChoicesIsOnePoint) {
  Source src(arch("  return x\n}\n"));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_TRUE(space->choices().empty());
  EXPECT_EQ(space->sizeText(), "1");
  std::mt19937_64 rng(3);
  SpacePoint p = space->sample(rng);
  EXPECT_TRUE(p.values.empty());
  EXPECT_EQ(space->toConfig(p), "");
  EXPECT_TRUE(space->validate(p));
  EXPECT_EQ(space->sampleValid(5, rng, 100).size(), 1u);
}

TEST(SpaceTest, HugeSpacesAreCountedExactly) {
  // 4^4096 + 4^2048 points: far beyond 64 bits.
  Source src(arch("  choose d in {4096, 2048}\n"
                  "  repeat d {\n"
                  "    choose m in {relu, gelu, silu, softmax}\n"
                  "  }\n"
                  "  return x\n"
                  "}\n"));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::string size = space->sizeText();
  EXPECT_EQ(size.size(), 2467u); // floor(4096 * log10(4)) + 1 digits
  EXPECT_EQ(size.substr(0, 6), "109074");
  EXPECT_EQ(size.substr(size.size() - 6), "983232");
  EXPECT_NEAR(space->sizeLog10(), 4096 * std::log10(4.0), 1e-9);
}

TEST(SpaceTest, HybridVitSize) {
  std::ifstream in(ATTN_SOURCE_DIR "/examples/hybrid_vit.attn");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  Source src(text.str());
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  // 3 head counts x ((3*2)^12 + (3*2)^6 + (3*2)^9).
  EXPECT_EQ(space->sizeText(), "6560720064");
  EXPECT_EQ(space->countChoices(), (std::vector<std::string>{"depth"}));
  std::mt19937_64 rng(11);
  std::vector<SpacePoint> points = space->sampleValid(2, rng, 20);
  ASSERT_EQ(points.size(), 2u);
  for (const SpacePoint &p : points) {
    int64_t depth = std::stoi(
        space->choices()[1].labels[p.values.at("depth").front()]);
    EXPECT_EQ(static_cast<int64_t>(p.values.at("mixer").size()), depth);
    EXPECT_EQ(static_cast<int64_t>(p.values.at("ratio").size()), depth);
  }
}

//===----------------------------------------------------------------------===//
// The configuration text
//===----------------------------------------------------------------------===//

TEST(SpaceTest, ConfigTextRoundTrips) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  SpacePoint p = point({{"h", {1}}, {"d", {0}}, {"m", {2, 0}}, {"r", {1}}});
  // r is taken at layer 2 only: written per layer.
  EXPECT_EQ(space->toConfig(p), "h=4,d=1,m=[silu,relu],r.2=2");
  std::string error;
  auto back = space->fromConfig(space->toConfig(p), error);
  ASSERT_TRUE(mlir::succeeded(back)) << error;
  EXPECT_EQ(*back, p);
  EXPECT_TRUE(space->validate(p));

  std::mt19937_64 rng(5);
  for (int n = 0; n < 50; ++n) {
    SpacePoint q = space->sample(rng);
    auto parsed = space->fromConfig(space->toConfig(q), error);
    ASSERT_TRUE(mlir::succeeded(parsed)) << error;
    EXPECT_EQ(*parsed, q) << space->toConfig(q);
  }
}

TEST(SpaceTest, FromConfigAcceptsWhatTheFrontendAccepts) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::string error;
  // Missing choices take their first alternative.
  auto p = space->fromConfig("", error);
  ASSERT_TRUE(mlir::succeeded(p)) << error;
  EXPECT_EQ(*p, point({{"h", {0}}, {"d", {0}}, {"m", {0, 0}}, {"r", {0}}}));
  // One value for every layer, NAME.LAYER, spaces; a list is indexed by
  // the layers of the whole architecture.
  p = space->fromConfig("d = 2, m = gelu, m.2 = silu, r = [1,1,1,1,2,1]",
                        error);
  ASSERT_TRUE(mlir::succeeded(p)) << error;
  EXPECT_EQ(*p, point({{"h", {0}},
                       {"d", {1}},
                       {"m", {1, 1, 2, 1}},
                       {"r", {1, 0}}}));
}

TEST(SpaceTest, FromConfigMatchesCalleeNames) {
  Source src(arch("  choose m in {softmax, mega(chunk = 4), mega(chunk = 2)}\n"
                  "  choose k in {relu, sliding(window = 2)}\n"
                  "  return x\n"
                  "}\n"));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_EQ(space->choices()[1].labels[1], "sliding(window=2)");
  std::string error;
  auto p = space->fromConfig("k=sliding", error);
  ASSERT_TRUE(mlir::succeeded(p)) << error;
  EXPECT_EQ(p->values.at("k"), (std::vector<int>{1}));
  EXPECT_TRUE(mlir::failed(space->fromConfig("m=mega", error)));
  EXPECT_EQ(error, "the configuration gives 'mega' for choice 'm', which "
                   "matches several alternatives; the alternatives are: "
                   "softmax, mega(chunk=4), mega(chunk=2)");
}

TEST(SpaceTest, FromConfigErrors) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  auto fails = [&](const std::string &text) {
    std::string error;
    EXPECT_TRUE(mlir::failed(space->fromConfig(text, error))) << text;
    return error;
  };
  EXPECT_EQ(fails("depth"), "malformed configuration entry 'depth': expected "
                            "name=value or name=[v0,v1,...]");
  EXPECT_EQ(fails("x=1"), "configuration names 'x', which is not a choice of "
                          "architecture 'net' (choices: h, d, m, r)");
  EXPECT_EQ(fails("h=3"), "the configuration gives '3' for choice 'h'; the "
                          "alternatives are: 2, 4");
  EXPECT_EQ(fails("h=[2,4]"), "choice 'h' is not inside 'repeat', but the "
                              "configuration gives it a list");
  EXPECT_EQ(fails("h.0=2"), "choice 'h' is not per layer ('h.N=' applies "
                            "only inside 'repeat')");
  EXPECT_EQ(fails("m.x=relu"), "malformed configuration entry 'm.x=relu': "
                               "the layer after '.' must be a non-negative "
                               "integer");
  EXPECT_EQ(fails("d=1,d=2"), "configuration names 'd' twice");
  EXPECT_EQ(fails("m=[]"), "configuration entry 'm=[]' has an empty list");
  EXPECT_EQ(fails("d=2,m=[relu,gelu]"),
            "the configuration gives 2 value(s) for the per-layer choice "
            "'m', but layer 2 needs one");
  EXPECT_EQ(fails("m=[relu,tanh]"), "the configuration gives 'tanh' for "
                                    "choice 'm'; the alternatives are: "
                                    "relu, gelu, silu");
}

//===----------------------------------------------------------------------===//
// Validation and sampling
//===----------------------------------------------------------------------===//

TEST(SpaceTest, ValidateRunsTheFrontend) {
  Source src(arch(kInvalidHeads));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_EQ(space->sizeText(), "18"); // 3 * (2 + 4)
  std::string why;
  EXPECT_TRUE(space->validate(point({{"h", {0}}, {"d", {1}}, {"m", {1, 0}}}),
                              &why))
      << why;
  EXPECT_FALSE(
      space->validate(point({{"h", {1}}, {"d", {0}}, {"m", {0}}}), &why));
  EXPECT_NE(why.find("t.attn:7:"), std::string::npos) << why;
  EXPECT_NE(why.find("is not a multiple of 'heads' (3)"), std::string::npos)
      << why;
  // A point whose lists do not match its depth is not accepted as is.
  EXPECT_FALSE(
      space->validate(point({{"h", {0}}, {"d", {1}}, {"m", {1}}}), &why));
  EXPECT_FALSE(space->validate(
      point({{"h", {0}}, {"d", {0}}, {"m", {1, 1}}}), &why));
  // Nothing was printed.
  EXPECT_EQ(src.diags, "");
}

TEST(SpaceTest, ValidateNestedAndLaterRepeats) {
  for (const char *body : {kTwoRepeats, kNested}) {
    Source src(arch(body));
    auto space = src.space();
    ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
    std::mt19937_64 rng(9);
    for (int n = 0; n < 6; ++n) {
      SpacePoint p = space->sample(rng);
      std::string why;
      EXPECT_TRUE(space->validate(p, &why)) << space->toConfig(p) << ": " << why;
    }
  }
}

TEST(SpaceTest, SampleValidIsValidDistinctAndDeterministic) {
  Source src(arch(kInvalidHeads));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(42);
  std::vector<SpacePoint> points = space->sampleValid(8, rng, 400);
  ASSERT_EQ(points.size(), 8u);
  std::set<SpacePoint> distinct(points.begin(), points.end());
  EXPECT_EQ(distinct.size(), points.size());
  for (const SpacePoint &p : points) {
    EXPECT_TRUE(space->validate(p));
    EXPECT_NE(p.values.at("h").front(), 1) << "heads = 3 is invalid";
  }
  std::mt19937_64 again(42);
  EXPECT_EQ(space->sampleValid(8, again, 400), points);
  std::mt19937_64 other(43);
  EXPECT_NE(space->sampleValid(8, other, 400), points);
}

TEST(SpaceTest, SampleValidStopsWhenTheSpaceIsExhausted) {
  Source src(arch(kInvalidHeads));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(1);
  // 12 of the 18 points are valid.
  EXPECT_EQ(space->sampleValid(100, rng, 100000).size(), 12u);
}

TEST(SpaceTest, SamplingIsUniformPerChoiceThenPerLayer) {
  Source src(arch(kSimple));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(7);
  int deep = 0, relu = 0, layersDrawn = 0;
  const int draws = 4000;
  for (int n = 0; n < draws; ++n) {
    SpacePoint p = space->sample(rng);
    deep += p.values.at("d").front();
    const std::vector<int> &m = p.values.at("m");
    EXPECT_EQ(m.size(), size_t(p.values.at("d").front() + 1));
    layersDrawn += static_cast<int>(m.size());
    for (int v : m)
      relu += v == 0;
  }
  EXPECT_NEAR(double(deep) / draws, 0.5, 0.03);
  EXPECT_NEAR(double(relu) / layersDrawn, 1.0 / 3.0, 0.03);
}

TEST(SpaceTest, TheSameSeedGivesTheSameSamples) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 a(2024), b(2024);
  for (int n = 0; n < 20; ++n)
    EXPECT_EQ(space->sample(a), space->sample(b));
  // Pinned: the draws do not depend on the standard library.
  std::mt19937_64 c(1);
  EXPECT_EQ(space->toConfig(space->sample(c)), kPinnedSample);
}

//===----------------------------------------------------------------------===//
// Genetic operators
//===----------------------------------------------------------------------===//

TEST(SpaceTest, RepairTruncatesAndDraws) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(3);
  SpacePoint p = point({{"h", {1}}, {"d", {0}}, {"m", {2, 1, 0, 2}},
                        {"r", {1, 1}}, {"zzz", {0}}});
  space->repair(p, rng);
  EXPECT_EQ(p, point({{"h", {1}}, {"d", {0}}, {"m", {2, 1}}, {"r", {1}}}));
  SpacePoint q = point({{"h", {7}}, {"d", {1}}, {"m", {2}}});
  space->repair(q, rng);
  ASSERT_EQ(q.values.at("m").size(), 4u);
  EXPECT_EQ(q.values.at("m")[0], 2);
  EXPECT_EQ(q.values.at("r").size(), 2u);
  EXPECT_GE(q.values.at("h").front(), 0);
  EXPECT_LT(q.values.at("h").front(), 2);
  EXPECT_TRUE(space->validate(q));
}

TEST(SpaceTest, MutateChangesAtLeastOneGene) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(17);
  for (int n = 0; n < 200; ++n) {
    SpacePoint p = space->sample(rng);
    SpacePoint q = space->mutate(p, n % 2 ? 0.0 : 0.3, rng);
    EXPECT_NE(p, q);
    auto layers = space->layers(q);
    EXPECT_EQ(int64_t(q.values.at("m").size()), layers.at("m"));
    EXPECT_EQ(int64_t(q.values.at("r").size()), layers.at("r"));
  }
  // Rate 1 re-draws everything: many genes change.
  SpacePoint p = point({{"h", {0}}, {"d", {1}}, {"m", {0, 0, 0, 0}},
                        {"r", {0, 0}}});
  int changed = 0;
  for (int n = 0; n < 100; ++n) {
    SpacePoint q = space->mutate(p, 1.0, rng);
    changed += q.values.at("h") != p.values.at("h");
  }
  EXPECT_NEAR(changed, 50, 15);
}

TEST(SpaceTest, MutateOfASinglePointSpace) {
  Source src(arch("  choose d in {1}\n"
                  "  repeat d {\n"
                  "    choose m in {relu}\n"
                  "  }\n"
                  "  return x\n"
                  "}\n"));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_EQ(space->sizeText(), "1");
  std::mt19937_64 rng(1);
  SpacePoint p = space->sample(rng);
  EXPECT_EQ(space->mutate(p, 0.5, rng), p);
}

TEST(SpaceTest, CrossoverTakesEachGeneFromAParent) {
  Source src(arch(kTwoRepeats));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  std::mt19937_64 rng(23);
  SpacePoint a = point({{"h", {0}}, {"d", {1}}, {"m", {0, 0, 0, 0}},
                        {"r", {0, 0}}});
  SpacePoint b = point({{"h", {1}}, {"d", {0}}, {"m", {1, 1}}, {"r", {1}}});
  EXPECT_EQ(space->crossover(a, a, rng), a);
  int fromA = 0, genes = 0;
  for (int n = 0; n < 200; ++n) {
    SpacePoint c = space->crossover(a, b, rng);
    auto layers = space->layers(c);
    const std::vector<int> &m = c.values.at("m");
    ASSERT_EQ(int64_t(m.size()), layers.at("m"));
    ASSERT_EQ(int64_t(c.values.at("r").size()), layers.at("r"));
    // The layers only a has come from a.
    for (size_t k = 2; k < m.size(); ++k)
      EXPECT_EQ(m[k], 0);
    for (size_t k = 0; k < 2; ++k) {
      fromA += m[k] == 0;
      ++genes;
    }
    fromA += c.values.at("h").front() == 0;
    ++genes;
  }
  EXPECT_NEAR(double(fromA) / genes, 0.5, 0.06);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(SpaceTest, ArchitectureSelection) {
  std::string two = arch(kSimple) +
                    "arch other(x: f32[B, N, E]) -> f32[B, N, E] {\n"
                    "  choose k in {1, 2, 3}\n"
                    "  return x\n"
                    "}\n";
  {
    Source src(two);
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(src.diags, "<unknown>:0: error: the source declares 2 architectures (net, "
                         "other); name one with --arch\n");
  }
  {
    Source src(two);
    EXPECT_TRUE(mlir::failed(src.space("nett")));
    EXPECT_EQ(src.diags, "<unknown>:0: error: no architecture 'nett' in the source "
                         "(architectures: net, other)\n");
  }
  {
    Source src(two);
    auto space = src.space("other");
    ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
    EXPECT_EQ(space->sizeText(), "3");
    std::mt19937_64 rng(1);
    EXPECT_EQ(space->sampleValid(5, rng, 100).size(), 3u);
  }
  {
    Source src("dim N = 4\n");
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(src.diags,
              "<unknown>:0: error: the source declares no architecture ('arch')\n");
  }
}

/// The first line of the diagnostics.
std::string firstLine(const std::string &s) { return s.substr(0, s.find('\n')); }

TEST(SpaceTest, RepeatCountErrors) {
  {
    Source src(arch("  repeat 2 {\n"
                    "    choose k in {1, 2}\n"
                    "    repeat k {\n"
                    "      x = x + mlp(x)\n"
                    "    }\n"
                    "  }\n"
                    "  return x\n"
                    "}\n"));
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(firstLine(src.diags),
              "t.attn:5:12: error: the 'repeat' count depends on the "
              "per-layer choice 'k'; the number of layers may depend only on "
              "global choices");
  }
  {
    Source src(arch("  choose d in {1, 5000}\n"
                    "  repeat d + 1 {\n"
                    "  }\n"
                    "  return x\n"
                    "}\n"));
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(firstLine(src.diags),
              "t.attn:4:12: error: the 'repeat' count must be in [0, 4096], "
              "got 5001 (with d=5000)");
  }
  {
    Source src(arch("  repeat x {\n"
                    "  }\n"
                    "  return x\n"
                    "}\n"));
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(firstLine(src.diags),
              "t.attn:3:10: error: the 'repeat' count is not an integer "
              "computed from integers, dims, assignments and global choices");
  }
  {
    // 6^7 combinations of the globals that set the count.
    std::string body;
    for (char c = 'a'; c < 'h'; ++c)
      body += std::string("  choose ") + c + " in {1, 2, 3, 4, 5, 6}\n";
    body += "  repeat a + b + c + d + e + f + g {\n  }\n  return x\n}\n";
    Source src(arch(body.c_str()));
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(firstLine(src.diags),
              "t.attn:3:10: error: the 'repeat' counts read more than 100000 "
              "combinations of the global choices a, b, c, d, e, f, g; the "
              "space cannot be counted");
  }
  {
    Source src(arch("  choose d in {1, 2}\n"
                    "  repeat d {\n"
                    "    choose d in {1, 2}\n"
                    "  }\n"
                    "  return x\n"
                    "}\n"));
    EXPECT_TRUE(mlir::failed(src.space()));
    EXPECT_EQ(firstLine(src.diags),
              "t.attn:5:12: error: choice 'd' is already declared");
    EXPECT_NE(src.diags.find("t.attn:3:10: note: previous declaration is "
                             "here"),
              std::string::npos)
        << src.diags;
  }
}

TEST(SpaceTest, DimOverridesReachTheCounts) {
  Source src(arch("  repeat N / 2 {\n"
                  "    choose m in {relu, gelu}\n"
                  "    x = x + mlp(x, act = m)\n"
                  "  }\n"
                  "  return x\n"
                  "}\n"));
  auto space = src.space();
  ASSERT_TRUE(mlir::succeeded(space)) << src.diags;
  EXPECT_EQ(space->sizeText(), "4"); // N = 4: 2 layers
  FrontendOptions options;
  options.dimOverrides["N"] = 8;
  Source src8(arch("  repeat N / 2 {\n"
                   "    choose m in {relu, gelu}\n"
                   "    x = x + mlp(x, act = m)\n"
                   "  }\n"
                   "  return x\n"
                   "}\n"));
  auto space8 = src8.space("", options);
  ASSERT_TRUE(mlir::succeeded(space8)) << src8.diags;
  EXPECT_EQ(space8->sizeText(), "16");
  std::mt19937_64 rng(2);
  SpacePoint p = space8->sample(rng);
  EXPECT_EQ(p.values.at("m").size(), 4u);
  EXPECT_TRUE(space8->validate(p));
}

} // namespace
