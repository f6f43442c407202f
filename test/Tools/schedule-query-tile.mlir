// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// A kernel formed by hand whose schedule knob --attn-attach-schedules
// rejects, at the kernel.
func.func @k(%q: tensor<1x2x16x64xf32> {attn.name = "q"}, %k: tensor<1x2x16x64xf32> {attn.name = "k"}, %v: tensor<1x2x16x64xf32> {attn.name = "v"}) -> tensor<1x2x16x64xf32> {
  // expected-error @+1 {{schedule knob 'query_tile' (50) must be a multiple of 'dot_query_block' (48)}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {query_tile = 50 : i64} ins(%q, %k, %v : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  ^bb0(%q0: tensor<1x2x16x64xf32>, %k0: tensor<1x2x16x64xf32>, %v0: tensor<1x2x16x64xf32>):
    %s = attn.score %q0, %k0 scale = 0.125 : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x16xf32>
    %a = attn.normalize softmax %s : tensor<1x2x16x16xf32>
    %r = attn.aggregate %a, %v0 : tensor<1x2x16x16xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
    attn.yield %r : tensor<1x2x16x64xf32>
  }
  return %o : tensor<1x2x16x64xf32>
}
