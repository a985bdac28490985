# The README's two commands: `make run` and `make test`. Both install missing Debian packages
# first (scripts/install-deps.sh), then configure and build with CMake.

JOBS        ?= $(shell nproc)
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
BENCH_BUILD ?= build-bench
FUZZ_SECONDS ?= 40
ARGS        ?=

.PHONY: all deps build deb run test asan-test fuzz fuzz-smoke bench compare instructions format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The Debian package (CPack, cmake/package.cmake): $(BUILD)/fastfork_<version>_<arch>.deb.
deb: build
	cd $(BUILD) && cpack -G DEB

# Serves on :8080 with one worker per CPU unless ARGS says otherwise (e.g. ARGS="-c fastfork.json").
run: build
	exec $(BUILD)/master/fastfork $(ARGS)

# The whole suite: release build (unit + integration), the same under ASan+UBSan, then each fuzzer.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 1
	$(MAKE) --no-print-directory asan-test
	$(MAKE) --no-print-directory fuzz-smoke
	@echo "make test: all suites passed"

asan-test: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFF_SANITIZE="address;undefined" -DFF_TEST_TIMEOUT_MULTIPLIER=4
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 1 -L 'unit|integration'

# libFuzzer targets under ASan+UBSan (clang). `make test` runs each for FUZZ_SECONDS when clang exists.
$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFF_FUZZ=ON -DFF_TESTS=OFF

fuzz-smoke: deps
	@if command -v clang++ >/dev/null; then \
	  $(MAKE) --no-print-directory fuzz; \
	else echo "fuzz: clang++ not found, fuzzers skipped"; fi

fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target parser_fuzz chunked_fuzz websocket_fuzz
	@for f in parser chunked websocket; do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$f && \
	  echo "fuzz: $${f}_fuzz for $(FUZZ_SECONDS)s" && \
	  if ! $(FUZZ_BUILD)/tests/fuzz/$${f}_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -dict=tests/fuzz/http.dict -artifact_prefix=$(FUZZ_BUILD)/ \
	    $(FUZZ_BUILD)/corpus-$$f tests/fuzz/corpus/$$f > $(FUZZ_BUILD)/$$f.log 2>&1; then \
	    tail -n 60 $(FUZZ_BUILD)/$$f.log; exit 1; fi; \
	  tail -n 8 $(FUZZ_BUILD)/$$f.log; \
	done

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DFF_BENCH=ON -DFF_TESTS=OFF
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	$(BENCH_BUILD)/bench/parser_bench

# fastfork against nginx and fasthttp (../shared/bench): 1 and 2 workers, ROUNDS rounds each.
ROUNDS ?= 3
compare:
	bench/compare.sh $(ROUNDS)

# Instructions per keep-alive request (callgrind): plaintext, a 1 KiB file, a 404. INSTR_ARGS
# passes options on, e.g. INSTR_ARGS="old=/path/to/fastfork new=build/master/fastfork".
INSTR_ARGS ?=
instructions: build
	bench/instructions.sh $(INSTR_ARGS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
