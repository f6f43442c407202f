// RUN: attn-opt %s | attn-opt | FileCheck %s
// The architecture block ops print and parse back.

// CHECK-LABEL: func.func @blocks
func.func @blocks(%x: tensor<1x16x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>,
                  %w: tensor<64x32xf32>, %bias: tensor<64xf32>,
                  %s: tensor<64x32xi32>, %sg: tensor<64x32xi32>,
                  %cw: tensor<16x3xf32>, %w2: tensor<32x3x3xf32>) -> tensor<1x16x32xf32> {
  // CHECK: attn.norm "layernorm" %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64}
  %n = attn.norm "layernorm" %x, %g, %b {eps = 1.0e-5 : f64} : (tensor<1x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
  // CHECK: attn.norm "rmsnorm"
  %r = attn.norm "rmsnorm" %n, %g {eps = 1.0e-6 : f64} : (tensor<1x16x32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
  // CHECK: attn.linear "mul"
  %l = attn.linear "mul" %r, %w, %bias : (tensor<1x16x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
  // CHECK: attn.linear "adder"
  %a = attn.linear "adder" %r, %w : (tensor<1x16x32xf32>, tensor<64x32xf32>) -> tensor<1x16x64xf32>
  // CHECK: attn.linear "shift"
  %sh = attn.linear "shift" %r, %s, %sg, %bias : (tensor<1x16x32xf32>, tensor<64x32xi32>, tensor<64x32xi32>, tensor<64xf32>) -> tensor<1x16x64xf32>
  // CHECK: attn.act "gelu"
  %gl = attn.act "gelu" %l : tensor<1x16x64xf32>
  // CHECK: attn.add
  %sum = attn.add %gl, %a : tensor<1x16x64xf32>
  // CHECK: attn.split_heads %{{.*}} {heads = 4 : i64} : tensor<1x16x64xf32> -> tensor<1x4x16x16xf32>
  %h = attn.split_heads %sum {heads = 4 : i64} : tensor<1x16x64xf32> -> tensor<1x4x16x16xf32>
  // CHECK: attn.merge_heads
  %m = attn.merge_heads %h : tensor<1x4x16x16xf32> -> tensor<1x16x64xf32>
  // CHECK: attn.slice %{{.*}} {offset = 16 : i64, size = 16 : i64}
  %lo = attn.slice %m {offset = 16 : i64, size = 16 : i64} : tensor<1x16x64xf32> -> tensor<1x16x16xf32>
  // CHECK: attn.conv "conv1d"
  %c = attn.conv "conv1d" %lo, %cw {mode = "adder", padding = "causal", window = 3 : i64, stride = 1 : i64} : (tensor<1x16x16xf32>, tensor<16x3xf32>) -> tensor<1x16x16xf32>
  // CHECK: attn.concat
  %cat = attn.concat %lo, %c : tensor<1x16x16xf32>, tensor<1x16x16xf32> -> tensor<1x16x32xf32>
  // CHECK: attn.conv "conv2d"
  %c2 = attn.conv "conv2d" %cat, %w2 {mode = "mul", padding = "same", window = 3 : i64, stride = 2 : i64, grid = array<i64: 4, 4>} : (tensor<1x16x32xf32>, tensor<32x3x3xf32>) -> tensor<1x4x32xf32>
  // CHECK: attn.pool "max" %{{.*}} {grid = array<i64: 4, 4>, stride = 2 : i64, window = 2 : i64}
  %p = attn.pool "max" %cat {grid = array<i64: 4, 4>, window = 2 : i64, stride = 2 : i64} : tensor<1x16x32xf32> -> tensor<1x4x32xf32>
  return %cat : tensor<1x16x32xf32>
}

// CHECK-LABEL: func.func @maps
func.func @maps(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %prev: tensor<1x4x8x8xf32>,
                %w: tensor<4x4x3x3xf32>, %b: tensor<4xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // CHECK: attn.scores %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x8xf32>
  %s = attn.scores %q, %k {scale = 0.25 : f64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x8xf32>
  // CHECK: attn.blend %{{.*}}, %{{.*}} {weight = 5.000000e-01 : f64} : tensor<1x4x8x8xf32>
  %m = attn.blend %s, %prev {weight = 0.5 : f64} : tensor<1x4x8x8xf32>
  // CHECK: attn.map_conv %{{.*}}, %{{.*}}, %{{.*}} {act = "leaky_relu"}
  %c = attn.map_conv %m, %w, %b {act = "leaky_relu"} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: attn.softmax %{{.*}} {causal} : tensor<1x4x8x8xf32>
  %a = attn.softmax %c {causal} : tensor<1x4x8x8xf32>
  // CHECK: attn.attend %{{.*}}, %{{.*}} : tensor<1x4x8x8xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %o = attn.attend %a, %v : tensor<1x4x8x8xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}
