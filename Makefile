# Bulwark: Meson builds underneath; this file only drives it.
#   make        install what is missing, build build/bulwark
#   make run    build, then start a demo on SQLite in ./data
#   make test   build (also with ASan+UBSan and the fuzzers) and run every test
.PHONY: all deps build run test unit api fuzz-smoke checksrc bench clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ meson setup $(FUZZ_BUILD) --buildtype=debug -Dfuzz=true -Db_lundef=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@bash scripts/run-demo.sh $(BUILD)/bulwark

checksrc:
	@bash scripts/checksrc

# unit and api run with a NATS server and a PostgreSQL cluster of their own
# (scripts/test-servers.sh: 127.0.0.1, free ports, BULWARK_TEST_* variables,
# both stopped and removed when the tests end, failed or not).
SERVERS = bash $(CURDIR)/scripts/test-servers.sh run --

unit: build $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	$(SERVERS) sh -c 'meson test -C $(BUILD) --print-errorlogs && \
	  meson test -C $(ASAN_BUILD) --print-errorlogs'

tests/node_modules: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	touch tests/node_modules

api: build $(ASAN_BUILD)/build.ninja tests/node_modules
	ninja -C $(ASAN_BUILD)
	cd tests && $(SERVERS) env BULWARK_BIN=$(CURDIR)/$(BUILD)/bulwark \
	  node --test --test-concurrency=1 api/
	cd tests && $(SERVERS) env BULWARK_BIN=$(CURDIR)/$(ASAN_BUILD)/bulwark \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  node --test --test-concurrency=1 api/

fuzz-smoke: $(FUZZ_BUILD)/build.ninja
	CC=clang CXX=clang++ ninja -C $(FUZZ_BUILD)
	@bash scripts/fuzz-smoke.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

test: build checksrc unit api fuzz-smoke

bench: build
	@bash bench/http/run.sh $(BUILD)/bulwark
	@bash bench/identity/run.sh $(BUILD)
	@bash bench/chat/run.sh $(BUILD)
	@bash bench/fraud/run.sh $(BUILD)
	@bash bench/crypto/run.sh $(BUILD)
	@bash bench/events/run.sh $(BUILD)
	@bash bench/events/webhook.sh $(BUILD)
	@bash bench/events/records.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
