# -*- Python -*-
# lit configuration of the attnc test suite: IR and frontend tests (FileCheck,
# -verify-diagnostics), tool tests, and integration tests that compile
# kernels and run them against the float64 reference.  The GoogleTest unit
# tests have their own configuration under Unit/.

import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "attnc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".attn", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "Inputs"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP", "PATH"])
llvm_config.use_default_substitutions()
# Captures must not leak across CHECK-LABELs.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# Kernels run on two threads, like the machine; tests never time anything.
config.environment["HL_NUM_THREADS"] = "2"
# A user's tuning database must not change what the tests compile: point
# the default location at an empty directory of the test tree.
_cache = os.path.join(config.attn_obj_root, "test", "cache")
os.makedirs(_cache, mode=0o700, exist_ok=True)
config.environment["ATTN_CACHE_DIR"] = _cache

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
tools = ["attn-opt", "attnc", "attn-run", "FileCheck", "not", "count"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

config.substitutions.append(("%examples", os.path.join(config.attn_src_root,
                                                        "examples")))
config.substitutions.append(("%python", "python3"))
config.substitutions.append(("%attn_src", config.attn_src_root))
config.substitutions.append(("%attn_build", config.attn_obj_root))

# GPU features (docs/GPU.md §6):
#   ptxas   the CUDA toolkit's assembler checks generated PTX (no GPU needed)
#   opencl  an OpenCL platform with a device (PoCL on CPUs) runs GPU schedules
#   cuda    a CUDA driver with a device runs CUDA kernels
_ptxas = "/usr/local/cuda/bin/ptxas"
if os.path.exists(_ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))


def _count_devices(library, probe):
    """Devices an OpenCL or CUDA driver reports (0 when absent); ctypes
    keeps lit's process free of the drivers' side effects on failure."""
    import ctypes
    try:
        lib = ctypes.CDLL(library)
    except OSError:
        return 0
    try:
        return probe(lib, ctypes)
    except Exception:
        return 0


def _opencl_devices(lib, ctypes):
    n = ctypes.c_uint(0)
    if lib.clGetPlatformIDs(0, None, ctypes.byref(n)) != 0 or n.value == 0:
        return 0
    platforms = (ctypes.c_void_p * n.value)()
    lib.clGetPlatformIDs(n.value, platforms, None)
    total = 0
    for p in platforms:
        d = ctypes.c_uint(0)
        # CL_DEVICE_TYPE_ALL = 0xFFFFFFFF
        if lib.clGetDeviceIDs(ctypes.c_void_p(p), ctypes.c_ulong(0xFFFFFFFF),
                              0, None, ctypes.byref(d)) == 0:
            total += d.value
    return total


def _cuda_devices(lib, ctypes):
    if lib.cuInit(0) != 0:
        return 0
    n = ctypes.c_int(0)
    return n.value if lib.cuDeviceGetCount(ctypes.byref(n)) == 0 else 0


_has_opencl = _count_devices("libOpenCL.so.1", _opencl_devices) > 0
_has_cuda = _count_devices("libcuda.so.1", _cuda_devices) > 0
if _has_cuda:
    config.available_features.add("cuda")
# The GPU-schedule cases are written for `--target opencl` (PoCL in CI).
# `lit --param gpu_target=cuda-NN` reruns them on a CUDA device instead:
# every `--target opencl` in a RUN line becomes `--target cuda-NN`, the
# `opencl` feature then means "the device of gpu_target is present", and
# tests that check OpenCL specifics declare `UNSUPPORTED: gpu-rerun`
# (test/Integration/gpu/cuda-rerun.test drives this on CUDA machines).
_gpu_target = lit_config.params.get("gpu_target")
if _gpu_target:
    config.available_features.add("gpu-rerun")
    config.substitutions.insert(0, ("--target opencl",
                                    "--target " + _gpu_target))
    if _has_cuda and _gpu_target.startswith("cuda"):
        config.available_features.add("opencl")
elif _has_opencl:
    config.available_features.add("opencl")
# This very lit, for tests that run lit on a directory again.
config.substitutions.append(("%lit", sys.executable + " " +
                             os.path.abspath(sys.argv[0])))
# PoCL compiles each OpenCL kernel once and caches it; keep its cache in the
# build tree so tests neither depend on nor fill the user's cache.
config.environment["POCL_CACHE_DIR"] = os.path.join(config.attn_obj_root,
                                                    "test", "pocl-cache")
