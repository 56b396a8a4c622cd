#!/usr/bin/env bash
# Builds the Rust example enrichers into enrichers/wasm/testdata/rust/.
#
# On Debian: apt-get install -y rustc cargo libstd-rust-dev-wasm32
# (Debian's toolchain is used even when rustup's proxies come first on PATH).
# Elsewhere: any stable toolchain with the wasm32-wasip1 target
# (rustup target add wasm32-wasip1); set CARGO and RUSTC to choose one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT_DIR:-$here/../../enrichers/wasm/testdata/rust}"

missing() {
  echo "build.sh: $1" >&2
  echo "build.sh: on Debian install the toolchain with: apt-get install -y rustc cargo libstd-rust-dev-wasm32" >&2
  echo "build.sh: with rustup: rustup target add wasm32-wasip1" >&2
  exit 1
}

# The WASI target this rustc has a standard library for, if any.
wasi_target() {
  local rustc="$1" sysroot t
  sysroot="$("$rustc" --print sysroot 2>/dev/null)" || return 1
  for t in wasm32-wasip1 wasm32-wasi; do
    if ls "$sysroot/lib/rustlib/$t/lib/"libstd-*.rlib >/dev/null 2>&1; then
      echo "$t"
      return 0
    fi
  done
  return 1
}

if [ -z "${CARGO:-}" ] && [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] &&
  wasi_target /usr/bin/rustc >/dev/null; then
  CARGO=/usr/bin/cargo
  RUSTC=/usr/bin/rustc
fi
CARGO="${CARGO:-cargo}"
RUSTC="${RUSTC:-rustc}"
command -v "$CARGO" >/dev/null 2>&1 || missing "cargo not found"
command -v "$RUSTC" >/dev/null 2>&1 || missing "rustc not found"
target="$(wasi_target "$RUSTC")" ||
  missing "$RUSTC ($("$RUSTC" --version 2>/dev/null)) has no standard library for wasm32-wasip1 or wasm32-wasi"
export RUSTC

cd "$here"
"$CARGO" build --offline --release --target "$target" --examples

mkdir -p "$out"
out="$(cd "$out" && pwd)"
for example in noop mask add_header split; do
  name="${example//_/-}"
  install -m 644 "target/$target/release/examples/$example.wasm" "$out/$name.wasm"
  echo "built $out/$name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
done
