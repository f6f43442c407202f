#!/usr/bin/env python3
"""Draws attn-bench's CSV as SVG line charts, GFLOP/s against N per system:
one chart for non-causal and one for causal attention.  Standard library only
(no matplotlib), so `make bench` needs nothing beyond python3.

usage: plot_svg.py CSV OUTDIR [--prefix NAME]
writes OUTDIR/NAME-noncausal.svg and OUTDIR/NAME-causal.svg
(NAME defaults to Performance, so they sit next to docs/Performance.md).
"""

import csv
import math
import sys
from xml.sax.saxutils import escape

COLORS = ["#d62728", "#1f77b4", "#aec7e8", "#2ca02c", "#98df8a", "#9467bd",
          "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
DASHES = {"Halide": "6,3", "PyTorch": "2,3"}

W, H = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 230, 50, 60


def nice_ticks(lo, hi):
    """Log-scale ticks 1, 2, 5 x 10^k within [lo, hi]."""
    ticks = []
    k = math.floor(math.log10(lo))
    while 10 ** k <= hi * 1.0001:
        for m in (1, 2, 5):
            t = m * 10 ** k
            if lo * 0.9999 <= t <= hi * 1.0001:
                ticks.append(t)
        k += 1
    return ticks


def chart(rows, title):
    systems = []
    for r in rows:
        if r["system"] not in systems:
            systems.append(r["system"])
    ns = sorted({int(r["N"]) for r in rows})
    vals = [float(r["gflops"]) for r in rows if float(r["gflops"]) > 0]
    if not ns or not vals:
        return None
    ylo = 10 ** math.floor(math.log10(min(vals)))
    yhi = 10 ** math.ceil(math.log10(max(vals) * 1.05))
    xlo, xhi = math.log2(ns[0]), math.log2(ns[-1])
    if xhi == xlo:
        xlo, xhi = xlo - 0.5, xhi + 0.5
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(n):
        return LEFT + (math.log2(n) - xlo) / (xhi - xlo) * pw

    def y(g):
        return TOP + ph - (math.log10(g) - math.log10(ylo)) / (
            math.log10(yhi) - math.log10(ylo)) * ph

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
           % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>'
           % (LEFT, escape(title))]
    for t in nice_ticks(ylo, yhi):
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                   'stroke="#ddd"/>' % (LEFT, y(t), LEFT + pw, y(t)))
        out.append('<text x="%.1f" y="%.1f" text-anchor="end">%g</text>'
                   % (LEFT - 6, y(t) + 4, t))
    for n in ns:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>'
                   % (x(n), TOP, x(n), TOP + ph))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                   % (x(n), TOP + ph + 18, n))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
               'stroke="#333"/>' % (LEFT, TOP, pw, ph))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">N (sequence '
               'length, log scale)</text>' % (LEFT + pw / 2, H - 18))
    out.append('<text transform="translate(18,%.1f) rotate(-90)" '
               'text-anchor="middle">GFLOP/s (log scale)</text>'
               % (TOP + ph / 2))
    for i, s in enumerate(systems):
        pts = sorted((int(r["N"]), float(r["gflops"])) for r in rows
                     if r["system"] == s and float(r["gflops"]) > 0)
        color = COLORS[i % len(COLORS)]
        dash = next((d for p, d in DASHES.items() if s.startswith(p)), None)
        width = 3 if s.startswith("attnc") else 1.6
        if pts:
            path = " ".join("%.1f,%.1f" % (x(n), y(g)) for n, g in pts)
            out.append('<polyline points="%s" fill="none" stroke="%s" '
                       'stroke-width="%s"%s/>'
                       % (path, color, width,
                          ' stroke-dasharray="%s"' % dash if dash else ""))
            for n, g in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s">'
                           '<title>%s N=%d: %.1f GFLOP/s</title></circle>'
                           % (x(n), y(g), color, escape(s), n, g))
        ly = TOP + 10 + 18 * i
        lx = LEFT + pw + 14
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                   'stroke-width="%s"%s/>'
                   % (lx, ly, lx + 24, ly, color, width,
                      ' stroke-dasharray="%s"' % dash if dash else ""))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 30, ly + 4,
                                                     escape(s)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    prefix = "Performance"
    if "--prefix" in argv:
        prefix = argv[argv.index("--prefix") + 1]
    with open(argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.stderr.write("plot_svg.py: %s has no rows\n" % argv[1])
        return 1
    shape = rows[0]
    for causal, tag in (("0", "noncausal"), ("1", "causal")):
        sel = [r for r in rows if r["causal"] == causal]
        title = "%s attention, fp32, B=%s H=%s D=%s, GFLOP/s against N" % (
            "Causal" if causal == "1" else "Non-causal", shape["B"],
            shape["H"], shape["D"])
        svg = chart(sel, title)
        if svg is None:
            continue
        path = "%s/%s-%s.svg" % (argv[2].rstrip("/"), prefix, tag)
        with open(path, "w") as f:
            f.write(svg)
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
