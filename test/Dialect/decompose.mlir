// RUN: attn-opt %s --split-input-file --attn-decompose | FileCheck %s

attn.variant @softmax normalize = softmax score {
} mask {
}

// Plain softmax: score (default scale rsqrt(64)), normalize, aggregate.
// CHECK-LABEL: func.func @plain
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x16x64xf32>, %[[K:.*]]: tensor<1x8x16x64xf32>, %[[V:.*]]: tensor<1x8x16x64xf32>)
// CHECK: %[[S:.*]] = attn.score %[[Q]], %[[K]] scale = 1.250000e-01
// CHECK-NOT: attn.mask
// CHECK: %[[A:.*]] = attn.normalize softmax %[[S]]
// CHECK: %[[O:.*]] = attn.aggregate %[[A]], %[[V]]
// CHECK: return %[[O]]
func.func @plain(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// Causal with N != M: bottom-right aligned, j <= i + (M - N), static extents
// become constants inside the mask.
// CHECK-LABEL: func.func @causal_cross
// CHECK: attn.score %{{.*}}, %{{.*}} scale = 5.000000e-01
// CHECK: attn.mask %{{.*}} {origin = "causal"} : tensor<1x2x4x8xf32> {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-DAG: %[[N:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[M:.*]] = arith.constant 8 : index
// CHECK: %[[OFF:.*]] = arith.subi %[[M]], %[[N]] : index
// CHECK: %[[LIM:.*]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK: %[[OK:.*]] = arith.cmpi sle, %[[J]], %[[LIM]] : index
// CHECK: attn.yield %[[OK]] : i1
func.func @causal_cross(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32> {
  %o = attn.attention @softmax(%q, %k, %v) {causal} : tensor<1x2x4x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

// Key padding: keys j >= kv_len[b] are excluded.
// CHECK-LABEL: func.func @padding
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<2xi32>
// CHECK: attn.mask %{{.*}} {origin = "kv_lengths"} : tensor<2x2x4x4xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: index, %{{.*}}: index, %{{.*}}: index, %[[J:.*]]: index):
// CHECK: %[[E:.*]] = tensor.extract %[[L]][%[[B]]] : tensor<2xi32>
// CHECK: %[[EI:.*]] = arith.index_cast %[[E]] : i32 to index
// CHECK: arith.cmpi slt, %[[J]], %[[EI]] : index
func.func @padding(%q: tensor<2x2x4x4xf32>, %k: tensor<2x2x4x4xf32>, %v: tensor<2x2x4x4xf32>, %len: tensor<2xi32>) -> tensor<2x2x4x4xf32> {
  %o = attn.attention @softmax(%q, %k, %v) kv_lengths(%len : tensor<2xi32>) : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
  return %o : tensor<2x2x4x4xf32>
}

// -----

// A variant's regions are cloned, its attn.dim resolved: static H becomes a
// constant, dynamic N a tensor.dim of the query placed before the chain.
attn.variant @v normalize = softmax scale = 2.500000e-01 score {
^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
  %nh = attn.dim H
  %n = attn.dim N
  %x = arith.addi %nh, %n : index
  %y = arith.index_cast %x : index to i64
  %z = arith.sitofp %y : i64 to f32
  %r = arith.subf %s, %z : f32
  attn.yield %r : f32
} mask {
^bb0(%b: index, %h: index, %i: index, %j: index):
  %ok = arith.cmpi sle, %j, %i : index
  attn.yield %ok : i1
}

// CHECK-LABEL: func.func @variant
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x8x?x64xf32>
// CHECK: attn.score %{{.*}}, %{{.*}} scale = 2.500000e-01
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[DIMN:.*]] = tensor.dim %[[Q]], %[[C2]]
// CHECK: attn.score_mod
// CHECK: %[[H:.*]] = arith.constant 8 : index
// CHECK: arith.addi %[[H]], %[[DIMN]] : index
// CHECK: attn.mask
// CHECK: arith.cmpi sle
// CHECK-NOT: origin
// CHECK: attn.normalize softmax
func.func @variant(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>, %v: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %o = attn.attention @v(%q, %k, %v) : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32> -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}
