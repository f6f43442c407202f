// A block kernel's attn.schedule on a GPU target (docs/gpu/block-kernels.md):
// the knobs of the GPU block space are resolved over its default point and
// checked against the target's per-block limits before anything is
// compiled.  map_rows = 2 gives map stages of 32 x 2 threads (it runs and
// passes); map_rows = 64 asks for 2048 threads per block, more than the
// 1024 the target allows (a compile error at the kernel).  CPU knobs
// (gemm_rows) do not apply to GPU schedules and are ignored.
// REQUIRES: opencl
// RUN: attnc %s --target opencl -emit=halide-cpp | FileCheck %s --check-prefix=SCHED
// RUN: attnc %s --target opencl -o %t.so
// RUN: attn-run %t.so --check reference | FileCheck %s
// RUN: sed 's/map_rows = 2 : i64/map_rows = 64 : i64/' %s > %t-threads.mlir
// RUN: not attnc %t-threads.mlir --target opencl -o %t-threads.so 2>&1 | FileCheck %s --check-prefix=THREADS
// SCHED: knobs: k_tile=16 map_rows=2 row_threads=128
// SCHED: out.split(v0, jo, jt, 9).split(v1, io, it, 2).fuse(h, b, hb).gpu_blocks(jo, io, hb).gpu_threads(jt, it);
// CHECK-NOT: FAIL
// CHECK: maps.out: max_abs_err={{.*}} PASS
// CHECK: maps.out1: max_abs_err={{.*}} PASS
// THREADS: error: block kernel 'maps': the schedule uses 2048 threads per block; the target allows at most 1024 (GPU schedule of a block kernel)
module {
  func.func @maps(%arg0: tensor<1x2x9x8xf32> {attn.name = "q"}, %arg1: tensor<1x2x9x8xf32> {attn.name = "k"}, %arg2: tensor<1x2x9x8xf32> {attn.name = "v"}) -> (tensor<1x2x9x9xf32> {attn.name = "out"}, tensor<1x2x9x8xf32> {attn.name = "out1"}) attributes {attn.block_kernel, attn.schedule = {map_rows = 2 : i64, gemm_rows = 2 : i64}} {
    %0 = attn.scores %arg0, %arg1 {scale = 0.35355339059327373 : f64} : tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x9x9xf32>
    %1 = attn.softmax %0 : tensor<1x2x9x9xf32>
    %2 = attn.attend %1, %arg2 : tensor<1x2x9x9xf32>, tensor<1x2x9x8xf32> -> tensor<1x2x9x8xf32>
    return %0, %2 : tensor<1x2x9x9xf32>, tensor<1x2x9x8xf32>
  }
}
