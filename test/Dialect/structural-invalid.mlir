// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Verifier messages of the structural variants (issue 5): the partition
// and map attributes of attn.variant, what attn.attention checks against
// them, and attn.axial_score, attn.separable, attn.pair_score and
// attn.head_conv.

// expected-error @+1 {{unknown partition {kind = "strips"} (expected kind = "window2d")}}
attn.variant @p0 normalize = softmax attributes {partition = {kind = "strips"}} score {} mask {}

// -----

// expected-error @+1 {{window2d needs a grid of two positive extents (array<i64: rows, cols>)}}
attn.variant @p1 normalize = softmax attributes {partition = {grid = array<i64: 8>, kind = "window2d", shift = 0 : i64, window = 4 : i64}} score {} mask {}

// -----

// expected-error @+1 {{window2d needs a positive 'window'}}
attn.variant @p2 normalize = softmax attributes {partition = {grid = array<i64: 8, 8>, kind = "window2d", shift = 0 : i64, window = 0 : i64}} score {} mask {}

// -----

// expected-error @+1 {{window2d needs a 'shift' in [0, window)}}
attn.variant @p3 normalize = softmax attributes {partition = {grid = array<i64: 8, 8>, kind = "window2d", shift = 4 : i64, window = 4 : i64}} score {} mask {}

// -----

// expected-error @+1 {{window2d's window (9) exceeds the grid's smaller side (8); the frontend shrinks it to that side}}
attn.variant @p4 normalize = softmax attributes {partition = {grid = array<i64: 8, 8>, kind = "window2d", shift = 0 : i64, window = 9 : i64}} score {} mask {}

// -----

// expected-error @+1 {{window2d's 'bias' must be a non-negative integer (the attention's variant operand)}}
attn.variant @p5 normalize = softmax attributes {partition = {bias = -1 : i64, grid = array<i64: 8, 8>, kind = "window2d", shift = 0 : i64, window = 4 : i64}} score {} mask {}

// -----

// expected-error @+1 {{a partition needs normalize = softmax and no pack or map}}
attn.variant @p6 normalize = sum eps = 1.0 attributes {partition = {grid = array<i64: 8, 8>, kind = "window2d", shift = 0 : i64, window = 4 : i64}} score {} mask {}

// -----

// expected-error @+1 {{unknown map {kind = "axial"} (expected kind = "coupler" or "emha")}}
attn.variant @m0 normalize = softmax attributes {map = {kind = "axial"}} score {} mask {}

// -----

// expected-error @+1 {{coupler needs a grid of two positive extents (array<i64: rows, cols>)}}
attn.variant @m1 normalize = softmax attributes {map = {grid = array<i64: 0, 8>, kind = "coupler"}} score {} mask {}

// -----

// expected-error @+1 {{emha needs non-negative integers 'isi' and 'csi' (the attention's variant operands)}}
attn.variant @m2 normalize = softmax attributes {map = {isi = 0 : i64, kernel = 3 : i64, kind = "emha"}} score {} mask {}

// -----

// expected-error @+1 {{emha needs a positive odd 'kernel'}}
attn.variant @m3 normalize = softmax attributes {map = {csi = 1 : i64, isi = 0 : i64, kernel = 2 : i64, kind = "emha"}} score {} mask {}

// -----

// expected-error @+1 {{a map needs normalize = softmax and no score, mask or pack}}
attn.variant @m4 normalize = softmax attributes {map = {grid = array<i64: 4, 4>, kind = "coupler"}} score {} mask {
^bb0(%b: index, %h: index, %i: index, %j: index):
  %t = arith.constant true
  attn.yield %t : i1
}

// -----

attn.variant @grid normalize = softmax attributes {partition = {grid = array<i64: 4, 4>, kind = "window2d", shift = 0 : i64, window = 2 : i64}} score {} mask {}
func.func @tokens(%q: tensor<1x2x15x8xf32>) -> tensor<1x2x15x8xf32> {
  // expected-error @+1 {{variant @grid works on a 4 x 4 grid of 16 tokens, but N = 15 and M = 15}}
  %o = attn.attention @grid(%q, %q, %q) : tensor<1x2x15x8xf32>, tensor<1x2x15x8xf32>, tensor<1x2x15x8xf32> -> tensor<1x2x15x8xf32>
  return %o : tensor<1x2x15x8xf32>
}

// -----

attn.variant @biased normalize = softmax attributes {partition = {bias = 0 : i64, grid = array<i64: 4, 4>, kind = "window2d", shift = 0 : i64, window = 2 : i64}} score {} mask {}
func.func @operand(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{variant @biased reads operand #0 but the attention has 0 operands}}
  %o = attn.attention @biased(%q, %q, %q) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

attn.variant @cpl normalize = softmax attributes {map = {grid = array<i64: 4, 4>, kind = "coupler"}} score {} mask {}
func.func @coupler_causal(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{variant @cpl (coupler) takes neither causal nor kv_lengths}}
  %o = attn.attention @cpl(%q, %q, %q) {causal} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

attn.variant @eit normalize = softmax attributes {map = {csi = 1 : i64, isi = 0 : i64, kernel = 3 : i64, kind = "emha"}} score {} mask {}
func.func @emha_gqa(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @+1 {{emha pairs every query head with every key head: the key/value heads (2) must equal the query heads (4)}}
  %o = attn.attention @eit(%q, %k, %k) operands(%w, %w : tensor<4x4x3x3xf32>, tensor<4x4x3x3xf32>) : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>
  return %o : tensor<1x4x16x8xf32>
}

// -----

func.func @axis(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{axis must be "row" or "col", got "diag"}}
  %a = attn.axial_score %q, %q axis = "diag" grid = [4, 4] scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

func.func @axial_tokens(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{the 4 x 5 grid has 20 tokens, but the query has 16 and the key 16}}
  %a = attn.axial_score %q, %q axis = "row" grid = [4, 5] scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

func.func @axial_result(%q: tensor<1x2x24x8xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{result must be an f32 map [B, H, 6, 6] for axis "col", got 'tensor<1x2x4x4xf32>'}}
  %a = attn.axial_score %q, %q axis = "col" grid = [4, 6] scale = 1.0 : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

func.func @separable_maps(%a: tensor<1x2x4x4xf32>, %b: tensor<1x2x5x5xf32>, %v: tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32> {
  // expected-error @+1 {{cols must be an f32 map [B, H, 6, 6], got 'tensor<1x2x5x5xf32>'}}
  %o = attn.separable %a, %b, %v grid = [4, 6] : tensor<1x2x4x4xf32>, tensor<1x2x5x5xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x24x8xf32>
  return %o : tensor<1x2x24x8xf32>
}

// -----

func.func @separable_tokens(%a: tensor<1x2x4x4xf32>, %b: tensor<1x2x6x6xf32>, %v: tensor<1x2x20x8xf32>) -> tensor<1x2x20x8xf32> {
  // expected-error @+1 {{the 4 x 6 grid has 24 tokens, but the value has 20 and the result 20}}
  %o = attn.separable %a, %b, %v grid = [4, 6] : tensor<1x2x4x4xf32>, tensor<1x2x6x6xf32>, tensor<1x2x20x8xf32> -> tensor<1x2x20x8xf32>
  return %o : tensor<1x2x20x8xf32>
}

// -----

func.func @pair_rank(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x16xf32> {
  // expected-error @+1 {{result must be an f32 tensor [B, H, G, N, M] (query head, key head, query, key), got 'tensor<1x2x16x16xf32>'}}
  %s = attn.pair_score %q, %q scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x16xf32>
  return %s : tensor<1x2x16x16xf32>
}

// -----

func.func @pair_heads(%q: tensor<1x2x16x8xf32>, %k: tensor<1x3x16x8xf32>) -> tensor<1x2x2x16x16xf32> {
  // expected-error @+1 {{key heads mismatch: scores has 2 (dim 2) but key has 3 (dim 1)}}
  %s = attn.pair_score %q, %k scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x2x2x16x16xf32>
  return %s : tensor<1x2x2x16x16xf32>
}

// -----

func.func @conv_even(%s: tensor<1x2x2x16x16xf32>, %w: tensor<2x2x2x2xf32>) -> tensor<1x2x16x16xf32> {
  // expected-error @+1 {{the kernel size must be odd (zero padding (k - 1) / 2 on each side), got 2}}
  %c = attn.head_conv %s, %w : tensor<1x2x2x16x16xf32>, tensor<2x2x2x2xf32> -> tensor<1x2x16x16xf32>
  return %c : tensor<1x2x16x16xf32>
}

// -----

func.func @conv_channels(%s: tensor<1x2x3x16x16xf32>, %w: tensor<2x2x3x3xf32>) -> tensor<1x2x16x16xf32> {
  // expected-error @+1 {{input channels mismatch: weight has 2 (dim 1) but input has 3 (dim 2)}}
  %c = attn.head_conv %s, %w : tensor<1x2x3x16x16xf32>, tensor<2x2x3x3xf32> -> tensor<1x2x16x16xf32>
  return %c : tensor<1x2x16x16xf32>
}

// -----

func.func @conv_rank(%s: tensor<16x16xf32>, %w: tensor<2x2x3x3xf32>) -> tensor<1x2x16x16xf32> {
  // expected-error @+1 {{input must be f32 maps [B, H, C, N, M] (grouped) or [B, C, N, M] (full), got 'tensor<16x16xf32>'}}
  %c = attn.head_conv %s, %w : tensor<16x16xf32>, tensor<2x2x3x3xf32> -> tensor<1x2x16x16xf32>
  return %c : tensor<1x2x16x16xf32>
}
