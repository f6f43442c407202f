// RUN: attn-opt %s --attn-apply-config="config=heads=5" -verify-diagnostics

func.func @bad_knob() -> index {
  // expected-error @+1 {{knob 'heads' cannot take '5'; allowed values: 4, 6}}
  %h = attn.knob "heads" in [4, 6]
  return %h : index
}
