// Architecture-level IR as the frontend produces it for a causal MHA with a
// symbolic length; shared by the Tools tests.
attn.variant @softmax normalize = softmax score {
} mask {
}
func.func @mha(%q: tensor<1x8x?x64xf32> {attn.dims = ["B", "H", "N", "D"], attn.name = "q"}, %k: tensor<1x8x?x64xf32> {attn.dims = ["B", "H", "N", "D"], attn.name = "k"}, %v: tensor<1x8x?x64xf32> {attn.dims = ["B", "H", "N", "D"], attn.name = "v"}) -> (tensor<1x8x?x64xf32> {attn.dims = ["B", "H", "N", "D"], attn.name = "out"}) attributes {attn.kernel} {
  %o = attn.attention @softmax(%q, %k, %v) {causal} : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32> -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}
