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
torch_reason=""
torch_ok() {
  "$venv/bin/python" - >>"$torch_log" 2>&1 <<'EOF'
import torch, torch.nn.functional as F
q = torch.ones(1, 1, 4, 8)
F.scaled_dot_product_attention(q, q, q, is_causal=True)
print("torch", torch.__version__, "works on the CPU")
EOF
}
setup_torch() {
  : >"$torch_log"
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >>"$torch_log" 2>&1; then
      torch_reason="python3 -m venv failed (Debian: apt-get install python3-venv; see $torch_log)"
      return 1
    fi
  fi
  torch_ok && return 0
  echo "bench: installing torch from PyPI into $venv (log: $torch_log)" >&2
  "$venv/bin/pip" install --no-deps torch typing-extensions sympy networkx \
      jinja2 filelock fsspec mpmath MarkupSafe >>"$torch_log" 2>&1 || true
  torch_ok && return 0
  echo "bench: torch needs its CUDA libraries even on the CPU; installing its dependencies" >&2
  if ! "$venv/bin/pip" install torch >>"$torch_log" 2>&1; then
    torch_reason="pip install torch failed (see $torch_log)"
    return 1
  fi
  torch_ok && return 0
  torch_reason="torch was installed but cannot run on this machine: $(grep -m1 -i 'error' "$torch_log" || echo "see $torch_log")"
  return 1
}

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
