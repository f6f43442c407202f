#!/usr/bin/env python3
"""PyTorch column of scripts/bench-gpu.sh: scaled_dot_product_attention on
the CUDA device, timed with CUDA events in the same run as attnc's kernels.

usage: torch_sdpa_cuda.py B H N D CAUSAL DTYPE [SECONDS]

DTYPE is fp32 (TF32 disabled for matmuls and cuDNN, so fp32 means fp32),
fp16 or bf16.  Warms up, then times back-to-back calls for about SECONDS
(default 2) in batches and prints one line:

  ok MEDIAN_MS MIN_MS RUNS TORCH_VERSION DEVICE_NAME

or "error MESSAGE" (exit status 1) when torch or CUDA is missing.
"""

import statistics
import sys


def main():
    if len(sys.argv) < 7:
        print(__doc__)
        return 2
    b, h, n, d = (int(x) for x in sys.argv[1:5])
    causal = sys.argv[5] in ("1", "true", "causal")
    dtype_name = sys.argv[6]
    seconds = float(sys.argv[7]) if len(sys.argv) > 7 else 2.0
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure: no column
        print("error cannot import torch: %s" % str(e).replace("\n", " "))
        return 1
    if not torch.cuda.is_available():
        print("error torch %s sees no CUDA device" % torch.__version__)
        return 1
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dtype = {"fp32": torch.float32, "fp16": torch.float16,
             "bf16": torch.bfloat16}[dtype_name]
    torch.set_grad_enabled(False)
    gen = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=dtype,
                           generator=gen) for _ in range(3))

    def call():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    for _ in range(3):
        call()
    torch.cuda.synchronize()
    # Calls per timed batch: about 20 ms of work.
    start, end = torch.cuda.Event(True), torch.cuda.Event(True)
    start.record()
    call()
    end.record()
    end.synchronize()
    one = max(start.elapsed_time(end), 1e-3)
    per_batch = max(1, int(20.0 / one))
    times = []
    spent = 0.0
    while spent < seconds * 1e3 or len(times) < 5:
        start.record()
        for _ in range(per_batch):
            call()
        end.record()
        end.synchronize()
        ms = start.elapsed_time(end)
        spent += ms
        times.append(ms / per_batch)
    print("ok %.6f %.6f %d %s %s" % (statistics.median(times), min(times),
                                      len(times) * per_batch,
                                      torch.__version__,
                                      torch.cuda.get_device_name().replace(
                                          " ", "_")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
