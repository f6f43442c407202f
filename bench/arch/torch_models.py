#!/usr/bin/env python3
"""PyTorch eager versions of the four example architectures (issue 5, §6).

The models are written the way a PyTorch user would write them (nn.Module,
F.linear, F.layer_norm, F.rms_norm, F.scaled_dot_product_attention, ...),
with parameter names equal to the weight paths of attnc's manifest
(docs/Architectures.md §4: layers.3.attention.wq [out, in], norm1.gamma,
mlp.fc1.w, ...), so that the safetensors file written by
`attn-run LIB --save-weights W.safetensors` loads with
`load_state_dict(strict=True)` and both compute the same function.

  examples/hybrid_vit.attn      pre-norm ViT-S; the token mixer per layer
                                (softmax SDPA or linear attention, elu+1)
                                comes from the manifest's "config"
  examples/bert_base.attn       post-norm BERT-base
  examples/causal_decoder.attn  RMSNorm, GQA 8/2 (repeat_interleave of k/v),
                                causal sliding window 256 (a boolean
                                attn_mask), SiLU MLP, no biases
  examples/shiftadd.attn        channel split: attention on one half, the
                                light-add conv (-sum_k |x[t+k-1] - w[c,k]|,
                                zero padding) on the other, concat; shift FFN

The shift FFN is computed as DeepShift does at inference on floats: the
weight sign * 2^shift as a float32 matrix and F.linear.  attnc (§2 `shift`)
rounds the activations to fixed point (2^-16, round half even) and floors each
shifted term, exactly in integers, so the two differ by the fixed-point
rounding: under 2^-16 per term, ~2e-3 at the output of the two layers (1e-4
of its range), the shiftadd row's max diff.  `check ... --fixed-point-shift`
emulates attnc's integers instead (the difference drops to attnc's own
float32 error, ~1e-4 absolute).

No numpy needed: .safetensors and .npy are parsed here (both are simple).

Use:
  torch_models.py serve [THREADS]    the benchmark's worker: one command per
                                     line on stdin, one reply line each
      load KEY EXAMPLE MANIFEST WEIGHTS   build the model, load the weights
      check KEY X.npy REF.npy             run once; reply "ok MAXDIFF MAXREF"
      time KEY X.npy WARMUP MIN_RUNS TARGET_S
                                          reply "ok MEDIAN_S MIN_S MAX_S RUNS"
      quit
  torch_models.py check EXAMPLE LIB.manifest.json W.safetensors X.npy REF.npy
                         [--fixed-point-shift]
"""

import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------
# File formats

_ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32,
              "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    """name -> tensor (8-byte LE header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dtype = _ST_DTYPES[e["dtype"]]
        buf = bytearray(data[base + b:base + end])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


_NPY_DTYPES = {"<f4": torch.float32, "<f8": torch.float64, "<i4": torch.int32}


def load_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError("%s: not a .npy file" % path)
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = data[start:start + hlen].decode("latin1")
    import ast
    h = ast.literal_eval(header)
    if h.get("fortran_order"):
        raise ValueError("%s: Fortran order is not supported" % path)
    dtype = _NPY_DTYPES[h["descr"]]
    shape = tuple(h["shape"])
    buf = bytearray(data[start + hlen:])
    return torch.frombuffer(buf, dtype=dtype).reshape(shape).clone()


# ----------------------------------------------------------------------------
# Building blocks

class LayerNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.gamma, self.beta, self.eps)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        if hasattr(F, "rms_norm"):
            return F.rms_norm(x, (x.shape[-1],), self.gamma, self.eps)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.gamma


class Linear(nn.Module):
    """y = x w^T + b with w [out, in] (PyTorch's layout)."""

    def __init__(self, fin, fout, bias=True):
        super().__init__()
        self.w = nn.Parameter(torch.empty(fout, fin))
        self.b = nn.Parameter(torch.empty(fout)) if bias else None

    def forward(self, x):
        return F.linear(x, self.w, self.b)


class ShiftLinear(nn.Module):
    """DeepShift-PS at inference on floats: weight = sign * 2^shift."""

    def __init__(self, fin, fout, bias=True):
        super().__init__()
        self.register_buffer("shift", torch.zeros(fout, fin, dtype=torch.int32))
        self.register_buffer("sign", torch.zeros(fout, fin, dtype=torch.int32))
        self.b = nn.Parameter(torch.empty(fout)) if bias else None
        self.register_buffer("weight", torch.empty(fout, fin), persistent=False)

    def prepare(self):
        # Once after loading (not in the timed forward): the float weights.
        self.weight = self.sign.float() * torch.pow(2.0, self.shift.float())

    def forward(self, x):
        if self.fixed_point:
            return self.forward_fixed_point(x)
        return F.linear(x, self.weight, self.b)

    fixed_point = False

    def forward_fixed_point(self, x):
        # attnc's integers (docs/Architectures.md §2): xq = round_half_even(
        # x * 2^16) clamped to int32, y = 2^-16 sum_k sign * (xq >> -shift) + b.
        # For checking only (memory: B*N*F*K int64 terms).
        xq = torch.round(x.double() * 65536.0).clamp(-2 ** 31, 2 ** 31 - 1).long()
        terms = torch.bitwise_right_shift(xq.unsqueeze(-2), -self.shift.long())
        y = (terms * self.sign.long()).sum(-1).double() / 65536.0
        if self.b is not None:
            y = y + self.b.double()
        return y.float()


class MLP(nn.Module):
    def __init__(self, dim, hidden, act, bias=True, mode="mul"):
        super().__init__()
        lin = ShiftLinear if mode == "shift" else Linear
        self.fc1 = lin(dim, hidden, bias)
        self.fc2 = lin(hidden, dim, bias)
        self.act = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu}[act]

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def linear_attention(q, k, v, eps=1e-6):
    """phi(q) (phi(k)^T v) / (phi(q) sum_j phi(k_j) + eps), phi = elu + 1."""
    q = F.elu(q) + 1.0
    k = F.elu(k) + 1.0
    kv = k.transpose(-2, -1) @ v                    # [B, H, D, Dv]
    z = k.sum(dim=-2, keepdim=True)                 # [B, H, 1, D]
    num = q @ kv                                    # [B, H, N, Dv]
    den = (q * z).sum(dim=-1, keepdim=True)         # [B, H, N, 1]
    return num / (den + eps)


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_heads=None, bias=True, mixer="softmax",
                 causal=False, window=None):
        super().__init__()
        self.heads = heads
        self.kv_heads = kv_heads or heads
        self.head_dim = dim // heads
        kv_dim = self.kv_heads * self.head_dim
        self.wq = nn.Parameter(torch.empty(dim, dim))
        self.wk = nn.Parameter(torch.empty(kv_dim, dim))
        self.wv = nn.Parameter(torch.empty(kv_dim, dim))
        self.wo = nn.Parameter(torch.empty(dim, dim))
        if bias:
            self.bq = nn.Parameter(torch.empty(dim))
            self.bk = nn.Parameter(torch.empty(kv_dim))
            self.bv = nn.Parameter(torch.empty(kv_dim))
            self.bo = nn.Parameter(torch.empty(dim))
        else:
            self.bq = self.bk = self.bv = self.bo = None
        self.mixer = mixer
        self.causal = causal
        self.window = window
        self._mask = None

    def mask(self, n, device):
        # The sliding window, causal: key j is visible from query i iff
        # 0 <= i - j < window.  Built once per length, as a user would cache it.
        if self._mask is None or self._mask.shape[0] != n:
            i = torch.arange(n, device=device).view(n, 1)
            j = torch.arange(n, device=device).view(1, n)
            self._mask = (j <= i) & (i - j < self.window)
        return self._mask

    def forward(self, x):
        b, n, e = x.shape
        d = self.head_dim
        q = F.linear(x, self.wq, self.bq).view(b, n, self.heads, d).transpose(1, 2)
        k = F.linear(x, self.wk, self.bk).view(b, n, self.kv_heads, d).transpose(1, 2)
        v = F.linear(x, self.wv, self.bv).view(b, n, self.kv_heads, d).transpose(1, 2)
        if self.kv_heads != self.heads:
            # GQA: query head h reads key/value head h // (H / G).
            rep = self.heads // self.kv_heads
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if self.mixer == "linear_elu":
            o = linear_attention(q, k, v)
        elif self.window is not None:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask(n, x.device))
        else:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        o = o.transpose(1, 2).reshape(b, n, self.heads * d)
        return F.linear(o, self.wo, self.bo)


class LightAddConv(nn.Module):
    """Depthwise light-add token mixer: y[b,t,c] = -sum_k |x[b,t+k-p,c] - w[c,k]|
    with zero padding ('same', p = (K-1)/2)."""

    def __init__(self, channels, kernel=3):
        super().__init__()
        self.w = nn.Parameter(torch.empty(channels, kernel))
        self.kernel = kernel

    def forward(self, x):                               # x [B, N, C]
        p = (self.kernel - 1) // 2
        xp = F.pad(x, (0, 0, p, self.kernel - 1 - p))    # zero rows before/after
        win = xp.unfold(1, self.kernel, 1)              # [B, N, C, K]
        return -(win - self.w).abs().sum(dim=-1)


class ShiftAddMixer(nn.Module):
    """ShiftAddNAS hybrid: channels split in halves; attention on the first,
    the light-add conv on the second; concatenated."""

    def __init__(self, dim, heads, kernel=3):
        super().__init__()
        self.half = dim // 2
        self.attention = Attention(self.half, heads)
        self.branch = LightAddConv(dim - self.half, kernel)

    def forward(self, x):
        a = self.attention(x[..., :self.half])
        c = self.branch(x[..., self.half:])
        return torch.cat([a, c], dim=-1)


# ----------------------------------------------------------------------------
# The four architectures

class PreNormLayer(nn.Module):
    def __init__(self, dim, heads, hidden, act, eps, mixer="softmax",
                 norm="layernorm", kv_heads=None, bias=True, causal=False,
                 window=None):
        super().__init__()
        mk = (lambda: LayerNorm(dim, eps)) if norm == "layernorm" else (lambda: RMSNorm(dim, eps))
        self.norm1 = mk()
        self.attention = Attention(dim, heads, kv_heads, bias, mixer, causal, window)
        self.norm2 = mk()
        self.mlp = MLP(dim, hidden, act, bias)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class HybridViT(nn.Module):
    def __init__(self, dim=384, heads=6, mixers=("softmax",) * 12, ratio=(4,) * 12, eps=1e-6):
        super().__init__()
        self.layers = nn.ModuleList(
            PreNormLayer(dim, heads, r * dim, "gelu", eps, mixer=m)
            for m, r in zip(mixers, ratio))
        self.norm1 = LayerNorm(dim, eps)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x)


class BertLayer(nn.Module):
    def __init__(self, dim, heads, eps):
        super().__init__()
        self.attention = Attention(dim, heads)
        self.norm1 = LayerNorm(dim, eps)
        self.mlp = MLP(dim, 4 * dim, "gelu")
        self.norm2 = LayerNorm(dim, eps)

    def forward(self, x):
        x = self.norm1(x + self.attention(x))
        return self.norm2(x + self.mlp(x))


class BertBase(nn.Module):
    def __init__(self, dim=768, heads=12, depth=12, eps=1e-12):
        super().__init__()
        self.layers = nn.ModuleList(BertLayer(dim, heads, eps) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class CausalDecoder(nn.Module):
    def __init__(self, dim=512, heads=8, kv_heads=2, window=256, depth=4, eps=1e-6):
        super().__init__()
        self.layers = nn.ModuleList(
            PreNormLayer(dim, heads, 3 * dim, "silu", eps, norm="rmsnorm",
                         kv_heads=kv_heads, bias=False, causal=True, window=window)
            for _ in range(depth))
        self.norm1 = RMSNorm(dim, eps)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x)


class ShiftAddLayer(nn.Module):
    def __init__(self, dim, heads, kernel, eps):
        super().__init__()
        self.norm1 = LayerNorm(dim, eps)
        self.shiftadd = ShiftAddMixer(dim, heads, kernel)
        self.norm2 = LayerNorm(dim, eps)
        self.mlp = MLP(dim, 2 * dim, "relu", mode="shift")

    def forward(self, x):
        x = x + self.shiftadd(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ShiftAdd(nn.Module):
    def __init__(self, dim=512, heads=4, kernel=3, depth=2, eps=1e-5):
        super().__init__()
        self.layers = nn.ModuleList(ShiftAddLayer(dim, heads, kernel, eps) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _config_list(value, depth, default):
    """"[a,b,c]" or "a" from the manifest's config -> a list of depth items."""
    if value is None:
        return [default] * depth
    value = str(value).strip()
    if value.startswith("["):
        items = [s.strip() for s in value[1:-1].split(",") if s.strip()]
    else:
        items = [value] * depth
    return items


def build_model(example, manifest_path=None):
    """The PyTorch model of EXAMPLE (the .attn file's base name, bert_base_512
    too); hybrid_vit takes its per-layer choices from the manifest."""
    config = {}
    if manifest_path:
        with open(manifest_path) as f:
            m = json.load(f)
        config = m["archs"][0].get("config", {}) or {}
    if example == "hybrid_vit":
        depth = int(config.get("depth", 12))
        heads = int(config.get("heads", 6))
        mixers = _config_list(config.get("mixer"), depth, "softmax")
        ratio = [int(r) for r in _config_list(config.get("ratio"), depth, "4")]
        for mx in mixers:
            if mx not in ("softmax", "linear_elu"):
                raise ValueError("hybrid_vit: mixer %r has no PyTorch version here" % mx)
        return HybridViT(384, heads, mixers, ratio)
    if example.startswith("bert_base"):
        return BertBase()
    if example == "causal_decoder":
        return CausalDecoder()
    if example == "shiftadd":
        return ShiftAdd()
    raise ValueError("no PyTorch model for %r" % example)


def load_model(example, manifest_path, weights_path):
    model = build_model(example, manifest_path)
    state = load_safetensors(weights_path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError("weights of %s do not match the PyTorch model: missing %s, unexpected %s"
                         % (example, missing[:6], unexpected[:6]))
    for mod in model.modules():
        if isinstance(mod, ShiftLinear):
            mod.prepare()
    model.eval()
    return model


def max_diff(model, x, ref):
    with torch.inference_mode():
        y = model(x)
    if tuple(y.shape) != tuple(ref.shape):
        raise ValueError("output shape %s, attn-run's %s" % (tuple(y.shape), tuple(ref.shape)))
    return (y.double() - ref.double()).abs().max().item(), ref.abs().max().item()


def time_model(model, x, warmup=2, min_runs=5, target_s=0.5):
    """attn-run's policy: warm-up runs (the fastest estimates one run), then
    enough runs to fill target_s (at least min_runs); the median."""
    with torch.inference_mode():
        est = float("inf")
        for _ in range(max(1, warmup)):
            t0 = time.perf_counter()
            model(x)
            est = min(est, time.perf_counter() - t0)
        runs = max(min_runs, int(math.ceil(target_s / est)) if est > 0 else min_runs)
        runs = min(runs, 10000)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            samples.append(time.perf_counter() - t0)
    samples.sort()
    n = len(samples)
    med = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return med, samples[0], samples[-1], n


# ----------------------------------------------------------------------------
# Entry points

def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(threads):
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_grad_enabled(False)
    reply("ready %s %d" % (torch.__version__, torch.get_num_threads()))
    models = {}
    inputs = {}

    def get_input(path):
        if path not in inputs:
            inputs.clear()  # one input at a time is enough; keeps memory low
            inputs[path] = load_npy(path)
        return inputs[path]

    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        try:
            if w[0] == "quit":
                break
            if w[0] == "load":
                key, example, manifest, weights = w[1:5]
                if key not in models:
                    models[key] = load_model(example, manifest, weights)
                reply("ok")
            elif w[0] == "check":
                key, xp, refp = w[1:4]
                d, r = max_diff(models[key], get_input(xp), load_npy(refp))
                reply("ok %.9g %.9g" % (d, r))
            elif w[0] == "time":
                key, xp = w[1:3]
                warmup, min_runs = int(w[3]), int(w[4])
                target = float(w[5])
                med, mn, mx, n = time_model(models[key], get_input(xp), warmup, min_runs, target)
                reply("ok %.9f %.9f %.9f %d" % (med, mn, mx, n))
            else:
                reply("error unknown command %r" % w[0])
        except Exception as e:  # noqa: BLE001 - reported to the driver
            reply("error %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "serve":
        return serve(int(argv[2]) if len(argv) > 2 else 2)
    if len(argv) in (7, 8) and argv[1] == "check":
        example, manifest, weights, xp, refp = argv[2:7]
        torch.set_num_threads(2)
        model = load_model(example, manifest, weights)
        if len(argv) == 8:
            if argv[7] != "--fixed-point-shift":
                sys.stderr.write(__doc__)
                return 2
            ShiftLinear.fixed_point = True
        d, r = max_diff(model, load_npy(xp), load_npy(refp))
        rel = d / max(r, 1e-30)
        print("%s: max |torch - attnc| = %.3g (max |attnc| = %.3g, relative %.3g) %s"
              % (example, d, r, rel, "PASS" if rel <= 1e-3 else "FAIL"))
        return 0 if rel <= 1e-3 else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
