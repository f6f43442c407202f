#!/usr/bin/env python3
"""Summarizes an `attnc search` output directory (docs/Search.md §8).

usage: summarize.py DIR [DIR ...]

For each search: the points by status, the measured time of one call of
each attention kernel form (the per-layer token mixer) per head count, the
share of the forward pass spent in attention kernels, and which mixers the
Pareto front's points use, layer by layer, against all measured points.
"""
import collections
import json
import os
import re
import statistics
import sys

ATTENTION_FORMS = {"two_pass_tiled": "softmax", "associative": "linear_elu",
                   "pack_unpack": "luna(16)"}


def choice(config, name):
    m = re.search(r"(?:^|,)%s=(\[[^\]]*\]|[^,]*)" % re.escape(name), config)
    if not m:
        return []
    text = m.group(1)
    return text.strip("[]").split(",") if text.startswith("[") else [text]


def mixer_kind(label):
    return re.match(r"[a-z_]+", label).group(0)


def summarize(path):
    records = [json.loads(l) for l in open(os.path.join(path, "points.jsonl"))
               if l.strip()]
    front = json.load(open(os.path.join(path, "front.json")))
    model = json.load(open(os.path.join(path, "model.json")))
    ok = [r for r in records if r["status"] == "ok"]
    print("== %s: %d points (%s)" % (path, len(records), ", ".join(
        "%d %s" % (n, s) for s, n in
        collections.Counter(r["status"] for r in records).items())))
    if ok:
        lat = [r["latency_ms"] for r in ok]
        print("latency %.2f .. %.2f ms (median %.2f)" %
              (min(lat), max(lat), statistics.median(lat)))

    per_call = collections.defaultdict(list)
    share = []
    for r in ok:
        heads = choice(r["config"], "heads")[0]
        total = sum(k["ms"] * k["calls"] for k in r["kernels"])
        attn = 0.0
        for k in r["kernels"]:
            mixer = ATTENTION_FORMS.get(k["form"])
            if mixer:
                per_call[(mixer, heads)].append(k["ms"])
                attn += k["ms"] * k["calls"]
        if total > 0:
            share.append(attn / total)
    print("one attention call (ms, median over the points that ran it):")
    for (mixer, heads), times in sorted(per_call.items()):
        print("  %-11s heads=%-2s %8.3f ms  (%d samples)" %
              (mixer, heads, statistics.median(times), len(times)))
    if share:
        print("attention kernels' share of the summed call times: "
              "%.0f%% (median)" % (100 * statistics.median(share)))

    def mix(rs):
        c = collections.Counter()
        for r in rs:
            for m in choice(r["config"], "mixer"):
                c[mixer_kind(m)] += 1
        n = sum(c.values()) or 1
        return ", ".join("%s %.0f%%" % (k, 100.0 * v / n)
                         for k, v in sorted(c.items()))

    front_configs = {p["config"] for p in front["front"]}
    on_front = [r for r in ok if r["config"] in front_configs]
    print("mixers of all measured layers: " + mix(ok))
    print("mixers of the front's layers:  " + mix(on_front))
    by_layer = collections.defaultdict(collections.Counter)
    for r in on_front:
        for i, m in enumerate(choice(r["config"], "mixer")):
            by_layer[i][mixer_kind(m)] += 1
    for i in sorted(by_layer):
        print("  front layer %2d: %s" % (i, ", ".join(
            "%s %d" % kv for kv in sorted(by_layer[i].items()))))
    cv, online = model["cross_validation"], model["online"]
    print("latency model: held out tau %.3f MAPE %.1f%% (%d points); "
          "online tau %s MAPE %s (%d points)" % (
              cv["kendall_tau"], cv["mape_percent"], cv["points"],
              "%.3f" % online["kendall_tau"] if online["kendall_tau"]
              is not None else "n/a",
              "%.1f%%" % online["mape_percent"] if online["mape_percent"]
              is not None else "n/a", online["points"]))


for d in sys.argv[1:]:
    summarize(d)
