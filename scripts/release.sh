#!/usr/bin/env bash
# The optimised build (`make release`, and the release half of `make test`):
# target/release/server and the site — the wasm bundle through wasm-opt, its JS and CSS — in
# $LEPTOS_SITE_ROOT (default target/site; `make test` uses target/site-release so the debug
# bundle in target/site stays).
#
# cargo-leptos runs the first `wasm-opt` on PATH. Debian's (binaryen 108) breaks what
# wasm-bindgen 0.2.130 emits — the page throws "WebAssembly.Table.set(): Argument 1 is invalid
# for table" and never hydrates — so the pinned binaryen of scripts/wasm-opt (installed by
# scripts/setup.sh) goes first, and this script refuses to build with any other.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_OPT_BIN="$PWD/scripts/wasm-opt/node_modules/.bin"
WASM_OPT_VERSION=$(sed -n 's/^ *"binaryen": "\([0-9]*\)\..*/\1/p' scripts/wasm-opt/package.json)
export PATH="$WASM_OPT_BIN:$PATH"
if [ "$(command -v wasm-opt)" != "$WASM_OPT_BIN/wasm-opt" ] ||
  ! wasm-opt --version | grep -q "^wasm-opt version ${WASM_OPT_VERSION} "; then
  echo "release: the pinned wasm-opt ${WASM_OPT_VERSION} is missing; run scripts/setup.sh" >&2
  exit 1
fi

cargo leptos build --release

site="${LEPTOS_SITE_ROOT:-target/site}"
for file in fleetgate.wasm fleetgate.js fleetgate.css; do
  [ -s "$site/pkg/$file" ] || { echo "release: $site/pkg/$file is missing" >&2; exit 1; }
done
wasm=$(stat -c %s "$site/pkg/fleetgate.wasm")
gz=$(gzip -9 -c "$site/pkg/fleetgate.wasm" | wc -c)
echo "release: $site/pkg/fleetgate.wasm $((wasm / 1024)) KiB ($((gz / 1024)) KiB gzipped)"
