// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// A score modifier using an op the backend cannot lower is a diagnostic at
// that op, not a crash.
attn.variant @atan normalize = softmax score {
^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
  // expected-error @+1 {{'math.atan' op is not supported in a score modifier or mask by the attnc backend}}
  %a = math.atan %s : f32
  attn.yield %a : f32
} mask {
}
func.func @k(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %o = attn.attention @atan(%q, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}
