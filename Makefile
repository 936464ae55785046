# SPDX-License-Identifier: Apache-2.0
# Convenience wrapper around CMake. `make run` and `make test` are all a new
# user needs; see README.md. docs/TESTING.md has the other test targets:
# make unit, make integration, make ci (the CI matrix), make fuzz.
BUILD ?= build
JOBS ?= $(shell nproc)
PORT ?= 1162
CMAKE_FLAGS ?=
# cmake --build runs make again; without this it would announce every
# directory it enters as a recursive make
SUBMAKE = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL

FUZZ_SECONDS ?= 300

.PHONY: all build run test unit integration ci fuzz bench deps clean

all: build

deps:
	@scripts/bootstrap build

$(BUILD)/CMakeCache.txt:
	@scripts/bootstrap build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: $(BUILD)/CMakeCache.txt
	@scripts/bootstrap build
	@$(SUBMAKE) cmake --build $(BUILD) -j $(JOBS)

run: build
	@echo "stormtrap: listening on udp://127.0.0.1:$(PORT), JSON lines on stdout (Ctrl-C stops)."
	@echo "Send a test trap from another terminal:"
	@echo "  snmptrap -v 2c -c public 127.0.0.1:$(PORT) '' 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.7 i 7"
	@echo
	$(BUILD)/collector/stormtrap -l udp://127.0.0.1:$(PORT) -o stdout

test:
	@scripts/bootstrap all
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	$(SUBMAKE) cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure --timeout 600
	@scripts/fuzz-smoke $(BUILD)-fuzz

# one CTest label each (tests/CMakeLists.txt)
unit integration:
	@scripts/bootstrap all
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	$(SUBMAKE) cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -L $@

# the CI matrix: gcc Release, clang, ASan+UBSan, TSan, the container image,
# clang-format (scripts/ci-matrix; .ci/run runs it after make test)
ci:
	@scripts/bootstrap ci
	@JOBS=$(JOBS) scripts/ci-matrix $(STEPS)

# every fuzz target for FUZZ_SECONDS each, corpora kept in $(BUILD)-fuzz
fuzz:
	@scripts/fuzz-smoke $(BUILD)-fuzz $(FUZZ_SECONDS)

bench: build
	@echo "see docs/PERFORMANCE.md for the benchmark commands"

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz build-ci-*
