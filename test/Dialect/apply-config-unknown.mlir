// RUN: attn-opt %s --attn-apply-config="config=heads=4,depht=2" -verify-diagnostics

// expected-error @below {{configuration names 'depht', which is no choice or knob of this module}}
module {
  func.func @unknown() -> index {
    %h = attn.knob "heads" in [4, 6]
    return %h : index
  }
}
