// RUN: attn-opt %s -split-input-file -verify-diagnostics
// Verifier messages of the architecture block ops.

func.func @mode(%x: tensor<1x4x8xf32>, %w: tensor<8x8xf32>) {
  // expected-error@+1 {{mode must be mul, adder or shift, got 'div'}}
  %0 = attn.linear "div" %x, %w : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @weight_shape(%x: tensor<1x4x8xf32>, %w: tensor<8x16xf32>) {
  // expected-error@+1 {{weight must have shape [16, 8], got 'tensor<8x16xf32>'}}
  %0 = attn.linear "mul" %x, %w : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @shift_params(%x: tensor<1x4x8xf32>, %w: tensor<8x8xi32>) {
  // expected-error@+1 {{mode 'shift' takes [shift, sign, bias?] parameters, got 1}}
  %0 = attn.linear "shift" %x, %w : (tensor<1x4x8xf32>, tensor<8x8xi32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @shift_type(%x: tensor<1x4x8xf32>, %w: tensor<8x8xf32>) {
  // expected-error@+1 {{shift weights must be i32}}
  %0 = attn.linear "shift" %x, %w, %w : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @norm(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>) {
  // expected-error@+1 {{layernorm takes 2 parameter(s), got 1}}
  %0 = attn.norm "layernorm" %x, %g {eps = 1.0e-5 : f64} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @eps(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>) {
  // expected-error@+1 {{eps must be positive}}
  %0 = attn.norm "rmsnorm" %x, %g {eps = 0.0 : f64} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @act(%x: tensor<1x4x8xf32>) {
  // expected-error@+1 {{kind must be gelu, relu or silu, got 'tanh'}}
  %0 = attn.act "tanh" %x : tensor<1x4x8xf32>
  return
}

// -----

func.func @split(%x: tensor<1x4x8xf32>) {
  // expected-error@+1 {{input must be [B, N, H*D] with H = 3}}
  %0 = attn.split_heads %x {heads = 3 : i64} : tensor<1x4x8xf32> -> tensor<1x3x4x2xf32>
  return
}

// -----

func.func @merge(%x: tensor<1x2x4x4xf32>) {
  // expected-error@+1 {{result must have shape [1, 4, 8], got 'tensor<1x4x4xf32>'}}
  %0 = attn.merge_heads %x : tensor<1x2x4x4xf32> -> tensor<1x4x4xf32>
  return
}

// -----

func.func @slice(%x: tensor<1x4x8xf32>) {
  // expected-error@+1 {{range [4, 12) is not inside the 8 channels}}
  %0 = attn.slice %x {offset = 4 : i64, size = 8 : i64} : tensor<1x4x8xf32> -> tensor<1x4x8xf32>
  return
}

// -----

func.func @concat(%a: tensor<1x4x8xf32>, %b: tensor<1x5x8xf32>) {
  // expected-error@+1 {{operands must differ only in the last axis}}
  %0 = attn.concat %a, %b : tensor<1x4x8xf32>, tensor<1x5x8xf32> -> tensor<1x4x16xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<1x4x8xf32>, %w: tensor<8x3xf32>) {
  // expected-error@+1 {{padding must be same or causal}}
  %0 = attn.conv "conv1d" %x, %w {mode = "mul", padding = "valid", window = 3 : i64, stride = 1 : i64} : (tensor<1x4x8xf32>, tensor<8x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @conv_grid(%x: tensor<1x16x8xf32>, %w: tensor<8x3x3xf32>) {
  // expected-error@+1 {{conv2d needs a grid [Hh, Ww] holding the 16 tokens}}
  %0 = attn.conv "conv2d" %x, %w {mode = "mul", padding = "same", window = 3 : i64, stride = 1 : i64, grid = array<i64: 3, 3>} : (tensor<1x16x8xf32>, tensor<8x3x3xf32>) -> tensor<1x16x8xf32>
  return
}

// -----

func.func @pool(%x: tensor<1x16x8xf32>) {
  // expected-error@+1 {{window must be positive and fit the grid}}
  %0 = attn.pool "avg" %x {grid = array<i64: 4, 4>, window = 5 : i64, stride = 1 : i64} : tensor<1x16x8xf32> -> tensor<1x1x8xf32>
  return
}

// -----

func.func @pool_result(%x: tensor<1x16x8xf32>) {
  // expected-error@+1 {{result must have shape [1, 4, 8], got 'tensor<1x16x8xf32>'}}
  %0 = attn.pool "avg" %x {grid = array<i64: 4, 4>, window = 2 : i64, stride = 2 : i64} : tensor<1x16x8xf32> -> tensor<1x16x8xf32>
  return
}

// -----

func.func @static(%x: tensor<1x?x8xf32>) {
  // expected-error@+1 {{needs static shapes, got 'tensor<1x?x8xf32>'}}
  %0 = attn.act "relu" %x : tensor<1x?x8xf32>
  return
}

// -----

func.func @scores_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>) {
  // expected-error@+1 {{the keys must have the batch of the queries and a head count dividing 4}}
  %0 = attn.scores %q, %k {scale = 0.25 : f64} : tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32> -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @scores_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x8xf32>) {
  // expected-error@+1 {{query and key head dims differ}}
  %0 = attn.scores %q, %k {scale = 0.25 : f64} : tensor<1x4x8x16xf32>, tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @blend(%a: tensor<1x4x8x8xf32>) {
  // expected-error@+1 {{weight must be in [0, 1], got 1.5}}
  %0 = attn.blend %a, %a {weight = 1.5 : f64} : tensor<1x4x8x8xf32>
  return
}

// -----

func.func @map_conv(%a: tensor<1x4x8x8xf32>, %w: tensor<4x4x2x2xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{weight must be [H, H, k, k] with H = 4 and an odd k}}
  %0 = attn.map_conv %a, %w, %b {act = "none"} : (tensor<1x4x8x8xf32>, tensor<4x4x2x2xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @map_conv_act(%a: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{act must be none or leaky_relu}}
  %0 = attn.map_conv %a, %w, %b {act = "gelu"} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @attend(%a: tensor<1x4x8x8xf32>, %v: tensor<1x4x6x16xf32>) {
  // expected-error@+1 {{the map has 8 columns but there are 6 values}}
  %0 = attn.attend %a, %v : tensor<1x4x8x8xf32>, tensor<1x4x6x16xf32> -> tensor<1x4x8x16xf32>
  return
}
