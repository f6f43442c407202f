// RUN: attnc %s --target opencl -emit=halide-cpp -verify-diagnostics

// A GPU schedule point over the per-block limits (1024 threads, 48 KiB of
// shared memory) is rejected at the kernel before anything is compiled.
func.func @k(%q: tensor<1x2x16x64xf32> {attn.name = "q"}, %k: tensor<1x2x16x64xf32> {attn.name = "k"}, %v: tensor<1x2x16x64xf32> {attn.name = "v"}) -> tensor<1x2x16x64xf32> {
  // expected-error @+1 {{the schedule uses 2048 threads per block; the target allows at most 1024}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {block_rows = 2048 : i64} ins(%q, %k, %v : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  ^bb0(%q0: tensor<1x2x16x64xf32>, %k0: tensor<1x2x16x64xf32>, %v0: tensor<1x2x16x64xf32>):
    %s = attn.score %q0, %k0 scale = 0.125 : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x16xf32>
    %a = attn.normalize softmax %s : tensor<1x2x16x16xf32>
    %r = attn.aggregate %a, %v0 : tensor<1x2x16x16xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
    attn.yield %r : tensor<1x2x16x64xf32>
  }
  return %o : tensor<1x2x16x64xf32>
}


// A CPU knob is not a GPU knob.
func.func @k2(%q: tensor<1x2x16x64xf32> {attn.name = "q"}, %k: tensor<1x2x16x64xf32> {attn.name = "k"}, %v: tensor<1x2x16x64xf32> {attn.name = "v"}) -> tensor<1x2x16x64xf32> {
  // expected-error @+1 {{unknown schedule knob 'query_tile' (known: block_rows, key_unroll)}}
  %o = attn.kernel "k2" form = two_pass_tiled schedule = {query_tile = 48 : i64} ins(%q, %k, %v : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  ^bb0(%q0: tensor<1x2x16x64xf32>, %k0: tensor<1x2x16x64xf32>, %v0: tensor<1x2x16x64xf32>):
    %s = attn.score %q0, %k0 scale = 0.125 : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x16xf32>
    %a = attn.normalize softmax %s : tensor<1x2x16x16xf32>
    %r = attn.aggregate %a, %v0 : tensor<1x2x16x16xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
    attn.yield %r : tensor<1x2x16x64xf32>
  }
  return %o : tensor<1x2x16x64xf32>
}
