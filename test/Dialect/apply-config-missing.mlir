// RUN: attn-opt %s --attn-apply-config="config=heads=4" -verify-diagnostics

func.func @missing() -> index {
  %h = attn.knob "heads" in [4, 6]
  // expected-error @+1 {{choice 'mixer' is not configured}}
  %r = attn.choice "mixer" ["first"] : index {
    attn.yield %h : index
  }
  // expected-error @+1 {{knob 'depth' is not configured}}
  %d = attn.knob "depth" in [1, 2]
  return %r : index
}
