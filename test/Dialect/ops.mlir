// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Round trip of every attn op in its custom form.

// CHECK-LABEL: attn.variant @softmax normalize = softmax scale = 5.000000e-01 score {
// CHECK-NEXT: } mask {
// CHECK-NEXT: }
attn.variant @softmax normalize = softmax scale = 0.5 score {
} mask {
}

// CHECK-LABEL: attn.variant @alibi normalize = softmax score {
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: index, %[[H:.*]]: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK:   %[[NH:.*]] = attn.dim H
// CHECK:   attn.yield %{{.*}} : f32
// CHECK: } mask {
// CHECK:   arith.cmpi sle
// CHECK:   attn.yield %{{.*}} : i1
attn.variant @alibi normalize = softmax score {
^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
  %nh = attn.dim H
  %d = arith.subi %i, %j : index
  %c = arith.index_cast %d : index to i64
  %f = arith.sitofp %c : i64 to f32
  %a = math.absf %f : f32
  %r = arith.subf %s, %a : f32
  attn.yield %r : f32
} mask {
^bb0(%b: index, %h: index, %i: index, %j: index):
  %ok = arith.cmpi sle, %j, %i : index
  attn.yield %ok : i1
}

// CHECK-LABEL: func.func @attention
// CHECK: attn.attention @alibi(%{{.*}}, %{{.*}}, %{{.*}}) kv_lengths(%{{.*}} : tensor<2xi32>) {causal, scale = 2.500000e-01 : f64}
func.func @attention(%q: tensor<2x8x?x64xf32>, %k: tensor<2x2x?x64xf32>, %v: tensor<2x2x?x64xf32>, %len: tensor<2xi32>) -> tensor<2x8x?x64xf32> {
  %o = attn.attention @alibi(%q, %k, %v) kv_lengths(%len : tensor<2xi32>) {causal, scale = 0.25 : f64} : tensor<2x8x?x64xf32>, tensor<2x2x?x64xf32>, tensor<2x2x?x64xf32> -> tensor<2x8x?x64xf32>
  return %o : tensor<2x8x?x64xf32>
}

// CHECK-LABEL: func.func @primitives
// CHECK: %[[S:.*]] = attn.score %{{.*}}, %{{.*}} scale = 1.250000e-01 : tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x32xf32>
// CHECK: %[[T:.*]] = attn.score_mod %[[S]] : tensor<1x4x16x32xf32> {
// CHECK: %[[M:.*]] = attn.mask %[[T]] : tensor<1x4x16x32xf32> {
// CHECK: %[[A:.*]] = attn.normalize softmax %[[M]] : tensor<1x4x16x32xf32>
// CHECK: attn.aggregate %[[A]], %{{.*}} : tensor<1x4x16x32xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x64xf32>
func.func @primitives(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x32x64xf32>, %v: tensor<1x4x32x64xf32>) -> tensor<1x4x16x64xf32> {
  %s = attn.score %q, %k scale = 0.125 : tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x32xf32>
  %t = attn.score_mod %s : tensor<1x4x16x32xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %c = math.tanh %x : f32
    attn.yield %c : f32
  }
  %m = attn.mask %t : tensor<1x4x16x32xf32> {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %ok = arith.cmpi sle, %j, %i : index
    attn.yield %ok : i1
  }
  %a = attn.normalize softmax %m : tensor<1x4x16x32xf32>
  %o = attn.aggregate %a, %v : tensor<1x4x16x32xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}

// CHECK-LABEL: func.func @choices
// CHECK: %[[K:.*]] = attn.knob "heads" in [4, 6, 8]
// CHECK: attn.choice "mixer" ["a", "b"] : index {
// CHECK:   attn.yield %[[K]] : index
// CHECK: }, {
func.func @choices() -> index {
  %k = attn.knob "heads" in [4, 6, 8]
  %r = attn.choice "mixer" ["a", "b"] : index {
    attn.yield %k : index
  }, {
    %c = arith.constant 1 : index
    attn.yield %c : index
  }
  return %r : index
}

// CHECK-LABEL: func.func @kernel
// CHECK: attn.kernel "k" form = two_pass_tiled schedule = {query_tile = 32 : i64} ins(%{{.*}} : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
func.func @kernel(%q: tensor<1x1x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = attn.kernel "k" form = two_pass_tiled schedule = {query_tile = 32 : i64} ins(%q, %k, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%q0: tensor<1x1x4x4xf32>, %k0: tensor<1x1x4x4xf32>, %v0: tensor<1x1x4x4xf32>):
    %s = attn.score %q0, %k0 scale = 0.5 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
    %a = attn.normalize softmax %s : tensor<1x1x4x4xf32>
    %r = attn.aggregate %a, %v0 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
    attn.yield %r : tensor<1x1x4x4xf32>
  }
  return %o : tensor<1x1x4x4xf32>
}
