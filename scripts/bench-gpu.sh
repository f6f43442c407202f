#!/usr/bin/env bash
# scripts/bench-gpu.sh BUILD - fused softmax attention on a CUDA GPU: attnc's
# cuda kernels against PyTorch SDPA (fp32 with TF32 off) in the same run
# (docs/GPU.md §7, docs/Performance.md "GPU").
#
# Needs a CUDA device (attn-run --gpu-info cuda) and, for the PyTorch
# column, torch with CUDA in BUILD/venv-bench (scripts/torch-venv.sh) or on
# the system python.  Without a device it says so and exits 0: the GPU rows
# stay "not measured".  Output: BUILD/bench/gpu.md (the table) and
# BUILD/bench/gpu.csv.
#
# Shapes: B=4, H=16, D=64, N in 1024 2048 4096 8192 (GPU_NS overrides),
# non-causal and causal; fp32 (TF32 off on the PyTorch side), then fp16
# (attnc takes f16 on CUDA and computes in f32; bf16 has no GPU path in
# attnc, docs/GPU.md §2, so it has no row).  FLOPs: 4*B*H*N*N*D (half of it causal), the same
# count for both columns.  attnc kernels are timed device-resident (inputs
# copied once, outputs left on the device; attn-run --bench), SDPA with CUDA
# events; both take medians of about BENCH_SECONDS (default 2) of runs.
set -uo pipefail

build="${1:-build}"
here="$(cd "$(dirname "$0")/.." && pwd)"
attnc="$build/bin/attnc"
attnrun="$build/bin/attn-run"
out="$build/bench"
mkdir -p "$out"
seconds="${BENCH_SECONDS:-2}"
ns="${GPU_NS:-1024 2048 4096 8192}"
B=4 H=16 D=64

if ! device="$("$attnrun" --gpu-info cuda 2>&1)"; then
  echo "bench-gpu: no CUDA device here (${device#attn-run: error: })"
  echo "bench-gpu: the GPU rows of docs/Performance.md stay 'not measured'"
  exit 0
fi
echo "bench-gpu: $device"

# The newest capability this device runs.
cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')"
case "$cap" in
  9*|1[0-9]*) target=cuda-90 ;;
  86|87|89) target=cuda-86 ;;
  *) target=cuda-80 ;;
esac
# SIMT fp32 peak (docs/GPU.md §7): known for the H100 SXM; else "n/a".
peak=""
case "$device" in
  *H100*) peak=66.9 ;;
esac

python="python3"
[ -x "$build/venv-bench/bin/python" ] && python="$build/venv-bench/bin/python"
torch_note="$("$python" "$here/bench/gpu/torch_sdpa_cuda.py" 1 1 64 64 0 fp32 0.05 2>&1 | tail -1)"
[ "${torch_note%% *}" = ok ] || echo "bench-gpu: no PyTorch column: $torch_note"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
csv="$out/gpu.csv"
echo "dtype,N,causal,attnc_ms,attnc_tflops,peak_pct,sdpa_ms,sdpa_tflops,ratio" >"$csv"
table="$out/gpu.md"
{
  echo "device: ${device#cuda: }, target $target, B=$B H=$H D=$D (fp32: TF32 off)"
  echo
  echo "| dtype | N | mask | attnc ms | attnc TFLOP/s | % SIMT fp32 peak | SDPA ms | SDPA TFLOP/s | attnc / SDPA |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$table"
status=0
for dtype in fp32 fp16; do
ty=f32; [ $dtype = fp16 ] && ty=f16
for n in $ns; do
  src="$work/mha$dtype$n.attn"
  lib="$work/mha$dtype$n.so"
  cat >"$src" <<ATTN
dim B = $B, H = $H, N = $n, D = $D
kernel full(q: $ty[B, H, N, D], k: $ty[B, H, N, D], v: $ty[B, H, N, D]) -> $ty[B, H, N, D] {
  return attention(q, k, v)
}
kernel causal(q: $ty[B, H, N, D], k: $ty[B, H, N, D], v: $ty[B, H, N, D]) -> $ty[B, H, N, D] {
  return attention(q, k, v, causal = true)
}
ATTN
  if ! "$attnc" "$src" --target "$target" -o "$lib"; then
    echo "bench-gpu: attnc failed for $dtype N=$n"; status=1; continue
  fi
  # Correct first (64 rows against float64), then timed.
  if ! "$attnrun" "$lib" --check reference --check-rows 64 >"$work/check.txt"; then
    cat "$work/check.txt"; echo "bench-gpu: check failed for $dtype N=$n"; status=1; continue
  fi
  bench="$("$attnrun" "$lib" --bench --bench-seconds "$seconds")" || { status=1; continue; }
  for kernel in full causal; do
    causal=0; [ $kernel = causal ] && causal=1
    ms="$(echo "$bench" | sed -n "s/^$kernel: median \([0-9.]*\) ms.*/\1/p")"
    flops="$(awk -v b=$B -v h=$H -v n="$n" -v d=$D -v c=$causal 'BEGIN{f=4*b*h*n*n*d; if(c) f/=2; print f}')"
    tf="$(awk -v f="$flops" -v ms="$ms" 'BEGIN{printf "%.2f", f/(ms*1e-3)/1e12}')"
    pct="n/a"; [ -n "$peak" ] && pct="$(awk -v t="$tf" -v p="$peak" 'BEGIN{printf "%.0f%%", 100*t/p}')"
    sms="n/a" stf="n/a" ratio="n/a"
    sd="$("$python" "$here/bench/gpu/torch_sdpa_cuda.py" $B $H "$n" $D $causal $dtype "$seconds" 2>&1 | tail -1)"
    if [ "${sd%% *}" = ok ]; then
      sms="$(echo "$sd" | awk '{printf "%.3f", $2}')"
      stf="$(awk -v f="$flops" -v ms="$sms" 'BEGIN{printf "%.2f", f/(ms*1e-3)/1e12}')"
      ratio="$(awk -v a="$ms" -v s="$sms" 'BEGIN{printf "%.2fx", s/a}')"
    fi
    mask=none; [ $causal = 1 ] && mask=causal
    echo "| $dtype | $n | $mask | $ms | $tf | $pct | $sms | $stf | $ratio |" >>"$table"
    echo "$dtype,$n,$causal,$ms,$tf,$pct,$sms,$stf,$ratio" >>"$csv"
  done
done
done
cat "$table"
echo "bench-gpu: wrote $table and $csv (attnc / SDPA > 1 means attnc is faster)"
exit $status
