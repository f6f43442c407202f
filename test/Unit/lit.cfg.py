# -*- Python -*-
# test/Unit/lit.cfg.py - runs the GoogleTest unit-test executables.
#
# Every executable whose name ends in "Tests" under the build's test/Unit/
# directory is a test suite; lit runs each of its tests as one lit test.

import os

import lit.formats

config.name = "attnc-unit"

# No source files: the tests are discovered in the build tree.
config.suffixes = []
config.test_source_root = os.path.join(config.attn_obj_root, "test", "Unit")
config.test_exec_root = config.test_source_root

# Look for executables ending in "Tests" in each directory lit walks.
config.test_format = lit.formats.GoogleTest(".", "Tests")

# Temporary files of the tests go under the build tree, not a shared /tmp.
tmp_dir = os.path.join(config.test_exec_root, "Output", "tmp")
os.makedirs(tmp_dir, exist_ok=True)
config.environment["TMPDIR"] = tmp_dir

# Keep a user's Halide settings from changing the results.
for var in ("HL_NUM_THREADS", "HL_JIT_TARGET", "HL_TARGET"):
    config.environment.pop(var, None)
