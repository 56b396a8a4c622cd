#!/bin/sh
# Builds the example enrichers as WASI reactors into the host's test data,
# enrichers/wasm/testdata/go/, where Penstock's tests and benchmarks use them.
set -eu
cd "$(dirname "$0")"
out=../../enrichers/wasm/testdata/go
mkdir -p "$out"
for dir in examples/*/; do
	name=$(basename "$dir")
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
		-ldflags='-s -w' -o "$out/$name.wasm" "./$dir"
	echo "$out/$name.wasm"
done
