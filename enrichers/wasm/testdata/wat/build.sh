#!/bin/sh
# Rebuilds the WAT test guests (needs wat2wasm from wabt).
set -eu
cd "$(dirname "$0")"
for f in *.wat; do
	wat2wasm "$f" -o "${f%.wat}.wasm"
done
