// A block kernel's schedule (the attn.schedule dictionary of an
// attn.block_kernel function, docs/Tuning.md) is checked at the function,
// by attnc compile and attnc tune alike: unknown knobs, values out of range,
// values that are not integers, an attribute that is not a dictionary, and
// (for the target) a register block that does not fit the registers.
// RUN: attnc %s -emit=halide-cpp -verify-diagnostics
// RUN: not attnc tune %s --db %t.db 2>&1 | FileCheck %s --check-prefix=BOGUS
// RUN: sed 's/bogus = 1 : i64/gemm_rows = 99 : i64/' %s > %t-range.mlir
// RUN: not attnc %t-range.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: sed 's/bogus = 1 : i64/parallel = "yes"/' %s > %t-type.mlir
// RUN: not attnc %t-type.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: sed 's/{bogus = 1 : i64}/[1, 2]/' %s > %t-dict.mlir
// RUN: not attnc %t-dict.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=DICT
// RUN: sed 's/bogus = 1 : i64/gemm_col_vectors = 8 : i64, gemm_rows = 32 : i64/' %s > %t-regs.mlir
// RUN: not attnc %t-regs.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: not attnc tune %t-regs.mlir --db %t.db 2>&1 | FileCheck %s --check-prefix=REGS

// BOGUS: tune-block-errors.mlir:[[@LINE+7]]:3: error: block kernel 'blk': unknown schedule knob 'bogus' for a block kernel (known: vector_width, gemm_col_vectors, gemm_rows, gemm_min_tasks, parallel, map_rows, tile_rows, tile_cols, thread_rows, thread_cols, k_tile, row_threads)
// RANGE: -range.mlir:[[@LINE+6]]:3: error: block kernel 'blk': schedule knob 'gemm_rows' = 99 is outside [1, 32]: rows per GEMM register block
// TYPE: -type.mlir:[[@LINE+5]]:3: error: block kernel 'blk': schedule knob 'parallel' must be an integer (e.g. 4 : i64), got "yes"
// DICT: -dict.mlir:[[@LINE+4]]:3: error: block kernel 'blk': 'attn.schedule' must be a dictionary of knob = integer, got [1, 2]
// REGS: -regs.mlir:[[@LINE+3]]:3: error: block kernel 'blk': gemm_col_vectors * gemm_rows + gemm_col_vectors + 1 = 265 exceeds the {{[0-9]+}} vector registers of the target
module {
  // expected-error @+1 {{block kernel 'blk': unknown schedule knob 'bogus' for a block kernel (known: vector_width, gemm_col_vectors, gemm_rows, gemm_min_tasks, parallel, map_rows, tile_rows, tile_cols, thread_rows, thread_cols, k_tile, row_threads)}}
  func.func @blk(%x: tensor<1x16x32xf32> {attn.name = "x"}, %gamma: tensor<32xf32> {attn.name = "gamma"}, %beta: tensor<32xf32> {attn.name = "beta"}, %w: tensor<64x32xf32> {attn.name = "w"}, %b: tensor<64xf32> {attn.name = "b"}) -> (tensor<1x16x64xf32> {attn.name = "out"}) attributes {attn.block_kernel, attn.schedule = {bogus = 1 : i64}} {
    %0 = attn.norm "layernorm" %x, %gamma, %beta {eps = 1.000000e-05 : f64} : (tensor<1x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
    %1 = attn.linear "mul" %0, %w, %b : (tensor<1x16x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
    %2 = attn.act "gelu" %1 : tensor<1x16x64xf32>
    return %2 : tensor<1x16x64xf32>
  }
}
