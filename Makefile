# Two commands on a fresh machine (Node 20 + npm): `make demo` and `make test`.
# Each installs what it needs: `npm ci` runs when node_modules is missing or older than the lockfile.

NODE_MODULES_STAMP := node_modules/.install-stamp
SOURCES := $(shell find src -type f 2>/dev/null) tsconfig.json tsconfig.build.json scripts/copy-assets.js
BUILD_STAMP := dist/.build-stamp

.PHONY: all install build demo test test-clocks typecheck lint unit integration conformance bench sandbox clean

all: build

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES_STAMP)

$(BUILD_STAMP): $(NODE_MODULES_STAMP) $(SOURCES)
	npm run --silent build
	@touch $@

build: $(BUILD_STAMP)

demo: build
	@node dist/demo/main.js

typecheck: install
	npm run --silent typecheck

lint: install
	npm run --silent lint

test: build typecheck lint
	npm test --silent

unit: build
	npm test --silent -- tests/unit

integration: build
	npm test --silent -- tests/integration

conformance: build
	npm test --silent -- tests/conformance

# The tap, sandbox, integration and doc suites and the demo under libfaketime at several clock
# readings (midnight, late evening, DST days, 29 February, New Year's Eve, zones far from UTC).
# Not part of `make test`: it takes hours and needs faketime; without it, it says so and skips.
# CLOCK_READINGS="2026-12-05T00:03:00Z 2026-11-01T07:05:00Z@America/Los_Angeles" picks readings.
test-clocks: build
	@scripts/clock-matrix.sh $(CLOCK_READINGS)

# Benchmarks live in bench/ and compile to dist-bench/ (outside dist/, so the npm package has none).
BENCH_SOURCES := $(shell find bench -type f -name '*.ts' 2>/dev/null) tsconfig.bench.json
BENCH_STAMP := dist-bench/.build-stamp

$(BENCH_STAMP): $(NODE_MODULES_STAMP) $(BENCH_SOURCES)
	npx tsc -p tsconfig.bench.json
	@touch $@

# BENCH_ARGS, e.g. "--only tap --events 2000000", "--only target --members 20000" or "--only lines --line-mb 25,50".
bench: build $(BENCH_STAMP)
	node dist-bench/run.js $(BENCH_ARGS)

sandbox: build
	node bin/mixpanel-mailchimp-sandbox.js

clean:
	rm -rf dist dist-bench dist-typecheck
