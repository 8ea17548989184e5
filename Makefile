# souk -- the conventional entry points.  Everything real is in CMake; this file
# installs what is missing (Debian 12, as root), builds and runs.
#
#   make demo   install, build, create the demo store and serve it on 127.0.0.1:8080
#   make test   install, build twice (gcc; clang with ASan+UBSan+libFuzzer) and run
#               the whole test suite with ctest in both
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
DEMO ?= demo-store
LISTEN ?= 127.0.0.1:8080

# Build and test dependencies, all Debian 12 packages.
DEPS := build-essential cmake pkg-config libuv1-dev node-llhttp liblua5.4-dev \
        libsqlite3-dev libsodium-dev libjansson-dev zlib1g-dev python3 \
        libstemmer-dev libcsv-dev libcurl4-openssl-dev openssl clang \
        libclang-rt-14-dev

.PHONY: all deps build build-san demo test test-fast clean

all: build

deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root to install packages" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-san: deps
	CC=clang cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSOUK_SANITIZE=ON -DSOUK_FUZZ=ON -DSOUK_BROWSER_TESTS=OFF
	cmake --build $(SAN_BUILD) -j $(JOBS)

demo: build
	@[ -f $(DEMO)/souk.lua ] || $(BUILD)/core/souk init $(DEMO) --demo
	$(BUILD)/core/souk serve $(DEMO) --listen $(LISTEN)

# The whole suite: the release build, then the sanitizer build (which adds the
# fuzz targets).  CI runs exactly this (.ci/run).
test: build build-san
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# Release build only, for quick iterations.
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
