//===- AttnBase.td - attn dialect definition ---------------*- tablegen -*-===//
//
// The `attn` dialect: attention variants, their primitive decomposition, and
// searchable choices.  See docs/Dialect.md and docs/Rationale.md.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTNBASE_TD
#define ATTN_DIALECT_ATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention architectures, variants and searchable choices";
  let description = [{
    The `attn` dialect describes attention computations at two levels.

    * The *architecture level*: `attn.attention` names a variant
      (`attn.variant`, a symbol holding the variant's score modifier and mask
      as regions) and applies it to query, key and value tensors.
      `attn.choice` and `attn.knob` mark the searchable parts of a space.
    * The *primitive level* (spec P3-P7): `attn.score`, `attn.score_mod`,
      `attn.mask`, `attn.normalize` and `attn.aggregate`.  Their value
      semantics are the quadratic form (a B x H x N x M score tensor); the
      lowering never materializes that tensor for the softmax family.

    `attn.kernel` groups a primitive chain into one unit that the Halide
    backend turns into one fused pipeline.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_NormalizeSoftmax : I32EnumAttrCase<"softmax", 0>;
def Attn_NormalizeSum : I32EnumAttrCase<"sum", 1>;
def Attn_NormalizeNone : I32EnumAttrCase<"none", 2>;
def Attn_NormalizeKind : I32EnumAttr<"NormalizeKind",
    "row normalizer of attention weights (spec P6)",
    [Attn_NormalizeSoftmax, Attn_NormalizeSum, Attn_NormalizeNone]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_NormalizeKindAttr : EnumAttr<Attn_Dialect, Attn_NormalizeKind,
                                      "normalize">;

/// Which dimension of the attention problem an `attn.dim` names.
def Attn_DimB : I32EnumAttrCase<"B", 0>;
def Attn_DimH : I32EnumAttrCase<"H", 1>;
def Attn_DimN : I32EnumAttrCase<"N", 2>;
def Attn_DimM : I32EnumAttrCase<"M", 3>;
def Attn_DimD : I32EnumAttrCase<"D", 4>;
def Attn_DimG : I32EnumAttrCase<"G", 5>;
def Attn_DimRole : I32EnumAttr<"DimRole",
    "role of a dimension in an attention problem",
    [Attn_DimB, Attn_DimH, Attn_DimN, Attn_DimM, Attn_DimD, Attn_DimG]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_DimRoleAttr : EnumAttr<Attn_Dialect, Attn_DimRole, "dim_role">;

/// How an attn.kernel is lowered.
def Attn_FormFlash : I32EnumAttrCase<"two_pass_tiled", 0>;
def Attn_FormAssociative : I32EnumAttrCase<"associative", 1>;
def Attn_FormChunkedScan : I32EnumAttrCase<"chunked_scan", 2>;
def Attn_FormFftToeplitz : I32EnumAttrCase<"fft_toeplitz", 3>;
def Attn_FormPackUnpack : I32EnumAttrCase<"pack_unpack", 4>;
def Attn_FormLunaScan : I32EnumAttrCase<"luna_scan", 5>;
def Attn_FormEma : I32EnumAttrCase<"ema", 6>;
def Attn_FormWindowTiled : I32EnumAttrCase<"window_tiled", 7>;
def Attn_FormSeparable : I32EnumAttrCase<"separable", 8>;
def Attn_FormHaloTiled : I32EnumAttrCase<"halo_tiled", 9>;
def Attn_KernelForm : I32EnumAttr<"KernelForm",
    "lowering form of a fused attention kernel (docs/LinearFamily.md, "
    "docs/Variants.md)",
    [Attn_FormFlash, Attn_FormAssociative, Attn_FormChunkedScan,
     Attn_FormFftToeplitz, Attn_FormPackUnpack, Attn_FormLunaScan,
     Attn_FormEma, Attn_FormWindowTiled, Attn_FormSeparable,
     Attn_FormHaloTiled]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_KernelFormAttr : EnumAttr<Attn_Dialect, Attn_KernelForm, "form">;

#endif // ATTN_DIALECT_ATTNBASE_TD
