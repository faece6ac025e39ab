# siogo — the two commands the README promises are `make demo` and
# `make test`; each installs what it needs when it is missing.

GO        ?= go
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS  := redis-server chromium nginx
STATICCHECK_VERSION := v0.8.2
TEST_TIMEOUT ?= 20m

.PHONY: suites all demo test deps deps-node deps-system vet gocheck lint gotest fuzz fuzz-short fuzz-list bench e2e soak suites-reference clean

all: test

## demo: run the chat example on :8080
demo: deps-node
	$(GO) run ./examples/chat -addr :8080

## test: vet, lint, every test (unit, Node and browser clients) with -race, and a short fuzz run
test: deps vet gocheck lint gotest fuzz-short suites

deps: deps-system deps-node

# Debian packages: Chromium for the browser tests, redis-server and nginx
# for the multi-node tests. Installed only when missing.
deps-system:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# The real socket.io-client@0.9.16, the Node.js reference socket.io@0.9.19
# and playwright-core, pinned by testdata/package-lock.json.
deps-node:
	@if [ ! -f testdata/node_modules/.package-lock.json ] || \
	    [ testdata/package-lock.json -nt testdata/node_modules/.package-lock.json ]; then \
		cd testdata && npm ci --no-audit --no-fund; \
	fi

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# gocheck builds and vets with the oldest Go that go.mod allows (its go
# line), so that line stays true: a use of a newer language feature or
# standard-library symbol fails here. The go command downloads that
# toolchain through the module proxy (GOPROXY) on first use and caches it.
GO_MIN := $(shell sed -n 's/^go //p' go.mod)
gocheck:
	GOTOOLCHAIN=go$(GO_MIN) $(GO) version
	GOTOOLCHAIN=go$(GO_MIN) $(GO) build ./...
	GOTOOLCHAIN=go$(GO_MIN) $(GO) vet ./...

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# A missing tool (node, redis-server, nginx, chromium, testdata/node_modules)
# skips its tests under plain go test; here it fails them (internal/testtools).
export SIOGO_REQUIRE_TOOLS ?= 1

# The soak test runs for a minute here (make soak runs it longer).
gotest:
	SIOGO_SOAK_DURATION=1m $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## e2e: only the browser tests (headless Chromium), with -race
e2e: deps
	$(GO) test -race -count=1 -p 1 -run '^TestBrowser' ./examples/...

## bench: siogo against the Node.js references under load, loopback only:
## 0.9 clients vs socket.io 0.9.19 and v4 clients vs socket.io 4.8
## (~8 min; e.g. BENCH_FLAGS="-n 2000 -runs 1", or -proto 0.9 / -proto v4)
BENCH_FLAGS ?=
bench: deps-node
	mkdir -p artifacts
	$(GO) run ./cmd/siobench -json artifacts/siobench.json $(BENCH_FLAGS)

## soak: the soak test alone, longer (SOAK_DURATION, SOAK_CLIENTS), with -race
SOAK_DURATION ?= 2m
SOAK_CLIENTS  ?= 200
soak:
	SIOGO_SOAK_DURATION=$(SOAK_DURATION) SIOGO_SOAK_CLIENTS=$(SOAK_CLIENTS) \
		$(GO) test -race -count=1 -v -timeout 30m -run '^TestSoak$$' ./internal/soak

# Every fuzz target for a few seconds (their seed corpora also run in
# gotest). An execution count, not a duration: Go 1.26's fuzz coordinator
# can fail a run with a spurious "context deadline exceeded" when a
# duration ends (golang/go#75804, fixed in Go 1.27). FUZZ_SHORT
# executions a target: 150000 made this stage several minutes on two
# cores; make fuzz runs each target longer (FUZZTIME).
FUZZ_SHORT ?= 30000x
fuzz-short:
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_SHORT)

# The fuzz targets are found in the source, not listed here: every package
# with a "func Fuzz" in a test file, and in it every target that
# go test -list reports (so build tags are honoured).
FUZZ_DIRS = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)

## fuzz-list: the fuzz targets make fuzz runs, as PACKAGE TARGET lines
fuzz-list:
	@for dir in $(FUZZ_DIRS); do \
		$(GO) test $$dir -list '^Fuzz' | grep '^Fuzz' | sed "s|^|$$dir |" || exit 1; \
	done

## fuzz: run every fuzz target, one after the other, for FUZZTIME each (default 1m)
FUZZTIME ?= 1m
fuzz:
	@targets=$$($(MAKE) --no-print-directory -s fuzz-list) || exit 1; \
	[ -n "$$targets" ] || { echo "no fuzz targets found"; exit 1; }; \
	echo "$$targets" | while read -r dir target; do \
		echo "$(GO) test $$dir -run '^$$' -fuzz '^$$target\$$' -fuzztime $(FUZZTIME)"; \
		$(GO) test $$dir -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

## suites-reference: the official conformance suites (../shared/suites) in
## headless Chromium against their Node.js reference servers (socket.io 4.8);
## needs port 3000 free and network for npm ci (not part of make test)
SUITES_SRC ?= ../shared/suites
SUITES     ?= engine.io-v4 engine.io-v3 socket.io-v5
suites-reference: deps
	@set -e; tmp=$$(mktemp -d); srv=; \
	trap 'if [ -n "$$srv" ]; then kill $$srv 2>/dev/null || true; fi; rm -rf "$$tmp"' EXIT INT TERM; \
	mkdir -p artifacts/suites; \
	printf '%-14s %6s %6s %7s\n' suite passed failed pending > "$$tmp/table"; \
	for s in $(SUITES); do \
		cp -r "$(SUITES_SRC)/$$s" "$$tmp/$$s"; chmod -R u+w "$$tmp/$$s"; \
		(cd "$$tmp/$$s" && npm ci --no-audit --no-fund --loglevel=error); \
		node testdata/refsuites.js --kind $$(echo $$s | tr -d .) --port 3000 > "$$tmp/$$s.srv" 2>&1 & srv=$$!; \
		i=0; until grep -qs listening "$$tmp/$$s.srv"; do \
			i=$$((i+1)); if [ $$i -gt 100 ] || ! kill -0 $$srv 2>/dev/null; then \
				echo "reference server for $$s did not start:"; cat "$$tmp/$$s.srv"; exit 1; fi; sleep 0.1; done; \
		node testdata/suites.js --suite "$$tmp/$$s" --json "artifacts/suites/$$s.json" > "$$tmp/$$s.out"; \
		kill $$srv; wait $$srv 2>/dev/null || true; srv=; \
		grep '"state":"failed"' "$$tmp/$$s.out" || true; \
		node -e 'const s=require(process.argv[1]).summary; console.log([s.suite.padEnd(14), String(s.passed).padStart(6), String(s.failed).padStart(6), String(s.pending).padStart(7)].join(" "))' \
			"$$PWD/artifacts/suites/$$s.json" >> "$$tmp/table"; \
	done; \
	cat "$$tmp/table"

## suites: the official conformance suites (../shared/suites, copied to a
## temporary folder) in headless Chromium against examples/testapp -suite on
## :3000; fails unless every test passes (needs port 3000 free and network
## for the suites' npm ci)
SIOGO_SUITES_LIST ?= engine.io-v4 engine.io-v3 socket.io-v5
suites: deps
	@set -e; tmp=$$(mktemp -d); srv=; failed=0; \
	trap 'if [ -n "$$srv" ]; then kill $$srv 2>/dev/null || true; fi; rm -rf "$$tmp"' EXIT INT TERM; \
	mkdir -p artifacts/suites; \
	$(GO) build -o "$$tmp/testapp" ./examples/testapp; \
	"$$tmp/testapp" -suite -addr :3000 > "$$tmp/testapp.log" 2>&1 & srv=$$!; \
	i=0; until grep -qs listening "$$tmp/testapp.log"; do \
		i=$$((i+1)); if [ $$i -gt 100 ] || ! kill -0 $$srv 2>/dev/null; then \
			echo "testapp -suite did not start:"; cat "$$tmp/testapp.log"; exit 1; fi; sleep 0.1; done; \
	printf '%-14s %6s %6s %7s\n' suite passed failed pending > "$$tmp/table"; \
	for s in $(SIOGO_SUITES_LIST); do \
		cp -r "$(SUITES_SRC)/$$s" "$$tmp/$$s"; chmod -R u+w "$$tmp/$$s"; \
		(cd "$$tmp/$$s" && npm ci --no-audit --no-fund --loglevel=error); \
		node testdata/suites.js --suite "$$tmp/$$s" --json "artifacts/suites/siogo-$$s.json" > "$$tmp/$$s.out"; \
		if grep '"state":"failed"' "$$tmp/$$s.out"; then failed=1; fi; \
		node -e 'const s=require(process.argv[1]).summary; console.log([s.suite.padEnd(14), String(s.passed).padStart(6), String(s.failed).padStart(6), String(s.pending).padStart(7)].join(" "))' \
			"$$PWD/artifacts/suites/siogo-$$s.json" >> "$$tmp/table"; \
	done; \
	cat "$$tmp/table"; \
	if [ $$failed -ne 0 ]; then echo "suites: failing tests (testapp log: artifacts/suites/testapp.log)"; cp "$$tmp/testapp.log" artifacts/suites/; exit 1; fi

clean:
	rm -rf testdata/node_modules artifacts
