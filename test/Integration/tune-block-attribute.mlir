// A block kernel written with an attn.schedule: the tuner's first trial is
// that point completed with the defaults, and a compile uses it (source
// "attribute").  Neither the schedule nor the function's name is part of
// the key: the same function renamed and without the attribute finds the
// record and is compiled with it (source "tuned"), and --skip-tuned skips it.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnc tune %s --db %t/tuning.db --trials 1 2>/dev/null > %t/log
// RUN: attnc db list --db %t/tuning.db >> %t/log
// RUN: attnc compile %s --db %t/tuning.db -v -o %t/attr.so 2>&1 | FileCheck %s --check-prefix=ATTR
// RUN: FileCheck %s --check-prefix=ATTR-MANIFEST < %t/attr.manifest.json
// RUN: attn-run %t/attr.so --check reference | FileCheck %s --check-prefix=EXEC
// RUN: sed -e 's/, attn.schedule = {parallel = 0 : i64, gemm_rows = 2 : i64}//' -e 's/@ln_proj/@renamed/' %s > %t/plain.mlir
// RUN: attnc compile %t/plain.mlir --db %t/tuning.db -v -o %t/plain.so 2>> %t/log
// RUN: FileCheck %s --check-prefix=KEY < %t/log
// RUN: FileCheck %s --check-prefix=TUNED-MANIFEST < %t/plain.manifest.json
// RUN: attn-run %t/plain.so --check reference | FileCheck %s --check-prefix=EXEC-PLAIN
// RUN: attnc tune %t/plain.mlir --db %t/tuning.db --skip-tuned 2>&1 | FileCheck %s --check-prefix=SKIP

// KEY: ln_proj: best {{[0-9.]+}} ms ({{[0-9.]+}} GFLOP/s) {"gemm_col_vectors":{{[0-9]+}},"gemm_min_tasks":{{[0-9]+}},"gemm_rows":2,"map_rows":{{[0-9]+}},"parallel":0,"vector_width":{{[0-9]+}}}; heuristic {{.*}}; 1 trials (1 ok); key [[KEY:[0-9a-f]+]]
// KEY: [[KEY]]  ln_proj {{.*}} 1 {{.*}}"gemm_rows":2,{{.*}}"parallel":0,
// KEY: kernel renamed: schedule from the tuning database (key [[KEY]],
// KEY: kernel renamed: schedule (tuned): gemm_col_vectors={{[0-9]+}} gemm_min_tasks={{[0-9]+}} gemm_rows=2 map_rows={{[0-9]+}} parallel=0 vector_width=
// ATTR: kernel ln_proj: schedule from the IR attribute
// ATTR: kernel ln_proj: schedule (attribute): gemm_col_vectors={{[0-9]+}} gemm_min_tasks={{[0-9]+}} gemm_rows=2 map_rows={{[0-9]+}} parallel=0 vector_width=
// ATTR-MANIFEST: "source": "attribute"
// EXEC: ln_proj: max_abs_err={{.*}} PASS
// TUNED-MANIFEST: "source": "tuned"
// EXEC-PLAIN: renamed: max_abs_err={{.*}} PASS
// SKIP: renamed: skipped, already tuned (best {{[0-9.]+}} ms {"gemm_col_vectors":{{[0-9]+}},"gemm_min_tasks":{{[0-9]+}},"gemm_rows":2,{{.*}}"parallel":0,{{.*}}}); key
// SKIP-NOT: tune renamed: trial
module {
  func.func @ln_proj(%x: tensor<1x16x32xf32> {attn.name = "x"}, %gamma: tensor<32xf32> {attn.name = "gamma"}, %beta: tensor<32xf32> {attn.name = "beta"}, %w: tensor<64x32xf32> {attn.name = "w"}, %b: tensor<64xf32> {attn.name = "b"}) -> (tensor<1x16x64xf32> {attn.name = "out"}) attributes {attn.block_kernel, attn.schedule = {parallel = 0 : i64, gemm_rows = 2 : i64}} {
    %0 = attn.norm "layernorm" %x, %gamma, %beta {eps = 1.000000e-05 : f64} : (tensor<1x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
    %1 = attn.linear "mul" %0, %w, %b : (tensor<1x16x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
    %2 = attn.act "gelu" %1 : tensor<1x16x64xf32>
    return %2 : tensor<1x16x64xf32>
  }
}
