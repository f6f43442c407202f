#!/usr/bin/env python3
"""Driver of scripts/bench-arch.sh (issue 5, §6): whole architectures.

For every example architecture at B = 1 and B = 8 (bert_base also at
N = 512) it compiles two libraries, attnc fused (the default) and
`--no-fusion` (one kernel per op), writes the weights attnc uses
(`attn-run --save-weights`, once per architecture, then `--weights` for
every run so all systems use the same tensors) and one seeded input per
shape, checks PyTorch eager (bench/arch/torch_models.py, in a worker process
of the benchmark's virtual environment) against attn-run's output on that
input, then times the three systems in interleaved rounds and prints one
table.  Standard library only (runs under the system python3); the worker
is the only part that needs torch.

Timing: attn-run --bench --threads T (2 warm-up runs, then >= 5 runs
filling ~0.5 s; its median), HL_NUM_THREADS=T; torch: the same policy in
the worker under torch.inference_mode() with torch.set_num_threads(T), in
two workers, libgomp's default OpenMP wait policy and OMP_WAIT_POLICY=passive
(the faster median is reported).  Each round runs every configuration
(rotated order) and, within it, the systems (rotated order).  A sampler
thread watches the CPU time of every process that is not ours; a
measurement during which others used more than 10% of a CPU is *disturbed*,
and pairs with fewer than 2 undisturbed measurements get extra rounds.  The
table shows the median over the undisturbed measurements.  Afterwards each
kernel of the fused libraries is timed alone (attn-run --kernel), which
gives the per-kernel breakdown.
"""

import argparse
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MIXED = "mixer=[" + ",".join(["softmax", "linear_elu"] * 6) + "]"
# name, source, attnc flags (besides --dim B=...), weights family
CONFIGS = [
    ("hybrid_vit", "examples/hybrid_vit.attn", ["--config", MIXED], "hybrid_vit"),
    ("bert_base", "examples/bert_base.attn", [], "bert_base"),
    ("bert_base_512", "examples/bert_base.attn", ["--dim", "N=512"], "bert_base"),
    ("causal_decoder", "examples/causal_decoder.attn", [], "causal_decoder"),
    ("shiftadd", "examples/shiftadd.attn", [], "shiftadd"),
]
REL_TOL = 1e-3  # |torch - attnc| / max |attnc| above this fails the run


def log(msg):
    sys.stderr.write("bench-arch: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Files

def write_npy_f32(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


def manifest_of(lib):
    return lib[:-3] + ".manifest.json"


def arch_info(lib):
    with open(manifest_of(lib)) as f:
        m = json.load(f)
    a = m["archs"][0]
    kernels = {k["name"]: k for k in m["kernels"]}
    return a, kernels


# ---------------------------------------------------------------------------
# Processes

class Sampler(threading.Thread):
    """Every second: the CPU time that processes other than ours (and other
    than kernel threads) used since the last sample, from /proc/PID/stat.
    A sample where others used more than `threshold` of a CPU is *busy*; a
    measurement during which a busy sample fell is *disturbed* (another
    engineer's compiler on these 2 vCPUs slows any timing by 1.5-40x)."""

    def __init__(self, period=1.0, threshold=0.1):
        super().__init__(daemon=True)
        self.period = period
        self.threshold = threshold
        self.ours = {os.getpid()}
        self.hz = os.sysconf("SC_CLK_TCK")
        self.samples = 0
        self.busy = 0
        self.seen = {}
        self.prev = None
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()

    @staticmethod
    def read_procs():
        procs = {}
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    s = f.read()
                rest = s[s.rindex(")") + 2:].split()
                procs[int(p)] = (int(rest[1]), s[s.index("(") + 1:s.rindex(")")],
                                 int(rest[11]) + int(rest[12]))
            except (OSError, ValueError, IndexError):
                pass
        return procs

    def sample(self):
        procs = self.read_procs()
        ours = set(self.ours)
        changed = True
        while changed:
            changed = False
            for pid, (ppid, _, _) in procs.items():
                if ppid in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        if self.prev is not None:
            used = 0
            names = {}
            for pid, (ppid, name, ticks) in procs.items():
                if pid in ours or pid == 2 or ppid == 2:
                    continue
                d = ticks - self.prev.get(pid, 0)
                if d > 0:
                    used += d
                    names[name] = names.get(name, 0) + d
            frac = used / float(self.hz) / self.period
            with self.lock:
                self.samples += 1
                if frac > self.threshold:
                    self.busy += 1
                    for n, d in names.items():
                        self.seen[n] = self.seen.get(n, 0) + d / float(self.hz)
        self.prev = {pid: v[2] for pid, v in procs.items()}

    def run(self):
        self.sample()
        while not self.stop_ev.wait(self.period):
            self.sample()

    def busy_count(self):
        with self.lock:
            return self.busy

    def summary(self):
        with self.lock:
            if not self.samples:
                return "no samples"
            if not self.busy:
                return "no other process used the CPUs (%d samples, every %.0f s)" % (self.samples, self.period)
            top = ", ".join("%s %.0f s" % kv for kv in sorted(self.seen.items(), key=lambda kv: -kv[1])[:8])
            return ("other processes used > %.0f%% of a CPU in %d of %d samples (every %.0f s); "
                    "their CPU time in those samples: %s" % (100 * self.threshold, self.busy, self.samples,
                                                              self.period, top))


class TorchWorker:
    def __init__(self, python, threads, logf, policy="default"):
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if policy == "passive":
            env["OMP_WAIT_POLICY"] = "passive"
        self.policy = policy
        self.p = subprocess.Popen(
            [python, os.path.join(HERE, "torch_models.py"), "serve", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logf,
            universal_newlines=True, env=env)
        first = self.p.stdout.readline().strip()
        if not first.startswith("ready"):
            raise RuntimeError(first or "the torch worker exited")
        _, self.version, self.threads = first.split()

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        r = self.p.stdout.readline().strip()
        if not r:
            raise RuntimeError("the torch worker died (see its log)")
        if r.startswith("error"):
            raise RuntimeError(r[6:])
        return r.split()[1:]

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)
        except Exception:  # noqa: BLE001
            self.p.kill()


# ---------------------------------------------------------------------------
# Main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--torch-python", default="")
    ap.add_argument("--torch-skip-reason", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--extra-rounds", type=int, default=4,
                    help="at most this many more rounds for measurements without 2 undisturbed runs")
    ap.add_argument("--torch-policies", default="default,passive",
                    help="OpenMP wait policies of the torch workers (one worker each; the faster is reported)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--only", default="", help="comma list of config names")
    ap.add_argument("--breakdown", type=int, default=1,
                    help="time each kernel of the fused libraries alone (1) or not (0)")
    ap.add_argument("--txt", required=True)
    ap.add_argument("--csv", required=True)
    args = ap.parse_args()

    build = args.build
    binp = os.path.join(build, "bin")
    work = os.path.join(build, "bench", "arch")
    os.makedirs(work, exist_ok=True)
    attnc = os.path.join(binp, "attnc")
    attn_run = os.path.join(binp, "attn-run")
    for t in (attnc, attn_run):
        if not os.access(t, os.X_OK):
            log("%s was not built" % t)
            return 1
    threads = args.threads
    env = dict(os.environ, HL_NUM_THREADS=str(threads))
    batches = [int(b) for b in args.batches.split(",")]
    configs = [c for c in CONFIGS if not args.only or c[0] in args.only.split(",")]
    start = time.time()
    load_before = open("/proc/loadavg").read().split()[:3]
    runlog = open(os.path.join(work, "attn-run.log"), "w")

    # --- Compile -------------------------------------------------------------
    libs = {}  # (name, B, fused) -> lib
    for name, src, flags, _ in configs:
        for b in batches:
            for fused in (True, False):
                lib = os.path.join(work, "%s-b%d-%s.so" % (name, b, "fused" if fused else "unfused"))
                cmd = [attnc, "compile", os.path.join(ROOT, src), "-o", lib] + flags
                if b != 1:
                    cmd += ["--dim", "B=%d" % b]
                if not fused:
                    cmd.append("--no-fusion")
                logp = lib[:-3] + ".compile.log"
                with open(logp, "w") as lf:
                    rc = subprocess.call(cmd, stdout=lf, stderr=subprocess.STDOUT)
                if rc != 0:
                    log("compile failed: %s (see %s)" % (" ".join(cmd), logp))
                    continue
                libs[(name, b, fused)] = lib
    log("compiled %d libraries into %s" % (len(libs), work))

    # --- Weights and inputs ----------------------------------------------------
    weights = {}  # family -> file
    inputs = {}   # (name, B) -> npy
    shapes = {}   # (name, B) -> input shape
    status = 0
    for name, _, _, family in configs:
        for b in batches:
            lib = libs.get((name, b, True)) or libs.get((name, b, False))
            if not lib:
                continue
            a, _ = arch_info(lib)
            shape = a["inputs"][0]["shape"]
            shapes[(name, b)] = shape
            count = 1
            for s in shape:
                count *= s
            rng = random.Random("%s-%d" % (name, b))
            xp = os.path.join(work, "x-%s-b%d.npy" % (name, b))
            write_npy_f32(xp, shape, [rng.uniform(-1.0, 1.0) for _ in range(count)])
            inputs[(name, b)] = xp
            if family not in weights:
                wp = os.path.join(work, "weights-%s.safetensors" % family)
                r = subprocess.run([attn_run, lib, "--save-weights", wp, "--threads", str(threads)],
                                   stdout=runlog, stderr=subprocess.STDOUT, env=env)
                if r.returncode != 0:
                    log("attn-run --save-weights failed for %s" % lib)
                    status = 1
                    continue
                weights[family] = wp

    # --- Torch worker ------------------------------------------------------------
    # One worker per OpenMP wait policy: libgomp's default (spin, then sleep)
    # is PyTorch's fastest on an idle machine but collapses (10-40x) when any
    # other process competes for the 2 vCPUs; OMP_WAIT_POLICY=passive (what
    # scripts/bench.sh sets) is robust but slower on small ops.  Both are
    # timed in every round; the table takes the faster median.
    workers = []
    torch_note = args.torch_skip_reason or "no --torch-python"
    if args.torch_python:
        for pol in [p for p in args.torch_policies.split(",") if p]:
            try:
                w = TorchWorker(args.torch_python, threads,
                                open(os.path.join(work, "torch-worker-%s.log" % pol), "w"), pol)
                workers.append(w)
            except Exception as e:  # noqa: BLE001
                torch_note = "cannot start the torch worker: %s" % e
                break
        if len(workers) != len([p for p in args.torch_policies.split(",") if p]):
            for w in workers:
                w.close()
            workers = []
        else:
            torch_note = "PyTorch %s eager, %s threads, OpenMP wait policies %s (the faster median is reported)" % (
                workers[0].version, workers[0].threads, "/".join(w.policy for w in workers))
    worker = workers[0] if workers else None
    if worker is None:
        log("PyTorch columns skipped: %s" % torch_note)

    # --- Same computation: torch against attn-run's outputs -----------------------
    diffs = {}  # (name, B, fused) -> (maxdiff, maxref)
    for name, _, _, family in configs:
        if family not in weights:
            continue
        key = family
        loaded = False
        for b in batches:
            for fused in (True, False):
                lib = libs.get((name, b, fused))
                if not lib:
                    continue
                outp = lib[:-3] + ".out.npy"
                r = subprocess.run([attn_run, lib, "--weights", weights[family], "--input",
                                    "x=" + inputs[(name, b)], "--output", outp,
                                    "--threads", str(threads)],
                                   stdout=runlog, stderr=subprocess.STDOUT, env=env)
                if r.returncode != 0:
                    log("attn-run failed on %s (see %s)" % (lib, runlog.name))
                    status = 1
                    continue
                if worker is None:
                    continue
                try:
                    if not loaded:
                        for w in workers:
                            w.ask("load %s %s %s %s" % (key, name, manifest_of(lib), weights[family]))
                        loaded = True
                    d, ref = (float(v) for v in worker.ask("check %s %s %s" % (key, inputs[(name, b)], outp)))
                except RuntimeError as e:
                    log("torch check of %s failed: %s" % (lib, e))
                    status = 1
                    continue
                diffs[(name, b, fused)] = (d, ref)
                rel = d / max(ref, 1e-30)
                tag = "ok" if rel <= REL_TOL else "MISMATCH"
                log("check %-15s B=%d %-7s max|torch-attnc| = %.3g (max|attnc| %.3g, rel %.2e) %s" % (
                    name, b, "fused" if fused else "unfused", d, ref, rel, tag))
                if rel > REL_TOL:
                    log("*** MISMATCH: %s B=%d %s differs from PyTorch by %.3g relative (> %g) ***" % (
                        name, b, "fused" if fused else "unfused", rel, REL_TOL))
                    status = 1

    # --- Rounds -------------------------------------------------------------------
    # ROUNDS interleaved rounds over every configuration and system; then, up
    # to EXTRA more rounds (still interleaved) over the (configuration,
    # system) pairs with fewer than 2 undisturbed measurements.  The table
    # takes the median of the undisturbed measurements (of all, marked "~",
    # when none was undisturbed).
    sampler = Sampler()
    sampler.start()
    times = {}   # (name, B, system) -> [(ms, clean)]
    flops = {}   # (name, B) -> flop count (attn-run's)
    entries = [(name, family, b) for name, _, _, family in configs for b in batches
               if (name, b) in inputs]
    systems = ["fused", "unfused"] + ["torch-" + w.policy for w in workers]
    line_re = re.compile(r"median ([0-9.]+) ms .*?(?:\) ([0-9.]+) GFLOP/s)?$")

    def measure(name, family, b, sysname):
        nonlocal status
        busy0 = sampler.busy_count()
        ms = None
        if sysname.startswith("torch-"):
            if (name, b, True) not in diffs and (name, b, False) not in diffs:
                return None
            w = [w for w in workers if "torch-" + w.policy == sysname][0]
            try:
                med, _, _, _ = w.ask("time %s %s 2 5 0.5" % (family, inputs[(name, b)]))
                ms = float(med) * 1e3
            except RuntimeError as e:
                log("torch %s B=%d: %s" % (name, b, e))
                return None
        else:
            lib = libs.get((name, b, sysname == "fused"))
            if not lib or family not in weights:
                return None
            out = subprocess.run([attn_run, lib, "--weights", weights[family], "--input",
                                  "x=" + inputs[(name, b)], "--bench", "--threads", str(threads)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, env=env)
            runlog.write(out.stdout)
            runlog.flush()
            m = None
            for ln in out.stdout.splitlines():
                if " calls): median " in ln:
                    m = line_re.search(ln)
            if out.returncode != 0 or not m:
                log("attn-run --bench failed on %s (see %s)" % (lib, runlog.name))
                status = 1
                return None
            ms = float(m.group(1))
            if sysname == "fused" and m.group(2):
                flops[(name, b)] = float(m.group(2)) * 1e9 * ms * 1e-3
        time.sleep(sampler.period * 1.1)  # let the sampler see the end of it
        clean = sampler.busy_count() == busy0
        times.setdefault((name, b, sysname), []).append((ms, clean))
        log("  %-15s B=%d %-14s %10.3f ms%s" % (name, b, sysname, ms, "" if clean else "  (disturbed)"))
        return ms

    def clean_count(key):
        return sum(1 for _, c in times.get(key, []) if c)

    for r in range(args.rounds):
        log("round %d of %d" % (r + 1, args.rounds))
        for i in range(len(entries)):
            name, family, b = entries[(i + r) % len(entries)]
            for j in range(len(systems)):
                measure(name, family, b, systems[(j + r + i) % len(systems)])
    need = min(2, args.rounds)
    for r in range(args.extra_rounds):
        todo = [(e, s) for e in entries for s in systems
                if (e[0], e[2], s) in times and clean_count((e[0], e[2], s)) < need]
        if not todo:
            break
        log("extra round %d: %d measurements with fewer than %d undisturbed runs" % (r + 1, len(todo), need))
        for i in range(len(todo)):
            (name, family, b), sysname = todo[(i + r) % len(todo)]
            measure(name, family, b, sysname)

    load_after = open("/proc/loadavg").read().split()[:3]

    def med(key):
        """Median over the undisturbed measurements (over all if none was)."""
        if key[2] == "torch":
            meds = [med((key[0], key[1], "torch-" + w.policy)) for w in workers]
            meds = [m for m in meds if m is not None]
            return min(meds) if meds else None
        v = times.get(key)
        if not v:
            return None
        clean = [ms for ms, c in v if c]
        return statistics.median(clean or [ms for ms, _ in v])

    def all_disturbed(key):
        keys = [key] if key[2] != "torch" else [(key[0], key[1], "torch-" + w.policy) for w in workers]
        return all(times.get(k) and not any(c for _, c in times[k]) for k in keys)

    def fmt(v, f="%.3f"):
        return f % v if v is not None else "n/a"

    # --- Per-kernel breakdown of the fused libraries -------------------------------
    breakdown = []
    if args.breakdown:
        log("per-kernel breakdown (each kernel of the fused libraries alone)")
        for name, _, _, family in configs:
            for b in batches:
                lib = libs.get((name, b, True))
                if not lib:
                    continue
                a, kernels = arch_info(lib)
                calls = {}
                for c in a["calls"]:
                    calls[c["kernel"]] = calls.get(c["kernel"], 0) + 1
                rows = []
                for k, n in calls.items():
                    best = None
                    for _ in range(3):  # again while disturbed; the fastest
                        busy0 = sampler.busy_count()
                        out = subprocess.run([attn_run, lib, "--kernel", k, "--bench", "--threads", str(threads)],
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             universal_newlines=True, env=env)
                        m = None
                        for ln in out.stdout.splitlines():
                            if ln.startswith(k + ": median"):
                                m = re.search(r"median ([0-9.]+) ms.*?(?:\) ([0-9.]+) GFLOP/s)?$", ln)
                        if not m:
                            break
                        time.sleep(sampler.period * 1.1)
                        if best is None or float(m.group(1)) < float(best.group(1)):
                            best = m
                        if sampler.busy_count() == busy0:
                            break
                    m = best
                    if not m:
                        continue
                    ref = kernels[k].get("reference", {})
                    if ref.get("kind") == "block":
                        ops = "+".join(op["op"] + ("(%s)" % op["mode"] if op.get("mode") not in (None, "mul") else "")
                                       for op in ref["ops"])
                    else:
                        ops = "attention(%s%s)" % (ref.get("kind", "?") if ref.get("kind") != "attention" else ref.get("normalize", ""),
                                                    ", causal" if ref.get("causal") else "")
                    rows.append((k, n, float(m.group(1)), float(m.group(2) or 0), ops))
                total = sum(n * ms for _, n, ms, _, _ in rows)
                whole = med((name, b, "fused"))
                for k, n, ms, gf, ops in sorted(rows, key=lambda r: -r[1] * r[2]):
                    breakdown.append((name, b, k, n, ms, n * ms, 100.0 * n * ms / total if total else 0, gf, ops))
                breakdown.append((name, b, "(sum of kernels alone / whole forward)", len(a["calls"]),
                                  None, total, whole, None, ""))

    # --- Report -------------------------------------------------------------------------
    elapsed = time.time() - start
    for w in workers:
        w.close()

    sampler.stop_ev.set()

    lines = []
    lines.append("# whole architectures (issue 5, section 6): fp32, %d threads, %d interleaved rounds (+ up to %d for disturbed ones)"
                 % (threads, args.rounds, args.extra_rounds))
    lines.append("# machine: %s (%d cores), %s" % (cpu_name(), os.cpu_count() or 0,
                                                   time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(start))))
    lines.append("# command: make bench-arch (scripts/bench-arch.sh %s); %.0f s; commit %s" % (build, elapsed, git_head()))
    lines.append("# load average (1, 5, 15 min) before: %s; after: %s" % (" ".join(load_before), " ".join(load_after)))
    lines.append("# during the rounds: %s" % sampler.summary())
    lines.append("# torch: %s" % torch_note)
    lines.append("# ms: median over the undisturbed rounds of each round's median (attn-run --bench; torch: same policy,")
    lines.append("#     inference_mode; the faster OpenMP wait policy); ~: every measurement was disturbed")
    lines.append("# max diff: max |torch - attnc fused| on the same seeded input and weights (relative to max |attnc| in parentheses)")
    hdr = ("| example        |  B |    N | attnc fused ms | attnc unfused ms | torch eager ms | fused/torch | fused/unfused | GFLOP/s fused | max diff vs torch  |")
    sep = "|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|"
    lines.append(hdr)
    lines.append(sep)
    csv_rows = ["example,B,N,fused_ms,unfused_ms,torch_ms,fused_over_torch,fused_over_unfused,gflops_fused,max_diff_fused,max_diff_unfused,max_ref,rounds_fused,rounds_unfused,rounds_torch"]
    for name, family, b in entries:
        f, u, t = med((name, b, "fused")), med((name, b, "unfused")), med((name, b, "torch"))
        n = shapes[(name, b)][1]
        sp_t = t / f if f and t else None
        sp_u = u / f if f and u else None
        gf = flops[(name, b)] / (f * 1e-3) / 1e9 if f and (name, b) in flops else None
        d = diffs.get((name, b, True))
        dstr = "%.1e (%.0e)" % (d[0], d[0] / max(d[1], 1e-30)) if d else ("n/a (no torch)" if worker is None and not diffs else "n/a")
        if d and d[0] / max(d[1], 1e-30) > REL_TOL:
            dstr += " MISMATCH"
        def cell(sysname, v):
            return fmt(v) + ("~" if v is not None and all_disturbed((name, b, sysname)) else "")
        lines.append("| %-14s | %2d | %4d | %14s | %16s | %14s | %11s | %13s | %13s | %-18s |" % (
            name, b, n, cell("fused", f), cell("unfused", u), cell("torch", t) if worker is not None else "n/a",
            fmt(sp_t, "%.2fx"), fmt(sp_u, "%.2fx"), fmt(gf, "%.1f"), dstr))
        du = diffs.get((name, b, False))
        csv_rows.append(",".join(str(x) for x in [
            name, b, n, f, u, t, sp_t, sp_u, gf, d[0] if d else "", du[0] if du else "",
            d[1] if d else "", " ".join("%.3f%s" % (v, "" if c else "*") for v, c in times.get((name, b, "fused"), [])),
            " ".join("%.3f%s" % (v, "" if c else "*") for v, c in times.get((name, b, "unfused"), [])),
            " ".join("%s:%.3f%s" % (s[6:], v, "" if c else "*") for s in systems if s.startswith("torch-")
                     for v, c in times.get((name, b, s), []))]))
    lines.append("")
    # The spread over rounds and the unfused library's own check.
    lines.append("# every measurement (ms, in order; * = disturbed, not used unless all were): %s;"
                 "  max |torch - attnc unfused|" % " | ".join(
                     ["fused", "unfused"] + ["torch (OMP %s)" % w.policy for w in workers]))
    for name, family, b in entries:
        def rr(s):
            return " ".join("%.2f%s" % (v, "" if c else "*") for v, c in times.get((name, b, s), [])) or "-"
        du = diffs.get((name, b, False))
        lines.append("#   %-15s B=%d  %s;  %s" % (name, b, " | ".join(rr(s) for s in systems),
                                                "%.1e" % du[0] if du else "n/a"))
    # Target: fused >= 1.5x torch eager at batch 1.
    if worker is not None:
        lines.append("")
        lines.append("# target (issue 5): attnc fused >= 1.5x PyTorch eager at batch 1")
        for name, family, b in entries:
            if b != 1:
                continue
            f, t = med((name, b, "fused")), med((name, b, "torch"))
            if f and t:
                lines.append("#   %-15s %.2fx  %s" % (name, t / f, "met" if t / f >= 1.5 else "NOT met"))
    if breakdown:
        lines.append("")
        lines.append("# per-kernel breakdown of the fused libraries: each kernel timed alone by attn-run --kernel K --bench")
        lines.append("# (median; x calls per forward), sorted by total; the last line per library: sum of the kernels alone / the whole forward above")
        lines.append("| example        |  B | kernel                   | calls |  ms/call |  total ms |  share | GFLOP/s | ops |")
        lines.append("|----------------|----|--------------------------|-------|----------|-----------|--------|---------|-----|")
        for name, b, k, n, ms, tot, share, gf, ops in breakdown:
            if ms is None:
                lines.append("| %-14s | %2d | %-24s | %5d | %8s | %9.3f | %6s | %7s | whole forward %s ms |" % (
                    name, b, "(sum)", n, "", tot, "", "", fmt(share)))
            else:
                lines.append("| %-14s | %2d | %-24s | %5d | %8.3f | %9.3f | %5.1f%% | %7.1f | %s |" % (
                    name, b, k, n, ms, tot, share, gf, ops))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(args.txt, "w") as f:
        f.write(text)
    with open(args.csv, "w") as f:
        f.write("\n".join(csv_rows) + "\n")
    log("wrote %s and %s" % (args.txt, args.csv))
    return status


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def git_head():
    try:
        return subprocess.check_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                       universal_newlines=True, stderr=subprocess.DEVNULL).strip()
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
