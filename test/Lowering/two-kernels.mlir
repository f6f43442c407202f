// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// One entry point computes one fused attention (architectures with several
// attention calls come with the whole-architecture issue).
attn.variant @softmax normalize = softmax score {
} mask {
}
// expected-error @+1 {{a kernel function must contain exactly one fused attention kernel, found 2}}
func.func @k(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %a = attn.attention @softmax(%q, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  %o = attn.attention @softmax(%a, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}
