# The two commands: `make demo` (set up, build, run the main job on the bundled data) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench clean format

all: build

deps:
	@scripts/setup_deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@for b in $(BUILD)/bin/*_bench; do $$b --benchmark_min_time=0.2; done

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h' '*.cu' '*.cuh' '*.inc')

clean:
	@rm -rf $(BUILD)
