#!/usr/bin/env python3
"""Assembles the PTX attnc generates for every kernel of the given sources
with ptxas, for each CUDA target and its SM (docs/GPU.md §6).

usage: check_ptx.py --attnc ATTNC --ptxas PTXAS --out DIR SOURCE...

For each SOURCE and each (target, sm) in (cuda-80, sm_80), (cuda-90,
sm_90): `attnc SOURCE --target T -emit=gpu-src -o DIR/...` and then
`ptxas -arch=SM` on every .ptx written.  Prints one line per kernel and
target ("ok" with registers and spills, or the error) and exits non-zero
when anything failed or when a source produced no PTX at all.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

TARGETS = [("cuda-80", "sm_80"), ("cuda-90", "sm_90")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attnc", required=True)
    ap.add_argument("--ptxas", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("sources", nargs="+")
    args = ap.parse_args()
    failed = 0
    checked = 0
    for source in args.sources:
        name = os.path.splitext(os.path.basename(source))[0]
        for target, sm in TARGETS:
            out = os.path.join(args.out, name + "." + target)
            r = subprocess.run([args.attnc, source, "--target", target,
                                "-emit=gpu-src", "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name} {target}: attnc: {r.stderr.strip()}")
                failed += 1
                continue
            ptx = sorted(glob.glob(os.path.join(out, "*.ptx")))
            if not ptx:
                print(f"FAIL {name} {target}: no PTX written")
                failed += 1
            for path in ptx:
                kernel = os.path.splitext(os.path.basename(path))[0]
                a = subprocess.run([args.ptxas, "-v", "-arch=" + sm, path,
                                    "-o", os.devnull],
                                   capture_output=True, text=True)
                checked += 1
                if a.returncode != 0:
                    print(f"FAIL {name}/{kernel} {sm}: "
                          f"{a.stderr.strip().splitlines()[-1:]}")
                    failed += 1
                    continue
                regs = re.findall(r"Used (\d+) registers", a.stderr)
                spill = re.findall(r"(\d+) bytes spill stores", a.stderr)
                print(f"ok {name}/{kernel} {sm} registers={max(map(int, regs or [0]))}"
                      f" spill_stores={max(map(int, spill or [0]))}")
    print(f"checked {checked} PTX modules, {failed} failures")
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
