#!/bin/sh
# A stand-in for a user's accuracy script (attnc search --score-cmd): prints
# some log lines, then a score for the configuration in $1.  Deterministic
# failures: depth=1 with a softmax layer exits 3, heads=4,depth=1 with
# linear_elu hangs (the search's --score-timeout ends it).
case "$1" in
  *heads=4,depth=1,mixer=\[linear_elu\]*) sleep 30;;
  *depth=1,mixer=\[softmax\]*) echo "loss diverged" >&2; exit 3;;
esac
heads=$(echo "$1" | sed 's/.*heads=\([0-9]*\).*/\1/')
depth=$(echo "$1" | sed 's/.*depth=\([0-9]*\).*/\1/')
echo "epoch 1: loss 0.52"
echo "$((heads * 10 + depth)).5"
