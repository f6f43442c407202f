# scripts/torch-venv.sh - sourced by scripts/bench.sh and
# scripts/bench-arch.sh: PyTorch from PyPI in a virtual environment.  First
# `torch` alone with its pure-Python dependencies; the PyPI wheel links CUDA libraries even for CPU use, so when
# `import torch` fails without them, `torch` with its dependencies.
#
# Needs: venv (the environment's directory), torch_log (a log file).
# Defines: setup_torch (returns 0 when torch runs; else sets torch_reason).
# shellcheck shell=bash disable=SC2154  # venv, torch_log: the caller's
# shellcheck disable=SC2034  # read by the caller
torch_reason=""
torch_ok() {
  "$venv/bin/python" - >>"$torch_log" 2>&1 <<'PYEOF'
import torch, torch.nn.functional as F
q = torch.ones(1, 1, 4, 8)
F.scaled_dot_product_attention(q, q, q, is_causal=True)
print("torch", torch.__version__, "works on the CPU")
PYEOF
}
setup_torch() {
  : >"$torch_log"
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >>"$torch_log" 2>&1; then
      torch_reason="python3 -m venv failed (Debian: apt-get install python3-venv; see $torch_log)"
      return 1
    fi
  fi
  torch_ok && return 0
  echo "installing torch from PyPI into $venv (log: $torch_log)" >&2
  "$venv/bin/pip" install --no-deps torch typing-extensions sympy networkx \
      jinja2 filelock fsspec mpmath MarkupSafe >>"$torch_log" 2>&1 || true
  torch_ok && return 0
  echo "torch needs its CUDA libraries even on the CPU; installing its dependencies" >&2
  if ! "$venv/bin/pip" install torch >>"$torch_log" 2>&1; then
    torch_reason="pip install torch failed (see $torch_log)"
    return 1
  fi
  torch_ok && return 0
  torch_reason="torch was installed but cannot run on this machine: $(grep -m1 -i 'error' "$torch_log" || echo "see $torch_log")"
  return 1
}
