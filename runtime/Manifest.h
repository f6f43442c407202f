//===- Manifest.h - The library manifest (docs/Manifest.md) -----*- C++ -*-===//
//
// In-memory form of `<lib>.manifest.json`, the only contract between the
// compiler and the runtime.  parseManifest validates everything the runtime
// relies on; each error names the offending field, e.g.
// "kernels[0].args[2].dtype: unknown dtype 'f8' (expected f16, bf16, f32,
// f64 or i32)".
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_MANIFEST_H
#define ATTN_RUNTIME_MANIFEST_H

#include "runtime/DType.h"
#include "runtime/Expr.h"
#include "runtime/Status.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

/// One entry of an argument's shape: a dim name or an integer literal.
struct ShapeEntry {
  std::string name; ///< Empty for a literal.
  int64_t value = 0;
  bool isName() const { return !name.empty(); }
  /// The name, or the literal printed.
  std::string str() const { return isName() ? name : std::to_string(value); }
};

enum class ArgRole { Input, Output };

/// One kernel argument.
struct ArgSpec {
  std::string name;
  ArgRole role = ArgRole::Input;
  DType dtype = DType::F32;
  std::vector<ShapeEntry> shape; ///< C order.
};

/// The base feature map φ0 of a "linear" reference (`reference.feature`):
/// either a pointwise function of each element, or FAVOR+ positive random
/// features (docs/LinearFamily.md §4).  Exactly one of the two is set.
struct FeatureMapSpec {
  /// The pointwise map, an expression over `x` (and dims); empty text when
  /// the map is random features.
  std::string pointwiseText;
  Expr pointwise;
  /// m > 0: FAVOR+ with m random features and Ω = favorPlusMatrix(m, D,
  /// seed) (support/RandomFeatures.h); 0: the pointwise map.
  int64_t randomFeatures = 0;
  uint64_t seed = 0; ///< Negative JSON seeds wrap modulo 2^64.
  bool isRandom() const { return randomFeatures > 0; }
};

/// The Toeplitz weight of a "linear" reference (`reference.weight`).
enum class LinearWeightKind { None, Momentum, Rpe };

struct LinearWeightSpec {
  LinearWeightKind kind = LinearWeightKind::None;
  /// Momentum: wnum = gamma (1 - beta^(r+1)) / (1 - beta), r = i - j (with
  /// causal alignment), wden = 1.
  double beta = 0, gamma = 1;
  /// Rpe: the input argument holding bias [H, R], R = 2W + 1 odd.
  std::string bias;
};

/// One op of a "block" reference (docs/Architectures.md §2 and §4).  The
/// attributes an op does not use keep their defaults.
struct BlockOpSpec {
  /// "linear", "layernorm", "rmsnorm", "gelu", "relu", "silu", "add",
  /// "split_heads", "merge_heads", "slice", "concat", "conv1d", "conv2d",
  /// "pool", or the materialized-map ops "scores", "blend", "map_conv",
  /// "softmax", "attend".
  std::string op;
  /// Argument names or temporaries ("%N") defined by earlier ops.
  std::vector<std::string> inputs;
  /// An output argument or a temporary "%N".
  std::string out;
  /// The result's C-order shape, checked when the reference is evaluated.
  std::vector<int64_t> shape;
  /// linear: "mul", "adder" or "shift"; conv1d, conv2d: "mul" or "adder";
  /// pool: "avg" or "max".
  std::string mode;
  std::string padding;          ///< conv1d: "same" or "causal".
  double eps = 0;               ///< layernorm, rmsnorm.
  int64_t heads = 0;            ///< split_heads: H.
  int64_t offset = 0, size = 0; ///< slice: [offset, offset + size).
  std::vector<int64_t> grid;    ///< conv2d, pool: the token grid [Hh, Ww].
  /// pool: the window k; conv2d: 0, or the weight's k when given.
  int64_t window = 0;
  int64_t stride = 1; ///< conv2d, pool.
  /// scores: the scale; blend: the weight of the second operand.
  double scale = 0;
  std::string act;     ///< map_conv: "none" or "leaky_relu".
  bool causal = false; ///< softmax.
};

/// The window partition an "attention" reference's masks encode
/// (`reference.window2d`, docs/Manifest.md): the N = rows * cols tokens of a
/// row-major grid attend within window x window windows offset by the
/// shift.  The masks still define the reference; the partition lets the
/// runtime count the visible pairs (FLOPs) without visiting all N x M.
struct Window2dSpec {
  int64_t rows = 0, cols = 0, window = 0, shift = 0;
  /// The keys of query token `t` lie in [r0, r1) x [c0, c1) of the grid.
  void bounds(int64_t t, int64_t &r0, int64_t &r1, int64_t &c0,
              int64_t &c1) const;
};

/// The `reference` object of a kernel (kind "attention", "linear", "luna",
/// "ema", "block", "coupler" or "emha").
struct ReferenceSpec {
  /// "attention", "linear", "luna", "ema", "block", "coupler" or "emha".
  std::string kind;
  /// `out` is the output argument of every kind (for "block": the kernel's
  /// first output; a block kernel may have several); query, key and value
  /// are empty for kinds "ema" and "block" (not attentions).
  std::string query, key, value, out;
  std::optional<std::string> kvLengths;
  bool causal = false;
  /// "softmax" (attention, luna); "sum" or "none" (linear).
  std::string normalize;

  // Kind "linear" only (docs/LinearFamily.md §4).
  FeatureMapSpec feature;
  /// The positional expansion g_1..g_E, expressions over `i` (and dims);
  /// empty: no expansion (E = 1, g = 1).
  std::vector<std::string> expandTexts;
  std::vector<Expr> expand;
  LinearWeightSpec weight;
  /// normalize "sum": O = num / (den + eps), or num / max(den, eps) when
  /// `clamp`.
  double eps = 0;
  bool clamp = false;
  bool isLinear() const { return kind == "linear"; }

  // Kind "luna" only (docs/LinearFamily.md §6): two softmax attentions
  // through a memory of `rows` rows per head.
  /// The input argument holding the memory P [H, rows, D] (floating point).
  std::string memory;
  /// p: the number of memory rows (the packed length), > 0.
  int64_t rows = 0;
  bool isLuna() const { return kind == "luna"; }

  // Kind "ema" only (docs/LinearFamily.md §7): Mega's multi-dimensional
  // damped EMA, a causal convolution over time per channel; not an
  // attention (no query, key, value, kv_lengths or scale).
  /// The input argument x [B, L, C] (floating point).
  std::string input;
  /// The input arguments delta, alpha, beta, gamma, each [C, n] (floating
  /// point; n = the EMA order).
  std::string delta, alpha, beta, gamma;
  /// The input argument omega [C] (floating point); required when compat
  /// is "code", optional (and unused) when "paper".
  std::optional<std::string> omega;
  /// "paper" (out = y, the default) or "code" (out = silu(y + omega x),
  /// Mega's MultiHeadEMA.forward).
  std::string compat;
  bool isEma() const { return kind == "ema"; }
  bool emaCodeCompat() const { return compat == "code"; }

  // Kind "coupler" only (docs/Variants.md, Couplformer): the token grid
  // [rows, cols] (N = M = rows * cols); the maps use `scale`.
  std::vector<int64_t> grid;
  bool isCoupler() const { return kind == "coupler"; }

  // Kind "emha" only (docs/Variants.md, EIT): the ISI and CSI convolution
  // weights [H, H, k, k] (input arguments) and k (odd); scores use `scale`.
  std::string isi, csi;
  int64_t kernelSize = 0;
  bool isEmha() const { return kind == "emha"; }

  // Kind "block" only (docs/Architectures.md §2): the ops in evaluation
  // order.
  std::vector<BlockOpSpec> ops;
  bool isBlock() const { return kind == "block"; }

  // Kinds "attention", "luna", "coupler" and "emha": the score scale τ, an
  // expression over dims (and, for attention, b, h, i, j and loads);
  // default rsqrt(D) (D^(-1/4) for coupler).
  std::string scaleText;
  Expr scale;

  // Kind "attention" only.
  std::vector<std::string> scoreModTexts;
  std::vector<Expr> scoreMods;
  std::vector<std::string> maskTexts;
  std::vector<Expr> masks;
  /// Inclusive lower and exclusive upper bounds on the key index j, as
  /// expressions of i (and b, h, dims, loads), derived by the compiler from
  /// the masks.  When `keyBoundsExact`, the keys within every bound are
  /// exactly the visible ones (used to count FLOPs of windowed masks).
  std::vector<std::string> keyLowerTexts, keyUpperTexts;
  std::vector<Expr> keyLower, keyUpper;
  bool keyBoundsExact = false;
  /// The window partition the masks encode, when the compiler says so.
  std::optional<Window2dSpec> window2d;
};

/// One kernel of the library.
struct KernelSpec {
  std::string name;
  std::string entry;
  std::string
      scheduleJson; ///< The `schedule` object, serialized ("{}" if absent).
  /// The integer knobs of `schedule` (its "source" left out).
  std::map<std::string, int64_t> scheduleKnobs;
  /// The kernel form (`two_pass_tiled`, `block`, ...; "" when absent).
  std::string form;
  /// The tuning-database key (docs/Tuning.md; "" when absent).
  std::string tuningKey;
  /// GPU libraries: threads and shared-memory bytes per block the kernel's
  /// schedule uses (the optional `gpu` object; 0 when absent).  The runtime
  /// checks them against the device before launch (docs/GPU.md §5).
  int64_t gpuThreads = 0, gpuSharedBytes = 0;
  /// Every named dim in manifest order; std::nullopt = symbolic.
  std::vector<std::pair<std::string, std::optional<int64_t>>> dims;
  std::vector<ArgSpec> args; ///< Manifest order: inputs, then outputs.
  std::optional<ReferenceSpec> reference;

  /// The argument named `argName`, or null.
  const ArgSpec *findArg(const std::string &argName) const;
  /// True when `dimName` is declared in `dims`.
  bool hasDim(const std::string &dimName) const;
  /// The fixed value of a declared dim; std::nullopt when symbolic or unknown.
  std::optional<int64_t> fixedDim(const std::string &dimName) const;
  /// Names of the arguments, comma separated ("q, k, v, out").
  std::string argNames() const;
};

/// The distribution of a weight's seeded random values (`init`,
/// docs/Architectures.md §4).
enum class WeightDist {
  Uniform, ///< U(-bound, bound).
  Normal,  ///< N(mean, std^2).
  Shift,   ///< Integers uniform in [min, max].
  Sign     ///< Integers uniform in {-1, 0, 1}.
};

/// A weight's `init` object.
struct WeightInitSpec {
  WeightDist dist = WeightDist::Uniform;
  double bound = 0;         ///< Uniform.
  double mean = 0, std = 1; ///< Normal.
  int64_t min = 0, max = 0; ///< Shift.
};

/// A named tensor of an architecture: an input, output, weight or value
/// (intermediate).  Shapes of architectures are fixed.
struct ArchTensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;         ///< C order.
  std::optional<WeightInitSpec> init; ///< Weights only (required there).
};

/// One kernel call of an architecture: `args` name the architecture's
/// tensors, one per kernel argument in the kernel's order (outputs last).
struct ArchCallSpec {
  std::string kernel;
  std::vector<std::string> args;
};

/// An architecture (`archs[i]`): a program of kernel calls over named
/// tensors (docs/Architectures.md §4).
struct ArchSpec {
  std::string name;
  std::vector<ArchTensorSpec> inputs, outputs, weights, values;
  std::vector<ArchCallSpec> calls;

  /// The input, output, weight or value named `tensorName`, or null.
  const ArchTensorSpec *findTensor(const std::string &tensorName) const;
};

/// A whole manifest.
struct Manifest {
  std::string format;
  int64_t version = 0;
  std::string compiler;
  std::string source;
  std::string sourceHash;
  std::string target;
  /// Where the kernels run: "cpu" (also when absent), "cuda" or "opencl".
  std::string device = "cpu";
  std::string library;
  std::vector<KernelSpec> kernels;
  /// The architectures (the optional top-level `archs`; empty without).
  std::vector<ArchSpec> archs;

  /// The kernel named `kernelName`, or null.
  const KernelSpec *findKernel(const std::string &kernelName) const;
  /// The architecture named `archName`, or null.
  const ArchSpec *findArch(const std::string &archName) const;
};

/// Parses and validates manifest JSON text; `fileName` prefixes errors.
Result<Manifest> parseManifest(const std::string &text,
                               const std::string &fileName);

/// Reads and validates a manifest file.
Result<Manifest> loadManifest(const std::string &path);

} // namespace attn::rt

#endif // ATTN_RUNTIME_MANIFEST_H
