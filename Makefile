# Penstock. `make run` starts the example pipelines on an embedded broker;
# `make test` runs every test.
GO       ?= go
PKGS     := ./...
BENCHOPT ?= -benchmem

.PHONY: run test bench lint build clean wasm

run: bin/orders-function
	$(GO) run ./cmd/penstock dev --log-level info pipelines.yaml

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
	$(GO) test -run '^$$' -bench 'Core' $(BENCHOPT) -benchtime=2000000x -count=3 ./benchmarks/
	$(GO) test -run '^$$' -bench 'KafkaE2E' $(BENCHOPT) -benchtime=10x ./benchmarks/
	$(GO) test -run '^$$' -bench . $(BENCHOPT) ./internal/esm/

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
