#!/usr/bin/env bash
# scripts/bench-linear.sh BUILD - the efficient-attention benchmark
# (`make bench-linear`, and the end of `make bench`; issue 4, point 3).
#
# Times the linear, kernelized, scan and FFT forms of bench/linear/*.attn
# (B = 1, H = 8, D = 64, fp32) and softmax attention, default and tuned, at
# N in {1024, 2048, 4096, 8192, 16384} with `attn-run --bench --threads 2`
# (its minimum repetitions for slow kernels: 2 warm-up runs, then at least 5
# timed runs filling ~0.5 s; its median is taken; kernels under 250 ms run in
# 3 rounds, the median over rounds is reported), measures the machine's
# ceilings in the same run (build/bin/attn-membw: STREAM bandwidth and
# OpenBLAS sgemm, 2 threads) and prints one table (bench/linear/report.py):
# ms per N, t(16384)/t(4096), the smallest N at which each kernel is faster
# than tuned softmax of the same causality, GFLOP/s and GB/s at N = 4096
# against the ceilings, and the issue's targets.
#
# Tuned softmax: per N, bench/linear/softmax.attn is tuned at that length by
# `attnc tune --dim N=... --time-budget ${LINEAR_TUNE_BUDGET:-30}s` into
# BUILD/bench/tuning.db (skipped when the database already has the kernel at
# that N) and compiled with the same --dim, as attn-bench's tuned column is.
# A first run with an empty database spends ~5 minutes tuning (10 kernels x
# 30 s); later runs reuse it.
#
# Output: stdout, BUILD/bench/linear.txt and BUILD/bench/linear.csv; the raw
# attn-run lines and compile/tune logs in BUILD/bench/linear/.
# Environment: LINEAR_NS (default "1024 2048 4096 8192 16384"),
# LINEAR_TUNE_BUDGET (seconds per tuned kernel, default 30), LINEAR_TUNE_DB
# (default BUILD/bench/tuning.db, shared with attn-bench), LINEAR_ROUNDS (3)
# and LINEAR_REPEAT_MS (250; see "Run" below), THREADS (2).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/bench/linear"
bin="$build/bin"
work="$build/bench/linear"
ns=(${LINEAR_NS:-1024 2048 4096 8192 16384})
threads=${THREADS:-2}
budget=${LINEAR_TUNE_BUDGET:-30}
rounds=${LINEAR_ROUNDS:-3}
repeat_ms=${LINEAR_REPEAT_MS:-250}
db=${LINEAR_TUNE_DB:-$build/bench/tuning.db}
txt="$build/bench/linear.txt"
csv="$build/bench/linear.csv"
raw="$work/raw.tsv"

for tool in attnc attn-run attn-membw; do
  if [ ! -x "$bin/$tool" ]; then
    echo "bench-linear: $bin/$tool was not built (attn-membw needs OpenBLAS and OpenMP)" >&2
    exit 1
  fi
done
mkdir -p "$work"
: >"$raw"
: >"$work/tune.txt"
start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# The lengths in a comma list for report.py; 4096 and 16384 are the ratio's.
ns_csv=$(IFS=,; echo "${ns[*]}")

log() { echo "bench-linear: $*" >&2; }

# The ceilings first, while nothing of ours runs (and again at the end).
log "measuring memory bandwidth and sgemm (attn-membw)"
"$bin/attn-membw" --threads "$threads" >"$work/membw.txt"

# --- Compile --------------------------------------------------------------
log "compiling bench/linear/variants.attn"
"$bin/attnc" compile "$src/variants.attn" -o "$work/variants.so" \
  >"$work/compile-variants.log" 2>&1 ||
  { cat "$work/compile-variants.log" >&2; exit 1; }
for n in "${ns[@]}"; do
  if [ -f "$src/vicinity-$n.attn" ]; then
    "$bin/attnc" compile "$src/vicinity-$n.attn" -o "$work/vicinity-$n.so" \
      >"$work/compile-vicinity-$n.log" 2>&1 ||
      { log "vicinity N=$n failed to compile (see $work/compile-vicinity-$n.log)"; rm -f "$work/vicinity-$n.so"; }
  fi
done

# Tuned softmax per N: compile with the database; tune what it lacks; compile
# again.  A kernel compiled from the database says so in its manifest
# ("schedule": {"source": "tuned"}).
untuned() { # manifest -> the kernels without a tuned schedule
  python3 - "$1" <<'EOF'
import json, sys
for k in json.load(open(sys.argv[1]))["kernels"]:
    if k.get("schedule", {}).get("source") != "tuned":
        print(k["name"])
EOF
}
for n in "${ns[@]}"; do
  so="$work/softmax-$n.so"
  comp() {
    "$bin/attnc" compile "$src/softmax.attn" --dim "N=$n" --db "$db" -v \
      -o "$so" >"$work/compile-softmax-$n.log" 2>&1
  }
  comp || { log "softmax N=$n failed to compile (see $work/compile-softmax-$n.log)"; continue; }
  missing=$(untuned "$work/softmax-$n.manifest.json")
  if [ -n "$missing" ]; then
    for k in $missing; do
      log "tuning $k at N=$n (${budget} s)"
      if "$bin/attnc" tune "$src/softmax.attn" --dim "N=$n" --kernel "$k" \
          --db "$db" --time-budget "${budget}s" \
          >"$work/tune-$k-$n.out" 2>"$work/tune-$k-$n.log"; then
        sed "s/^/# attnc tune $k N=$n: /" "$work/tune-$k-$n.out" >>"$work/tune.txt"
      else
        log "tuning $k at N=$n failed (see $work/tune-$k-$n.log)"
      fi
    done
    comp || { log "softmax N=$n failed to compile"; continue; }
  fi
done

# --- Run ----------------------------------------------------------------------
# Row label and display name of each kernel base name.
label() {
  case "$1" in
    linear) echo "linear(elu1)" ;;
    performer) echo "performer(64)" ;;
    rpe_fft) echo "rpe_fft(64, R=2N-1)" ;;
    vicinity) echo "vicinity(grid)" ;;
    softmax) echo "softmax (heuristic)" ;;
    softmax_tuned) echo "softmax (tuned)" ;;
    *) echo "$1" ;;
  esac
}
forms() { # manifest -> "name form" lines
  python3 - "$1" <<'EOF'
import json, sys
for k in json.load(open(sys.argv[1]))["kernels"]:
    print(k["name"], k.get("form", "?"))
EOF
}
bench() { # round lib kernel row n [extra attn-run args...]
  local round=$1 lib=$2 kernel=$3 row=$4 n=$5
  shift 5
  local form causal line ms gf bytes
  form=$(forms "${lib%.so}.manifest.json" | awk -v k="$kernel" '$1 == k {print $2}')
  case "$kernel" in *_causal) causal=yes ;; *) causal=no ;; esac
  line=$(timeout 600 "$bin/attn-run" "$lib" --kernel "$kernel" --bench \
           --threads "$threads" "$@" </dev/null 2>&1 | tee -a "$work/attn-run.log" |
           grep "^$kernel: median" || true)
  if [ -z "$line" ]; then
    log "$kernel N=$n failed (see $work/attn-run.log)"
    ms=nan gf=0
  else
    ms=$(sed -E 's/.*median ([0-9.]+) ms.*/\1/' <<<"$line")
    gf=$(sed -nE 's/.* ([0-9.]+) GFLOP\/s.*/\1/p' <<<"$line")
    gf=${gf:-0}
  fi
  # 4 bytes x (q, k, v, out: B*H*N*D each) [+ bias H*R]: a lower bound.
  bytes=$(( 4 * 4 * 1 * 8 * n * 64 ))
  [ "$row" = rpe_fft ] && bytes=$(( bytes + 4 * 8 * (2 * n - 1) ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$(label "$row")" \
    "$causal" "$form" "$n" "$ms" "$gf" "$bytes" "$round" >>"$raw"
  printf '  round %s N=%-6s %-24s %s\n' "$round" "$n" "$kernel" "${line#*: }" >&2
  # The kernels cheap enough to repeat in the later rounds.
  if [ "$round" = 1 ] && [ "$ms" != nan ] &&
     awk -v m="$ms" -v t="$repeat_ms" 'BEGIN { exit !(m < t) }'; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$lib" "$kernel" "$row" "$n" "$*" >>"$work/repeat.tsv"
  fi
}

# Round 1 runs every kernel at every N; rounds 2..ROUNDS repeat, in the same
# order, the kernels whose round-1 median was under LINEAR_REPEAT_MS (default
# 250 ms; the slow ones run once: rpe_fft alone takes minutes).  The table
# shows the median over rounds of attn-run's medians, so one round disturbed
# by other work on the machine does not set a number.
: >"$work/attn-run.log"
: >"$work/repeat.tsv"
for n in "${ns[@]}"; do
  log "round 1, N=$n"
  while read -r kernel form; do
    row=${kernel%_full}
    row=${row%_causal}
    extra=()
    [ "$row" = rpe_fft ] && extra=(--dim "R=$(( 2 * n - 1 ))")
    bench 1 "$work/variants.so" "$kernel" "$row" "$n" --dim "N=$n" "${extra[@]}"
  done < <(forms "$work/variants.manifest.json")
  if [ -f "$work/vicinity-$n.so" ]; then
    bench 1 "$work/vicinity-$n.so" vicinity_full vicinity "$n"
  fi
  if [ -f "$work/softmax-$n.so" ]; then
    bench 1 "$work/softmax-$n.so" softmax_full softmax_tuned "$n"
    bench 1 "$work/softmax-$n.so" softmax_causal softmax_tuned "$n"
  fi
done
for (( r = 2; r <= rounds; ++r )); do
  log "round $r: the kernels under ${repeat_ms} ms"
  while IFS=$'\t' read -r lib kernel row n extra; do
    # shellcheck disable=SC2086  # extra: the --dim words of round 1
    bench "$r" "$lib" "$kernel" "$row" "$n" $extra
  done <"$work/repeat.tsv"
done
# The ceilings again: report.py takes the better of the two measurements, so
# a ceiling measured while other work ran does not inflate the percentages.
log "measuring memory bandwidth and sgemm again (attn-membw)"
"$bin/attn-membw" --threads "$threads" >>"$work/membw.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - start ))

# --- Report -------------------------------------------------------------------
{
  echo "# efficient-attention families (issue 4): B=1, H=8, D=64, fp32, $threads threads"
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# command: make bench-linear (scripts/bench-linear.sh $build); ${elapsed} s"
  echo "# load average (1, 5, 15 min) before: $load_before; after: $load_after"
  grep '^#' "$work/membw.txt" | sort -u || true
  cat "$work/tune.txt"
  python3 "$src/report.py" "$raw" "$work/membw.txt" "$csv" --ns "$ns_csv"
} | tee "$txt"
log "wrote $txt and $csv"
