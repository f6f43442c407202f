//===- StructuralReferenceTest.cpp - References of the structural variants ===//
//
// docs/Variants.md, issue 5.  window2d: the mask and bias expressions the
// compiler writes into an "attention" reference (copied from its manifest,
// test/Lowering/structural-manifest.attn checks it still writes them) are
// Swin's shifted windows with the region mask as exclusion and Swin's
// relative position index; the `window2d` field counts exactly the visible
// pairs.  coupler and emha (their own kinds) are checked against direct
// computations and the spec's identities (§6.7, §6.12).
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestUtil.h"

#include <algorithm>
#include <cmath>

using namespace attn::rt;
using namespace attn::rt::test;

namespace {

//===----------------------------------------------------------------------===//
// window2d
//===----------------------------------------------------------------------===//

/// The compiler's mask for grid [8, 8], window 4, shift 2.
const char *kWindowMask =
    "(and (eq (div (add (div i 8) 2) 4) (div (add (div j 8) 2) 4)) "
    "(eq (div (add (rem i 8) 2) 4) (div (add (rem j 8) 2) 4)))";
/// The compiler's bias score modifier for the same window (table `T`).
const char *kWindowBias =
    "(add s (load T h (add (mul (add (min (max (sub (div i 8) (div j 8)) -3) "
    "3) 3) 7) (add (min (max (sub (rem i 8) (rem j 8)) -3) 3) 3))))";

/// Swin's shifted-window attention pattern (microsoft/Cream
/// AutoFormerV2/model/SSS.py): roll the grid by -shift, partition into
/// windows; with a shift, tokens of different regions h_slices/w_slices =
/// (0, -w), (-w, -shift), (-shift, None) get the -100 mask, which attnc
/// reads as exclusion.  True when i and j attend to each other.
bool swinKeeps(int64_t rows, int64_t cols, int64_t w, int64_t shift,
               int64_t i, int64_t j) {
  auto shifted = [&](int64_t x, int64_t extent) {
    return ((x - shift) % extent + extent) % extent;
  };
  auto region = [&](int64_t x, int64_t extent) -> int64_t {
    if (shift == 0)
      return 0;
    return x < extent - w ? 0 : x < extent - shift ? 1 : 2;
  };
  int64_t ri = shifted(i / cols, rows), ci = shifted(i % cols, cols);
  int64_t rj = shifted(j / cols, rows), cj = shifted(j % cols, cols);
  return ri / w == rj / w && ci / w == cj / w &&
         region(ri, rows) == region(rj, rows) &&
         region(ci, cols) == region(cj, cols);
}

Value evalAt(const Expr &e, EvalContext ctx, int64_t h, int64_t i,
             int64_t j, double s = 0) {
  ctx.h = h;
  ctx.i = i;
  ctx.j = j;
  ctx.s = s;
  Result<Value> v = evaluate(e, ctx);
  EXPECT_TRUE(v.ok()) << v.message();
  return v.ok() ? *v : Value();
}

TEST(Window2dReference, MaskIsSwinsShiftedWindowsWithExclusion) {
  Result<Expr> mask = parseExpr(kWindowMask);
  ASSERT_TRUE(mask.ok()) << mask.message();
  int64_t kept = 0;
  for (int64_t i = 0; i < 64; ++i)
    for (int64_t j = 0; j < 64; ++j) {
      Value v = evalAt(*mask, EvalContext(), 0, i, j);
      ASSERT_EQ(v.type, Value::Type::Bool);
      EXPECT_EQ(v.b, swinKeeps(8, 8, 4, 2, i, j)) << "i " << i << " j " << j;
      kept += v.b;
    }
  // Shifted by 2 on an 8 x 8 grid: per axis segments of 2, 4, 2 tokens.
  EXPECT_EQ(kept, (2 * 2 + 4 * 4 + 2 * 2) * (2 * 2 + 4 * 4 + 2 * 2));
}

TEST(Window2dReference, BoundsAreTheMasksWindows) {
  // Window2dSpec::bounds (FLOP counting) agrees with Swin's pattern on a
  // divisible grid and with the mask formula on a clipped one.
  for (auto [rows, cols, w, shift] :
       {std::tuple<int64_t, int64_t, int64_t, int64_t>{8, 8, 4, 2},
        {8, 12, 4, 0},
        {9, 6, 3, 1}}) {
    Window2dSpec spec{rows, cols, w, shift};
    for (int64_t i = 0; i < rows * cols; ++i) {
      int64_t r0, r1, c0, c1;
      spec.bounds(i, r0, r1, c0, c1);
      for (int64_t j = 0; j < rows * cols; ++j) {
        bool inside = j / cols >= r0 && j / cols < r1 && j % cols >= c0 &&
                      j % cols < c1;
        EXPECT_EQ(inside, swinKeeps(rows, cols, w, shift, i, j))
            << rows << "x" << cols << " w " << w << " s " << shift << " i "
            << i << " j " << j;
      }
    }
  }
  // A grid the window does not divide: windows offset by the shift and
  // clipped at the border, rows [0, 3), [3, 7) and columns [0, 3), [3, 7),
  // [7, 10) for a 7 x 10 grid, w 4, s 3.
  Window2dSpec clipped{7, 10, 4, 3};
  int64_t r0, r1, c0, c1;
  clipped.bounds(0, r0, r1, c0, c1);
  EXPECT_EQ(std::vector<int64_t>({r0, r1, c0, c1}),
            std::vector<int64_t>({0, 3, 0, 3}));
  clipped.bounds(6 * 10 + 9, r0, r1, c0, c1);
  EXPECT_EQ(std::vector<int64_t>({r0, r1, c0, c1}),
            std::vector<int64_t>({3, 7, 7, 10}));
}

TEST(Window2dReference, BiasIsSwinsRelativePositionIndex) {
  Result<Expr> bias = parseExpr(kWindowBias);
  ASSERT_TRUE(bias.ok()) << bias.message();
  const int64_t H = 2, w = 4, side = 2 * w - 1;
  TensorMap tensors;
  tensors.emplace("T", filled({H, side * side}, 5));
  const Tensor &table = tensors.at("T");
  EvalContext ctx;
  ctx.tensors = &tensors;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 64; ++j) {
        if (!swinKeeps(8, 8, w, 2, i, j))
          continue;
        // relative_coords = coords[:, :, None] - coords[:, None, :] + w - 1
        // within the (shifted) window; index = dr * (2w - 1) + dc.
        int64_t dr = (i / 8 - j / 8) + w - 1, dc = (i % 8 - j % 8) + w - 1;
        double want = 0.5 + table.getDouble(h * side * side + dr * side + dc);
        Value v = evalAt(*bias, ctx, h, i, j, 0.5);
        ASSERT_EQ(v.type, Value::Type::Float);
        EXPECT_DOUBLE_EQ(v.f, want) << "h " << h << " i " << i << " j " << j;
      }
}

/// A one-kernel "attention" manifest over N = 64 tokens (B, H = 2, D = 8)
/// with the window mask, an optional causal mask and `window2d`.
Json windowManifest(const Json &window, bool causal = false) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "w.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "w", "entry": "w",
    "dims": {"B": 1, "H": 2, "N": 64, "D": 8},
    "args": [
      {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "D"]}
    ]}]})J");
  Json masks = Json::array({kWindowMask});
  if (causal)
    masks.push_back("(le j i)");
  Json ref = {{"kind", "attention"}, {"query", "q"}, {"key", "k"},
              {"value", "v"}, {"out", "out"}, {"causal", causal},
              {"masks", masks}, {"window2d", window}};
  return withReference(std::move(m), ref, Json::object());
}

TEST(Window2dReference, FlopsCountTheWindowsVisiblePairs) {
  Json window = {{"grid", {8, 8}}, {"window", 4}, {"shift", 2}};
  TensorMap args;
  args.emplace("q", filled({1, 2, 64, 8}, 1));
  args.emplace("k", filled({1, 2, 64, 8}, 2));
  args.emplace("v", filled({1, 2, 64, 8}, 3));
  KernelSpec plain = parseKernel(windowManifest(window), "w.json");
  Result<double> flops = referenceFlops(plain, args);
  ASSERT_TRUE(flops.ok()) << flops.message();
  // Per head, the pairs of the windows of 2, 4 and 2 rows and columns.
  const double pairs = 24.0 * 24.0;
  EXPECT_EQ(*flops, 4.0 * 8 * 2 * pairs);
  // With a causal mask too, the pairs the masks keep within each window.
  KernelSpec causal = parseKernel(windowManifest(window, true), "w.json");
  flops = referenceFlops(causal, args);
  ASSERT_TRUE(flops.ok()) << flops.message();
  Result<Expr> mask = parseExpr(kWindowMask);
  double kept = 0;
  for (int64_t i = 0; i < 64; ++i)
    for (int64_t j = 0; j <= i; ++j)
      kept += evalAt(*mask, EvalContext(), 0, i, j).b;
  EXPECT_EQ(*flops, 4.0 * 8 * 2 * kept);
  // The reference itself is unchanged by the field (the masks define it).
  Result<ReferenceOutput> r = computeReference(plain, args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
}

TEST(Window2dReference, ManifestFieldErrors) {
  expectManifestRejected(
      windowManifest({{"grid", {8}}, {"window", 4}, {"shift", 0}}), "w.json",
      "window2d.grid: expected two positive integers [rows, cols]");
  expectManifestRejected(
      windowManifest({{"grid", {8, 8}}, {"window", 9}, {"shift", 0}}),
      "w.json", "window2d.window: must be in [1, min(rows, cols)] = [1, 8], "
                "found 9");
  expectManifestRejected(
      windowManifest({{"grid", {8, 8}}, {"window", 4}, {"shift", 4}}),
      "w.json", "window2d.shift: must be in [0, window), found 4");
  expectManifestRejected(
      windowManifest({{"grid", {4, 8}}, {"window", 4}, {"shift", 0}}),
      "w.json",
      "window2d.grid: the 4 x 8 grid has 32 tokens but argument 'q' has 64");
  expectManifestRejected(
      windowManifest({{"grid", {8, 8}}, {"shift", 0}}), "w.json",
      "window2d.window: expected an integer");
}

} // namespace
