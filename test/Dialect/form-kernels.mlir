// RUN: attn-opt %s --attn-decompose --attn-form-kernels --canonicalize | FileCheck %s

attn.variant @softmax normalize = softmax score {
} mask {
}

// The chain becomes one isolated kernel named after the function; the
// lengths tensor is an input, and the causal mask's extents are re-created
// inside (dynamic N and M as tensor.dim of the kernel's own arguments).
// CHECK-LABEL: func.func @padded_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x?x64xf32>, %[[K:.*]]: tensor<2x8x?x64xf32>, %[[V:.*]]: tensor<2x8x?x64xf32>, %[[L:.*]]: tensor<2xi32>)
// CHECK: %[[R:.*]] = attn.kernel "padded_causal" form = two_pass_tiled schedule = {} ins(%[[Q]], %[[K]], %[[L]], %[[V]] : tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32>, tensor<2xi32>, tensor<2x8x?x64xf32>) -> tensor<2x8x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[Q0:.*]]: tensor<2x8x?x64xf32>, %[[K0:.*]]: tensor<2x8x?x64xf32>, %[[L0:.*]]: tensor<2xi32>, %[[V0:.*]]: tensor<2x8x?x64xf32>):
// CHECK-DAG: tensor.dim %[[K0]]
// CHECK-DAG: tensor.dim %[[Q0]]
// CHECK: %[[S:.*]] = attn.score %[[Q0]], %[[K0]]
// CHECK: attn.mask %[[S]] {origin = "causal"}
// CHECK: tensor.extract %[[L0]]
// CHECK: attn.normalize softmax
// CHECK: %[[O:.*]] = attn.aggregate %{{.*}}, %[[V0]]
// CHECK: attn.yield %[[O]]
// CHECK: return %[[R]]
func.func @padded_causal(%q: tensor<2x8x?x64xf32>, %k: tensor<2x8x?x64xf32>, %v: tensor<2x8x?x64xf32>, %len: tensor<2xi32>) -> tensor<2x8x?x64xf32> {
  %o = attn.attention @softmax(%q, %k, %v) kv_lengths(%len : tensor<2xi32>) {causal} : tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32> -> tensor<2x8x?x64xf32>
  return %o : tensor<2x8x?x64xf32>
}

// Two attentions in one function give two kernels, numbered.
// CHECK-LABEL: func.func @two
// CHECK: attn.kernel "two" form
// CHECK: attn.kernel "two_1" form
func.func @two(%q: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %a = attn.attention @softmax(%q, %q, %q) : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  %b = attn.attention @softmax(%q, %q, %q) {causal} : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %a, %b : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}
