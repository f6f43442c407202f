#!/usr/bin/env bash
# scripts/bench.sh BUILD - what `make bench` runs after building: attnc's
# fused kernels against unfused attention on OpenBLAS and oneDNN and their
# sgemm, fp32, B=1, H=8, D=64, N in {512..8192}, causal and not, 2 threads,
# interleaved rounds in one process.  The table goes to stdout and to
# BUILD/bench/attention.txt (CSV next to it); docs/Performance.md records a
# run with the machine it ran on.
set -euo pipefail
build=${1:-build}
shift $(( $# > 0 ? 1 : 0 ))
mkdir -p "$build/bench"
if [ ! -x "$build/bin/attn-bench" ]; then
  echo "bench: $build/bin/attn-bench was not built (OpenBLAS or oneDNN missing?)" >&2
  exit 1
fi
{
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u +%Y-%m-%d)"
  "$build/bin/attn-bench" --threads 2 --rounds "${ROUNDS:-3}" \
    --csv "$build/bench/attention.csv" "$@"
} | tee "$build/bench/attention.txt"
