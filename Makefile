# muon -- build, test, bench, golden data.
#
#   make                  ./muon, native, OpenMP when the compiler has it
#   make OPENMP=0         without OpenMP
#   make PORTABLE=1       without -march=native
#   make test             build and run every test (last line: N passed, N failed)
#   make bench            benchmark table (BLAS=openblas adds OpenBLAS beside it)
#   make run              train the default model on data/ and draw the plots
#   make golden           regenerate tests/golden/*.safetensors (needs python3-torch)
#
# Objects of each variant live in build/<variant>/ so switching OPENMP or
# PORTABLE never mixes objects; ./muon is a copy of the last variant built.

CC       ?= cc
OPENMP   ?= 1
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
# without -fopenmp, so an OPENMP=0 build needs no -Wno-unknown-pragmas.

# stb_image_write from Debian's libstb-dev: found with pkg-config; installed
# when missing and we are root; otherwise a one-line instruction.
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
STB_LIBS := $(shell pkg-config --libs stb 2>/dev/null)
MUON_CFLAGS += $(STB_CFLAGS)
LDLIBS := $(STB_LIBS) $(LDLIBS)

ifeq ($(BLAS),openblas)
  BENCH_CFLAGS = -DMUON_BENCH_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread
  BENCH_LIBS   = -llapacke -lopenblas
endif

VARIANT := $(notdir $(CC))-omp$(OPENMP)-p$(PORTABLE)$(if $(BLAS),-$(BLAS))$(if $(filter-out -O3,$(CFLAGS)),-f$(shell printf '%s' '$(CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1))
BUILD   ?= build/$(VARIANT)

LIB_SRCS  := $(sort $(wildcard linalg/*.c io/*.c model/*.c train/*.c metrics/*.c plots/*.c))
TEST_SRCS := $(sort $(wildcard tests/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
HEADERS   := muon.h $(wildcard linalg/*.h io/*.h model/*.h train/*.h metrics/*.h plots/*.h tests/*.h)

.PHONY: all muon test bench run golden conformance clean
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
test: muon $(BUILD)/muon_tests
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} MUON_BIN=./$(BUILD)/muon ./$(BUILD)/muon_tests

# OPENBLAS_CORETYPE (set to Haswell in this environment) would hold OpenBLAS
# to its AVX2 kernels: unset so it picks its own (AVX-512) one. With BLAS set
# the BLAS-linked binary runs from its build directory and never becomes ./muon.
bench: $(if $(BLAS),$(BUILD)/muon,muon)
	env -u OPENBLAS_CORETYPE ./$(BUILD)/muon bench $(if $(BLAS),--blas)

run: muon
	./muon train --model nano --out runs/nano

golden:
	$(PYTHON) tests/golden/gen_all.py

clean:
	rm -rf build muon

# The README's conformance table (errors of every numeric check).
conformance: $(BUILD)/muon_tests
	@tests/conformance.sh ./$(BUILD)/muon_tests
