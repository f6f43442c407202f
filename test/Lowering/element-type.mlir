// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// Argument element types the runtime cannot carry are rejected up front.
attn.variant @softmax normalize = softmax score {
} mask {
}
// expected-error @+1 {{element type 'i8' is not supported by the runtime}}
func.func @k(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>, %x: tensor<4xi8>) -> tensor<1x2x16x64xf32> {
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}
