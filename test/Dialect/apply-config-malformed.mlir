// RUN: attn-opt %s --attn-apply-config="config=heads" -verify-diagnostics
// RUN: not attn-opt %s --attn-apply-config="config=heads=4,heads=6" 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: configuration names 'heads' twice

// expected-error @below {{malformed configuration entry 'heads': expected name=value}}
module {
  func.func @malformed() -> index {
    %h = attn.knob "heads" in [4, 6]
    return %h : index
  }
}
