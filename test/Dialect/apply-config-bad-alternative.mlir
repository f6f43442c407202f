// RUN: attn-opt %s --attn-apply-config="config=mixer=third,heads=6" -verify-diagnostics

func.func @bad_alternative() -> index {
  %h = attn.knob "heads" in [4, 6]
  // expected-error @+1 {{choice 'mixer' has no alternative 'third'; alternatives: first, second}}
  %r = attn.choice "mixer" ["first", "second"] : index {
    attn.yield %h : index
  }, {
    attn.yield %h : index
  }
  return %r : index
}
