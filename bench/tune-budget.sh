#!/usr/bin/env bash
# bench/tune-budget.sh WORKDIR - does a 60-second tuning budget get within
# 10% of a 10-minute one?  Tunes the same kernel (softmax attention, B=1,
# H=8, N=2048, D=64, non-causal) with both budgets into separate databases,
# then times both winners and the default heuristic side by side, 3 rounds,
# with attn-run.  Results: WORKDIR/t60.out, t600.out, compare.txt.
set -u
bin=${ATTNC_BIN_DIR:-$(cd "$(dirname "$0")/../build/bin" && pwd)}
work=${1:?usage: tune-budget.sh WORKDIR}
mkdir -p "$work" && cd "$work"
cat > mha2048.attn <<'ATTN'
dim B = 1, H = 8, N = 2048, D = 64
kernel full(q: f32[B, H, N, D], k: f32[B, H, N, D], v: f32[B, H, N, D]) -> f32[B, H, N, D] {
  return attention(q, k, v)
}
ATTN
rm -f t60.db* t600.db* compare.txt
"$bin/attnc" tune mha2048.attn --db "$PWD/t60.db" --time-budget 60s --seed 1 > t60.out 2> t60.log
"$bin/attnc" tune mha2048.attn --db "$PWD/t600.db" --time-budget 600s --seed 2 > t600.out 2> t600.log
"$bin/attnc" compile mha2048.attn --db "$PWD/t60.db" -o w60.so
"$bin/attnc" compile mha2048.attn --db "$PWD/t600.db" -o w600.so
"$bin/attnc" compile mha2048.attn --no-tuning-db -o heuristic.so
for round in 1 2 3; do
  for lib in w60 w600 heuristic; do
    echo "$lib $("$bin/attn-run" "$lib.so" --bench | tail -1)"
  done
done | tee compare.txt
