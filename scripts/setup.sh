#!/usr/bin/env bash
# scripts/setup.sh - install the Debian 12 packages attnc builds and tests with.
#
# Idempotent: packages already present are not reinstalled, and apt is not
# touched at all when nothing is missing.  Runs non-interactively (CI has no
# standard input).  Extra package groups:
#   --bench   also install the benchmark peers (OpenBLAS, oneDNN)
set -euo pipefail

core_pkgs=(
  cmake make ninja-build g++ python3
  libmlir-19-dev mlir-19-tools llvm-19-dev llvm-19-tools
  libhalide14-0-dev libsqlite3-dev libfftw3-dev libgtest-dev nlohmann-json3-dev
  pocl-opencl-icd ocl-icd-opencl-dev
  zlib1g-dev libzstd-dev libedit-dev libcurl4-openssl-dev libxml2-dev
)
bench_pkgs=(libopenblas-dev libdnnl-dev python3-venv)

want=("${core_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "setup.sh: unknown option '$arg' (expected --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup.sh: installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
