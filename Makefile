# posbench — build, run, test, bench.  `make help` lists the targets.
#
# Probes (trial compiles) pick what this machine supports: OpenMP, OpenBLAS
# (the OpenMP flavour, so BLAS and our own loops share one thread pool) and
# -march=native. No -ffast-math: it breaks -INFINITY masking and NaN checks;
# -fno-math-errno only lets sqrtf vectorise (nothing here reads errno after maths).
# `make NO_BLAS=1` builds with the naive matmul everywhere (the oracle);
# `make BLAS_HIDE=1` makes the OpenBLAS probe fail as on a machine without it
# (tests/build_test.sh uses it to check that a later build picks BLAS up).
#
# The probes run when make reads this file, so targets that first install
# dependencies (run, test, bench, paper) build through a second $(MAKE) that
# probes again; and every object depends on $(BUILD)/flags.txt, rewritten
# whenever the probed flags change, so a binary built before OpenBLAS arrived
# is rebuilt with it rather than kept.

CC      ?= gcc
BUILD   ?= build
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -O3 -g -Wall -Wextra -Wno-unused-parameter -Wshadow -fno-strict-aliasing -fno-math-errno
PROBE   = printf 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null
HASH   := \#
COMMA  := ,

MARCH  := $(shell $(PROBE) -march=native 2>/dev/null && echo -march=native)
OPENMP := $(shell $(PROBE) -fopenmp 2>/dev/null && echo -fopenmp)
ifndef NO_BLAS
BLAS_INC := $(firstword $(wildcard /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/aarch64-linux-gnu/openblas-openmp /usr/include/openblas))
BLAS_LIB := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp))
HAVE_BLAS := $(shell printf '$(HASH)include <cblas.h>\n$(if $(BLAS_HIDE),$(HASH)error BLAS_HIDE)\nint main(void){cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,0,0,0,1.f,0,1,0,1,0.f,0,1);return 0;}' | \
	$(CC) -x c - $(if $(BLAS_INC),-I$(BLAS_INC)) $(if $(BLAS_LIB),-L$(BLAS_LIB) -Wl$(COMMA)-rpath$(COMMA)$(BLAS_LIB)) -lopenblas -o /dev/null 2>/dev/null && echo yes)
endif
ifeq ($(HAVE_BLAS),yes)
BLAS_FLAGS := -DUSE_BLAS $(if $(BLAS_INC),-I$(BLAS_INC))
BLAS_LDFLAGS := $(if $(BLAS_LIB),-L$(BLAS_LIB) -Wl$(COMMA)-rpath$(COMMA)$(BLAS_LIB)) -lopenblas
endif

CFLAGS  = $(CFLAGS_BASE) $(MARCH) $(OPENMP) $(BLAS_FLAGS) $(EXTRA_CFLAGS)
LDLIBS  = $(OPENMP) $(BLAS_LDFLAGS) -lm $(EXTRA_LDFLAGS)

# Rewrite the flags stamp only when the flags differ (its date then triggers a rebuild).
BUILD_FLAGS := $(CC) $(CFLAGS) :: $(LDLIBS)
GIT_COMMIT  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(shell mkdir -p $(BUILD) && \
	{ [ "$$(cat $(BUILD)/flags.txt 2>/dev/null)" = '$(BUILD_FLAGS)' ] || printf '%s\n' '$(BUILD_FLAGS)' > $(BUILD)/flags.txt; } && \
	{ [ "$$(cat $(BUILD)/commit.txt 2>/dev/null)" = '$(GIT_COMMIT)' ] || printf '%s\n' '$(GIT_COMMIT)' > $(BUILD)/commit.txt; })
BUILD_DESC := $(if $(HAVE_BLAS),OpenBLAS,naive matmul), $(if $(OPENMP),OpenMP,no OpenMP), $(or $(MARCH),no -march), $(CC) $(shell $(CC) -dumpversion 2>/dev/null), commit $(GIT_COMMIT)

LIB_SRC  := $(wildcard common/*.c methods/*.c model/*.c datasets/*.c plots/*.c) $(filter-out harness/main.c,$(wildcard harness/*.c))
TEST_SRC := $(wildcard tests/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
HEADERS  := $(wildcard common/*.h methods/*.h model/*.h datasets/*.h plots/*.h harness/*.h tests/*.h)

.PHONY: all help run test test-c test-asan bench paper headline plots deps clean check-deps reference

all: posbench $(BUILD)/test_posbench

help:
	@echo "posbench — position-method extrapolation harness"
	@echo "  make            build ./posbench and the test binary"
	@echo "                  (this machine: $(BUILD_DESC))"
	@echo "  make run        install what is missing, build, run the 'quick' sweep into runs/quick"
	@echo "  make test       unit, gradient, fixture, end-to-end and bad-input tests (ends 'N passed, N failed')"
	@echo "  make test-asan  the C tests and bad-checkpoint cases under AddressSanitizer"
	@echo "  make bench      speed and memory: sgemm peak, training and evaluation tokens/s, vs PyTorch"
	@echo "  make paper      the 'paper' preset sweep into runs/paper (15 models x 13.1M tokens; 90 min on 2 cores here, SkylakeX kernels)"
	@echo "  make headline   ALiBi trained at L vs sinusoidal trained at 2L..8L into runs/headline (24 small models; 34 min on 2 cores here, SkylakeX kernels)"
	@echo "  make plots RUN=DIR   re-render figures and report of a run folder"
	@echo "  make deps       apt-get the build/run dependencies (needs root)"
	@echo "  make NO_BLAS=1  build with the naive matmul (the oracle)"

posbench: $(BUILD)/harness/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_posbench: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(HEADERS) Makefile $(BUILD)/flags.txt
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# How the binary was built, for `posbench --version` and meta.json.
$(BUILD)/harness/version.o: $(BUILD)/commit.txt
$(BUILD)/harness/version.o: CFLAGS += -DPB_COMMIT='"$(GIT_COMMIT)"' -DPB_MARCH='"$(MARCH)"'

deps:
	bash .ci/install-deps

check-deps:
	@bash .ci/install-deps --check

# run, paper and headline train two units at once (cores / 2 threads each) where there are two
# cores or more: on 2 cores that was 1.9x faster than one unit on two threads for the quick model
# and 1.2x for the paper model (their small products do not scale across threads).
RUN_JOBS := $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -ge 2 ] && echo 2 || echo 1)
# The inner builds of run, test, bench, paper and headline compile one file per core.
BUILD_JOBS := $(shell nproc 2>/dev/null || echo 1)

run: check-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) posbench
	./posbench sweep --preset quick --jobs $(RUN_JOBS) --out runs/quick

paper: check-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) posbench
	./posbench data get sotu
	./posbench sweep --preset paper --jobs $(RUN_JOBS) --out runs/paper

headline: check-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) posbench
	./posbench sweep --preset headline --jobs $(RUN_JOBS) --out runs/headline

plots: posbench
	@test -n "$(RUN)" || { echo "usage: make plots RUN=runs/quick"; exit 2; }
	./posbench plot $(RUN)

test: check-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) posbench $(BUILD)/test_posbench
	bash tests/run_all.sh

test-c: $(BUILD)/test_posbench
	./$(BUILD)/test_posbench

test-asan:
	$(MAKE) BUILD=build-asan CC=clang EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" build-asan/test_posbench build-asan/posbench-asan
	ASAN_OPTIONS=detect_leaks=0 ./build-asan/test_posbench --quick
	ASAN_OPTIONS=detect_leaks=0 POSBENCH=./build-asan/posbench-asan bash tests/bad_checkpoints.sh

$(BUILD)/posbench-asan: $(BUILD)/harness/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bench: check-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) posbench
	./posbench bench

clean:
	rm -rf build build-asan posbench
