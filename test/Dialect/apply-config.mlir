// RUN: attn-opt %s --attn-apply-config="config=mixer=second,heads=6,inner=only" | FileCheck %s
// RUN: attn-opt %s --attn-apply-config="config=mixer=0,heads=4,inner=only" | FileCheck %s --check-prefix=FIRST

// CHECK-LABEL: func.func @pick
// CHECK-NOT: attn.choice
// CHECK-NOT: attn.knob
// CHECK: %[[H:.*]] = arith.constant 6 : index
// CHECK: %[[C:.*]] = arith.constant 2 : index
// CHECK: %[[R:.*]] = arith.addi %[[H]], %[[C]] : index
// CHECK: return %[[R]] : index
// FIRST-LABEL: func.func @pick
// FIRST: %[[H:.*]] = arith.constant 4 : index
// FIRST: %[[C:.*]] = arith.constant 1 : index
// FIRST: arith.addi %[[H]], %[[C]] : index
func.func @pick() -> index {
  %h = attn.knob "heads" in [4, 6, 8]
  %r = attn.choice "mixer" ["first", "second"] : index {
    %c = arith.constant 1 : index
    %s = arith.addi %h, %c : index
    attn.yield %s : index
  }, {
    %c = arith.constant 2 : index
    %s = arith.addi %h, %c : index
    attn.yield %s : index
  }
  return %r : index
}


// A choice nested in the chosen alternative is resolved too; one nested in
// an alternative that was not chosen disappears with it.
// CHECK-LABEL: func.func @nested
// CHECK: arith.constant 7 : index
// FIRST-LABEL: func.func @nested
// FIRST: arith.constant 3 : index
func.func @nested() -> index {
  %h = attn.knob "heads" in [4, 6]
  %r = attn.choice "mixer" ["first", "second"] : index {
    %c = arith.constant 3 : index
    attn.yield %c : index
  }, {
    %x = attn.choice "inner" ["only"] : index {
      %c = arith.constant 7 : index
      attn.yield %c : index
    }
    attn.yield %x : index
  }
  return %r : index
}
