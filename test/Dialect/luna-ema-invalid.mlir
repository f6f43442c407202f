// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Verifier messages of attn.pack, attn.unpack, attn.ema and the Luna
// variant attribute.

// expected-error @+1 {{pack needs a positive integer 'rows'}}
attn.variant @luna0 normalize = softmax attributes {pack = {operand = 0 : i64, rows = 0 : i64}} score {} mask {}

// -----

// expected-error @+1 {{Luna's pack needs normalize = softmax and no score, mask, feature or weight}}
attn.variant @lunasum normalize = sum eps = 1.0 attributes {pack = {operand = 0 : i64, rows = 4 : i64}} score {} mask {}

// -----

func.func @rows(%k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %m: tensor<2x5x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{memory has 5 rows but rows = 4}}
  %p = attn.pack %k, %v, %m rows = 4 scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x5x8xf32> -> tensor<1x2x4x8xf32>
  return %p : tensor<1x2x4x8xf32>
}

// -----

func.func @tied(%k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %m: tensor<2x4x8xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{head dim (Luna ties keys and values) mismatch: key has 8 (dim 3) but value has 4 (dim 3)}}
  %p = attn.pack %k, %v, %m rows = 4 scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<2x4x8xf32> -> tensor<1x2x4x4xf32>
  return %p : tensor<1x2x4x4xf32>
}

// -----

func.func @causalrank(%k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %m: tensor<2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{result must have rank 5 ([B, H, N, rows, Dv])}}
  %p = attn.pack %k, %v, %m rows = 4 scale = 1.0 {causal} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %p : tensor<1x2x4x8xf32>
}

// -----

func.func @unpackdim(%q: tensor<1x2x16x8xf32>, %p: tensor<1x2x4x6xf32>) -> tensor<1x2x16x6xf32> {
  // expected-error @+1 {{head dim mismatch: query has 8 (dim 3) but packed has 6 (dim 3)}}
  %o = attn.unpack %q, %p scale = 1.0 : tensor<1x2x16x8xf32>, tensor<1x2x4x6xf32> -> tensor<1x2x16x6xf32>
  return %o : tensor<1x2x16x6xf32>
}

// -----

func.func @emarank(%x: tensor<64x8xf32>, %d: tensor<8x4xf32>) -> tensor<64x8xf32> {
  // expected-error @+1 {{input must be a float tensor [batch, length, channels]}}
  %y = attn.ema %x, %d, %d, %d, %d compat = "paper" : tensor<64x8xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32> -> tensor<64x8xf32>
  return %y : tensor<64x8xf32>
}

// -----

func.func @emachannels(%x: tensor<1x64x8xf32>, %d: tensor<7x4xf32>) -> tensor<1x64x8xf32> {
  // expected-error @+1 {{channels mismatch: delta has 7 (dim 0) but input has 8 (dim 2)}}
  %y = attn.ema %x, %d, %d, %d, %d compat = "paper" : tensor<1x64x8xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<7x4xf32> -> tensor<1x64x8xf32>
  return %y : tensor<1x64x8xf32>
}

// -----

func.func @emaorder(%x: tensor<1x64x8xf32>, %d: tensor<8x4xf32>, %g: tensor<8x3xf32>) -> tensor<1x64x8xf32> {
  // expected-error @+1 {{ema_dim mismatch: gamma has 3 (dim 1) but delta has 4 (dim 1)}}
  %y = attn.ema %x, %d, %d, %d, %g compat = "paper" : tensor<1x64x8xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x3xf32> -> tensor<1x64x8xf32>
  return %y : tensor<1x64x8xf32>
}

// -----

func.func @emacode(%x: tensor<1x64x8xf32>, %d: tensor<8x4xf32>) -> tensor<1x64x8xf32> {
  // expected-error @+1 {{compat = "code" needs omega (the skip weight of silu(y + omega * x))}}
  %y = attn.ema %x, %d, %d, %d, %d compat = "code" : tensor<1x64x8xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32> -> tensor<1x64x8xf32>
  return %y : tensor<1x64x8xf32>
}

// -----

func.func @emacompat(%x: tensor<1x64x8xf32>, %d: tensor<8x4xf32>) -> tensor<1x64x8xf32> {
  // expected-error @+1 {{compat must be "paper" or "code", got "fairseq"}}
  %y = attn.ema %x, %d, %d, %d, %d compat = "fairseq" : tensor<1x64x8xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32> -> tensor<1x64x8xf32>
  return %y : tensor<1x64x8xf32>
}
