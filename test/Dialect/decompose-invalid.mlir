// RUN: attn-opt %s --attn-decompose -split-input-file -verify-diagnostics

attn.variant @softmax normalize = softmax score {} mask {}

func.func @dynamic_head_dim(%q: tensor<1x8x16x?xf32>, %k: tensor<1x8x16x?xf32>, %v: tensor<1x8x16x?xf32>) -> tensor<1x8x16x?xf32> {
  // expected-error @+1 {{the head dim is dynamic, so the default scale rsqrt(D) is unknown at compile time; give 'scale' explicitly}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x?xf32>, tensor<1x8x16x?xf32>, tensor<1x8x16x?xf32> -> tensor<1x8x16x?xf32>
  return %o : tensor<1x8x16x?xf32>
}
