#!/usr/bin/env bash
# scripts/bench-arch.sh BUILD - whole architectures (issue 5, §6;
# `make bench-arch`, and the end of `make bench`).
#
# The four example architectures (examples/hybrid_vit.attn with alternating
# softmax/linear_elu layers, bert_base.attn at N = 128 and 512,
# causal_decoder.attn, shiftadd.attn) at batch 1 and 8 (`--dim B=8`), each
# compiled twice into BUILD/bench/arch/: attnc fused (the default) and
# `--no-fusion` (one kernel per op).  Against PyTorch eager on the CPU
# (bench/arch/torch_models.py: the same architectures as nn.Modules, loading
# the weights attn-run used from its --save-weights file): first the same
# computation is checked (max |torch - attnc| on the same seeded input; a
# relative difference above 1e-3 fails the run loudly), then the three are
# timed in interleaved rounds (bench/arch/bench_arch.py).  One table to
# stdout and BUILD/bench/arch.txt (CSV: BUILD/bench/arch.csv); the raw
# attn-run output in BUILD/bench/arch/attn-run.log.
#
# PyTorch comes from PyPI into BUILD/venv-bench as in scripts/bench.sh
# (scripts/torch-venv.sh); if it cannot be installed or imported, the torch
# columns say so and the rest still runs.  NO_TORCH=1 skips it.
# Environment: THREADS (2), ARCH_ROUNDS (3), ARCH_EXTRA_ROUNDS (4: at most
# this many more rounds for the measurements that other processes disturbed,
# see bench/arch/bench_arch.py), ARCH_BATCHES ("1,8"),
# ARCH_ONLY (comma list of hybrid_vit, bert_base, bert_base_512,
# causal_decoder, shiftadd; default all), ARCH_BREAKDOWN (1: time each kernel
# of the fused libraries alone afterwards; 0: skip), BENCH_VENV (the virtual
# environment; default BUILD/venv-bench), ARCH_TORCH_POLICIES (the OpenMP
# wait policies PyTorch runs under, one worker process each, the faster
# reported; default "default,passive").
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/bench/arch"
for tool in attnc attn-run; do
  if [ ! -x "$build/bin/$tool" ]; then
    echo "bench-arch: $build/bin/$tool was not built" >&2
    exit 1
  fi
done

venv=${BENCH_VENV:-$build/venv-bench}
# shellcheck disable=SC2034  # torch_log: read by torch-venv.sh
torch_log="$build/bench/arch/torch-install.log"
# shellcheck source=scripts/torch-venv.sh
source "$here/scripts/torch-venv.sh"
torch_args=()
if [ "${NO_TORCH:-0}" = 1 ]; then
  torch_args=(--torch-skip-reason "NO_TORCH=1")
elif setup_torch; then
  torch_args=(--torch-python "$venv/bin/python")
else
  torch_args=(--torch-skip-reason "$torch_reason")
fi

exec python3 "$here/bench/arch/bench_arch.py" --build "$build" \
  --threads "${THREADS:-2}" --rounds "${ARCH_ROUNDS:-3}" \
  --extra-rounds "${ARCH_EXTRA_ROUNDS:-4}" \
  --batches "${ARCH_BATCHES:-1,8}" --only "${ARCH_ONLY:-}" \
  --breakdown "${ARCH_BREAKDOWN:-1}" \
  --torch-policies "${ARCH_TORCH_POLICIES:-default,passive}" \
  --txt "$build/bench/arch.txt" --csv "$build/bench/arch.csv" "${torch_args[@]}"
