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

//===----------------------------------------------------------------------===//
// coupler
//===----------------------------------------------------------------------===//

/// A one-kernel "coupler" manifest: q [B,H,N,D], k [B,G,N,D], v [B,G,N,Dv],
/// out [B,H,N,Dv] with the extents of `dims`.
Json couplerManifest(const Json &ref, const Json &dims) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "c.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "c", "entry": "c",
    "dims": {"B": null, "H": null, "G": null, "N": null, "D": null, "Dv": null},
    "args": [
      {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "N", "D"]},
      {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "N", "Dv"]},
      {"name": "len", "role": "input", "dtype": "i32", "shape": ["B"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "Dv"]}
    ]}]})J");
  return withReference(std::move(m), ref, dims);
}

Json couplerRef(int64_t rows, int64_t cols) {
  return {{"kind", "coupler"}, {"query", "q"}, {"key", "k"}, {"value", "v"},
          {"out", "out"},      {"kv_lengths", nullptr}, {"causal", false},
          {"grid", {rows, cols}}};
}

/// softmax of each row of a rows x width matrix, in place.
void softmaxRowsInPlace(std::vector<double> &x, int64_t width) {
  for (size_t r = 0; r < x.size() / size_t(width); ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t c = 0; c < width; ++c)
      mx = std::max(mx, x[r * width + c]);
    for (int64_t c = 0; c < width; ++c)
      sum += x[r * width + c] = std::exp(x[r * width + c] - mx);
    for (int64_t c = 0; c < width; ++c)
      x[r * width + c] /= sum;
  }
}

TEST(CouplerReference, KroneckerFormEqualsSeparableAggregate) {
  // Spec §6.7: the reference forms (A ⊗ B) over all token pairs; here A V
  // B^T is computed per channel from the maps, as Couplformer does.
  const int64_t B = 2, H = 4, G = 2, R = 3, C = 5, N = R * C, D = 4, Dv = 3;
  KernelSpec kernel = parseKernel(
      couplerManifest(couplerRef(R, C), {{"B", B}, {"H", H}, {"G", G},
                                          {"N", N}, {"D", D}, {"Dv", Dv}}),
      "c.json");
  ASSERT_EQ(kernel.reference->scaleText, "(pow (float (dim D)) -0.25)");
  TensorMap args;
  args.emplace("q", filled({B, H, N, D}, 1));
  args.emplace("k", filled({B, G, N, D}, 2));
  args.emplace("v", filled({B, G, N, Dv}, 3));
  Result<ReferenceOutput> r = computeReference(kernel, args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const double tau = std::pow(double(D), -0.25);
  const Tensor &q = args.at("q"), &k = args.at("k"), &v = args.at("v");
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / (H / G);
      std::vector<double> A(R * R, 0.0), Bm(C * C, 0.0);
      for (int64_t r1 = 0; r1 < R; ++r1)
        for (int64_t r2 = 0; r2 < R; ++r2)
          for (int64_t c = 0; c < C; ++c)
            A[r1 * R + r2] += tau * dotv(row(q, {b, h, r1 * C + c}),
                                         row(k, {b, g, r2 * C + c}));
      for (int64_t c1 = 0; c1 < C; ++c1)
        for (int64_t c2 = 0; c2 < C; ++c2)
          for (int64_t rr = 0; rr < R; ++rr)
            Bm[c1 * C + c2] += tau * dotv(row(q, {b, h, rr * C + c1}),
                                          row(k, {b, g, rr * C + c2}));
      softmaxRowsInPlace(A, R);
      softmaxRowsInPlace(Bm, C);
      for (int64_t e = 0; e < Dv; ++e)
        for (int64_t r1 = 0; r1 < R; ++r1)
          for (int64_t c1 = 0; c1 < C; ++c1) {
            // (A V[:, :, e] B^T)[r1, c1]
            double o = 0;
            for (int64_t r2 = 0; r2 < R; ++r2)
              for (int64_t c2 = 0; c2 < C; ++c2)
                o += A[r1 * R + r2] *
                     v.getDouble(v.flatIndex({b, g, r2 * C + c2, e})) *
                     Bm[c1 * C + c2];
            EXPECT_NEAR(r->ref64.getDouble(
                            r->ref64.flatIndex({b, h, r1 * C + c1, e})),
                        o, 1e-12);
          }
    }
  Result<double> flops = referenceFlops(kernel, args);
  ASSERT_TRUE(flops.ok()) << flops.message();
  EXPECT_EQ(*flops, 2.0 * B * H * N * (R + C) * (D + Dv));
}

TEST(CouplerReference, OneRowIsSoftmaxOverTheRowAndSampledRows) {
  // A 1 x N grid: A = [1], B the softmax of the full map: plain attention
  // with the scale D^(-1/4).
  const int64_t N = 10, D = 4;
  Json dims = {{"B", 1}, {"H", 2}, {"G", 2}, {"N", N}, {"D", D}, {"Dv", D}};
  KernelSpec kernel = parseKernel(couplerManifest(couplerRef(1, N), dims),
                                  "c.json");
  TensorMap args;
  args.emplace("q", filled({1, 2, N, D}, 4));
  args.emplace("k", filled({1, 2, N, D}, 5));
  args.emplace("v", filled({1, 2, N, D}, 6));
  Result<ReferenceOutput> r = computeReference(kernel, args);
  ASSERT_TRUE(r.ok()) << r.message();
  const double tau = std::pow(double(D), -0.25);
  const Tensor &q = args.at("q"), &k = args.at("k"), &v = args.at("v");
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < N; ++i) {
      std::vector<double> w(N);
      for (int64_t j = 0; j < N; ++j)
        w[j] = tau * dotv(row(q, {0, h, i}), row(k, {0, h, j}));
      softmaxRowsInPlace(w, N);
      for (int64_t e = 0; e < D; ++e) {
        double o = 0;
        for (int64_t j = 0; j < N; ++j)
          o += w[j] * v.getDouble(v.flatIndex({0, h, j, e}));
        EXPECT_NEAR(r->ref64.getDouble(r->ref64.flatIndex({0, h, i, e})), o,
                    1e-12);
      }
    }
  expectSampledRowsMatch(kernel, args, 2, D, /*compareBaseline=*/true);
}

TEST(CouplerReference, ManifestErrors) {
  Json dims = {{"B", 1}, {"H", 2}, {"G", 2}, {"N", 12}, {"D", 4}, {"Dv", 4}};
  expectManifestRejected(couplerManifest(couplerRef(3, 5), dims), "c.json",
                         "grid: the 3 x 5 grid has 15 tokens but argument "
                         "'q' has 12");
  Json ref = couplerRef(3, 4);
  ref["grid"] = {3};
  expectManifestRejected(couplerManifest(ref, dims), "c.json",
                         "grid: expected two positive integers [rows, cols]");
  ref = couplerRef(3, 4);
  ref["causal"] = true;
  expectManifestRejected(couplerManifest(ref, dims), "c.json",
                         "causal: coupler has no causal form");
  ref = couplerRef(3, 4);
  ref["kv_lengths"] = "len";
  expectManifestRejected(couplerManifest(ref, dims), "c.json",
                         "kv_lengths: coupler takes no kv_lengths");
  ref = couplerRef(3, 4);
  ref["masks"] = {"(le j i)"};
  expectManifestRejected(couplerManifest(ref, dims), "c.json",
                         "masks: not allowed for kind coupler");
}

//===----------------------------------------------------------------------===//
// emha
//===----------------------------------------------------------------------===//

/// A one-kernel "emha" manifest: q [B,H,N,D], k [B,G,M,D], v [B,G,M,Dv],
/// isi and csi [H,H,K,K], out [B,H,N,Dv].
Json emhaManifest(const Json &ref, const Json &dims) {
  Json m = Json::parse(R"J({
  "format": "attnc-manifest", "version": 1, "compiler": "test",
  "source": "e.attn", "source_hash": "0123456789abcdef",
  "kernels": [{
    "name": "e", "entry": "e",
    "dims": {"B": null, "H": null, "G": null, "N": null, "M": null, "D": null,
             "Dv": null, "K": null},
    "args": [
      {"name": "q", "role": "input", "dtype": "f32", "shape": ["B", "H", "N", "D"]},
      {"name": "k", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "D"]},
      {"name": "v", "role": "input", "dtype": "f32", "shape": ["B", "G", "M", "Dv"]},
      {"name": "isi", "role": "input", "dtype": "f32", "shape": ["H", "H", "K", "K"]},
      {"name": "csi", "role": "input", "dtype": "f32", "shape": ["H", "H", "K", "K"]},
      {"name": "out", "role": "output", "dtype": "f32", "shape": ["B", "H", "N", "Dv"]}
    ]}]})J");
  return withReference(std::move(m), ref, dims);
}

Json emhaRef(int64_t k) {
  return {{"kind", "emha"}, {"query", "q"}, {"key", "k"}, {"value", "v"},
          {"out", "out"},   {"kv_lengths", nullptr}, {"causal", false},
          {"isi", "isi"},   {"csi", "csi"},     {"kernel", k}};
}

/// [H, H, K, K] weights selecting each head's own map with a centred delta.
Tensor deltaWeights(int64_t H, int64_t K) {
  Tensor t = Tensor::create(DType::F32, {H, H, K, K}).take();
  for (int64_t n = 0; n < t.numElements(); ++n)
    t.setDouble(n, 0.0);
  for (int64_t i = 0; i < H; ++i)
    t.setDouble(t.flatIndex({i, i, K / 2, K / 2}), 1.0);
  return t;
}

TEST(EmhaReference, MatchesDirectComputationWithZeroPadding) {
  const int64_t B = 2, H = 2, N = 5, M = 4, D = 3, Dv = 2, K = 3, p = 1;
  Json dims = {{"B", B}, {"H", H}, {"G", H}, {"N", N}, {"M", M},
               {"D", D}, {"Dv", Dv}, {"K", K}};
  KernelSpec kernel = parseKernel(emhaManifest(emhaRef(K), dims), "e.json");
  TensorMap args;
  args.emplace("q", filled({B, H, N, D}, 1));
  args.emplace("k", filled({B, H, M, D}, 2));
  args.emplace("v", filled({B, H, M, Dv}, 3));
  args.emplace("isi", filled({H, H, K, K}, 4, 0.5));
  args.emplace("csi", filled({H, H, K, K}, 5, 0.5));
  Result<ReferenceOutput> r = computeReference(kernel, args);
  ASSERT_TRUE(r.ok()) << r.message();
  expectBaselineClose(*r);
  const double tau = 1.0 / std::sqrt(double(D));
  const Tensor &q = args.at("q"), &k = args.at("k"), &v = args.at("v"),
               &isi = args.at("isi"), &csi = args.at("csi");
  auto w = [](const Tensor &t, int64_t i, int64_t j, int64_t a, int64_t e) {
    return t.getDouble(t.flatIndex({i, j, a, e}));
  };
  for (int64_t b = 0; b < B; ++b) {
    // S[i][j][n][m], then the ISI maps and their softmax.
    auto score = [&](int64_t i, int64_t j, int64_t n, int64_t m) {
      if (n < 0 || n >= N || m < 0 || m >= M)
        return 0.0;
      return tau * dotv(row(q, {b, i, n}), row(k, {b, j, m}));
    };
    std::vector<double> A(H * N * M, 0.0);
    for (int64_t i = 0; i < H; ++i) {
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t j = 0; j < H; ++j)
            for (int64_t a = 0; a < K; ++a)
              for (int64_t e = 0; e < K; ++e)
                A[(i * N + n) * M + m] +=
                    w(isi, i, j, a, e) * score(i, j, n + a - p, m + e - p);
      std::vector<double> rows(A.begin() + i * N * M,
                               A.begin() + (i + 1) * N * M);
      softmaxRowsInPlace(rows, M);
      std::copy(rows.begin(), rows.end(), A.begin() + i * N * M);
    }
    auto weight = [&](int64_t j, int64_t n, int64_t m) {
      if (n < 0 || n >= N || m < 0 || m >= M)
        return 0.0;
      return A[(j * N + n) * M + m];
    };
    for (int64_t i = 0; i < H; ++i)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t e2 = 0; e2 < Dv; ++e2) {
          double o = 0;
          for (int64_t m = 0; m < M; ++m) {
            double c = 0;
            for (int64_t j = 0; j < H; ++j)
              for (int64_t a = 0; a < K; ++a)
                for (int64_t e = 0; e < K; ++e)
                  c += w(csi, i, j, a, e) * weight(j, n + a - p, m + e - p);
            o += c * v.getDouble(v.flatIndex({b, i, m, e2}));
          }
          EXPECT_NEAR(r->ref64.getDouble(r->ref64.flatIndex({b, i, n, e2})),
                      o, 1e-12)
              << "b " << b << " i " << i << " n " << n;
        }
  }
  Result<double> flops = referenceFlops(kernel, args);
  ASSERT_TRUE(flops.ok()) << flops.message();
  EXPECT_EQ(*flops, 2.0 * B * H * N * M * (H * D + 2 * H * K * K + Dv));
}

TEST(EmhaReference, DeltaWeightsGiveMultiHeadAttention) {
  // Spec §6.12: ISI selecting the diagonal pair with a centred delta and
  // CSI the identity reduce EIT to softmax MHA (the "attention" kind).
  const int64_t B = 1, H = 3, N = 10, D = 4, K = 5;
  Json dims = {{"B", B}, {"H", H}, {"G", H}, {"N", N}, {"M", N},
               {"D", D}, {"Dv", D}, {"K", K}};
  KernelSpec kernel = parseKernel(emhaManifest(emhaRef(K), dims), "e.json");
  Json mhaRef = {{"kind", "attention"}, {"query", "q"}, {"key", "k"},
                 {"value", "v"},        {"out", "out"}, {"causal", false}};
  KernelSpec mha = parseKernel(emhaManifest(mhaRef, dims), "e.json");
  TensorMap args;
  args.emplace("q", filled({B, H, N, D}, 6));
  args.emplace("k", filled({B, H, N, D}, 7));
  args.emplace("v", filled({B, H, N, D}, 8));
  args.emplace("isi", deltaWeights(H, K));
  args.emplace("csi", deltaWeights(H, K));
  Result<ReferenceOutput> e = computeReference(kernel, args);
  Result<ReferenceOutput> m = computeReference(mha, args);
  ASSERT_TRUE(e.ok() && m.ok()) << e.message() << m.message();
  for (int64_t n = 0; n < e->ref64.numElements(); ++n)
    EXPECT_NEAR(e->ref64.getDouble(n), m->ref64.getDouble(n), 1e-14);
  expectSampledRowsMatch(kernel, args, H, D, /*compareBaseline=*/true);
}

TEST(EmhaReference, ManifestAndShapeErrors) {
  Json dims = {{"B", 1}, {"H", 2}, {"G", 2}, {"N", 8}, {"M", 8},
               {"D", 4}, {"Dv", 4}, {"K", 3}};
  expectManifestRejected(emhaManifest(emhaRef(2), dims), "e.json",
                         "kernel: expected a positive odd integer");
  expectManifestRejected(emhaManifest(emhaRef(5), dims), "e.json",
                         "isi: argument 'isi' is [H = 2, H = 2, K = 3, K = 3] "
                         "but expected [H, H, k, k] with H = H = 2 and k = 5");
  Json gqa = dims;
  gqa["G"] = 1;
  expectManifestRejected(emhaManifest(emhaRef(3), gqa), "e.json",
                         "emha needs as many key heads as query heads");
  Json ref = emhaRef(3);
  ref["causal"] = true;
  expectManifestRejected(emhaManifest(ref, dims), "e.json",
                         "causal: emha has no causal form");
  ref = emhaRef(3);
  ref["grid"] = {2, 4};
  expectManifestRejected(emhaManifest(ref, dims), "e.json",
                         "grid: not allowed for kind emha");
  // Weights of the wrong shape at evaluation (symbolic extents).
  Json open = {{"B", 1}, {"H", 2}, {"G", 2}, {"N", 4}, {"M", 4},
               {"D", 2}, {"Dv", 2}};
  KernelSpec kernel = parseKernel(emhaManifest(emhaRef(3), open), "e.json");
  TensorMap args;
  args.emplace("q", filled({1, 2, 4, 2}, 1));
  args.emplace("k", filled({1, 2, 4, 2}, 2));
  args.emplace("v", filled({1, 2, 4, 2}, 3));
  args.emplace("isi", filled({2, 2, 1, 1}, 4));
  args.emplace("csi", filled({2, 2, 3, 3}, 5));
  expectReferenceError(kernel, args,
                       "reference: the ISI weights 'isi' are f32[2, 2, 1, 1] "
                       "but expected [H, H, k, k] = [2, 2, 3, 3]");
}

} // namespace
