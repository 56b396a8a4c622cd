#!/usr/bin/env bash
# Builds the AssemblyScript example enrichers into
# enrichers/wasm/testdata/assemblyscript/. Needs Node.js and npm
# (apt-get install -y nodejs npm); the compiler comes from package-lock.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT_DIR:-$here/../../enrichers/wasm/testdata/assemblyscript}"
cd "$here"

missing() {
  echo "build.sh: $1" >&2
  exit 1
}
command -v node >/dev/null 2>&1 || missing "node not found: apt-get install -y nodejs npm"
command -v npm >/dev/null 2>&1 || missing "npm not found: apt-get install -y npm"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "build.sh: warning: AssemblyScript 0.28 declares Node.js 20 or newer; this is $(node --version)" >&2
fi
if [ ! -x node_modules/.bin/asc ]; then
  npm ci --no-audit --no-fund >/dev/null || missing "npm ci failed: cannot install the AssemblyScript compiler"
fi

# Only penstock_v1.log may be imported: abort is routed to the SDK's own
# function, and the memory is exported, not imported. The runtime is the
# default incremental GC, so handlers may allocate freely. Features beyond
# the ABI's (MVP plus bulk memory) are turned off.
flags=(
  --runtime incremental
  --use abort=assembly/penstock/penstockAbort
  --disable sign-extension,nontrapping-f2i,mutable-globals
  -O3 --shrinkLevel 1 --noAssert
)

mkdir -p "$out"
out="$(cd "$out" && pwd)"
for name in noop mask add-header split; do
  node_modules/.bin/asc "examples/$name.ts" "${flags[@]}" -o "$out/$name.wasm"
  echo "built $out/$name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
done
