//===- AttnChoiceOps.td - searchable choices ---------------*- tablegen -*-===//
//
// Ops that mark the searchable parts of an architecture space (spec P11).
// `--attn-apply-config` pins them to one point.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNCHOICEOPS_TD
#define ATTN_DIALECT_ATTNCHOICEOPS_TD

include "dialect/AttnBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_ChoiceOp : Attn_Op<"choice", [RecursiveMemoryEffects]> {
  let summary = "A categorical choice between alternative subgraphs";
  let description = [{
    One region per alternative; `labels` names them (in the order of the
    regions).  Every region ends in `attn.yield` with values of the op's
    result types.  `--attn-apply-config` replaces the op with the body of the
    chosen alternative.

    ```mlir
    %r = attn.choice "mixer" ["softmax", "sliding"] : tensor<1x8x64x64xf32> {
      %a = attn.attention @softmax(%q, %k, %v) : ... -> tensor<1x8x64x64xf32>
      attn.yield %a : tensor<1x8x64x64xf32>
    }, {
      %b = attn.attention @sliding(%q, %k, %v) : ... -> tensor<1x8x64x64xf32>
      attn.yield %b : tensor<1x8x64x64xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, StrArrayAttr:$labels);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region VariadicRegion<SizedRegion<1>>:$alternatives);
  let assemblyFormat = [{
    $name $labels (`:` type($results)^)? $alternatives attr-dict
  }];
  let hasRegionVerifier = 1;
}

def Attn_KnobOp : Attn_Op<"knob", [Pure]> {
  let summary = "A searchable integer";
  let description = [{
    An integer taken from a finite set of values (heads, depth, MLP ratio).
    `--attn-apply-config` replaces it with an `arith.constant`.

    ```mlir
    %heads = attn.knob "heads" in [4, 6, 8]
    ```
  }];
  let arguments = (ins StrAttr:$name, DenseI64ArrayAttr:$values);
  let results = (outs Index:$result);
  let assemblyFormat = "$name `in` $values attr-dict";
  let hasVerifier = 1;
}

#endif // ATTN_DIALECT_ATTNCHOICEOPS_TD
