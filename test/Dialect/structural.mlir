// RUN: attn-opt %s --split-input-file --attn-decompose --canonicalize --attn-select-forms --attn-form-kernels | FileCheck %s
// RUN: attn-opt %s --split-input-file | attn-opt --split-input-file | FileCheck %s --check-prefix=ROUND

// The structural variants (issue 5).  window2d decomposes into the softmax
// chain with a bias score modifier and a mask of origin "window2d" (form
// window_tiled); coupler into two axial maps and attn.separable (form
// separable, default scale D^(-1/4)); emha into attn.pair_score, two
// attn.head_conv around the softmax and attn.aggregate (form halo_tiled).
// Each becomes one kernel.

attn.variant @swin_v normalize = softmax attributes {partition = {bias = 0 : i64, grid = array<i64: 4, 6>, kind = "window2d", shift = 1 : i64, window = 3 : i64}} score {} mask {}

// ROUND-LABEL: attn.variant @swin_v normalize = softmax attributes {partition = {bias = 0 : i64, grid = array<i64: 4, 6>, kind = "window2d", shift = 1 : i64, window = 3 : i64}}
// CHECK-LABEL: func.func @swin
// CHECK: attn.kernel "swin" form = window_tiled
// CHECK: attn.score_mod %{{.*}} {origin = "window2d_bias"}
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<2x25xf32>
// CHECK: attn.mask %{{.*}} {origin = "window2d", window2d = {grid = array<i64: 4, 6>, shift = 1 : i64, window = 3 : i64}}
// CHECK: attn.aggregate %{{.*}}, %{{.*}} form = window_tiled
func.func @swin(%q: tensor<1x2x24x8xf32>, %k: tensor<1x2x24x8xf32>, %v: tensor<1x2x24x8xf32>, %t: tensor<2x25xf32>) -> tensor<1x2x24x8xf32> {
  %o = attn.attention @swin_v(%q, %k, %v) operands(%t : tensor<2x25xf32>) : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32> -> tensor<1x2x24x8xf32>
  return %o : tensor<1x2x24x8xf32>
}

// -----

attn.variant @coupler_v normalize = softmax attributes {map = {grid = array<i64: 4, 6>, kind = "coupler"}} score {} mask {}

// CHECK-LABEL: func.func @coupler
// CHECK: attn.kernel "coupler" form = separable
// CHECK: %[[A:.*]] = attn.axial_score %{{.*}}, %{{.*}} axis = "row" grid = [4, 6] scale = 0.59460355750136051 : tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32> -> tensor<1x2x4x4xf32>
// CHECK: %[[AN:.*]] = attn.normalize softmax %[[A]] : tensor<1x2x4x4xf32>
// CHECK: %[[B:.*]] = attn.axial_score %{{.*}}, %{{.*}} axis = "col" grid = [4, 6] scale = 0.59460355750136051 : tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32> -> tensor<1x2x6x6xf32>
// CHECK: %[[BN:.*]] = attn.normalize softmax %[[B]] : tensor<1x2x6x6xf32>
// CHECK: attn.separable %[[AN]], %[[BN]], %{{.*}} grid = [4, 6] form = separable
// ROUND-LABEL: func.func @coupler
// ROUND: attn.attention @coupler_v
func.func @coupler(%q: tensor<1x2x24x8xf32>, %k: tensor<1x1x24x8xf32>, %v: tensor<1x1x24x4xf32>) -> tensor<1x2x24x4xf32> {
  %o = attn.attention @coupler_v(%q, %k, %v) : tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1x1x24x4xf32> -> tensor<1x2x24x4xf32>
  return %o : tensor<1x2x24x4xf32>
}

// -----

attn.variant @emha_v normalize = softmax attributes {map = {csi = 1 : i64, isi = 0 : i64, kernel = 3 : i64, kind = "emha"}} score {} mask {}

// CHECK-LABEL: func.func @emha
// CHECK: attn.kernel "emha" form = halo_tiled
// CHECK: %[[S:.*]] = attn.pair_score %{{.*}}, %{{.*}} scale = 0.35355339059327373 : tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x3x3x16x16xf32>
// CHECK: %[[X:.*]] = attn.head_conv %[[S]], %{{.*}} : tensor<1x3x3x16x16xf32>, tensor<3x3x3x3xf32> -> tensor<1x3x16x16xf32>
// CHECK: %[[A:.*]] = attn.normalize softmax %[[X]] : tensor<1x3x16x16xf32>
// CHECK: %[[Y:.*]] = attn.head_conv %[[A]], %{{.*}} : tensor<1x3x16x16xf32>, tensor<3x3x3x3xf32> -> tensor<1x3x16x16xf32>
// CHECK: attn.aggregate %[[Y]], %{{.*}} form = halo_tiled
func.func @emha(%q: tensor<1x3x16x8xf32>, %k: tensor<1x3x16x8xf32>, %v: tensor<1x3x16x8xf32>, %isi: tensor<3x3x3x3xf32>, %csi: tensor<3x3x3x3xf32>) -> tensor<1x3x16x8xf32> {
  %o = attn.attention @emha_v(%q, %k, %v) operands(%isi, %csi : tensor<3x3x3x3xf32>, tensor<3x3x3x3xf32>) : tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32> -> tensor<1x3x16x8xf32>
  return %o : tensor<1x3x16x8xf32>
}
