#!/usr/bin/env bash
# Builds the C example enrichers into enrichers/wasm/testdata/c/.
# Needs Debian's clang, lld and wasi-libc:
#   apt-get install -y clang lld wasi-libc
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT_DIR:-$here/../../enrichers/wasm/testdata/c}"
CC="${CC:-clang}"

missing() {
  echo "build.sh: $1" >&2
  echo "build.sh: install the C toolchain with: apt-get install -y clang lld wasi-libc" >&2
  exit 1
}
command -v "$CC" >/dev/null 2>&1 || missing "$CC not found"
command -v wasm-ld >/dev/null 2>&1 || command -v wasm-ld-14 >/dev/null 2>&1 ||
  missing "wasm-ld (lld) not found"

# Debian's wasi-libc lives in the multiarch directories under /usr; clang
# finds it there by default. Another sysroot can be given in WASI_SYSROOT.
sysroot=()
if [ -n "${WASI_SYSROOT:-}" ]; then
  sysroot=(--sysroot="$WASI_SYSROOT")
elif [ ! -f /usr/lib/wasm32-wasi/libc.a ] && [ -f /usr/share/wasi-sysroot/lib/wasm32-wasi/libc.a ]; then
  sysroot=(--sysroot=/usr/share/wasi-sysroot)
fi

# -nodefaultlibs -lc: link wasi-libc without compiler-rt's builtins, which
# the SDK does not need and Debian ships in a separate package.
cflags=(--target=wasm32-wasi "${sysroot[@]}" -mexec-model=reactor -O2 -std=c11
  -Wall -Wextra -I"$here")
ldflags=(-nodefaultlibs -lc -Wl,--strip-all)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo 'int main(void) { return 0; }' >"$tmp/probe.c"
if ! "$CC" "${cflags[@]}" "${ldflags[@]}" -o "$tmp/probe.wasm" "$tmp/probe.c" 2>"$tmp/probe.err"; then
  cat "$tmp/probe.err" >&2
  missing "$CC cannot build wasm32-wasi reactors (is wasi-libc installed?)"
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
for example in noop mask add_header split; do
  name="${example//_/-}"
  "$CC" "${cflags[@]}" "${ldflags[@]}" -o "$out/$name.wasm" \
    "$here/examples/$example.c" "$here/penstock.c" "$here/penstock_json.c"
  chmod 644 "$out/$name.wasm"
  echo "built $out/$name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
done
