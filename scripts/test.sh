#!/usr/bin/env bash
# scripts/test.sh BUILD - run every test (lit: IR, frontend, tools,
# integration; GoogleTest unit tests through lit) and end with the plain
# summary line "N passed, N failed".
set -uo pipefail
build=${1:-build}
lit=${LIT:-/usr/lib/llvm-19/build/utils/lit/lit.py}
log=$(mktemp)
python3 "$lit" -sv "$build/test" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -E '^ *Passed *:' "$log" | awk -F: '{s+=$2} END {print s+0}')
xfail=$(grep -E '^ *Expectedly Failed *:' "$log" | awk -F: '{s+=$2} END {print s+0}')
failed=$(grep -E '^ *(Failed|Unresolved|Timed Out|Unexpectedly Passed) *:' "$log" | awk -F: '{s+=$2} END {print s+0}')
skipped=$(grep -E '^ *Unsupported *:' "$log" | awk -F: '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests: $((passed + xfail)) passed, $failed failed, $skipped skipped"
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$((passed + xfail))" -eq 0 ]; then
  exit 1
fi
