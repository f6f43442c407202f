#!/usr/bin/env python3
"""PyTorch column of attn-bench: torch.nn.functional.scaled_dot_product_attention
on the CPU, fp32, driven by attn-bench over a pipe so that it runs in the same
benchmark run as the other systems, interleaved with their rounds.

attn-bench starts this script once (with the virtual environment's python) and
writes one command per line on its stdin; every reply is one line on stdout.

  load PATH B H N D   map PATH (float32 q, k, v, out, each B*H*N*D, in this
                      order, [B,H,N,D] C order) and copy q, k, v into tensors
  run CAUSAL          compute SDPA once (CAUSAL 0|1) and write it to out
  time CAUSAL REPS    compute it REPS times; reply the best time in seconds;
                      the last result is written to out
  quit

Replies: "ok [VALUE]" or "error MESSAGE".  At start: "ready TORCH_VERSION
THREADS" or "error MESSAGE" (then it exits).
"""

import sys
import time


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure skips the column
        reply("error cannot import torch: %s" % str(e).replace("\n", " "))
        return 1
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    reply("ready %s %d" % (torch.__version__, torch.get_num_threads()))

    q = k = v = None
    out_map = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "load":
                path = words[1]
                b, h, n, d = (int(x) for x in words[2:6])
                count = b * h * n * d
                whole = torch.from_file(path, shared=True, size=4 * count,
                                        dtype=torch.float32)
                q, k, v = (whole[i * count:(i + 1) * count].view(b, h, n, d)
                           .clone() for i in range(3))
                out_map = whole[3 * count:4 * count].view(b, h, n, d)
                reply("ok")
            elif words[0] in ("run", "time"):
                if q is None:
                    reply("error nothing loaded")
                    continue
                causal = words[1] == "1"
                reps = int(words[2]) if words[0] == "time" else 1
                best = float("inf")
                o = None
                for _ in range(reps):
                    t0 = time.perf_counter()
                    o = F.scaled_dot_product_attention(q, k, v,
                                                       is_causal=causal)
                    best = min(best, time.perf_counter() - t0)
                out_map.copy_(o)
                reply("ok %.9f" % best)
            else:
                reply("error unknown command %r" % words[0])
        except Exception as e:  # noqa: BLE001 - reported to attn-bench
            reply("error %s" % str(e).replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
