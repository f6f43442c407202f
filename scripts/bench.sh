#!/usr/bin/env bash
# scripts/bench.sh BUILD [attn-bench options] - what `make bench` runs after
# building: attnc's fused kernels against unfused attention on OpenBLAS and
# oneDNN and their sgemm, Halide's autoschedulers on the same algorithm
# (Mullapudi2016, Adams2019, Li2018; compiled per shape) and PyTorch's
# scaled_dot_product_attention on the CPU, fp32, B=1, H=8, D=64,
# N in {512..8192}, causal and not, 2 threads, interleaved rounds in one run.
# The tables go to stdout and to BUILD/bench/attention-dD.txt (CSV next to
# them); the charts to docs/Performance-dD-{noncausal,causal}.svg;
# docs/Performance.md
# records a run with the machine it ran on.
#
# PyTorch comes from PyPI into a virtual environment BUILD/venv-bench (only
# for the benchmark).  First `torch` alone with its pure-Python dependencies;
# the PyPI wheel links CUDA libraries even for CPU use, so when `import torch`
# fails without them, `torch` with its dependencies.  If it still cannot be
# imported the column is skipped with a message.  NO_TORCH=1 skips it too.
set -euo pipefail
build=${1:-build}
shift $(( $# > 0 ? 1 : 0 ))
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/bench"
if [ ! -x "$build/bin/attn-bench" ]; then
  echo "bench: $build/bin/attn-bench was not built (OpenBLAS or oneDNN missing?)" >&2
  exit 1
fi

venv="$build/venv-bench"
torch_log="$build/bench/torch-install.log"
# shellcheck source=scripts/torch-venv.sh
source "$here/scripts/torch-venv.sh"

torch_args=()
if [ "${NO_TORCH:-0}" = 1 ]; then
  echo "PyTorch column skipped: NO_TORCH=1"
elif setup_torch; then
  torch_args=(--torch-python "$venv/bin/python")
else
  echo "PyTorch column skipped: $torch_reason"
fi

# One run per head dim (the issue's D in {64, 128}); BENCH_DS overrides.
# A failed run is reported and the next one still runs.
status=0
for d in ${BENCH_DS:-64 128}; do
  if ! {
    echo "# machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u +%Y-%m-%d)"
    "$build/bin/attn-bench" --threads 2 --rounds "${ROUNDS:-3}" --d "$d" \
      --csv "$build/bench/attention-d$d.csv" "${torch_args[@]}" \
      --tune "${TUNE_BUDGET:-60}" --tune-db "$build/bench/tuning.db" "$@"
  } | tee "$build/bench/attention-d$d.txt"; then
    echo "bench: the D=$d run failed (see above)" >&2
    status=1
  fi
  python3 "$here/bench/plot_svg.py" "$build/bench/attention-d$d.csv" \
    "$here/docs" --prefix "Performance-d$d" || status=1
done
exit $status
