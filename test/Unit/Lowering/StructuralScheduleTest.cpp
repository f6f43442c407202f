//===- StructuralScheduleTest.cpp - Knobs of the structural forms ---------===//
//
// docs/Variants.md: window_tiled has two_pass_tiled's register blocks but no
// query_tile (a task is a window); separable has only vector_width;
// halo_tiled adds query_tile (rows per task, with the halo).
//
//===----------------------------------------------------------------------===//

#include "lowering/ScheduleSpace.h"

#include "gtest/gtest.h"

#include <set>

using namespace attn;

namespace {

std::set<std::string> knobNames(const ScheduleSpace &s) {
  std::set<std::string> names;
  for (const KnobSpec &k : s.knobs())
    names.insert(k.name);
  return names;
}

TEST(StructuralScheduleTest, WindowTiledHasNoQueryTile) {
  for (int lanes : {8, 16})
    for (int regs : {16, 32})
      for (int64_t dv : {-1, 32, 64}) {
        ScheduleSpace s =
            ScheduleSpace::forForm("window_tiled", lanes, regs, dv);
        EXPECT_EQ(s.formName(), "window_tiled");
        EXPECT_EQ(knobNames(s),
                  (std::set<std::string>{"vector_width", "key_unroll",
                                         "dot_query_block", "pv_query_unroll",
                                         "unroll_value_dim"}));
        SchedulePoint p = s.heuristic();
        EXPECT_EQ(s.validate(p), "") << ScheduleSpace::toJson(p);
        EXPECT_EQ(p.at("dot_query_block"), 2 * lanes);
        std::mt19937_64 rng(3);
        for (int n = 0; n < 100; ++n)
          ASSERT_EQ(s.validate(s.sample(rng)), "");
      }
  ScheduleSpace s = ScheduleSpace::forForm("window_tiled", 16, 32, 64);
  SchedulePoint p = s.heuristic();
  p["dot_query_block"] = 24;
  EXPECT_EQ(s.validate(p), "schedule knob 'dot_query_block' (24) must be a "
                           "multiple of 'vector_width' (16)");
  SchedulePoint out;
  EXPECT_EQ(s.resolve({{"query_tile", 48}}, out),
            "unknown schedule knob 'query_tile' (known: vector_width, "
            "key_unroll, dot_query_block, pv_query_unroll, "
            "unroll_value_dim)");
  EXPECT_EQ(s.constraints().size(), 4u);
}

TEST(StructuralScheduleTest, SeparableAndHaloTiled) {
  ScheduleSpace sep = ScheduleSpace::forForm("separable", 16, 32, 64);
  EXPECT_EQ(knobNames(sep), (std::set<std::string>{"vector_width"}));
  EXPECT_EQ(sep.validate(sep.heuristic()), "");
  EXPECT_TRUE(sep.constraints().empty());
  ScheduleSpace halo = ScheduleSpace::forForm("halo_tiled", 8, 16, -1);
  EXPECT_EQ(knobNames(halo),
            (std::set<std::string>{"vector_width", "query_tile"}));
  EXPECT_EQ(halo.heuristic().at("query_tile"), 32);
  SchedulePoint p = halo.heuristic();
  p["query_tile"] = 0;
  EXPECT_EQ(halo.validate(p).rfind("schedule knob 'query_tile' = 0 is outside "
                                   "[1, 1024]",
                                   0),
            0u);
  EXPECT_EQ(halo.enumerate().size(), 5u);
}

} // namespace
