# muon -- build, test, bench, golden data.
#
#   make                  ./muon, native, OpenMP when the compiler has it
#   make OPENMP=0         without OpenMP
#   make PORTABLE=1       without -march=native
#   make test             build and run every test (last line: N passed, N failed)
#   make bench            benchmark table (BLAS=openblas adds OpenBLAS beside it)
#   make run              train the default model on data/ and draw the plots
#   make golden           regenerate tests/golden/*.safetensors (needs python3-torch)
#   make test-cross       the suite for aarch64, s390x (qemu-user) and i386 x87
#                         (one of them: make test-aarch64, test-s390x, test-i386)
#   make fuzz             libFuzzer harnesses of tests/fuzz/ (clang), FUZZ_SECONDS each
#   make MPI=1            ./muon built with mpicc: mpirun -np N ./muon train ... (docs/distributed.md)
#   make test-mpi         the distributed tests (1, 2, 3 and 4 ranks against one process)
#
# Objects of each variant live in build/<variant>/ so switching OPENMP or
# PORTABLE never mixes objects; ./muon is a copy of the last variant built.

CC       ?= cc
OPENMP   ?= 1
MPI      ?= 0
PORTABLE ?= 0
BLAS     ?=
PYTHON   ?= /usr/bin/python3

# CFLAGS/LDFLAGS are the user's (e.g. CFLAGS="-O1 -g -fsanitize=address");
# what the project needs goes in MUON_CFLAGS/MUON_LDFLAGS and always applies.
WARN     = -Wall -Wextra -pedantic
CFLAGS  ?= -O3
MUON_CFLAGS = -std=c99 $(WARN) -I.
MUON_LDFLAGS =
LDLIBS   = -lm

ifeq ($(PORTABLE),0)
  # gcc 12 and clang 14 would pick 256-bit vectors with AVX-512; 512 keeps the
  # GEMM tile in zmm registers. Measured 1-thread GFLOP/s, 512^3 / 1024x384x128
  # (linalg/gemm.c, Zen 4): gcc 512-bit 109/106, 256-bit 107/105; clang
  # 512-bit 95/103, 256-bit 61/60. So =512 stays (AVX2-only machines get a
  # 6x16 tile instead: 93/104 here).
  NATIVE := $(shell $(CC) -march=native -mprefer-vector-width=512 -x c -c /dev/null -o /dev/null 2>/dev/null && echo ok)
  ifeq ($(NATIVE),ok)
    MUON_CFLAGS += -march=native -mprefer-vector-width=512
  else
    MUON_CFLAGS += -march=native
  endif
endif

# MPI=1: Open MPI's compiler wrapper, and dist/mpi.c in place of dist/local.c
# (the one file that includes <mpi.h>); without it nothing needs MPI.
ifeq ($(MPI),1)
  ifeq ($(origin CC),default)
    CC := mpicc
  endif
  MPICC_OK := $(shell command -v $(CC) >/dev/null 2>&1 && echo ok)
  ifneq ($(MPICC_OK),ok)
    $(error MPI=1 needs Open MPI's mpicc: apt-get install openmpi-bin libopenmpi-dev)
  endif
  DIST_SRC := dist/mpi.c
else
  DIST_SRC := dist/local.c
endif

ifeq ($(OPENMP),1)
  HAVE_OMP := $(shell printf '#include <omp.h>\nint main(void){return omp_get_max_threads();}\n' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo ok)
  ifeq ($(HAVE_OMP),ok)
    MUON_CFLAGS  += -fopenmp
    MUON_LDFLAGS += -fopenmp
  else
    OPENMP := 0
  endif
endif
# OpenMP directives are written MUON_OMP(...) (linalg/omp.h), which vanishes
# without -fopenmp, so an OPENMP=0 build needs no -Wno-unknown-pragmas. The
# simd directives alone (MUON_SIMD) stay on where the compiler takes
# -fopenmp-simd (gcc, clang; not tcc): vector loops, no threads.
ifneq ($(OPENMP),1)
  HAVE_OMP_SIMD := $(shell printf 'int main(void){int i, s = 0;\n_Pragma("omp simd reduction(+:s)")\nfor (i = 0; i < 4; i++) s += i;\nreturn s - 6;}\n' | $(CC) -std=c99 -Werror -fopenmp-simd -x c - -o /dev/null 2>/dev/null && echo ok)
  ifeq ($(HAVE_OMP_SIMD),ok)
    MUON_CFLAGS += -fopenmp-simd -DMUON_OPENMP_SIMD
  endif
endif

# stb_image_write from Debian's libstb-dev: found with pkg-config; installed
# when missing and we are root; otherwise a one-line instruction.
# STB_IMPL=1 compiles the implementation from the header instead of linking
# Debian's libstb (x86-64 only): what cross builds need.
STB_IMPL ?= 0
STB_CFLAGS := $(shell pkg-config --cflags stb 2>/dev/null)
ifeq ($(STB_CFLAGS),)
  ifeq ($(shell id -u),0)
    $(info libstb-dev is missing: installing it with apt-get)
    $(shell DEBIAN_FRONTEND=noninteractive apt-get install -y -q libstb-dev >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libstb-dev >/dev/null 2>&1))
    STB_CFLAGS := $(shell pkg-config --cflags stb 2>/dev/null)
  endif
  ifeq ($(STB_CFLAGS),)
    $(error stb_image_write.h not found: install it with 'apt-get install libstb-dev' (as root))
  endif
endif
STB_LIBS := $(if $(filter 1,$(STB_IMPL)),,$(shell pkg-config --libs stb 2>/dev/null))
MUON_CFLAGS += $(STB_CFLAGS)
LDLIBS := $(STB_LIBS) $(LDLIBS)

# OpenBLAS's own cblas.h declares openblas_get_corename() and the others the
# bench calls; a generic one (libblas-dev's, found when OpenBLAS's is not
# installed) does not, and C99 compilers only warn about the implicit int
# declaration, which then truncates the returned pointer: make it an error.
ifeq ($(BLAS),openblas)
  BENCH_CFLAGS = -DMUON_BENCH_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread \
                 -Werror=implicit-function-declaration
  BENCH_LIBS   = -llapacke -lopenblas
endif

VARIANT := $(notdir $(CC))$(if $(filter 1,$(MPI)),-mpi)-omp$(OPENMP)-p$(PORTABLE)$(if $(BLAS),-$(BLAS))$(if $(filter 1,$(STB_IMPL)),-stb)$(if $(filter-out -O3,$(CFLAGS)),-f$(shell printf '%s' '$(CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1))
BUILD   ?= build/$(VARIANT)

LIB_SRCS  := $(sort $(wildcard linalg/*.c io/*.c model/*.c train/*.c metrics/*.c plots/*.c conformance/*.c) $(DIST_SRC)) $(if $(filter 1,$(STB_IMPL)),tests/cross/stb_impl.c)
TEST_SRCS := $(sort $(wildcard tests/*.c tests/fuzz/fuzz_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
HEADERS   := muon.h muon_internal.h $(wildcard dist/*.h linalg/*.h io/*.h model/*.h train/*.h metrics/*.h plots/*.h conformance/*.h tests/*.h tests/fuzz/*.h)

.PHONY: all muon test bench run golden conformance conformance-torch clean font-atlas study test-cross test-aarch64 test-s390x test-i386 fuzz test-mpi bench-mpi
all: muon

$(BUILD)/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(MUON_CFLAGS) $(CFLAGS) $(if $(findstring bench,$<),$(BENCH_CFLAGS)) -c $< -o $@

$(BUILD)/libmuon.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/muon: $(BUILD)/muon.o $(BUILD)/libmuon.a
	$(CC) $(MUON_LDFLAGS) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) $(BENCH_LIBS) -o $@

$(BUILD)/muon_tests: $(TEST_OBJS) $(BUILD)/libmuon.a
	$(CC) $(MUON_LDFLAGS) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) $(BENCH_LIBS) -o $@

muon: $(BUILD)/muon
	@cp $< $@

# Passive OpenMP waiting: libgomp's default spinning makes 2 threads far slower
# than 1 when anything else shares the cores (measured: 528 vs 4322 tokens/s),
# and tests care about robustness, not speed. Results are the same either way.
# RUN is an emulator prefix for cross builds (see test-cross); those never
# replace ./muon, which stays the host's program.
RUN ?=
test: $(if $(RUN),$(BUILD)/muon,muon) $(BUILD)/muon_tests
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} MUON_BIN="$(strip $(RUN) ./$(BUILD)/muon)" $(RUN) ./$(BUILD)/muon_tests

# OPENBLAS_CORETYPE (set to Haswell in this environment) would hold OpenBLAS
# to its AVX2 kernels: unset so it picks its own (AVX-512) one. With BLAS set
# the BLAS-linked binary runs from its build directory and never becomes ./muon.
bench: $(if $(BLAS),$(BUILD)/muon,muon)
	env -u OPENBLAS_CORETYPE ./$(BUILD)/muon bench $(if $(BLAS),--blas)

run: muon
	./muon train --model nano --out runs/nano

golden:
	$(PYTHON) tests/golden/gen_all.py

# plots/font_atlas.c from DejaVu Sans (fonts-dejavu-core) with stb_truetype
# (libstb-dev); the output is committed, so building never needs either.
FONT_TTF ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
font-atlas:
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -O1 $(STB_CFLAGS) plots/fontgen/gen_font_atlas.c -lm -o $(BUILD)/gen_font_atlas
	./$(BUILD)/gen_font_atlas $(FONT_TTF) > plots/font_atlas.c.tmp && mv plots/font_atlas.c.tmp plots/font_atlas.c

# Muon vs AdamW vs Muon bf16 on --model deep, two seeds each (docs/experiments.md);
# STEPS=N to change the budget.
study: muon
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} scripts/study.sh ./muon runs/study

clean:
	rm -rf build muon

# The README's conformance table (errors of every numeric check).
conformance: $(BUILD)/muon_tests
	@tests/conformance.sh ./$(BUILD)/muon_tests

# The PyTorch backend through the conformance suite (docs/conformance.md), then
# every known fault injected into it: verify must fail naming the right case.
conformance-torch: muon
	@mkdir -p build/conformance
	$(PYTHON) conformance/adapters/torch_adapter.py conformance/suite --out build/conformance/torch_results.safetensors
	./muon verify conformance/suite build/conformance/torch_results.safetensors
	$(PYTHON) conformance/adapters/numpy_check.py conformance/suite build/conformance/torch_results.safetensors
	$(PYTHON) conformance/adapters/fault_check.py ./muon conformance/suite build/conformance

# The suite on other architectures, default -std=c99 flags (no
# -fexcess-precision=fast): aarch64 and big-endian s390x with Debian's cross
# compilers under qemu-user, and i386 with x87 arithmetic (FLT_EVAL_METHOD 2,
# no SSE), which an x86-64 kernel runs natively -- without OpenMP: the i686
# libgomp hung in pthread_create on the reference machine (natively and
# under qemu-i386; plain pthreads work). Needs qemu-user,
# gcc-{aarch64,s390x,i686}-linux-gnu and libc6-dev-{arm64,s390x,i386}-cross.
# The OpenMP builds run one thread by default (OMP_NUM_THREADS=1): two
# emulated threads woke each other so slowly under qemu-user that the suite
# took tens of minutes instead of a few; the 1-vs-2-thread checks still set
# two threads themselves, so thread bit-identity is still checked there.
# One architecture after the other, never two at once: every run of the
# suite writes the same build/test_* files.
CROSS_OMP ?= 1
test-cross:
	$(MAKE) test-aarch64
	$(MAKE) test-s390x
	$(MAKE) test-i386
test-aarch64:
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(MAKE) CC=aarch64-linux-gnu-gcc PORTABLE=1 OPENMP=$(CROSS_OMP) STB_IMPL=1 RUN="qemu-aarch64 -L /usr/aarch64-linux-gnu" test
test-s390x:
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(MAKE) CC=s390x-linux-gnu-gcc PORTABLE=1 OPENMP=$(CROSS_OMP) STB_IMPL=1 RUN="qemu-s390x -L /usr/s390x-linux-gnu" test

# The distributed tests (tests/mpi/run.sh): the MPI build (its own build
# directory; ./muon is untouched) against the single-process one.
test-mpi: $(BUILD)/muon
	$(MAKE) MPI=1 build/mpicc-mpi-omp$(OPENMP)-p$(PORTABLE)/muon
	tests/mpi/run.sh build/mpicc-mpi-omp$(OPENMP)-p$(PORTABLE)/muon $(BUILD)/muon

# Throughput of one process against 2 ranks (scripts/bench_mpi.sh): a
# benchmark, never a test.
bench-mpi: $(BUILD)/muon
	$(MAKE) MPI=1 build/mpicc-mpi-omp$(OPENMP)-p$(PORTABLE)/muon
	scripts/bench_mpi.sh build/mpicc-mpi-omp$(OPENMP)-p$(PORTABLE)/muon $(BUILD)/muon

# i386 alone (native, no emulator: minutes, so CI runs it): FLT_EVAL_METHOD 2.
test-i386:
	$(MAKE) CC=i686-linux-gnu-gcc PORTABLE=1 OPENMP=0 STB_IMPL=1 CFLAGS="-O3 -march=i686 -mfpmath=387 -mno-sse" RUN="env LD_LIBRARY_PATH=/usr/i686-linux-gnu/lib" test

# Fuzzing (tests/fuzz/, clang's libFuzzer with ASan+UBSan): `make fuzz
# FUZZ_SECONDS=N` runs each harness N seconds (make -j2 fuzz: two at once)
# from its committed corpus; new inputs collect in build/fuzz/new/NAME, crash,
# leak, timeout and out-of-memory reproducers in build/fuzz/artifact-NAME-*
# (slow units are reported there too but fail nothing); copy a reproducer to
# tests/fuzz/crashes/NAME/ and `make test` replays it for ever. `make
# fuzz-merge` minimises the new inputs into tests/fuzz/corpus/. The library is built once, unsanitised by
# -fsanitize=fuzzer (only -fsanitize=fuzzer-no-link) but with ASan+UBSan.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := safetensors checkpoint csv analyze plot cli
FUZZ_BUILD   := build/fuzz-clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIB     := $(FUZZ_BUILD)/libmuon.a
.PHONY: fuzz-build fuzz-merge $(FUZZ_NAMES:%=fuzz-run-%)
ifneq ($(BUILD),$(FUZZ_BUILD))
$(FUZZ_LIB): FORCE
	$(MAKE) CC=clang OPENMP=0 PORTABLE=1 BUILD=$(FUZZ_BUILD) CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_LIB)
endif
FORCE:
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/entry.c tests/fuzz/fuzz_input.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	clang -std=c99 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -I. $(STB_CFLAGS) -DFUZZ_TARGET=fuzz_$* \
	    tests/fuzz/entry.c tests/fuzz/fuzz_$*.c tests/fuzz/fuzz_input.c $(FUZZ_LIB) $(STB_LIBS) -lm -o $@
fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
fuzz: $(FUZZ_NAMES:%=fuzz-run-%)
$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p build/fuzz/new/$*
	MUON_FUZZ_DIR=build/fuzz/work-$* ASAN_OPTIONS=detect_leaks=1 nice ./$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=60 -report_slow_units=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/artifact-$*- \
	    build/fuzz/new/$* tests/fuzz/corpus/$* 2>&1 | tee build/fuzz/$*.log | grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|ERROR|SUMMARY|Test unit written" ; \
	    ! ls build/fuzz/artifact-$*-* 2>/dev/null | grep -v slow-unit
fuzz-merge: fuzz-build
	@for n in $(FUZZ_NAMES); do mkdir -p build/fuzz/merged/$$n && \
	    MUON_FUZZ_DIR=build/fuzz/work-merge ./$(FUZZ_BUILD)/fuzz_$$n -merge=1 -max_len=65536 build/fuzz/merged/$$n tests/fuzz/corpus/$$n build/fuzz/new/$$n >/dev/null 2>&1 && \
	    rm -rf tests/fuzz/corpus/$$n && mv build/fuzz/merged/$$n tests/fuzz/corpus/$$n && \
	    echo "$$n: $$(ls tests/fuzz/corpus/$$n | wc -l) files, $$(du -sk tests/fuzz/corpus/$$n | cut -f1) kB"; done
