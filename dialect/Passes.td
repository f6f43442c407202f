//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//

#ifndef ATTN_DIALECT_PASSES_TD
#define ATTN_DIALECT_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnApplyConfigPass : Pass<"attn-apply-config", "mlir::ModuleOp"> {
  let summary = "Pin every searchable choice and knob to one point of the space";
  let description = [{
    Replaces each `attn.choice` with the body of its chosen alternative and
    each `attn.knob` with an `arith.constant`.  The configuration is a
    comma-separated list `name=value`: a choice takes a label (or the index of
    an alternative), a knob one of its listed values.

    ```
    attn-opt --attn-apply-config="config=mixer=sliding,heads=6"
    ```

    An unknown name, a value that is not an alternative, and (unless
    `allow-partial`) a choice left unconfigured are errors.
  }];
  let options = [
    Option<"config", "config", "std::string", /*default=*/"\"\"",
           "Comma-separated name=value pairs">,
    Option<"allowPartial", "allow-partial", "bool", /*default=*/"false",
           "Leave choices that the configuration does not name">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnDecomposePass : Pass<"attn-decompose", "mlir::ModuleOp"> {
  let summary = "Decompose attn.attention into the primitive ops";
  let description = [{
    Rewrites `attn.attention @variant(...)` into `attn.score`, the variant's
    `attn.score_mod`, `attn.mask` ops for `causal`, `kv_lengths` and the
    variant's mask, `attn.normalize` and `attn.aggregate`.  `attn.dim` ops in
    the cloned regions become constants (static extents) or `tensor.dim` of
    the query/key (dynamic extents).  The default scale is `rsqrt(D)`; a
    dynamic head dim needs an explicit scale.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnSelectFormsPass : Pass<"attn-select-forms", "mlir::ModuleOp"> {
  let summary = "Choose the lowering form of each attn.aggregate";
  let description = [{
    Looks at the primitive chain that feeds each `attn.aggregate` and sets
    its `form` (docs/LinearFamily.md):

    * `normalize softmax` -> `two_pass_tiled` (flash-style, issues 2-3);
    * `normalize sum|none` with an `rpe` `attn.toeplitz` -> `fft_toeplitz`;
    * with a `causal` mask (and optionally a `momentum` weight) ->
      `chunked_scan` (intra-chunk quadratic, carried inter-chunk state);
    * otherwise -> `associative` (`phi(Q) (phi(K)^T V)`);
    * `attn.unpack` (Luna) -> `pack_unpack`, or `luna_scan` when its
      `attn.pack` is causal;
    * a softmax chain with a `window2d` mask -> `window_tiled` (one task per
      window, docs/Variants.md);
    * `attn.separable` (Couplformer) -> `separable`;
    * an aggregate of `attn.head_conv` maps (EIT) -> `halo_tiled` (the maps
      of a query tile and its halo are materialized).

    A linear-family chain with a mask other than `causal` and `kv_lengths`
    cannot be factorized and is an error.  An aggregate that already has a
    form keeps it.
  }];
}

def AttnFormKernelsPass : Pass<"attn-form-kernels", "mlir::ModuleOp"> {
  let summary = "Group each primitive chain into an attn.kernel";
  let description = [{
    Finds chains `[feature] -> score -> (score_mod | toeplitz | mask)* ->
    normalize -> aggregate`, Luna's `pack -> unpack`, Couplformer's
    `(axial_score -> normalize) x 2 -> separable` and EIT's `pair_score ->
    head_conv -> normalize -> head_conv -> aggregate`, and wraps each in an
    isolated `attn.kernel` whose inputs are the values the
    chain reads.  Cheap values defined outside (`arith.constant`,
    `tensor.dim` of an input) are re-created inside the kernel instead of
    becoming inputs.  The kernel is named after the enclosing function.
  }];
}

def AttnAttachSchedulesPass : Pass<"attn-attach-schedules", "mlir::ModuleOp"> {
  let summary = "Attach the schedule space and a schedule point to each kernel";
  let description = [{
    For every `attn.kernel`, records its form's schedule space as data:
    `attn.schedule_space` (knob -> the values the tuner tries) and
    `attn.schedule_constraints` (the validity rules), and fills an empty
    `schedule` with the default heuristic point for the target's vector
    width and register count.  A non-empty `schedule` (a tuned point, or one
    written by hand) is completed with defaults and validated; an invalid
    point is an error at the kernel.  With `gpu`, the spaces are the GPU
    schedule spaces (threads, blocks, shared memory; docs/GPU.md) and a
    point must also fit the per-block thread and shared-memory limits.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int", /*default=*/"16",
           "Float lanes per vector of the target">,
    Option<"vectorRegisters", "vector-registers", "int", /*default=*/"32",
           "Vector registers of the target">,
    Option<"gpu", "gpu", "bool", /*default=*/"false",
           "Attach GPU schedule spaces (docs/GPU.md) instead of CPU ones">,
    Option<"gpuMaxThreads", "gpu-max-threads", "int64_t",
           /*default=*/"1024", "GPU targets: threads per block allowed">,
    Option<"gpuSharedBytes", "gpu-shared-bytes", "int64_t",
           /*default=*/"49152",
           "GPU targets: shared memory bytes per block allowed">,
  ];
}

def AttnOutlineBlocksPass : Pass<"attn-outline-blocks", "mlir::ModuleOp"> {
  let summary = "Group the block ops of architectures into fused block kernels";
  let description = [{
    In every `attn.arch` function, forms fusion groups around each anchor
    (`attn.linear`, `attn.conv`, `attn.pool`): a norm or `merge_heads`
    prologue feeding it (anchors sharing one normalized input, such as the
    Q, K and V projections, join one group with several results) and the
    chain of single-use activations, residual adds and `split_heads` that
    follows.  Every other block op forms a group of its own; with
    `fuse=false` every op does.  Each group becomes a function marked
    `attn.block_kernel` (identical groups share one function) and is
    replaced by a `func.call`, so the architecture becomes a program of
    kernel calls (docs/Architectures.md §3).
  }];
  let options = [
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "Fuse prologues and epilogues into anchors (false: one kernel "
           "per op)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // ATTN_DIALECT_PASSES_TD
