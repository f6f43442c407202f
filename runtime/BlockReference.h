//===- BlockReference.h - Reference of "block" kernels ----------*- C++ -*-===//
//
// Evaluates a block kernel's `ops` (docs/Architectures.md §2) twice, like the
// attention references: in float64 (`ref64`) and naively in float32
// (`baseline`: float inputs, float arithmetic in the obvious loop order,
// rounded to the output's dtype), the baseline of the tolerance rule
// (Check.h).  computeReference() dispatches kind "block" here and returns the
// kernel's first output; computeReferenceOutputs() returns every output of
// any kind.
//
// Ops (rows = the product of all but the last extent):
//   linear mul     y[r,f] = Σ_k x[r,k]·w[f,k] + b[f]
//   linear adder   y[r,f] = −Σ_k |x[r,k] − w[f,k]| + b[f]
//   linear shift   xq = round_half_even(x·2^16) as int32 (clamped; NaN → 0),
//                  acc = Σ_k sign[f,k]·(xq[k] >> −shift[f,k]) exact in int64
//                  (arithmetic shift), y = acc·2^-16 + b[f]; shift must be in
//                  [−31, 0] and sign in {−1, 0, 1}.  Both precisions compute
//                  the same integers; the baseline converts acc to float.
//   layernorm      (x − μ)/√(σ² + eps)·γ + β, σ² biased (two passes)
//   rmsnorm        x/√(mean(x²) + eps)·γ
//   gelu           0.5·x·(1 + erf(x/√2));  relu max(x, 0);  silu x/(1 + e^−x)
//   add            a + b (equal shapes)
//   split_heads    [B, N, H·D] → [B, H, N, D];  merge_heads the inverse
//   slice, concat  along the last axis
//   conv1d         depthwise over N of [B, N, C] with w [C, K]; padding
//                  `same` (p = (K−1)/2) or `causal` (p = K−1), zeros outside;
//                  mode adder: the term is −|x − w| (padding included)
//   conv2d         depthwise k×k over the grid [Hh, Ww] of [B, Hh·Ww, C], w
//                  [C, k, k], stride s, zero padding k/2; mode mul or adder
//   pool           avg (÷k²) or max over k×k windows with stride s, no padding
//   scores         q [B,H,N,D], k [B,G,M,D] → s[b,h,i,j] = scale·q[b,h,i]·
//                  k[b,g,j], g = h/(H/G) (H a multiple of G)
//   blend          (1 − weight)·a + weight·b (equal shapes)
//   map_conv       x [B,H,N,M], w [H,H,k,k], bias [H]: y[b,o,i,j] =
//                  act(bias[o] + Σ_{c,a,e} w[o,c,a,e]·x[b,c,i+a−k/2,j+e−k/2]),
//                  x zero outside the map; act none or leaky_relu (0.01)
//   softmax        over the last axis of [B,H,N,M], max-subtracted; causal
//                  keeps j ≤ i + M − N (a row keeping nothing is zero)
//   attend         a [B,H,N,M], v [B,G,M,Dv] → o[b,h,i] = Σ_j a[b,h,i,j]·
//                  v[b,g,j]
//
// FLOPs (blockFlops): linear 2·rows·K·F for every mode (one product, |x − w|
// or shift, and one add per term; biases not counted); conv1d 2·B·N·C·K;
// conv2d 2·B·Ho·Wo·C·k²; pool B·Ho·Wo·C·k²; layernorm 7 and rmsnorm 4 per
// element; gelu, relu, silu and add 1 per element; layout ops (split_heads,
// merge_heads, slice, concat) 0; scores 2·B·H·N·M·D and attend 2·B·H·N·M·Dv
// (the conventional attention count 4·B·H·N·M·D is their sum); map_conv
// 2·B·H·N·M·H·k² (bias and act not counted, as conv2d); blend 3 per
// element; softmax 3 per entry of the map (the max, the exponential of the
// difference with its sum, the division; every entry counted, causal or
// not).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_BLOCKREFERENCE_H
#define ATTN_RUNTIME_BLOCKREFERENCE_H

#include "runtime/Manifest.h"
#include "runtime/Reference.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

/// Which halves of a reference to evaluate.
enum class ReferencePrecision {
  Both,        ///< ref64 and baseline.
  Float64Only, ///< ref64; the baseline is left empty (block kernels only).
  Float32Only  ///< baseline; ref64 is left empty (block kernels only).
};

/// One output argument's reference.
struct NamedReferenceOutput {
  std::string name; ///< The kernel's output argument.
  ReferenceOutput output;
};

/// Checks a block reference against the tensors in `args` (every input; the
/// outputs are checked when present): every op's inputs and attributes and
/// its result against its `shape` field.  Returns every value's shape.
/// Errors name the kernel, the op and the value.
Result<std::map<std::string, std::vector<int64_t>>>
blockShapes(const KernelSpec &kernel, const TensorMap &args);

/// Evaluates a block reference: one entry per output argument, in argument
/// order.  Inputs may be any dtype (floats are read in the precision being
/// evaluated; shift/sign weights are i32).
Result<std::vector<NamedReferenceOutput>>
computeBlockReference(const KernelSpec &kernel, const TensorMap &args,
                      ReferencePrecision precision = ReferencePrecision::Both);

/// The FLOPs of a block kernel (the counts above).
Result<double> blockFlops(const KernelSpec &kernel, const TensorMap &args);

/// Every output's reference, for every kind: the block kind's outputs, or
/// the one output `out` of the other kinds (computeReference(); `precision`
/// is ignored there and `maxRows` applies).
Result<std::vector<NamedReferenceOutput>> computeReferenceOutputs(
    const KernelSpec &kernel, const TensorMap &args, int64_t maxRows = 0,
    ReferencePrecision precision = ReferencePrecision::Both);

/// The range of random values for i32 input `argName` of a block kernel:
/// [−14, 0] when a shift-mode linear reads it as its shift, [−1, 1] as its
/// sign; std::nullopt otherwise.
std::optional<std::pair<int64_t, int64_t>>
blockIntegerInputRange(const KernelSpec &kernel, const std::string &argName);

} // namespace attn::rt

#endif // ATTN_RUNTIME_BLOCKREFERENCE_H
