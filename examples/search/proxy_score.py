#!/usr/bin/env python3
"""A stand-in for a trained model's accuracy, for `attnc search --score-cmd`.

usage: proxy_score.py CONFIG      (CONFIG is the point's --config text)

attnc search calls a user command per point and reads the last number it
prints (docs/Search.md §3).  A real search passes a script that trains or
fine-tunes the point, or queries an accuracy predictor.  This one needs no
data: it scores capacity the way NAS papers' results suggest on average —
each layer adds to the score, a softmax layer more than a linear one
(linear attention loses accuracy at equal size, e.g. Katharopoulos et al.
2020; Luna sits between), a wider MLP and more heads add a little.  It is
monotone and transparent so that the *latency* side of the demonstration
(what attnc measures) can be read against a known trade-off; its numbers
are not accuracies.
"""
import math
import re
import sys

MIXER_VALUE = {"softmax": 1.0, "luna": 0.9, "linear_elu": 0.8}


def values(config, name):
    """The value(s) of choice `name` in a --config text."""
    m = re.search(r"(?:^|,)%s=(\[[^\]]*\]|[^,]*)" % re.escape(name), config)
    if not m:
        return []
    text = m.group(1)
    return text.strip("[]").split(",") if text.startswith("[") else [text]


def main():
    config = sys.argv[1]
    heads = int((values(config, "heads") or ["6"])[0])
    mixers = values(config, "mixer")
    ratios = [int(r) for r in values(config, "ratio")]
    score = 0.0
    for i, mixer in enumerate(mixers):
        kind = re.match(r"[a-z_]+", mixer).group(0)
        ratio = ratios[i] if i < len(ratios) else 4
        score += MIXER_VALUE.get(kind, 0.8) * (1 + 0.1 * math.log2(ratio / 2))
    score *= 1 + 0.05 * math.log2(heads / 4)
    print("%.4f" % score)


main()
