//===- AttnBlockOps.td - architecture block ops -------------*- tablegen -*-===//
//
// The ops an `attn.arch` function is built from besides attention cores:
// projections, norms, activations, residual adds, layout changes,
// convolutions and pooling (docs/Architectures.md §2; spec P0, P1, P10).
// --attn-outline-blocks groups them into fused block kernels.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNBLOCKOPS_TD
#define ATTN_DIALECT_ATTNBLOCKOPS_TD

include "dialect/AttnBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Attn_BlockOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat([Pure], traits)> {
  let hasVerifier = 1;
}

def Attn_LinearOp : Attn_BlockOp<"linear"> {
  let summary = "A projection over the last axis (spec P0)";
  let description = [{
    `y[..., f] = sum_k x[..., k] (*) w[f, k] + b[f]` with the weight in
    PyTorch layout `[F, K]`.  `mode` picks the product: `mul` (a GEMM),
    `adder` (AdderNet: `-sum_k |x_k - w_fk|`) or `shift` (DeepShift-PS:
    the weights are given as `shift` and `sign` i32 tensors and applied to
    16-bit fixed-point activations by arithmetic shifts and adds).  The
    parameters are `[w, b?]`, or `[shift, sign, b?]` for `shift`.

    ```mlir
    %y = attn.linear "mul" %x, %w, %b
        : (tensor<1x197x384xf32>, tensor<1152x384xf32>, tensor<1152xf32>) -> tensor<1x197x1152xf32>
    ```
  }];
  let arguments = (ins StrAttr:$mode, AnyRankedTensor:$input,
                   Variadic<AnyRankedTensor>:$params);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $mode $input `,` $params attr-dict `:` functional-type(operands, results)
  }];
}

def Attn_NormOp : Attn_BlockOp<"norm"> {
  let summary = "LayerNorm or RMSNorm over the last axis";
  let description = [{
    `layernorm`: `(x - mean) / sqrt(var + eps) * gamma + beta` (biased
    variance; parameters `[gamma, beta]`); `rmsnorm`:
    `x / sqrt(mean(x^2) + eps) * gamma` (parameters `[gamma]`).

    ```mlir
    %y = attn.norm "layernorm" %x, %g, %b {eps = 1.0e-05 : f64}
        : (tensor<1x197x384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<1x197x384xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kind, AnyRankedTensor:$input,
                   Variadic<AnyRankedTensor>:$params, F64Attr:$eps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $params attr-dict `:` functional-type(operands, results)
  }];
}

def Attn_ActOp : Attn_BlockOp<"act", [AllTypesMatch<["input", "result"]>]> {
  let summary = "An elementwise activation: gelu, relu or silu";
  let description = [{
    `gelu` is the erf form `0.5 x (1 + erf(x / sqrt 2))`; `silu` is
    `x * sigmoid(x)`.

    ```mlir
    %y = attn.act "gelu" %x : tensor<1x197x1536xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kind, AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($result)";
}

def Attn_AddOp : Attn_BlockOp<"add", [AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "An elementwise sum (residual connections)";
  let description = [{
    ```mlir
    %y = attn.add %x, %r : tensor<1x197x384xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Attn_SplitHeadsOp : Attn_BlockOp<"split_heads"> {
  let summary = "[B, N, H*D] -> [B, H, N, D]";
  let description = [{
    A layout change only: fused into the store of the producing kernel.

    ```mlir
    %q = attn.split_heads %x {heads = 6 : i64}
        : tensor<1x197x384xf32> -> tensor<1x6x197x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$heads);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
}

def Attn_MergeHeadsOp : Attn_BlockOp<"merge_heads"> {
  let summary = "[B, H, N, D] -> [B, N, H*D]";
  let description = [{
    A layout change only: fused into the loads of the consuming kernel.

    ```mlir
    %x = attn.merge_heads %a : tensor<1x6x197x64xf32> -> tensor<1x197x384xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
}

def Attn_SliceOp : Attn_BlockOp<"slice"> {
  let summary = "Channels [offset, offset + size) of the last axis";
  let description = [{
    The channel split of ShiftAddNAS's hybrid block (spec P10).

    ```mlir
    %h = attn.slice %x {offset = 0 : i64, size = 192 : i64}
        : tensor<1x128x384xf32> -> tensor<1x128x192xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$offset, I64Attr:$size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($result)";
}

def Attn_ConcatOp : Attn_BlockOp<"concat"> {
  let summary = "Joins two tensors along the last axis";
  let description = [{
    ```mlir
    %y = attn.concat %a, %b : tensor<1x128x192xf32>, tensor<1x128x192xf32> -> tensor<1x128x384xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
}

def Attn_ConvOp : Attn_BlockOp<"conv"> {
  let summary = "A depthwise convolution over tokens (1-D) or a token grid (2-D)";
  let description = [{
    `conv1d`: `x [B, N, C]`, `w [C, K]`: `y[b,t,c] = sum_k w[c,k] (*)
    x[b, t+k-p, c] + b[c]`, zero padding, `p = (K-1)/2` (`same`) or `K-1`
    (`causal`); `mode = adder` uses `-|x - w|` (ShiftAddNAS light-add).
    `conv2d`: `x [B, Hh*Ww, C]` on `grid = [Hh, Ww]`, `w [C, k, k]`, zero
    padding `k/2`, `stride` s.

    ```mlir
    %y = attn.conv "conv1d" %x, %w {mode = "adder", padding = "same", window = 3 : i64, stride = 1 : i64}
        : (tensor<1x128x192xf32>, tensor<192x3xf32>) -> tensor<1x128x192xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kind, AnyRankedTensor:$input,
                   Variadic<AnyRankedTensor>:$params, StrAttr:$mode,
                   StrAttr:$padding, I64Attr:$window, I64Attr:$stride,
                   OptionalAttr<DenseI64ArrayAttr>:$grid);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $params attr-dict `:` functional-type(operands, results)
  }];
}

def Attn_PoolOp : Attn_BlockOp<"pool"> {
  let summary = "Average or max pooling over a token grid";
  let description = [{
    `x [B, Hh*Ww, C]` on `grid = [Hh, Ww]`: windows of `window x window`
    tokens every `stride`, no padding (UniNet's strided queries).

    ```mlir
    %y = attn.pool "avg" %x {grid = array<i64: 14, 14>, window = 2 : i64, stride = 2 : i64}
        : tensor<1x196x384xf32> -> tensor<1x49x384xf32>
    ```
  }];
  let arguments = (ins StrAttr:$mode, AnyRankedTensor:$input,
                   DenseI64ArrayAttr:$grid, I64Attr:$window, I64Attr:$stride);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$mode $input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Materialized attention maps (evolving attention, spec V6): the map is an
// N x M tensor per head because it is convolved and carried between layers.
//===----------------------------------------------------------------------===//

def Attn_ScoresOp : Attn_BlockOp<"scores"> {
  let summary = "Materialized scaled scores: [B, H, N, D] x [B, G, M, D] -> [B, H, N, M]";
  let description = [{
    `s[b, h, i, j] = scale * dot(q[b, h, i], k[b, h / (H / G), j])` (spec
    P3), for variants that need the whole map.

    ```mlir
    %s = attn.scores %q, %k {scale = 0.125 : f64}
        : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                   F64Attr:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $query `,` $key attr-dict `:` type($query) `,` type($key) `->` type($result)
  }];
}

def Attn_BlendOp : Attn_BlockOp<"blend", [AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "A convex blend (1 - weight) * lhs + weight * rhs";
  let description = [{
    Evolving attention's residual chain over layers and its conv mix
    (spec P4 `blend_carry`, P10).

    ```mlir
    %m = attn.blend %s, %prev {weight = 5.000000e-01 : f64} : tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                   F64Attr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Attn_MapConvOp : Attn_BlockOp<"map_conv"> {
  let summary = "A k x k convolution over attention maps, heads as channels";
  let description = [{
    `y[b, o, i, j] = act(bias[o] + sum_{c, a, e} w[o, c, a, e] *
    x[b, c, i + a - k/2, j + e - k/2])` with zero padding outside the map
    (spec P4 `map_conv`); `act` is `none` or `leaky_relu` (slope 0.01).

    ```mlir
    %c = attn.map_conv %m, %w, %b {act = "leaky_relu"}
        : (tensor<1x4x64x64xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                   AnyRankedTensor:$bias, StrAttr:$act);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def Attn_SoftmaxOp : Attn_BlockOp<"softmax", [AllTypesMatch<["input", "result"]>]> {
  let summary = "Softmax over the last axis of a materialized map";
  let description = [{
    Max-subtracted; with `causal`, entries j > i + M - N are excluded (a
    row with no kept entry is zero).

    ```mlir
    %a = attn.softmax %l : tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, UnitAttr:$causal);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Attn_AttendOp : Attn_BlockOp<"attend"> {
  let summary = "Weights times values: [B, H, N, M] x [B, G, M, Dv] -> [B, H, N, Dv]";
  let description = [{
    `o[b, h, i] = sum_j a[b, h, i, j] * v[b, h / (H / G), j]` (spec P7).

    ```mlir
    %o = attn.attend %a, %v
        : tensor<1x4x64x64xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$weights, AnyRankedTensor:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $weights `,` $value attr-dict `:` type($weights) `,` type($value) `->` type($result)
  }];
}

#endif // ATTN_DIALECT_ATTNBLOCKOPS_TD
