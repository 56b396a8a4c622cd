# Penstock. `make run` starts the example pipelines on an embedded broker;
# `make test` runs every test.
GO       ?= go
PKGS     := ./...
BENCHOPT ?= -benchmem
# The CPU profile the penstock binary is built with (profile-guided
# optimization: go build picks up cmd/penstock/default.pgo by itself). The
# benchmarks are compiled with it too, so that they measure the code as it
# ships; `make pgo` records it again from the benchmarks.
PGO      := $(CURDIR)/cmd/penstock/default.pgo

.PHONY: run test bench lint build clean wasm pgo

# The demo starts without the longer optimized build (-pgo=off).
run: bin/orders-function
	$(GO) run -pgo=off ./cmd/penstock dev --log-level info pipelines.yaml

# The example Lambda function pipelines.yaml invokes (an aws-lambda-go
# program, run locally behind the Lambda Runtime API).
bin/orders-function: $(wildcard examples/functions/orders/*.go) go.mod
	$(GO) build -o $@ ./examples/functions/orders

test:
	$(GO) vet $(PKGS)
	@# the benchmarks still run (one iteration each); figures come from make bench
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./benchmarks/ ./internal/...
	$(GO) test -count=1 -race -timeout 10m ./pipeline/... ./sources/... ./targets/...
	$(GO) test -count=1 -timeout 25m $(PKGS)

bench:
	$(GO) test -pgo=$(PGO) -run '^$$' -bench 'Core' $(BENCHOPT) -benchtime=2000000x -count=3 ./benchmarks/
	$(GO) test -pgo=$(PGO) -run '^$$' -bench 'KafkaE2E' $(BENCHOPT) -benchtime=10x ./benchmarks/
	$(GO) test -pgo=$(PGO) -run '^$$' -bench 'Filter|Reader' $(BENCHOPT) -cpu 1 ./filters/
	$(GO) test -pgo=$(PGO) -run '^$$' -bench . $(BENCHOPT) ./internal/esm/

# Records cmd/penstock/default.pgo again: CPU profiles of the filter, batch
# core, target and end-to-end benchmarks (plain builds), merged. Run it after
# changing hot code; a profile that no longer fits the code costs only the
# optimization, never correctness.
pgo:
	rm -rf out/pgo && mkdir -p out/pgo
	$(GO) test -pgo=off -o out/pgo/filters.test -run '^$$' -bench 'Filter' -benchtime=1s -cpu 1 -cpuprofile out/pgo/filters.pprof ./filters/
	$(GO) test -pgo=off -o out/pgo/benchmarks.test -run '^$$' -bench 'KafkaE2E' -benchtime=4x -cpuprofile out/pgo/e2e.pprof ./benchmarks/
	$(GO) test -pgo=off -o out/pgo/benchmarks.test -run '^$$' -bench 'Core|LambdaPayload|TargetEncoding' -benchtime=0.5s -cpuprofile out/pgo/core.pprof ./benchmarks/
	$(GO) tool pprof -proto out/pgo/filters.pprof out/pgo/e2e.pprof out/pgo/core.pprof > $(PGO)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

build:
	$(GO) build -o bin/penstock ./cmd/penstock

# Rebuilds the SDK examples and the test guests committed under
# enrichers/wasm/testdata (needs each language's toolchain: see wasm-sdk/README.md).
wasm:
	cd wasm-sdk/go && ./build.sh
	cd wasm-sdk/rust && ./build.sh
	cd wasm-sdk/c && ./build.sh
	cd wasm-sdk/assemblyscript && ./build.sh
	cd enrichers/wasm/testdata/wat && ./build.sh

clean:
	rm -rf bin out
