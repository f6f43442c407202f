// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-select-forms

// Verifier messages of the linear-family IR (docs/LinearFamily.md).

// expected-error @+1 {{'attn.variant' op normalize = sum needs eps}}
attn.variant @noeps normalize = sum score {} mask {}

// -----

// expected-error @+1 {{eps must be positive, got -1.000000e+00}}
attn.variant @negeps normalize = sum eps = -1.0 score {} mask {}

// -----

// expected-error @+1 {{eps and clamp apply only to normalize = sum}}
attn.variant @noneeps normalize = none eps = 1.0 score {} mask {}

// -----

// expected-error @+1 {{feature maps, expansions and Toeplitz weights need normalize = sum or none, not softmax}}
attn.variant @sm normalize = softmax score {} mask {} feature {
^bb0(%x: f32):
  attn.yield %x : f32
}

// -----

// expected-error @+1 {{(linear family) admits no score modifier or mask region: they break the factorization}}
attn.variant @masked normalize = sum eps = 1.0 score {} mask {
^bb0(%b: index, %h: index, %i: index, %j: index):
  %t = arith.constant true
  attn.yield %t : i1
}

// -----

// expected-error @+1 {{random_features needs a positive integer 'features'}}
attn.variant @prf0 normalize = sum eps = 1.0 attributes {random_features = {features = 0 : i64, seed = 0 : i64}} score {} mask {}

// -----

// expected-error @+1 {{momentum beta must be in [0, 1), got 1.000000e+00}}
attn.variant @beta1 normalize = sum eps = 1.0 attributes {weight = {kind = "momentum", beta = 1.0 : f64, gamma = 1.0 : f64}} score {} mask {}

// -----

// expected-error @+1 {{unknown weight kind 'alibi' (expected momentum or rpe)}}
attn.variant @wk normalize = sum eps = 1.0 attributes {weight = {kind = "alibi"}} score {} mask {}

// -----

// expected-error @+1 {{expand region must yield one or more f32 factors}}
attn.variant @ex normalize = sum eps = 1.0 score {} mask {} expand {
^bb0(%i: index):
  attn.yield %i : index
}

// -----

attn.variant @mom normalize = sum eps = 1.0 attributes {weight = {kind = "momentum", beta = 0.5 : f64, gamma = 1.0 : f64}} score {} mask {}
func.func @noncausal(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{the momentum weight is defined for causal attention only; add causal = true}}
  %o = attn.attention @mom(%q, %k, %v) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

attn.variant @lin normalize = sum eps = 1.0 score {} mask {}
func.func @cross(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{causal linear-family attention needs as many keys as queries (self-attention), got N = 16 and M = 32}}
  %o = attn.attention @lin(%q, %k, %v) {causal} : tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

attn.variant @rpe normalize = sum eps = 1.0 attributes {weight = {kind = "rpe", operand = 0 : i64}} score {} mask {}
func.func @nobias(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{variant @rpe reads operand #0 but the attention has 0 operands}}
  %o = attn.attention @rpe(%q, %k, %v) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @evenbias(%s: tensor<1x2x16x16xf32>, %b: tensor<2x30xf32>) -> tensor<1x2x16x16xf32> {
  // expected-error @+1 {{bias needs an odd number of relative positions (2W+1), got 30}}
  %w = attn.toeplitz %s bias(%b : tensor<2x30xf32>) {weight = {kind = "rpe"}} : tensor<1x2x16x16xf32>
  return %w : tensor<1x2x16x16xf32>
}

// -----

func.func @width(%x: tensor<1x2x16x8xf32>) -> tensor<1x2x16x9xf32> {
  // expected-error @+1 {{result feature width must be 8 (8 x 1 expansion factors), got 9}}
  %f = attn.feature %x role = "query" : tensor<1x2x16x8xf32> -> tensor<1x2x16x9xf32>
  return %f : tensor<1x2x16x9xf32>
}

// -----

func.func @role(%x: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{role must be "query" or "key", got "value"}}
  %f = attn.feature %x role = "value" : tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %f : tensor<1x2x16x8xf32>
}

// -----

attn.variant @lin normalize = sum eps = 1.0 score {} mask {}
func.func @windowed(%s: tensor<1x2x16x16xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{cannot be applied to a linear-family attention: only causal and kv_lengths masks keep the factorization}}
  %m = attn.mask %s {origin = "variant"} : tensor<1x2x16x16xf32> {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.cmpi ule, %j, %i : index
    attn.yield %t : i1
  }
  %a = attn.normalize sum %m eps = 1.0 : tensor<1x2x16x16xf32>
  %o = attn.aggregate %a, %v : tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
