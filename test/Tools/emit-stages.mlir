// Every -emit stage of attnc on IR input.
// RUN: attnc %S/Inputs/mha.mlir -emit=mlir | FileCheck %s --check-prefix=MLIR
// RUN: attnc %S/Inputs/mha.mlir -emit=kernels | FileCheck %s --check-prefix=KERNELS
// RUN: attnc %S/Inputs/mha.mlir -emit=halide-cpp | FileCheck %s --check-prefix=HALIDE
// RUN: attnc %S/Inputs/mha.mlir -emit=obj -o %t.o && nm %t.o | FileCheck %s --check-prefix=OBJ
// RUN: attnc %S/Inputs/mha.mlir -emit=so -o %t.so && nm -D %t.so | FileCheck %s --check-prefix=SO
// RUN: FileCheck %s --check-prefix=MANIFEST < %t.manifest.json

// MLIR: attn.attention @softmax
// MLIR-SAME: {causal}

// KERNELS-LABEL: func.func @mha
// KERNELS: attn.kernel "mha" form = two_pass_tiled schedule = {dot_query_block = 48 : i64, key_unroll = 8 : i64, pv_query_unroll = 6 : i64, query_tile = 48 : i64, unroll_value_dim = 1 : i64, vector_width = 16 : i64}
// KERNELS-SAME: attn.schedule_constraints = ["dot_query_block % vector_width == 0",
// KERNELS-SAME: attn.schedule_source = "heuristic"
// KERNELS-SAME: attn.schedule_space = {dot_query_block = array<i64: 16, 32, 48, 64, 80, 96, 112, 128>, key_unroll = array<i64: 2, 4, 6, 8, 12, 16>
// KERNELS: attn.score
// KERNELS: attn.mask %{{.*}} {origin = "causal"}
// KERNELS: attn.normalize softmax
// KERNELS: attn.aggregate
// KERNELS-NOT: attn.attention

// HALIDE: // Halide pipeline for kernel 'mha' (form two_pass_tiled
// HALIDE: // knobs: dot_query_block=48 key_unroll=8 pv_query_unroll=6 query_tile=48 unroll_value_dim=1 vector_width=16
// HALIDE: void generate() {
// HALIDE:   q_tile(ii, d, io, h, b) = ((float32)q_im(d, min((io*48) + ii, q.extent.1 - 1), h, b)*0.125000f);
// HALIDE:   dot(ii, j, io, h, b) = ((float32)dot(ii, j, io, h, b) + ((float32)q_tile(ii, rd$x, io, h, b)
// HALIDE:   row_max(ii, io, h, b) = max(
// HALIDE-SAME: (r$x <= (((io*48) + ii) + (k.extent.1 - q.extent.1)))
// HALIDE: void schedule() {
// HALIDE:   out.split(i, io_out, ii_out, 48)

// OBJ: T mha
// OBJ: T mha_argv
// OBJ: T mha_metadata

// SO: T attnc_source_hash
// SO: T mha_argv

// MANIFEST: "format": "attnc-manifest"
// MANIFEST: "kernels": [
// MANIFEST: "dims": {
// MANIFEST-NEXT: "B": 1,
// MANIFEST-NEXT: "D": 64,
// MANIFEST-NEXT: "H": 8,
// MANIFEST-NEXT: "N": null
// MANIFEST: "causal": true,
// MANIFEST: "masks": [
// MANIFEST-NEXT: "(le j (add i (sub (dim M) (dim N))))"
// MANIFEST: "normalize": "softmax",
// MANIFEST: "scale": "0.125",
// MANIFEST: "schedule": {
// MANIFEST: "query_tile": 48,
// MANIFEST: "source": "heuristic",
// MANIFEST: "source_hash": "{{[0-9a-f]+}}",
