#!/usr/bin/env python3
"""bench/linear/report.py - the table of `make bench-linear`.

scripts/bench-linear.sh times every kernel with attn-run and writes one line
per (row, N) to a raw TSV file:

    row  variant  causal(yes|no)  form  N  median_ms  gflops  bytes

(row: the table's label; gflops: attn-run's number, 0 if it printed none;
bytes: 4 * (|q| + |k| + |v| + |out| [+ |bias|]), the lower bound of the
memory traffic of one call).  This script adds the ceilings measured by
attn-membw in the same run and prints the table, the crossover N against
tuned softmax attention and the issue-4 targets; the same numbers go to a
CSV (one line per row and N).

usage: report.py RAW.tsv MEMBW.txt OUT.csv [--ns 1024,2048,...]
                 [--ref-n 4096] [--big-n 16384]
"""
import argparse
import csv
import math
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("raw")
ap.add_argument("membw")
ap.add_argument("csv")
ap.add_argument("--ns", default="1024,2048,4096,8192,16384")
ap.add_argument("--ref-n", type=int, default=4096)
ap.add_argument("--big-n", type=int, default=16384)
args = ap.parse_args()
ns = [int(x) for x in args.ns.split(",") if x]
ref_n, big_n = args.ref_n, args.big_n

# Ceilings: "copy: X GB/s", "triad: X GB/s", "sgemm: X GFLOP/s"; with
# several measurements (start and end of the run) the best of each.
ceil = {}
for line in open(args.membw):
    m = re.match(r"^(copy|triad|sgemm): ([0-9.]+) ", line)
    if m:
        ceil[m.group(1)] = max(ceil.get(m.group(1), 0.0), float(m.group(2)))
bw = max(ceil.get("copy", 0.0), ceil.get("triad", 0.0))
sgemm = ceil.get("sgemm", 0.0)

rows = {}  # (row, causal) -> {form, variant, data: {N: (ms, gflops, bytes)}}
order = []
for line in open(args.raw):
    if not line.strip() or line.startswith("#"):
        continue
    row, variant, causal, form, n, ms, gf, nbytes = line.rstrip("\n").split("\t")[:8]
    key = (row, causal)
    if key not in rows:
        rows[key] = {"variant": variant, "form": form, "samples": {}}
        order.append(key)
    rows[key]["samples"].setdefault(int(n), []).append(
        (float(ms), float(gf), float(nbytes)))


def median(xs):
    xs = sorted(xs)
    h = len(xs) // 2
    return xs[h] if len(xs) % 2 else 0.5 * (xs[h - 1] + xs[h])


# Median over rounds; GFLOP/s = the kernel's FLOPs (gflops * ms, the same
# every round) over the median time.
for r in rows.values():
    r["data"], r["rounds"] = {}, {}
    for n, samples in r["samples"].items():
        good = [s for s in samples if not math.isnan(s[0]) and s[0] > 0]
        if not good:
            r["data"][n] = (float("nan"), 0.0, samples[0][2])
            continue
        ms = median([s[0] for s in good])
        flops = max(s[0] * s[1] for s in good)
        r["data"][n] = (ms, flops / ms, good[0][2])
        r["rounds"][n] = len(good)
# The efficient forms first (in the order measured), softmax last.
order.sort(key=lambda k: rows[k]["variant"].startswith("softmax"))


def ok(x):
    return x is not None and not math.isnan(x) and x > 0


def ms_at(key, n):
    d = rows[key]["data"].get(n)
    return d[0] if d and ok(d[0]) else None


def pct(x, ref):
    return 100.0 * x / ref if ok(x) and ref > 0 else None


def rates(key, n):
    """GFLOP/s, % sgemm, GB/s, % bandwidth, bound at N = n."""
    d = rows[key]["data"].get(n)
    if not d or not ok(d[0]):
        return None
    ms, gf, nbytes = d
    gbs = nbytes / (ms * 1e6)
    ps, pb = pct(gf, sgemm), pct(gbs, bw)
    bound = "compute" if (ps or 0) >= (pb or 0) else "memory"
    return gf, ps, gbs, pb, bound


max_rounds = max([c for r in rows.values() for c in r["rounds"].values()] or [1])


def limit(form):
    return 5.5 if form == "fft_toeplitz" else 5.0


softmax_row = "softmax_tuned"


def crossover(key):
    row, causal = key
    if row.startswith("softmax"):
        return "-"
    base = (softmax_row, causal)
    if base not in rows:
        return "n/a"
    for n in ns:
        a, b = ms_at(key, n), ms_at(base, n)
        if a is not None and b is not None and a < b:
            return str(n)
    measured = [n for n in ns if ms_at(key, n) is not None and ms_at(base, n) is not None]
    return ">%d" % max(measured) if measured else "n/a"


def ratio(key):
    a, b = ms_at(key, big_n), ms_at(key, ref_n)
    return a / b if a is not None and b is not None else None


def f(x, spec, na="n/a"):
    return na if x is None else format(x, spec)


out = []
hdr = (["variant", "causal", "form"] + ["ms N=%d" % n for n in ns] +
       ["t%d/t%d" % (big_n, ref_n), "faster than softmax at",
        "GFLOP/s@%d" % ref_n, "%sgemm", "GB/s@%d" % ref_n, "%bw", "bound"])
table = []
for key in order:
    r = rows[key]
    rt = rates(key, ref_n)
    table.append([r["variant"], key[1], r["form"]] +
                 [f(ms_at(key, n), ".3f", "-") for n in ns] +
                 [f(ratio(key), ".2f"), crossover(key),
                  f(rt and rt[0], ".1f") if rt and rt[0] > 0 else "n/a",
                  f(rt and rt[1], ".1f"), f(rt and rt[2], ".2f"),
                  f(rt and rt[3], ".1f"), rt[4] if rt else "n/a"])
widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(hdr)]


def fmt_line(cells):
    return "| " + " | ".join(c.rjust(w) if i >= 3 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))) + " |"


out.append("# ceilings, same run (attn-membw, 2 threads, best of 5, the better of "
           "its runs at the start and the end): sgemm 2048^3 "
           "%.1f GFLOP/s; STREAM copy %.1f GB/s, triad %.1f GB/s (bandwidth = "
           "the larger, %.1f GB/s)" % (sgemm, ceil.get("copy", 0), ceil.get("triad", 0), bw))
out.append("# ms: attn-run --bench --threads 2 median, median over %d rounds for "
           "the kernels that allow (%d of %d numbers), else one round" % (
               max_rounds, sum(1 for r in rows.values() for c in r["rounds"].values() if c > 1),
               sum(len(r["data"]) for r in rows.values())))
out.append("# GFLOP/s: attn-run's count "
           "(softmax 4BHN^2D, half causal; linear family 2BH(N+M)F(Dv+1), FAVOR+ "
           "adds its projections 2BH(N+M)mD); "
           "GB/s: 4(|q|+|k|+|v|+|out|) bytes per call / time, a lower bound")
out.append("# 'faster than softmax at': smallest measured N where the kernel beats "
           "tuned softmax of the same causality")
out.append(fmt_line(hdr))
out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for t in table:
    out.append(fmt_line(t))

# The targets of issue 4, point 3.
out.append("")
out.append("# issue 4 targets (same run)")
bad = []
for key in order:
    r = rows[key]
    if r["variant"].startswith("softmax"):
        continue
    q = ratio(key)
    lim = limit(r["form"])
    met = q is not None and q <= lim
    if not met:
        bad.append(key)
    out.append("#   complexity %-22s %-6s %-14s t%d/t%d = %s (<= %.1f): %s" % (
        r["variant"], key[1], r["form"], big_n, ref_n, f(q, ".2f"), lim,
        "met" if met else ("n/a" if q is None else "MISSED")))
for key in order:
    if rows[key]["variant"].startswith("softmax"):
        out.append("#   complexity %-22s %-6s %-14s t%d/t%d = %s (quadratic: ~16)" % (
            rows[key]["variant"], key[1], rows[key]["form"], big_n, ref_n,
            f(ratio(key), ".2f")))
for key in order:
    r = rows[key]
    if r["form"] != "associative":
        continue
    ps = [(n, rates(key, n)) for n in ns if n >= ref_n]
    ps = [(n, x[1]) for n, x in ps if x and x[1] is not None]
    if not ps:
        continue
    worst = min(p for _, p in ps)
    out.append("#   two-GEMM   %-22s %-6s %%sgemm at N>=%d: %s (>= 50%%): %s" % (
        r["variant"], key[1], ref_n, ", ".join("%d: %.1f" % (n, p) for n, p in ps),
        "met" if worst >= 50 else "MISSED"))
for key in order:
    r = rows[key]
    if r["form"] not in ("chunked_scan", "fft_toeplitz"):
        continue
    rt = rates(key, ref_n)
    if not rt:
        continue
    best = max(rt[1] or 0, rt[3] or 0)
    out.append("#   %-10s %-22s %-6s N=%d: %.1f%% of sgemm, %.1f%% of bandwidth; "
               "bound %s: %.1f%% (>= 30%%): %s" % (
                   "scan" if r["form"] == "chunked_scan" else "FFT", r["variant"],
                   key[1], ref_n, rt[1] or 0, rt[3] or 0, rt[4], best,
                   "met" if best >= 30 else "MISSED"))
print("\n".join(out))

with open(args.csv, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["variant", "causal", "form", "N", "rounds", "ms", "gflops", "bytes", "gbs",
                "pct_sgemm", "pct_bw", "sgemm_gflops", "bw_gbs",
                "ratio_big_ref", "faster_than_softmax_at"])
    for key in order:
        r = rows[key]
        for n in ns:
            d = r["data"].get(n)
            if not d:
                continue
            rt = rates(key, n)
            w.writerow([r["variant"], key[1], r["form"], n, r["rounds"].get(n, 0),
                        "%.4f" % d[0] if ok(d[0]) else "nan", "%.2f" % d[1],
                        "%d" % d[2], "%.3f" % rt[2] if rt else "nan",
                        "%.2f" % rt[1] if rt and rt[1] is not None else "nan",
                        "%.2f" % rt[3] if rt and rt[3] is not None else "nan",
                        "%.1f" % sgemm, "%.1f" % bw,
                        f(ratio(key), ".3f", "nan"), crossover(key)])
