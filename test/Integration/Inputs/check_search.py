"""Checks the output directory of `attnc search` (docs/Search.md §5).

usage: check_search.py DIR --points N [--objective latency|params|score]
                       [--budget MS] [--all-ok] [--prefix-of OTHER_DIR]
                       [--same-generation0 OTHER_DIR] [--db-list FILE]
                       [--cache-objects]

Asserts: points.jsonl has N records with distinct configs and ids 0..N-1;
points.csv has a header and N rows; every ok record has a latency, params,
FLOPs, memory and per-kernel times whose keys are tuning keys; front.json
lists exactly the non-dominated feasible points (recomputed here); the SVG
has one circle per plotted point; model.json has the model's metrics.
--prefix-of checks that the first records of DIR are those of OTHER_DIR
unchanged (a resumed search does not measure them again).
"""
import argparse
import csv
import json
import math
import os
import sys


def fail(msg):
    print("check_search: FAIL: " + msg)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def dominates(a, b, maximize):
    better = False
    for x, y, mx in zip(a, b, maximize):
        if mx:
            x, y = -x, -y
        if x > y:
            return False
        if x < y:
            better = True
    return better


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--points", type=int, required=True)
    p.add_argument("--budget", type=float)
    p.add_argument("--all-ok", action="store_true")
    p.add_argument("--prefix-of")
    p.add_argument("--same-generation0")
    p.add_argument("--db-list", help="output of `attnc db list`: every "
                   "kernel of the search was tuned, each under one key")
    p.add_argument("--cache-objects", action="store_true",
                   help="DIR/cache holds one object per distinct kernel "
                   "and schedule (each compiled once)")
    a = p.parse_args()

    records = load(os.path.join(a.dir, "points.jsonl"))
    if len(records) != a.points:
        fail("%d records, expected %d" % (len(records), a.points))
    if sorted(r["id"] for r in records) != list(range(a.points)):
        fail("ids are not 0..%d" % (a.points - 1))
    configs = [r["config"] for r in records]
    if len(set(configs)) != len(configs):
        fail("a config was evaluated twice")
    for r in records:
        if a.all_ok and r["status"] != "ok":
            fail("record %d is %s: %s" % (r["id"], r["status"], r["detail"]))
        if r["status"] != "ok":
            continue
        for field in ("latency_ms", "spread_ms", "params", "flops",
                      "memory_bytes"):
            if not isinstance(r[field], (int, float)) or r[field] < 0:
                fail("record %d has no %s" % (r["id"], field))
        if r["latency_ms"] <= 0 or r["params"] <= 0 or r["flops"] <= 0:
            fail("record %d has a zero measurement" % r["id"])
        if not r["kernels"]:
            fail("record %d has no per-kernel times" % r["id"])
        calls = 0
        for k in r["kernels"]:
            if len(k["key"]) != 64 or not k["schedule"].startswith("{"):
                fail("record %d: kernel %s has no key/schedule" %
                     (r["id"], k["name"]))
            if k["ms"] <= 0 or k["calls"] <= 0:
                fail("record %d: kernel %s has no time" % (r["id"], k["name"]))
            calls += k["calls"]
        if calls != r["calls"]:
            fail("record %d: kernel calls %d != calls %d" %
                 (r["id"], calls, r["calls"]))

    with open(os.path.join(a.dir, "points.csv")) as f:
        rows = list(csv.reader(f))
    if rows[0][:4] != ["id", "generation", "config", "status"]:
        fail("points.csv header is %s" % rows[0][:4])
    if len(rows) != a.points + 1:
        fail("points.csv has %d rows" % (len(rows) - 1))
    if sorted(row[2] for row in rows[1:]) != sorted(configs):
        fail("points.csv configs differ from points.jsonl")

    front = json.load(open(os.path.join(a.dir, "front.json")))
    names = front["objectives"]
    maximize = front["maximize"]
    second = names[1]
    field = {"params": "params", "flops": "flops", "memory": "memory_bytes",
             "score": "score"}[second]

    def values(r):
        return [r["latency_ms"], r[field]]

    feasible = [r for r in records
                if r["status"] == "ok" and r[field] is not None and
                (a.budget is None or r["latency_ms"] <= a.budget)]
    expected = set()
    for r in feasible:
        if not any(dominates(values(o), values(r), maximize)
                   for o in feasible if o is not r):
            expected.add(r["config"])
    got = [p["config"] for p in front["front"]]
    # Exact duplicates keep one point; compare as sets of objective values.
    got_values = sorted(tuple(values(next(r for r in records
                                          if r["config"] == c)))
                        for c in got)
    exp_values = sorted(set(tuple(values(r)) for r in feasible
                            if r["config"] in expected))
    if got_values != exp_values:
        fail("front.json %s, expected %s" % (got, sorted(expected)))
    lat = [p["latency_ms"] for p in front["front"]]
    if lat != sorted(lat):
        fail("front.json is not sorted by latency")

    svg = open(os.path.join(a.dir, "front.svg")).read()
    plotted = [r for r in records if r["status"] == "ok" and
               r[field] is not None]
    if not svg.startswith("<?xml") and not svg.startswith("<svg"):
        fail("front.svg is not SVG")
    if svg.count("<circle") < len(plotted):
        fail("front.svg has %d circles for %d points" %
             (svg.count("<circle"), len(plotted)))

    model = json.load(open(os.path.join(a.dir, "model.json")))
    cv = model["cross_validation"]
    ok = [r for r in records if r["status"] == "ok"]
    if cv["points"] != len(ok):
        fail("model.json cross validation over %s points, expected %d" %
             (cv["points"], len(ok)))
    if len(ok) >= 3 and (cv["kendall_tau"] is None or
                         not -1 <= cv["kendall_tau"] <= 1 or
                         cv["mape_percent"] is None or
                         cv["mape_percent"] < 0):
        fail("model.json metrics out of range: %s" % cv)

    kernels = set()
    for r in records:
        for k in r["kernels"]:
            kernels.add((k["key"], k["schedule"]))
    if a.db_list:
        lines = open(a.db_list).read().splitlines()[1:]
        listed = [line.split()[0] for line in lines if line.strip()]
        keys = set(k[:16] for k, _ in kernels)
        if sorted(set(listed)) != sorted(keys) or len(listed) != len(keys):
            fail("database keys %s, the search's kernels %s" %
                 (sorted(listed), sorted(keys)))
    if a.cache_objects:
        objects = [f for f in os.listdir(os.path.join(a.dir, "cache",
                                                      "objects"))
                   if f.endswith(".o") and not f.startswith("runtime-")]
        if len(objects) != len(kernels):
            fail("%d cached objects for %d distinct kernels" %
                 (len(objects), len(kernels)))

    if a.prefix_of:
        old = load(os.path.join(a.prefix_of, "points.jsonl"))
        if records[:len(old)] != old:
            fail("the resumed search changed earlier records")
    if a.same_generation0:
        mine = open(os.path.join(a.dir, "generations", "0.tsv")).read()
        other = open(os.path.join(a.same_generation0, "generations",
                                  "0.tsv")).read()
        if mine != other:
            fail("generation 0 differs between two runs with one seed")
    print("check_search: OK %d points, front %d" % (len(records), len(got)))


main()
