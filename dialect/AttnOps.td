//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//
//
// Architecture-level ops (variant, attention), primitive ops of the attention
// core (score, score_mod, mask, normalize, aggregate), and the kernel op that
// groups a primitive chain for code generation.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNOPS_TD
#define ATTN_DIALECT_ATTNOPS_TD

include "dialect/AttnBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// attn.yield / attn.dim
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["VariantOp", "ScoreModOp", "MaskOp", "KernelOp",
                 "ChoiceOp", "FeatureOp"]>]> {
  let summary = "Terminates the regions of attn ops";
  let description = [{
    Yields the value of a region: the modified score (`f32`) in a score
    modifier, the keep-predicate (`i1`) in a mask, the feature value or the
    expansion factors of a feature map, the results of a kernel or of the
    chosen alternative of an `attn.choice`.

    ```mlir
    attn.yield %s : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
}

def Attn_DimOp : Attn_Op<"dim", [Pure]> {
  let summary = "The extent of a dimension of the enclosing attention problem";
  let description = [{
    Names a dimension of the attention problem by its role: `B` batch, `H`
    query heads, `N` queries, `M` keys, `D` head dim, `G` key/value heads.
    Variants are written once for every shape; `--attn-decompose` replaces
    each `attn.dim` with a constant (static extent) or a `tensor.dim` of the
    query or key (dynamic extent).

    ```mlir
    %h = attn.dim H
    ```
  }];
  let arguments = (ins Attn_DimRoleAttr:$role);
  let results = (outs Index:$result);
  let assemblyFormat = "`` $role attr-dict";
}

//===----------------------------------------------------------------------===//
// Architecture level
//===----------------------------------------------------------------------===//

def Attn_VariantOp : Attn_Op<"variant", [Symbol, IsolatedFromAbove]> {
  let summary = "A named attention variant: score modifier, mask, normalizer";
  let description = [{
    Defines what the attention core computes, independently of shapes.

    * `score` region (optional): `^bb0(%s: f32, %b: index, %h: index,
      %i: index, %j: index)`, yields the modified score (`f32`).  `%s` is
      the scaled dot product `scale * dot(q[b,h,i], k[b,h,j])`.
    * `mask` region (optional): `^bb0(%b: index, %h: index, %i: index,
      %j: index)`, yields `i1`: true keeps key `j` for query `i`.  An excluded
      key gets exactly zero weight; a row with every key excluded gives zeros.
    * `normalize`: the row normalizer (spec P6).  `sum` and `none` make
      the variant a linear-family one (docs/LinearFamily.md): the score is
      `<phi(q_i), phi(k_j)>` (no scale), `sum` divides by the row sum plus
      `eps` (or by `max(row sum, eps)` with `clamp`).
    * `scale` (optional): the score scale; the default is `rsqrt(D)`.
    * `feature` region (optional, linear family): `^bb0(%x: f32)` yields
      `phi(x)` (f32), applied to every element of q and k.  Absent: the
      identity, unless `random_features = {features = m, seed = s}` selects
      FAVOR+ positive random features.
    * `expand` region (optional, linear family): `^bb0(%i: index)` yields
      E f32 factors `g_e(i)`; the feature of position `i` becomes
      `concat_e phi(x) * g_e(i)` (cosFormer, VVT re-weighting).
    * `weight` (optional, linear family): a Toeplitz weight (spec P4
      `mul_toeplitz`): `{kind = "momentum", beta, gamma}` (numerator only,
      causal) or `{kind = "rpe", operand = n}` (`exp(bias[h, j - i])`, the
      bias being the attention's variant operand `n`).
    * `pack` (optional, Luna): `{operand = n, rows = p}`: the keys and values
      are first packed into the `p` rows of the memory tensor (the
      attention's variant operand `n`, `[H, p, D]`) by softmax attention,
      then the queries attend to the packed sequence (docs/LinearFamily.md
      §6).  Needs `normalize = softmax` and no other item.
    * `partition` (optional, Swin/S3 windows, spec V14): `{kind =
      "window2d", grid = array<i64: Hh, Ww>, window = w, shift = s [, bias
      = n]}`: the `N = Hh * Ww` tokens of a row-major grid attend within
      `w x w` windows whose grid is offset by the cyclic shift `s` (pairs
      that only the wrap-around would join are excluded); `bias` is the
      attention's variant operand `[H, (2w - 1)^2]` added to the score at
      the pair's 2-D offset.  `w` and `s` are the effective ones (a grid no
      larger than the window is one unshifted window).  Needs
      `normalize = softmax`; score and mask regions apply within windows.
    * `map` (optional): `{kind = "coupler", grid = array<i64: Hh, Ww>}`
      (Couplformer, spec V5: a row map and a column map coupled as a
      Kronecker product) or `{kind = "emha", isi = n, csi = m, kernel =
      k}` (EIT, spec V10: every head pair's scores, mixed by a grouped
      `k x k` convolution before the softmax and an `H -> H` one after;
      the weights are the variant operands `n` and `m`).  Needs
      `normalize = softmax` and no score or mask region.

    An empty region means "absent".  Dimension extents are read with
    `attn.dim`.

    ```mlir
    attn.variant @sliding normalize = softmax score {
    } mask {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %le = arith.cmpi ule, %j, %i : index
      attn.yield %le : i1
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       Attn_NormalizeKindAttr:$normalize,
                       OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<F64Attr>:$eps,
                       UnitAttr:$clamp,
                       OptionalAttr<DictionaryAttr>:$random_features,
                       OptionalAttr<DictionaryAttr>:$weight,
                       OptionalAttr<DictionaryAttr>:$pack,
                       OptionalAttr<DictionaryAttr>:$partition,
                       OptionalAttr<DictionaryAttr>:$map);
  let regions = (region AnyRegion:$score, AnyRegion:$mask,
                        AnyRegion:$feature, AnyRegion:$expand);
  let assemblyFormat = [{
    $sym_name `normalize` `=` `` $normalize (`scale` `=` $scale^)?
    (`eps` `=` $eps^)? (`clamp` $clamp^)?
    attr-dict-with-keyword `score` $score `mask` $mask
    (`feature` $feature^)? (`expand` $expand^)?
  }];
  let hasRegionVerifier = 1;
}

def Attn_AttentionOp : Attn_Op<"attention", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Attention with a named variant";
  let description = [{
    `O = normalize(mask(score_mod(scale * Q Kᵀ))) · V` with the score
    modifier, mask, normalizer and scale of the variant `@variant`.

    * `Q: [B, H, N, D]`, `K: [B, G, M, D]`, `V: [B, G, M, Dv]`, result
      `[B, H, N, Dv]`.  `H` must be a multiple of `G` (grouped-query
      attention): query head `h` reads key/value head `h / (H / G)`.
    * `causal`: key `j` is visible to query `i` when `j <= i + M - N`
      (bottom-right aligned, as in FlashAttention 2.1+).
    * `kv_lengths` (optional, `i32[B]`): keys `j >= kv_lengths[b]` are
      excluded.
    * `scale` overrides the variant's scale.
    * `operands(...)`: the tensors bound to the variant's tensor
      parameters (e.g. the relative-position bias of `rpe_fft`), in order.

    `--attn-decompose` rewrites it into the primitive ops.

    ```mlir
    %o = attn.attention @softmax(%q, %k, %v) {causal}
        : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>
        -> tensor<1x8x?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value,
                       Optional<RankedTensorOf<[I32]>>:$kv_lengths,
                       Variadic<AnyRankedTensor>:$variant_operands,
                       FlatSymbolRefAttr:$variant, UnitAttr:$causal,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $variant `(` $query `,` $key `,` $value `)`
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`operands` `(` $variant_operands^ `:` type($variant_operands) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Primitive level (spec P3-P7)
//===----------------------------------------------------------------------===//

def Attn_ScoreOp : Attn_Op<"score", [Pure]> {
  let summary = "Scaled dot-product scores (P3)";
  let description = [{
    `S[b, h, i, j] = scale * sum_d Q[b, h, i, d] * K[b, h / (H / G), j, d]`.
    The result is the (virtual) `[B, H, N, M]` score tensor in `f32`.

    ```mlir
    %s = attn.score %q, %k scale = 1.250000e-01
        : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x128xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       F64Attr:$scale);
  let results = (outs AnyRankedTensor:$scores);
  let assemblyFormat = [{
    $query `,` $key `scale` `=` $scale attr-dict `:` type($query) `,`
    type($key) `->` type($scores)
  }];
  let hasVerifier = 1;
}

def Attn_ScoreModOp : Attn_Op<"score_mod", [Pure,
    AllTypesMatch<["scores", "result"]>]> {
  let summary = "Element-wise score modifier (P4)";
  let description = [{
    `S'[b, h, i, j] = f(S[b, h, i, j], b, h, i, j)` where `f` is the body:
    `^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index)` yielding
    `f32`.  The body may read values defined above (dimension extents,
    elements of kernel arguments through `tensor.extract`).

    ```mlir
    %t = attn.score_mod %s : tensor<1x8x128x128xf32> {
    ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
      %c = math.tanh %x : f32
      attn.yield %c : f32
    }
    ```
  }];
  let arguments = (ins AnyRankedTensor:$scores);
  let results = (outs AnyRankedTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$scores attr-dict `:` type($scores) $body";
  let hasRegionVerifier = 1;
  let hasVerifier = 1;
}

def Attn_MaskOp : Attn_Op<"mask", [Pure,
    AllTypesMatch<["scores", "result"]>]> {
  let summary = "Exclude keys by a predicate (P5)";
  let description = [{
    Keeps `S[b, h, i, j]` where the body yields true and marks it excluded
    otherwise (zero weight after normalization; a row with every key excluded
    normalizes to zeros, never NaN).  Body:
    `^bb0(%b: index, %h: index, %i: index, %j: index)` yielding `i1`.

    The lowering derives, from the predicate, the range of keys each query
    tile can see, and skips key tiles that are excluded entirely.

    ```mlir
    %m = attn.mask %s : tensor<1x8x128x128xf32> {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %ok = arith.cmpi ule, %j, %i : index
      attn.yield %ok : i1
    }
    ```
  }];
  let arguments = (ins AnyRankedTensor:$scores);
  let results = (outs AnyRankedTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$scores attr-dict `:` type($scores) $body";
  let hasRegionVerifier = 1;
  let hasVerifier = 1;
}

def Attn_NormalizeOp : Attn_Op<"normalize", [Pure,
    AllTypesMatch<["scores", "result"]>]> {
  let summary = "Row normalizer over keys (P6)";
  let description = [{
    `softmax`: `A[i, j] = exp(S[i, j] - max_j S) / sum_j exp(...)` over the
    keys that are not excluded.  `sum`: `A[i, j] = S[i, j] / (sum_j S[i, j]
    + eps)` (with `clamp`: divided by `max(sum_j S[i, j], eps)`); `none`:
    `A = S`.  `sum` and `none` are the linear-family normalizers; they need
    `eps` / forbid it respectively.

    ```mlir
    %a = attn.normalize softmax %m : tensor<1x8x128x128xf32>
    ```
  }];
  let arguments = (ins Attn_NormalizeKindAttr:$kind,
                       AnyRankedTensor:$scores,
                       OptionalAttr<F64Attr>:$eps, UnitAttr:$clamp);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `` $kind $scores (`eps` `=` $eps^)? (`clamp` $clamp^)? attr-dict `:`
    type($scores)
  }];
  let hasVerifier = 1;
}

def Attn_AggregateOp : Attn_Op<"aggregate", [Pure]> {
  let summary = "Weighted sum of values (P7)";
  let description = [{
    `O[b, h, i, :] = sum_j A[b, h, i, j] * V[b, h / (H / G), j, :]`.
    `form` (set by `--attn-select-forms`) says how the lowering computes
    it: `two_pass_tiled` (softmax, flash-style), `associative`
    (`phi(Q) (phi(K)^T V)`), `chunked_scan` (causal: per-chunk quadratic
    plus carried state), `fft_toeplitz` (Toeplitz weight by FFT),
    `window_tiled` (a window2d partition: one task per window) or
    `halo_tiled` (weights from `attn.head_conv`: the maps of a query tile
    and its halo materialized).

    ```mlir
    %o = attn.aggregate %a, %v : tensor<1x8x128x128xf32>,
        tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$weights, AnyRankedTensor:$value,
                       OptionalAttr<Attn_KernelFormAttr>:$form);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $weights `,` $value (`form` `=` `` $form^)? attr-dict `:` type($weights)
    `,` type($value) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_FeatureOp : Attn_Op<"feature", [Pure]> {
  let summary = "Feature map of queries or keys (P2)";
  let description = [{
    `F[b, h, t, :] = concat_e phi(X[b, h, t, :]) * g_e(t)`: the base map
    `phi` (the `map` region `^bb0(%x: f32)` applied element-wise, the
    identity when empty, or FAVOR+ random features when `random_features =
    {features = m, seed = s}`), then the positional expansion of the
    `expand` region (`^bb0(%t: index)` yielding E factors; absent: E = 1,
    g = 1).  `role` is `query` or `key`: FAVOR+ stabilizes queries by the
    row max and keys by the max over the whole (b, h) slice.  The result's
    last extent is (D or m) * E.

    ```mlir
    %fq = attn.feature %q role = "query" : tensor<1x8x128x64xf32>
        -> tensor<1x8x128x64xf32> map {
    ^bb0(%x: f32):
      %r = arith.maximumf %x, %zero : f32
      attn.yield %r : f32
    }
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, StrAttr:$role,
                       OptionalAttr<DictionaryAttr>:$random_features);
  let results = (outs AnyRankedTensor:$result);
  let regions = (region AnyRegion:$map, AnyRegion:$expand);
  let assemblyFormat = [{
    $input `role` `=` $role attr-dict `:` type($input) `->` type($result)
    (`map` $map^)? (`expand` $expand^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_ToeplitzOp : Attn_Op<"toeplitz", [Pure,
    AllTypesMatch<["scores", "result"]>]> {
  let summary = "Multiply scores by a Toeplitz weight w(i - j) (P4)";
  let description = [{
    `S'[b, h, i, j] = S[b, h, i, j] * w(b, h, i, j)` where `w` depends on
    `j - i` only.  `weight` is `{kind = "momentum", beta, gamma}`
    (`w = gamma * (1 - beta^(i-j+1)) / (1 - beta)` for `j <= i`, applied to
    the numerator only: the `sum` normalizer's denominator sees the
    unweighted scores) or `{kind = "rpe"}` with the `bias` operand
    `[H, 2W+1]` (`w = exp(bias[h, clamp(j - i, -W, W) + W])`, numerator
    and denominator).

    ```mlir
    %w = attn.toeplitz %s bias(%b : tensor<8x255xf32>) {weight = {kind = "rpe"}}
        : tensor<1x8x128x128xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$scores,
                       Optional<AnyRankedTensor>:$bias,
                       DictionaryAttr:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $scores (`bias` `(` $bias^ `:` type($bias) `)`)? attr-dict `:`
    type($scores)
  }];
  let hasVerifier = 1;
}

def Attn_AxialScoreOp : Attn_Op<"axial_score", [Pure]> {
  let summary = "Row or column scores over a token grid (P1 axial, P3)";
  let description = [{
    The queries and keys `[B, H, N, D]` / `[B, G, N, D]` are grids of
    `N = Hh * Ww` tokens (row-major).  `axis = "row"` contracts each grid
    row over its width and the channels:
    `S[b, h, r, r'] = scale * sum_{c, d} Q[b, h, r*Ww + c, d] *
    K[b, g, r'*Ww + c, d]` (`[B, H, Hh, Hh]`); `axis = "col"` contracts
    each column over the rows: `S[b, h, c, c'] = scale * sum_{r, d}
    Q[b, h, r*Ww + c, d] * K[b, g, r*Ww + c', d]` (`[B, H, Ww, Ww]`);
    `g = h / (H / G)`.  Couplformer's two maps (spec V5).

    ```mlir
    %a = attn.axial_score %q, %k axis = "row" grid = [14, 14] scale = 3.535534e-01
        : tensor<1x4x196x64xf32>, tensor<1x4x196x64xf32> -> tensor<1x4x14x14xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       StrAttr:$axis, DenseI64ArrayAttr:$grid,
                       F64Attr:$scale);
  let results = (outs AnyRankedTensor:$scores);
  let assemblyFormat = [{
    $query `,` $key `axis` `=` $axis `grid` `=` $grid `scale` `=` $scale
    attr-dict `:` type($query) `,` type($key) `->` type($scores)
  }];
  let hasVerifier = 1;
}

def Attn_SeparableOp : Attn_Op<"separable", [Pure]> {
  let summary = "Values weighted by a Kronecker map (P7 separable)";
  let description = [{
    `O[b, h, r*Ww + c, :] = sum_{r', c'} A[b, h, r, r'] * Bm[b, h, c, c'] *
    V[b, g, r'*Ww + c', :]`, i.e. `O[:, :, d] = A V[:, :, d] Bm^T` per
    channel: full attention with the map `A (x) Bm` over the `N = Hh * Ww`
    grid tokens, never formed (Couplformer, spec V5).  `A: [B, H, Hh, Hh]`
    and `Bm: [B, H, Ww, Ww]` are the normalized row and column maps.
    `form` (set by `--attn-select-forms`) is `separable`.

    ```mlir
    %o = attn.separable %a, %bm, %v grid = [14, 14] form = separable
        : tensor<1x4x14x14xf32>, tensor<1x4x14x14xf32>, tensor<1x4x196x64xf32>
        -> tensor<1x4x196x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$rows, AnyRankedTensor:$cols,
                       AnyRankedTensor:$value, DenseI64ArrayAttr:$grid,
                       OptionalAttr<Attn_KernelFormAttr>:$form);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $rows `,` $cols `,` $value `grid` `=` $grid (`form` `=` `` $form^)?
    attr-dict `:` type($rows) `,` type($cols) `,` type($value) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Attn_PairScoreOp : Attn_Op<"pair_score", [Pure]> {
  let summary = "Scores of every (query head, key head) pair (P3, pairing = all)";
  let description = [{
    `S[b, i, j, n, m] = scale * sum_d Q[b, i, n, d] * K[b, j, m, d]` for
    every query head `i` and key head `j` (`[B, H, G, N, M]`; plain
    attention keeps only `j = i`).  EIT's many-to-many mapping (spec V10).

    ```mlir
    %s = attn.pair_score %q, %k scale = 1.250000e-01
        : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32> -> tensor<1x4x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       F64Attr:$scale);
  let results = (outs AnyRankedTensor:$scores);
  let assemblyFormat = [{
    $query `,` $key `scale` `=` $scale attr-dict `:` type($query) `,`
    type($key) `->` type($scores)
  }];
  let hasVerifier = 1;
}

def Attn_HeadConvOp : Attn_Op<"head_conv", [Pure]> {
  let summary = "A k x k convolution of score maps that mixes heads (P4 map_conv)";
  let description = [{
    Zero-padded `k x k` cross-correlation over the (query, key) plane of
    attention maps, `p = (k - 1) / 2`, with `W: [H, C, k, k]`:

    * grouped (`input: [B, H, C, N, M]`, EIT's ISI): each head `h` mixes
      its own `C` maps, `Y[b, h, n, m] = sum_{c, a, e} W[h, c, a, e] *
      X[b, h, c, n + a - p, m + e - p]`;
    * full (`input: [B, C, N, M]`, EIT's CSI): every head mixes all `C`
      maps, `Y[b, h, n, m] = sum_{c, a, e} W[h, c, a, e] *
      X[b, c, n + a - p, m + e - p]`.

    Entries outside the `N x M` map are zero.  The result is `[B, H, N,
    M]`.  A map convolution needs the whole map: the kernels that contain
    it materialize the maps of a query tile and its halo (spec P4).

    ```mlir
    %c = attn.head_conv %s, %w : tensor<1x4x4x64x64xf32>, tensor<4x4x3x3xf32>
        -> tensor<1x4x64x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Attn_PackOp : Attn_Op<"pack", [Pure]> {
  let summary = "Luna's pack: keys and values attended by a memory (P9)";
  let description = [{
    The memory `P: [H, p, D]` attends to the keys: without `causal`,
    `Ps[b, h, l] = sum_j softmax_j(scale * P[h, l] . K[b, g, j]) V[b, g, j]`
    (`[B, H, p, Dv]`; keys `j >= kv_lengths[b]` excluded, a row with no key
    is zero).  With `causal` the result is the per-position prefix
    `Ps[b, h, i, l] = (1 / (i + 1)) sum_{j <= i} pi_j[l] V[b, g, j]` with
    `pi_j[l] = log2(1 + 2^(scale * P[h, l] . K[b, g, j]))`
    (`[B, H, N, p, Dv]`), Luna's causal form.  `g = h / (H / G)`.

    ```mlir
    %ps = attn.pack %k, %v, %mem rows = 16 scale = 1.250000e-01
        : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<8x16x64xf32>
        -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$key, AnyRankedTensor:$value,
                       AnyRankedTensor:$memory,
                       Optional<RankedTensorOf<[I32]>>:$kv_lengths,
                       I64Attr:$rows, F64Attr:$scale, UnitAttr:$causal);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $key `,` $value `,` $memory
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    `rows` `=` $rows `scale` `=` $scale attr-dict `:` type($key) `,`
    type($value) `,` type($memory) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_UnpackOp : Attn_Op<"unpack", [Pure]> {
  let summary = "Luna's unpack: queries attend to a packed sequence (P9)";
  let description = [{
    `O[b, h, i] = sum_l softmax_l(scale * Q[b, h, i] . Ps[b, h, l]) Ps[b, h, l]`
    over the `p` packed rows of `attn.pack` (keys and values tied); with a
    causal pack, query `i` reads its own rows `Ps[b, h, i, l]`.  `form`
    (set by `--attn-select-forms`) is `pack_unpack` or `luna_scan`.

    ```mlir
    %o = attn.unpack %q, %ps scale = 1.250000e-01 form = pack_unpack
        : tensor<1x8x128x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$packed,
                       F64Attr:$scale, OptionalAttr<Attn_KernelFormAttr>:$form);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $query `,` $packed `scale` `=` $scale (`form` `=` `` $form^)? attr-dict
    `:` type($query) `,` type($packed) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_EmaOp : Attn_Op<"ema", [Pure]> {
  let summary = "Mega's multi-dimensional damped EMA along the sequence (P8)";
  let description = [{
    `x: [B, L, C]`, `delta, alpha, beta, gamma: [C, n]`, `omega: [C]`
    (optional; required by `compat = "code"`), result `[B, L, C]`.  With
    `p = sigmoid(delta)`, `a = sigmoid(alpha)`, `q = 1 - p * a`:
    `K[c, t] = sum_k gamma[c,k] n^{-1/2} p[c,k] beta[c,k] q[c,k]^t` and
    `y[b, t, c] = sum_{s <= t} K[c, t - s] x[b, s, c]`; the result is `y`
    (`compat = "paper"`) or `silu(y + omega[c] x[b, t, c])`
    (`compat = "code"`, Mega's `MultiHeadEMA.forward`).  The kernel form
    `ema` lowers it as a chunked scan or, from the `fft_min_length` knob
    on, as an FFT long convolution (docs/LinearFamily.md §7).

    ```mlir
    %y = attn.ema %x, %delta, %alpha, %beta, %gamma compat = "paper"
        : tensor<2x1024x64xf32>, tensor<64x16xf32>, tensor<64x16xf32>,
          tensor<64x16xf32>, tensor<64x16xf32> -> tensor<2x1024x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$delta,
                       AnyRankedTensor:$alpha, AnyRankedTensor:$beta,
                       AnyRankedTensor:$gamma,
                       Optional<AnyRankedTensor>:$omega, StrAttr:$compat);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $delta `,` $alpha `,` $beta `,` $gamma
    (`omega` `(` $omega^ `:` type($omega) `)`)? `compat` `=` $compat
    attr-dict `:` type($input) `,` type($delta) `,` type($alpha) `,`
    type($beta) `,` type($gamma) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Attn_KernelOp : Attn_Op<"kernel", [IsolatedFromAbove]> {
  let summary = "A primitive chain that code generation fuses into one kernel";
  let description = [{
    Formed by `--attn-form-kernels`.  The body is isolated from above: every
    value it reads is an operand, mapped to the entry block's arguments in
    order.  `form` says how the backend lowers it; `schedule` holds the
    schedule knobs (empty: the backend's default heuristic).

    ```mlir
    %o = attn.kernel "mha" form = two_pass_tiled schedule = {}
        ins(%q, %k, %v : tensor<?x8x?x64xf32>, ...) -> tensor<?x8x?x64xf32> {
    ^bb0(%q0: tensor<?x8x?x64xf32>, ...):
      ...
      attn.yield %r : tensor<?x8x?x64xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, Attn_KernelFormAttr:$form,
                       DictionaryAttr:$schedule,
                       Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `form` `=` `` $form `schedule` `=` $schedule
    `ins` `(` $inputs `:` type($inputs) `)` attr-dict `->` type($results)
    $body
  }];
  let hasRegionVerifier = 1;
}

#endif // ATTN_DIALECT_ATTNOPS_TD
