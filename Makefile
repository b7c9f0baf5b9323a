# The two commands (README): `make demo` and `make test`. Both install what
# they need first (scripts/setup is idempotent and quick when nothing is
# missing).
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PGO_BUILD ?= build-pgo
FUZZ_SECONDS ?= 40
JOBS ?= 2
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all setup build build-asan demo test install clean fuzz-smoke \
	pgo-smoke

all: build

setup:
	bash scripts/setup

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DWIRE_WERROR=ON -DWIRE_TEST_HOOKS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

build-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWIRE_WERROR=ON \
	  -DWIRE_TEST_HOOKS=ON -DWIRE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/wire demo

# Every test in the normal build, then the whole suite again under
# ASan+UBSan in a second build directory.
test: build build-asan
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)
	$(MAKE) fuzz-smoke
	$(MAKE) pgo-smoke

# The fuzz smoke pass: each libFuzzer target (clang, ASan+UBSan) runs
# briefly on a copy of its seed corpus, with its dictionary.
fuzz-smoke: setup
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DWIRE_BUILD_FUZZ=ON \
	  -DWIRE_BUILD_TESTS=OFF -DWIRE_BUILD_EXAMPLES=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz-all
	bash fuzz/smoke.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The profile-guided build (bench/pgo-build.sh) end to end, with half
# its training load: it checks its own result with one request.
pgo-smoke: setup
	SECONDS_SCALE=0.5 bash bench/pgo-build.sh $(PGO_BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(PGO_BUILD)
