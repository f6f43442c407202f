// RUN: attn-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// Every verifier message of the attn dialect.

func.func @rank(%q: tensor<8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{query must be a rank-4 tensor [batch, heads, length, dim], got 'tensor<8x16x64xf32>'}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @int_elements(%q: tensor<1x8x16x64xi32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{query must have a float element type, got 'i32'}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xi32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @mixed_types(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{query, key, value and result must have the same element type}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @head_dim(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x32xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{head dim mismatch: query has 64 (dim 3) but key has 32 (dim 3)}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @key_length(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x17x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{key length mismatch: key has 16 (dim 2) but value has 17 (dim 2)}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x17x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @groups(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>, %v: tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{query heads (8) must be a multiple of key/value heads (3)}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @result_heads(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x4x16x64xf32> {
  // expected-error @+1 {{heads mismatch: result has 4 (dim 1) but query has 8 (dim 1)}}
  %o = attn.attention @softmax(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @lengths_rank(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x16x64xf32>, %v: tensor<2x8x16x64xf32>, %l: tensor<2x1xi32>) -> tensor<2x8x16x64xf32> {
  // expected-error @+1 {{kv_lengths must be a rank-1 tensor [batch], got 'tensor<2x1xi32>'}}
  %o = attn.attention @softmax(%q, %k, %v) kv_lengths(%l : tensor<2x1xi32>) : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
  return %o : tensor<2x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @lengths_batch(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x16x64xf32>, %v: tensor<2x8x16x64xf32>, %l: tensor<3xi32>) -> tensor<2x8x16x64xf32> {
  // expected-error @+1 {{kv_lengths has 3 entries but the batch is 2}}
  %o = attn.attention @softmax(%q, %k, %v) kv_lengths(%l : tensor<3xi32>) : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32> -> tensor<2x8x16x64xf32>
  return %o : tensor<2x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @scale(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{scale must be positive, got -1}}
  %o = attn.attention @softmax(%q, %k, %v) {scale = -1.0 : f64} : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
attn.variant @softmax normalize = softmax score {} mask {}

// -----

func.func @unknown_variant(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{refers to unknown variant @nope}}
  %o = attn.attention @nope(%q, %k, %v) : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// expected-error @+1 {{score region must have 5 arguments, got 1}}
attn.variant @bad_score normalize = softmax score {
^bb0(%s: f32):
  attn.yield %s : f32
} mask {}

// -----

// expected-error @+1 {{score region argument #1 must be 'index', got 'i32'}}
attn.variant @bad_arg normalize = softmax score {
^bb0(%s: f32, %b: i32, %h: index, %i: index, %j: index):
  attn.yield %s : f32
} mask {}

// -----

// expected-error @+1 {{mask region must yield one 'i1' value}}
attn.variant @bad_mask normalize = softmax score {} mask {
^bb0(%b: index, %h: index, %i: index, %j: index):
  attn.yield %i : index
}

// -----

// expected-error @+1 {{scale must be positive, got 0}}
attn.variant @zero_scale normalize = softmax scale = 0.0 score {} mask {}

// -----

func.func @score_shape(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x32x64xf32>) {
  // expected-error @+1 {{key length mismatch: scores has 16 (dim 3) but key has 32 (dim 2)}}
  %s = attn.score %q, %k scale = 0.125 : tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

func.func @score_type(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x32x64xf32>) {
  // expected-error @+1 {{result must be a rank-4 f32 score tensor [batch, heads, queries, keys], got 'tensor<1x4x16x32xf16>'}}
  %s = attn.score %q, %k scale = 0.125 : tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x32xf16>
  return
}

// -----

func.func @score_scale(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x32x64xf32>) {
  // expected-error @+1 {{scale must be positive, got -1.250000e-01}}
  %s = attn.score %q, %k scale = -0.125 : tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x32xf32>
  return
}

// -----

func.func @mod_region(%s: tensor<1x4x16x32xf32>) {
  // expected-error @+1 {{score_mod region must yield one 'f32' value}}
  %t = attn.score_mod %s : tensor<1x4x16x32xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %i : index
  }
  return
}

// -----

func.func @mod_scores(%s: tensor<4x16x32xf32>) {
  // expected-error @+1 {{scores must be a rank-4 f32 score tensor}}
  %t = attn.score_mod %s : tensor<4x16x32xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %x : f32
  }
  return
}

// -----

func.func @mask_region(%s: tensor<1x4x16x32xf32>) {
  // expected-error @+1 {{mask region must have 4 arguments, got 5}}
  %t = attn.mask %s : tensor<1x4x16x32xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %ok = arith.cmpi sle, %j, %i : index
    attn.yield %ok : i1
  }
  return
}

// -----

func.func @mask_scores(%s: tensor<1x4x16x32xf16>) {
  // expected-error @+1 {{scores must be a rank-4 f32 score tensor}}
  %t = attn.mask %s : tensor<1x4x16x32xf16> {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %ok = arith.cmpi sle, %j, %i : index
    attn.yield %ok : i1
  }
  return
}

// -----

func.func @aggregate(%a: tensor<1x4x16x32xf32>, %v: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{key length mismatch: weights has 32 (dim 3) but value has 16 (dim 2)}}
  %o = attn.aggregate %a, %v : tensor<1x4x16x32xf32>, tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return
}

// -----

func.func @aggregate_heads(%a: tensor<1x4x16x32xf32>, %v: tensor<1x3x32x64xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of value heads (3)}}
  %o = attn.aggregate %a, %v : tensor<1x4x16x32xf32>, tensor<1x3x32x64xf32> -> tensor<1x4x16x64xf32>
  return
}

// -----

func.func @aggregate_weights(%a: tensor<4x16x32xf32>, %v: tensor<1x4x32x64xf32>) {
  // expected-error @+1 {{weights must be a rank-4 f32 score tensor}}
  %o = attn.aggregate %a, %v : tensor<4x16x32xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x16x64xf32>
  return
}

// -----

func.func @kernel_args(%q: tensor<4xf32>) {
  // expected-error @+1 {{body has 0 arguments but the kernel has 1 inputs}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {} ins(%q : tensor<4xf32>) -> tensor<4xf32> {
    %c = arith.constant dense<0.0> : tensor<4xf32>
    attn.yield %c : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_arg_type(%q: tensor<4xf32>) {
  // expected-error @+1 {{body argument #0 has type 'tensor<5xf32>' but input #0 has type 'tensor<4xf32>'}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {} ins(%q : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<5xf32>):
    %c = arith.constant dense<0.0> : tensor<4xf32>
    attn.yield %c : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_yield(%q: tensor<4xf32>) {
  // expected-error @+1 {{body yields 1 values whose types do not match the results}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {} ins(%q : tensor<4xf32>) -> tensor<5xf32> {
  ^bb0(%x: tensor<4xf32>):
    attn.yield %x : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_name(%q: tensor<4xf32>) {
  // expected-error @+1 {{needs a non-empty name}}
  %o = attn.kernel "" form = two_pass_tiled schedule = {} ins(%q : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    attn.yield %x : tensor<4xf32>
  }
  return
}

// -----

func.func @choice_labels() -> index {
  // expected-error @+1 {{has 2 alternatives but 1 labels}}
  %r = attn.choice "c" ["a"] : index {
    %c = arith.constant 0 : index
    attn.yield %c : index
  }, {
    %c = arith.constant 1 : index
    attn.yield %c : index
  }
  return %r : index
}

// -----

func.func @choice_dup() -> index {
  // expected-error @+1 {{has duplicate label 'a'}}
  %r = attn.choice "c" ["a", "a"] : index {
    %c = arith.constant 0 : index
    attn.yield %c : index
  }, {
    %c = arith.constant 1 : index
    attn.yield %c : index
  }
  return %r : index
}

// -----

func.func @choice_types() -> index {
  // expected-error @+1 {{alternative #1 ('b') yields types that differ from the results}}
  %r = attn.choice "c" ["a", "b"] : index {
    %c = arith.constant 0 : index
    attn.yield %c : index
  }, {
    %c = arith.constant 1 : i64
    attn.yield %c : i64
  }
  return %r : index
}

// -----

func.func @choice_name() -> index {
  // expected-error @+1 {{needs a non-empty name}}
  %r = attn.choice "" ["a"] : index {
    %c = arith.constant 0 : index
    attn.yield %c : index
  }
  return %r : index
}

// -----

func.func @choice_empty() {
  // expected-error @+1 {{needs at least one alternative}}
  attn.choice "c" []
  return
}

// -----

func.func @knob_empty() -> index {
  // expected-error @+1 {{'heads' needs at least one value}}
  %k = attn.knob "heads" in []
  return %k : index
}

// -----

func.func @knob_dup() -> index {
  // expected-error @+1 {{'heads' lists 4 twice}}
  %k = attn.knob "heads" in [4, 4]
  return %k : index
}

// -----

func.func @knob_name() -> index {
  // expected-error @+1 {{needs a non-empty name}}
  %k = attn.knob "" in [4]
  return %k : index
}

// -----

func.func @kernel_terminator(%q: tensor<4xf32>) {
  // expected-error @+1 {{body must end in attn.yield}}
  %o = attn.kernel "k" form = two_pass_tiled schedule = {} ins(%q : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    "test.terminator"() : () -> ()
  }
  return
}
