//===- KernelDesc.h - what code generation needs of one kernel --*- C++ -*-===//
//
// A plain description of one compiled entry point: its arguments (in ABI
// order, outputs last) and the fused attention it computes.  Built from the
// attn dialect by KernelDescBuilder.cpp; consumed by the Halide backend and
// the manifest writer.  Holds no MLIR or Halide types, so the two sides of
// the Halide boundary share it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LOWERING_KERNELDESC_H
#define ATTN_LOWERING_KERNELDESC_H

#include "lowering/ScalarExpr.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attn {

/// One argument of an entry point: a C-order tensor.
struct TensorArg {
  std::string name;
  /// "f32", "f16", "bf16", "f64" or "i32".
  std::string dtype;
  /// Per C-order dim: a dim name, or an integer literal as text.
  std::vector<std::string> dims;
  /// Per C-order dim: the static extent, or -1 when symbolic.
  std::vector<int64_t> shape;
  bool isOutput = false;
};

/// One fused softmax-family attention entry point.
struct AttentionKernelDesc {
  /// Entry point (a C identifier).
  std::string name;
  std::vector<TensorArg> args;
  /// Indices into `args`.
  int query = -1, key = -1, value = -1, out = -1, kvLengths = -1;
  double scale = 1.0;
  /// Score modifiers in application order (type Float, over s/b/h/i/j).
  std::vector<ScalarExpr> scoreMods;
  /// Keep-predicates (type Bool, over b/h/i/j); a key is kept when all hold.
  std::vector<ScalarExpr> masks;
  /// What produced each mask: "causal", "kv_lengths" or "variant".
  std::vector<std::string> maskOrigins;
  std::string normalize = "softmax";
  /// The lowering form (docs/LinearFamily.md, docs/Variants.md):
  /// "two_pass_tiled", "associative", "chunked_scan", "fft_toeplitz",
  /// "pack_unpack", "luna_scan", "ema", "window_tiled", "separable" or
  /// "halo_tiled".
  std::string form = "two_pass_tiled";

  // Linear family (normalize "sum" or "none"); see docs/LinearFamily.md.
  /// The pointwise base feature map over variable `x` (Float); absent: the
  /// identity (or FAVOR+ when randomFeatures > 0).
  std::optional<ScalarExpr> featureMap;
  /// FAVOR+ random features m (0: none) and the seed of their matrix.
  int64_t randomFeatures = 0;
  int64_t featureSeed = 0;
  /// Positional expansion factors g_e over variable `i` (Int); empty: none.
  std::vector<ScalarExpr> expand;
  /// Toeplitz weight: "" (none), "momentum" or "rpe".
  std::string weightKind;
  double momentumBeta = 0.0, momentumGamma = 1.0;
  /// Index into `args` of the rpe bias [H, 2W+1].
  int rpeBias = -1;
  /// `sum` normalizer: O = num / (den + eps), or num / max(den, eps).
  double eps = 0.0;
  bool clampDenominator = false;

  // Luna (form "pack_unpack" or "luna_scan"; docs/LinearFamily.md §6).
  /// Index into `args` of the memory [H, p, D]; -1 when not Luna.
  int lunaMemory = -1;
  int64_t lunaRows = 0;

  // Mega's EMA (form "ema"; docs/LinearFamily.md §7): indices into `args`
  // (omega -1 when absent); query/key/value are -1 for this kind.
  int emaInput = -1, emaDelta = -1, emaAlpha = -1, emaBeta = -1,
      emaGamma = -1, emaOmega = -1;
  /// "paper" (out = y) or "code" (out = silu(y + omega * x)).
  std::string emaCompat = "paper";

  // Structural variants (issue 5, docs/Variants.md).
  /// window2d (form "window_tiled"): the token grid [rows, cols], the
  /// window side and the shift (the effective ones); windowSize 0 when the
  /// kernel has no window partition.  Its mask (origin "window2d") and bias
  /// (a score modifier) are in `masks` and `scoreMods` too.
  int64_t windowRows = 0, windowCols = 0, windowSize = 0, windowShift = 0;
  /// window2d's relative bias: the index into `args` of the table
  /// [H, (2w - 1)^2] and the position in `scoreMods` of its modifier (origin
  /// "window2d_bias"), which the window_tiled lowering gathers once per
  /// head instead of per pair; -1 without a bias.
  int windowBias = -1, windowBiasMod = -1;
  /// Couplformer (form "separable"): the token grid [rows, cols]; 0 when
  /// not a coupler kernel.
  int64_t couplerRows = 0, couplerCols = 0;
  /// EIT (form "halo_tiled"): indices into `args` of the ISI and CSI
  /// weights [H, H, k, k] (-1 when not an emha kernel) and k.
  int emhaIsi = -1, emhaCsi = -1;
  int64_t emhaKernel = 0;

  bool isLinear() const { return normalize != "softmax"; }
  bool isLuna() const { return lunaMemory >= 0; }
  bool isEma() const { return emaInput >= 0; }
  bool isWindow() const { return windowSize > 0; }
  bool isCoupler() const { return couplerRows > 0; }
  bool isEmha() const { return emhaIsi >= 0; }
  /// Declared dims of the signature: name -> extent, -1 when symbolic.
  std::map<std::string, int64_t> dims;
  /// Schedule knobs from the kernel's `schedule` attribute (may be empty).
  std::map<std::string, int64_t> schedule;

  bool isCausal() const {
    for (const std::string &o : maskOrigins)
      if (o == "causal")
        return true;
    return false;
  }
};

} // namespace attn

#endif // ATTN_LOWERING_KERNELDESC_H
