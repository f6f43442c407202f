// RUN: attnc %s -emit=halide-cpp -verify-diagnostics

// A mask may read extents of the query, key and value only.
attn.variant @softmax normalize = softmax score {
} mask {
}
func.func @k(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>, %w: tensor<?xi32>) -> tensor<1x2x16x64xf32> {
  %s = attn.score %q, %k scale = 0.125 : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x16xf32>
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'tensor.dim' op reads an extent that is not a dimension of the query, key or value}}
  %n = tensor.dim %w, %c0 : tensor<?xi32>
  %m = attn.mask %s : tensor<1x2x16x16xf32> {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %ok = arith.cmpi slt, %j, %n : index
    attn.yield %ok : i1
  }
  %a = attn.normalize softmax %m : tensor<1x2x16x16xf32>
  %o = attn.aggregate %a, %v : tensor<1x2x16x16xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}
