// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// Linear-family normalizers exist in the dialect; the backend does not
// lower them yet and says so.
attn.variant @linear normalize = sum score {
} mask {
}
func.func @k(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  // expected-error @+1 {{'attn.normalize' op normalizer 'sum' is not supported by the attnc backend yet (only softmax)}}
  %o = attn.attention @linear(%q, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}
