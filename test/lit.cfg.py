# -*- Python -*-
# lit configuration of the attnc test suite: IR and frontend tests (FileCheck,
# -verify-diagnostics), tool tests, and integration tests that compile
# kernels and run them against the float64 reference.  The GoogleTest unit
# tests have their own configuration under Unit/.

import os

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

if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
