#!/usr/bin/env bash
# scripts/run-examples.sh BUILD - what `make run` does after building:
# compile every examples/*.attn with attnc, run each kernel (and each
# architecture end to end) on seeded random inputs and weights, check it
# against the float64 reference, time it, and print one table.  Exits
# non-zero if anything fails to compile or to match.
set -uo pipefail
build=${1:-build}
bin="$build/bin"
out="$build/examples"
mkdir -p "$out"
export HL_NUM_THREADS=${HL_NUM_THREADS:-2}

# Extra attn-run flags per example (symbolic dims need a value).
declare -A extra=([dynamic]="--dim N=2048")
# The hybrid ViT alternates softmax and linear attention layer by layer.
mixed="mixer=[$(printf 'softmax,linear_elu,%.0s' 1 2 3 4 5 6 | sed 's/,$//')]"
# Builds: "name|source|attnc flags"; every example once, plus variants.
builds=()
for src in examples/*.attn; do
  name=$(basename "$src" .attn)
  case $name in
    hybrid_vit) builds+=("$name|$src|--config $mixed") ;;
    bert_base) builds+=("$name|$src|" "bert_base_512|$src|--dim N=512") ;;
    *) builds+=("$name|$src|") ;;
  esac
done

# The GPU schedule of the softmax form, on OpenCL (PoCL runs it on the CPU
# when there is no GPU; docs/GPU.md): checked like the others.
opencl=""
if opencl=$("$bin/attn-run" --gpu-info opencl 2>/dev/null); then
  builds+=("mha_opencl|examples/mha.attn|--target opencl")
fi

status=0
rows=()
row() {
  rows+=("$(printf '%-14s %-24s %8s %10s %10s %9s  %s' "$@")")
}
for b in "${builds[@]}"; do
  IFS='|' read -r name src flags <<<"$b"
  lib="$out/$name.so"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  if ! "$bin/attnc" compile "$src" -o "$lib" $flags; then
    echo "run: attnc failed on $src" >&2
    status=1
    continue
  fi
  compile_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  log=$("$bin/attn-run" "$lib" --check reference --bench ${extra[$name]:-} 2>&1)
  rc=$?
  echo "$log" | grep -v -E 'max_abs_err|median' >&2
  [ $rc -ne 0 ] && status=1
  if echo "$log" | grep -q '^end-to-end '; then
    # An architecture: one row, the end-to-end check and the forward pass.
    arch=$(echo "$log" | grep -m1 '^end-to-end ' | awk '{print $2}')
    line=$(echo "$log" | grep -m1 '^end-to-end ')
    calls=$(echo "$log" | grep -c '^call .*PASS$')
    total=$(echo "$log" | grep -c '^call ')
    bench=$(echo "$log" | grep -E "^$arch \([0-9]+ calls\): median")
    row "$name" "$arch (e2e, $calls/$total)" "$compile_s" \
      "$(echo "$bench" | grep -oE 'median [0-9.]+' | cut -d' ' -f2)" \
      "$(echo "$bench" | grep -oE '[0-9.]+ GFLOP/s' | cut -d' ' -f1)" \
      "$(echo "$line" | grep -oE 'max_abs_err=[^ ]+' | cut -d= -f2)" \
      "$(echo "$line" | grep -oE '(PASS|FAIL)$')"
    continue
  fi
  while IFS= read -r line; do
    kernel=${line%%:*}
    bench=$(echo "$log" | grep -E "^$kernel: median")
    row "$name" "$kernel" "$compile_s" \
      "$(echo "$bench" | grep -oE 'median [0-9.]+' | cut -d' ' -f2)" \
      "$(echo "$bench" | grep -oE '[0-9.]+ GFLOP/s' | cut -d' ' -f1)" \
      "$(echo "$line" | grep -oE 'max_abs_err=[^ ]+' | cut -d= -f2)" \
      "$(echo "$line" | grep -oE '(PASS|FAIL)$')"
  done < <(echo "$log" | grep -E 'max_abs_err=')
done

echo
echo "attnc examples: ${HL_NUM_THREADS} threads, fp32, target host ($(nproc) cores)"
echo "(architectures: one row each, end-to-end check against float64; the"
echo " per-call checks passed / run are in parentheses)"
[ -n "$opencl" ] && echo "(mha_opencl: the GPU schedule compiled --target opencl, run on $opencl;" \
  && echo " on PoCL these are CPU times of OpenCL code, not GPU performance)"
printf '%-14s %-24s %8s %10s %10s %9s  %s\n' example kernel compile_s median_ms GFLOP/s max_err check
for r in "${rows[@]}"; do echo "$r"; done
exit $status
