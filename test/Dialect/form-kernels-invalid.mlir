// RUN: attn-opt %s --attn-form-kernels -split-input-file -verify-diagnostics -allow-unregistered-dialect

// Chains --attn-form-kernels refuses to fuse, each with its message.

func.func @not_normalized(%a: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{weights must come from attn.normalize to form a kernel}}
  %o = attn.aggregate %a, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

func.func @no_score(%s: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %a = attn.normalize softmax %s : tensor<1x1x4x4xf32>
  // expected-error @+1 {{score chain does not start at attn.score}}
  %o = attn.aggregate %a, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

func.func @shared(%q: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{result is used outside its attention chain; it cannot be fused}}
  %s = attn.score %q, %q scale = 0.5 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  %a = attn.normalize softmax %s : tensor<1x1x4x4xf32>
  %o = attn.aggregate %a, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %o, %s : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

func.func @foreign(%q: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{cannot be part of an attention kernel}}
  %s = "test.make_scores"(%q) : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %a = attn.normalize softmax %s : tensor<1x1x4x4xf32>
  %o = attn.aggregate %a, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}
