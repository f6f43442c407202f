# attnc: the two quickstart commands.
#   make run    set up, build, compile the examples, run them against the
#               float64 reference and print a timing table
#   make test   set up, build, run every test (lit, unit, integration)
#   make bench  the benchmark of docs/Performance.md (installs the peers);
#               ends with bench-linear, bench-arch and bench-gpu
#   make bench-linear  the efficient-attention families (issue 4) against
#               tuned softmax, sgemm and memory bandwidth (~6 min;
#               ~11 min with an empty tuning database)
#   make bench-arch  the example architectures (issue 5) at batch 1 and 8:
#               attnc fused, attnc --no-fusion and PyTorch eager
#   make bench-gpu   softmax attention on a CUDA GPU against PyTorch SDPA
#               (fp32, TF32 off); says so and exits 0 without a GPU
# Variables: BUILD (build directory), JOBS (parallel build jobs).

BUILD ?= build
JOBS ?= 2
LLVM_PREFIX ?= /usr/lib/llvm-19

.PHONY: all setup configure build run test bench bench-linear bench-arch bench-gpu clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DMLIR_DIR=$(LLVM_PREFIX)/lib/cmake/mlir \
	  -DLLVM_EXTERNAL_LIT=$(LLVM_PREFIX)/build/utils/lit/lit.py >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run-examples.sh $(BUILD)

test: build
	@bash scripts/test.sh $(BUILD)

bench:
	@bash scripts/setup.sh --bench
	@$(MAKE) --no-print-directory build
	@status=0; bash scripts/bench.sh $(BUILD) || status=1; \
	  bash scripts/bench-linear.sh $(BUILD) || status=1; \
	  bash scripts/bench-arch.sh $(BUILD) || status=1; \
	  bash scripts/bench-gpu.sh $(BUILD) || status=1; exit $$status

bench-linear:
	@bash scripts/setup.sh --bench
	@$(MAKE) --no-print-directory build
	@bash scripts/bench-linear.sh $(BUILD)

bench-arch:
	@bash scripts/setup.sh --bench
	@$(MAKE) --no-print-directory build
	@bash scripts/bench-arch.sh $(BUILD)

bench-gpu:
	@bash scripts/setup.sh --bench
	@$(MAKE) --no-print-directory build
	@bash scripts/bench-gpu.sh $(BUILD)

clean:
	rm -rf $(BUILD)
