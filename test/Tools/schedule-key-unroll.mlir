// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// A kernel formed by hand whose schedule knob --attn-attach-schedules
// rejects, at the kernel.
func.func @k(%q: tensor<1x2x16x64xf32> {attn.name = "q"}, %k: tensor<1x2x16x64xf32> {attn.name = "k"}, %v: tensor<1x2x16x64xf32> {attn.name = "v"}) -> tensor<1x2x16x64xf32> {
  // expected-error @+1 {{schedule knob 'key_unroll' = 0 is outside [1, 32]: keys per register block of Q.K^T}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {key_unroll = 0 : i64} ins(%q, %k, %v : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  ^bb0(%q0: tensor<1x2x16x64xf32>, %k0: tensor<1x2x16x64xf32>, %v0: tensor<1x2x16x64xf32>):
    %s = attn.score %q0, %k0 scale = 0.125 : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x16xf32>
    %a = attn.normalize softmax %s : tensor<1x2x16x16xf32>
    %r = attn.aggregate %a, %v0 : tensor<1x2x16x16xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
    attn.yield %r : tensor<1x2x16x64xf32>
  }
  return %o : tensor<1x2x16x64xf32>
}
