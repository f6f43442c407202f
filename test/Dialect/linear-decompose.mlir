// RUN: attn-opt %s --split-input-file --attn-decompose --canonicalize --attn-select-forms | FileCheck %s

// Linear family (docs/LinearFamily.md): feature maps on q and k, an
// unscaled score, the sum normalizer with its eps; no causal mask, no
// weight -> the associative form.

attn.variant @relu normalize = sum eps = 1.0e-06 score {} mask {} feature {
^bb0(%x: f32):
  %z = arith.constant 0.0 : f32
  %r = arith.maximumf %x, %z : f32
  attn.yield %r : f32
}

// CHECK-LABEL: func.func @assoc
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x16x64xf32>, %[[K:.*]]: tensor<1x8x16x64xf32>, %[[V:.*]]: tensor<1x8x16x64xf32>)
// CHECK-DAG: %[[FQ:.*]] = attn.feature %[[Q]] role = "query" : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> map {
// CHECK-DAG: %[[FK:.*]] = attn.feature %[[K]] role = "key" : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32> map {
// CHECK: arith.maximumf
// CHECK: %[[S:.*]] = attn.score %[[FQ]], %[[FK]] scale = 1.000000e+00
// CHECK-NOT: attn.mask
// CHECK: %[[A:.*]] = attn.normalize sum %[[S]] eps = 9.9999999999999995E-7 :
// CHECK: attn.aggregate %[[A]], %[[V]] form = associative
func.func @assoc(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %o = attn.attention @relu(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// Causal -> a causal mask and the chunked-scan form; kv_lengths stays a
// key mask that keeps the factorization.
// CHECK-LABEL: func.func @causal
// CHECK: attn.score
// CHECK: attn.mask {{.*}} {origin = "causal"}
// CHECK: attn.mask {{.*}} {origin = "kv_lengths"}
// CHECK: attn.normalize sum
// CHECK: attn.aggregate {{.*}} form = chunked_scan
func.func @causal(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x16x64xf32>, %v: tensor<2x8x16x64xf32>, %len: tensor<2xi32>) -> tensor<2x8x16x64xf32> {
  %o = attn.attention @relu(%q, %k, %v) kv_lengths(%len : tensor<2xi32>) {causal} : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
  return %o : tensor<2x8x16x64xf32>
}

// -----

// FAVOR+ random features set the feature width to m; an expansion with two
// factors doubles it; normalize = none carries no eps.
attn.variant @prf normalize = none attributes {random_features = {features = 32 : i64, seed = 7 : i64}} score {} mask {} expand {
^bb0(%i: index):
  %c = arith.constant 1.0 : f32
  attn.yield %c, %c : f32, f32
}

// CHECK-LABEL: func.func @prf_kernel
// CHECK: attn.feature %{{.*}} role = "query" {random_features = {features = 32 : i64, seed = 7 : i64}} : tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32> expand {
// CHECK: attn.normalize none %{{[0-9]+}} :
// CHECK: form = associative
func.func @prf_kernel(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %o = attn.attention @prf(%q, %k, %v) : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  return %o : tensor<1x2x16x64xf32>
}

// -----

// Toeplitz weights: momentum (causal) -> chunked_scan; rpe -> fft_toeplitz
// with the bias operand on attn.toeplitz.
attn.variant @mom normalize = sum eps = 1.0e-06 attributes {weight = {kind = "momentum", beta = 0.5 : f64, gamma = 2.0 : f64}} score {} mask {}
attn.variant @rpe normalize = sum eps = 1.0e-06 clamp attributes {weight = {kind = "rpe", operand = 0 : i64}} score {} mask {}

// CHECK-LABEL: func.func @momentum
// CHECK: attn.toeplitz %{{.*}} {weight = {beta = 5.000000e-01 : f64, gamma = 2.000000e+00 : f64, kind = "momentum"}}
// CHECK: attn.mask {{.*}} {origin = "causal"}
// CHECK: form = chunked_scan
func.func @momentum(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention @mom(%q, %k, %v) {causal} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// CHECK-LABEL: func.func @rpe_kernel
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<2x31xf32>
// CHECK: attn.toeplitz %{{.*}} bias(%[[B]] : tensor<2x31xf32>) {weight = {kind = "rpe"}}
// CHECK: attn.normalize sum %{{.*}} eps = 9.9999999999999995E-7 clamp
// CHECK: form = fft_toeplitz
func.func @rpe_kernel(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %b: tensor<2x31xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.attention @rpe(%q, %k, %v) operands(%b : tensor<2x31xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
