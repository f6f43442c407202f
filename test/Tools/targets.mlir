// RUN: attnc %S/Inputs/mha.mlir --target=x86-64-avx2 -emit=halide-cpp | FileCheck %s --check-prefix=AVX2
// RUN: attnc %S/Inputs/mha.mlir --target=x86-64-avx512 -emit=halide-cpp | FileCheck %s --check-prefix=AVX512
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnc %S/Inputs/mha.mlir --target=arm-64-linux -o %t/arm.so 2>&1 | FileCheck %s --check-prefix=ARM
// RUN: test -f %t/arm.o && not test -f %t/arm.so
// RUN: not attnc %S/Inputs/mha.mlir --target=sparc-32 -o %t/x.so 2>&1 | FileCheck %s --check-prefix=BAD

// AVX2: target x86-64-linux-avx-avx2-f16c-fma-sse41)
// AVX2: dot_query_block=16 key_unroll=6 pv_query_unroll=1 query_tile=48 unroll_value_dim=1 vector_width=8
// AVX512: avx512_skylake
// AVX512: vector_width=16
// ARM: attnc: note: target arm-64-linux is not this machine's; wrote the object {{.*}}arm.o and skipped the link step (no cross linker is used)
// BAD: attnc: error: unknown target 'sparc-32'; expected host, x86-64-avx2, x86-64-avx512, arm-64-linux, cuda, cuda-80, cuda-86, cuda-90, opencl or a Halide target string
