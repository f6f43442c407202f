#!/usr/bin/env bash
# scripts/run-examples.sh BUILD - what `make run` does after building:
# compile every examples/*.attn with attnc, run each kernel on seeded random
# inputs, check it against the float64 reference, time it, and print one
# table.  Exits non-zero if any kernel fails to compile or to match.
set -uo pipefail
build=${1:-build}
bin="$build/bin"
out="$build/examples"
mkdir -p "$out"
export HL_NUM_THREADS=${HL_NUM_THREADS:-2}

# Extra attn-run flags per example (symbolic dims need a value).
declare -A extra=([dynamic]="--dim N=2048")

status=0
rows=()
for src in examples/*.attn; do
  name=$(basename "$src" .attn)
  lib="$out/$name.so"
  start=$(date +%s.%N)
  if ! "$bin/attnc" compile "$src" -o "$lib"; then
    echo "run: attnc failed on $src" >&2
    status=1
    continue
  fi
  compile_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  log=$("$bin/attn-run" "$lib" --check reference --bench ${extra[$name]:-} 2>&1)
  rc=$?
  echo "$log" | grep -v -E 'max_abs_err|median' >&2
  [ $rc -ne 0 ] && status=1
  while IFS= read -r line; do
    kernel=${line%%:*}
    verdict=$(echo "$line" | grep -oE '(PASS|FAIL)$')
    err=$(echo "$line" | grep -oE 'max_abs_err=[^ ]+' | cut -d= -f2)
    bench=$(echo "$log" | grep -E "^$kernel: median")
    ms=$(echo "$bench" | grep -oE 'median [0-9.]+' | cut -d' ' -f2)
    gf=$(echo "$bench" | grep -oE '[0-9.]+ GFLOP/s' | cut -d' ' -f1)
    rows+=("$(printf '%-10s %-20s %8.2f %10s %10s %9s  %s' "$name" "$kernel" "$compile_s" "${ms:--}" "${gf:--}" "${err:--}" "${verdict:--}")")
  done < <(echo "$log" | grep -E 'max_abs_err=')
done

echo
echo "attnc examples: ${HL_NUM_THREADS} threads, fp32, target host ($(nproc) cores)"
printf '%-10s %-20s %8s %10s %10s %9s  %s\n' example kernel compile_s median_ms GFLOP/s max_err check
for r in "${rows[@]}"; do echo "$r"; done
exit $status
