// RUN: attn-opt %s --attn-outline-blocks | FileCheck %s
// RUN: attn-opt %s "--attn-outline-blocks=fuse=false" | FileCheck %s --check-prefix=UNFUSED

// A pre-norm transformer layer: one kernel for the norm and the Q/K/V
// projections with split_heads epilogues (three results), one for
// merge_heads -> projection -> residual add, one for norm -> fc1 -> gelu,
// one for fc2 -> residual add.  Calls of other functions stay.

func.func private @attn(tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>

func.func @net(%x: tensor<1x8x8xf32> {attn.name = "x"},
               %g: tensor<8xf32> {attn.name = "layers.0.norm1.gamma", attn.init = {dist = "normal", a = 1.0 : f64, b = 0.1 : f64}},
               %b: tensor<8xf32> {attn.name = "layers.0.norm1.beta", attn.init = {dist = "normal", a = 0.0 : f64, b = 0.1 : f64}},
               %wq: tensor<8x8xf32> {attn.name = "layers.0.attention.wq", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}},
               %wk: tensor<8x8xf32> {attn.name = "layers.0.attention.wk", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}},
               %wv: tensor<8x8xf32> {attn.name = "layers.0.attention.wv", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}},
               %wo: tensor<8x8xf32> {attn.name = "layers.0.attention.wo", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}},
               %w1: tensor<16x8xf32> {attn.name = "layers.0.mlp.fc1.w", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}},
               %w2: tensor<8x16xf32> {attn.name = "layers.0.mlp.fc2.w", attn.init = {dist = "uniform", a = 0.3 : f64, b = 0.0 : f64}})
    -> tensor<1x8x8xf32> attributes {attn.arch} {
  %x1 = call @layer(%x, %g, %b, %wq, %wk, %wv, %wo, %w1, %w2) : (tensor<1x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<1x8x8xf32>
  %n = attn.norm "layernorm" %x1, %g, %b {eps = 1.0e-5 : f64} : (tensor<1x8x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8xf32>
  %q0 = attn.linear "mul" %n, %wq : (tensor<1x8x8xf32>, tensor<8x8xf32>) -> tensor<1x8x8xf32>
  %q = attn.split_heads %q0 {heads = 2 : i64} : tensor<1x8x8xf32> -> tensor<1x2x8x4xf32>
  %k0 = attn.linear "mul" %n, %wk : (tensor<1x8x8xf32>, tensor<8x8xf32>) -> tensor<1x8x8xf32>
  %k = attn.split_heads %k0 {heads = 2 : i64} : tensor<1x8x8xf32> -> tensor<1x2x8x4xf32>
  %v0 = attn.linear "mul" %n, %wv : (tensor<1x8x8xf32>, tensor<8x8xf32>) -> tensor<1x8x8xf32>
  %v = attn.split_heads %v0 {heads = 2 : i64} : tensor<1x8x8xf32> -> tensor<1x2x8x4xf32>
  %a = call @attn(%q, %k, %v) : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %m = attn.merge_heads %a : tensor<1x2x8x4xf32> -> tensor<1x8x8xf32>
  %o = attn.linear "mul" %m, %wo : (tensor<1x8x8xf32>, tensor<8x8xf32>) -> tensor<1x8x8xf32>
  %r = attn.add %x1, %o : tensor<1x8x8xf32>
  %n2 = attn.norm "layernorm" %r, %g, %b {eps = 1.0e-5 : f64} : (tensor<1x8x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8xf32>
  %h = attn.linear "mul" %n2, %w1 : (tensor<1x8x8xf32>, tensor<16x8xf32>) -> tensor<1x8x16xf32>
  %ha = attn.act "gelu" %h : tensor<1x8x16xf32>
  %f = attn.linear "mul" %ha, %w2 : (tensor<1x8x16xf32>, tensor<8x16xf32>) -> tensor<1x8x8xf32>
  %r2 = attn.add %r, %f : tensor<1x8x8xf32>
  return %r2 : tensor<1x8x8xf32>
}

// A layer written as a function of its own is not an architecture: left alone.
func.func private @layer(tensor<1x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<1x8x8xf32>

// CHECK-LABEL: func.func @net_blk0(
// CHECK-SAME:    {attn.name = "x"}, %{{.*}}: tensor<8xf32> {attn.name = "gamma"}, %{{.*}}: tensor<8xf32> {attn.name = "beta"}, %{{.*}}: tensor<8x8xf32> {attn.name = "wq"}, %{{.*}}: tensor<8x8xf32> {attn.name = "wk"}, %{{.*}}: tensor<8x8xf32> {attn.name = "wv"})
// CHECK-SAME:    -> (tensor<1x2x8x4xf32> {attn.name = "out"}, tensor<1x2x8x4xf32> {attn.name = "out1"}, tensor<1x2x8x4xf32> {attn.name = "out2"}) attributes {attn.block_kernel}
// CHECK-COUNT-1: attn.norm
// CHECK-COUNT-3: attn.split_heads
// CHECK:       return
// CHECK-LABEL: func.func @net_blk1(
// CHECK:         attn.merge_heads
// CHECK-NEXT:    attn.linear "mul"
// CHECK-NEXT:    attn.add
// CHECK-LABEL: func.func @net_blk2(
// CHECK:         attn.norm "layernorm"
// CHECK-NEXT:    attn.linear "mul"
// CHECK-NEXT:    attn.act "gelu"
// CHECK-LABEL: func.func @net_blk3(
// CHECK:         attn.linear "mul"
// CHECK-NEXT:    attn.add
// CHECK-LABEL: func.func @net(
// CHECK:         %[[L:.*]] = call @layer(
// CHECK-NEXT:    %[[QKV:.*]]:3 = call @net_blk0(%[[L]], %arg1, %arg2, %arg3, %arg4, %arg5)
// CHECK-NEXT:    %[[A:.*]] = call @attn(%[[QKV]]#0, %[[QKV]]#1, %[[QKV]]#2)
// CHECK-NEXT:    %[[R:.*]] = call @net_blk1(%[[A]], %arg6, %[[L]])
// CHECK-NEXT:    %[[H:.*]] = call @net_blk2(%[[R]], %arg1, %arg2, %arg7)
// CHECK-NEXT:    %[[O:.*]] = call @net_blk3(%[[H]], %arg8, %[[R]])
// CHECK-NEXT:    return %[[O]]

// Without fusion every op is a kernel of its own, and identical ones are
// shared: both layernorms, the four 8x8 projections, the three split_heads
// and both residual adds.
// UNFUSED-LABEL: func.func @net_blk0(
// UNFUSED-NEXT:    attn.norm "layernorm"
// UNFUSED-NEXT:    return
// UNFUSED-NOT:   func.func @net_blk8
// UNFUSED-LABEL: func.func @net(
// UNFUSED-NEXT:    call @layer(
// UNFUSED-NEXT:    call @net_blk0(
// UNFUSED-NEXT:    call @net_blk1(
// UNFUSED-NEXT:    call @net_blk2(
// UNFUSED-NEXT:    call @net_blk1(
// UNFUSED-NEXT:    call @net_blk2(
// UNFUSED-NEXT:    call @net_blk1(
// UNFUSED-NEXT:    call @net_blk2(
// UNFUSED-NEXT:    call @attn(
// UNFUSED-NEXT:    call @net_blk3(
// UNFUSED-NEXT:    call @net_blk1(
// UNFUSED-NEXT:    call @net_blk4(
// UNFUSED-NEXT:    call @net_blk0(
// UNFUSED-NEXT:    call @net_blk5(
// UNFUSED-NEXT:    call @net_blk6(
// UNFUSED-NEXT:    call @net_blk7(
// UNFUSED-NEXT:    call @net_blk4(
// UNFUSED-NEXT:    return
