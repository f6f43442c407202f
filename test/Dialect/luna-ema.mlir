// RUN: attn-opt %s --split-input-file --attn-decompose --canonicalize --attn-select-forms --attn-form-kernels | FileCheck %s

// Luna decomposes into attn.pack (the memory rows attend the keys) and
// attn.unpack (the queries attend the packed rows); causal selects the
// luna_scan form, otherwise pack_unpack.  Both become one kernel.

attn.variant @luna normalize = softmax attributes {pack = {operand = 0 : i64, rows = 4 : i64}} score {} mask {}

// CHECK-LABEL: func.func @full
// CHECK: attn.kernel "full" form = pack_unpack
// CHECK: %[[P:.*]] = attn.pack %{{.*}}, %{{.*}}, %{{.*}} rows = 4 scale = 0.35355339059327373 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK: attn.unpack %{{.*}}, %[[P]] scale = 0.35355339059327373 form = pack_unpack
func.func @full(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %m: tensor<2x4x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention @luna(%q, %k, %v) operands(%m : tensor<2x4x8xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// CHECK-LABEL: func.func @causal
// CHECK: attn.kernel "causal" form = luna_scan
// CHECK: attn.pack {{.*}} kv_lengths(%{{.*}} : tensor<1xi32>) rows = 4 scale = {{.*}} {causal} : {{.*}} -> tensor<1x2x16x4x8xf32>
// CHECK: attn.unpack {{.*}} form = luna_scan
func.func @causal(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %m: tensor<2x4x8xf32>, %len: tensor<1xi32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention @luna(%q, %k, %v) kv_lengths(%len : tensor<1xi32>) operands(%m : tensor<2x4x8xf32>) {causal} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// Mega's EMA is one op and one kernel of form ema.
// CHECK-LABEL: func.func @ema
// CHECK: attn.kernel "ema" form = ema
// CHECK: attn.ema %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} omega(%{{.*}} : tensor<8xf32>) compat = "code"
func.func @ema(%x: tensor<2x64x8xf32>, %d: tensor<8x4xf32>, %a: tensor<8x4xf32>, %b: tensor<8x4xf32>, %g: tensor<8x4xf32>, %w: tensor<8xf32>) -> tensor<2x64x8xf32> {
  %y = attn.ema %x, %d, %a, %b, %g omega(%w : tensor<8xf32>) compat = "code" : tensor<2x64x8xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32> -> tensor<2x64x8xf32>
  return %y : tensor<2x64x8xf32>
}
