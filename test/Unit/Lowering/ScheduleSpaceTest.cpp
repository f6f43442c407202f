//===- ScheduleSpaceTest.cpp - the schedule space as data -----------------===//

#include "lowering/ScheduleSpace.h"

#include "gtest/gtest.h"

#include <set>

using namespace attn;

namespace {

ScheduleSpace avx512() { return ScheduleSpace::twoPassTiled(16, 32, 64); }

TEST(ScheduleSpaceTest, HeuristicIsValidOnEveryTarget) {
  for (int lanes : {4, 8, 16})
    for (int regs : {16, 32})
      for (int64_t dv : {-1, 32, 64, 128, 256}) {
        ScheduleSpace s = ScheduleSpace::twoPassTiled(lanes, regs, dv);
        EXPECT_EQ(s.validate(s.heuristic()), "")
            << "lanes=" << lanes << " regs=" << regs << " dv=" << dv;
      }
}

TEST(ScheduleSpaceTest, EverySampledPointIsValid) {
  for (int lanes : {8, 16}) {
    ScheduleSpace s = ScheduleSpace::twoPassTiled(lanes, lanes == 16 ? 32 : 16,
                                                  64);
    std::mt19937_64 rng(7);
    std::set<std::string> distinct;
    for (int n = 0; n < 500; ++n) {
      SchedulePoint p = s.sample(rng);
      ASSERT_EQ(s.validate(p), "") << ScheduleSpace::toJson(p);
      distinct.insert(ScheduleSpace::toJson(p));
      SchedulePoint m = s.mutate(p, rng);
      ASSERT_EQ(s.validate(m), "") << ScheduleSpace::toJson(m);
      SchedulePoint c = s.crossover(p, m, rng);
      ASSERT_EQ(s.validate(c), "") << ScheduleSpace::toJson(c);
    }
    EXPECT_GT(distinct.size(), 50u); // sampling explores, not one point
  }
}

TEST(ScheduleSpaceTest, EnumerationIsExactlyTheValidProduct) {
  ScheduleSpace s = avx512();
  std::vector<SchedulePoint> all = s.enumerate();
  ASSERT_FALSE(all.empty());
  size_t product = 1;
  for (const KnobSpec &k : s.knobs())
    product *= k.candidates.size();
  EXPECT_LT(all.size(), product); // the constraints remove points
  std::set<std::string> seen;
  for (const SchedulePoint &p : all) {
    EXPECT_EQ(s.validate(p), "");
    EXPECT_TRUE(seen.insert(ScheduleSpace::toJson(p)).second);
  }
  // The heuristic is one of the enumerated points.
  EXPECT_TRUE(seen.count(ScheduleSpace::toJson(s.heuristic())));
}

TEST(ScheduleSpaceTest, ValidationMessagesNameTheKnob) {
  ScheduleSpace s = avx512();
  SchedulePoint p = s.heuristic();
  p["query_tile"] = 50;
  EXPECT_EQ(s.validate(p), "schedule knob 'query_tile' (50) must be a "
                           "multiple of 'dot_query_block' (48)");
  p = s.heuristic();
  p["key_unroll"] = 0;
  EXPECT_EQ(s.validate(p), "schedule knob 'key_unroll' = 0 is outside [1, "
                           "32]: keys per register block of Q.K^T");
  p = s.heuristic();
  p["key_unroll"] = 16; // 3 vectors x 16 keys = 48 accumulators
  EXPECT_NE(s.validate(p).find("48 register accumulators"), std::string::npos);
  SchedulePoint out;
  EXPECT_EQ(s.resolve({{"nope", 1}}, out),
            "unknown schedule knob 'nope' (known: query_tile, vector_width, "
            "key_unroll, dot_query_block, pv_query_unroll, unroll_value_dim)");
  EXPECT_EQ(s.resolve({{"query_tile", 96}}, out), "");
  EXPECT_EQ(out.at("query_tile"), 96);
  EXPECT_EQ(out.at("key_unroll"), s.heuristic().at("key_unroll"));
}

TEST(ScheduleSpaceTest, SymbolicValueDimCannotUnroll) {
  ScheduleSpace s = ScheduleSpace::twoPassTiled(16, 32, -1);
  EXPECT_EQ(s.heuristic().at("unroll_value_dim"), 0);
  SchedulePoint p = s.heuristic();
  p["unroll_value_dim"] = 1;
  EXPECT_EQ(s.validate(p),
            "schedule knob 'unroll_value_dim' needs a static value head dim");
}

TEST(ScheduleSpaceTest, JsonRoundTripIsCanonical) {
  SchedulePoint p{{"query_tile", 48}, {"key_unroll", 8}, {"a", -3}};
  std::string text = ScheduleSpace::toJson(p);
  EXPECT_EQ(text, "{\"a\":-3,\"key_unroll\":8,\"query_tile\":48}");
  SchedulePoint back;
  ASSERT_TRUE(ScheduleSpace::fromJson(text, back));
  EXPECT_EQ(back, p);
  ASSERT_TRUE(ScheduleSpace::fromJson(" { \"x\" : 1 , \"y\":2 } ", back));
  EXPECT_EQ(back.at("y"), 2);
  EXPECT_FALSE(ScheduleSpace::fromJson("{\"x\": 1.5}", back));
  EXPECT_FALSE(ScheduleSpace::fromJson("[1]", back));
  EXPECT_FALSE(ScheduleSpace::fromJson("{\"x\": }", back));
}

} // namespace


// The efficient forms declare only the knobs their lowering reads, and their
// defaults are valid for every target shape.
TEST(ScheduleSpaceTest, EfficientFormsDeclareTheirKnobs) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"associative",
       {"vector_width", "feature_block", "query_unroll", "key_block",
        "query_tile"}},
      {"chunked_scan",
       {"vector_width", "feature_block", "query_unroll", "chunk"}},
      {"fft_toeplitz", {"vector_width", "feature_block"}},
      {"pack_unpack", {"vector_width", "query_tile"}},
      {"luna_scan", {"vector_width", "chunk"}},
      {"ema", {"vector_width", "chunk", "fft_min_length"}},
  };
  for (const auto &[form, knobs] : expected) {
    for (auto [lanes, regs] : {std::pair{16, 32}, {8, 16}, {4, 32}}) {
      for (int64_t dv : {-1, 16, 64, 128}) {
        ScheduleSpace s = ScheduleSpace::forForm(form, lanes, regs, dv);
        std::vector<std::string> names;
        for (const KnobSpec &k : s.knobs())
          names.push_back(k.name);
        EXPECT_EQ(names, knobs) << form;
        EXPECT_EQ(s.validate(s.heuristic()), "")
            << form << " lanes=" << lanes << " dv=" << dv;
        std::mt19937_64 rng(7);
        for (int n = 0; n < 20; ++n)
          EXPECT_EQ(s.validate(s.sample(rng)), "") << form;
      }
    }
  }
}

TEST(ScheduleSpaceTest, ChunkedScanRejectsUnevenUnroll) {
  ScheduleSpace s = ScheduleSpace::forForm("chunked_scan", 16, 32, 64);
  SchedulePoint p = s.heuristic();
  p["chunk"] = 64;
  p["query_unroll"] = 6;
  EXPECT_NE(s.validate(p).find("must be a multiple of 'query_unroll'"),
            std::string::npos);
  p["query_unroll"] = 8;
  p["feature_block"] = 12;
  EXPECT_NE(s.validate(p).find("register accumulators"), std::string::npos);
}
