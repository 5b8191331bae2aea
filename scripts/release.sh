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

# --precompress: a .br and a .gz beside each asset, which the server sends to browsers that take them.
# --split: the pages behind `lazy_page!` (app/src/lib.rs) go into wasm chunks of their own,
# fetched when such a page is first shown, so the first visit does not download them.
site="${LEPTOS_SITE_ROOT:-target/site}"

# What the site is built from: every file of the crates the wasm is compiled from (and the
# server-only ones beside them, which only costs a rebuild), the workspace's manifests and lock,
# the style and public assets, and the versions of every tool that touches the bundle.
front_inputs() {
  {
    # A file deleted but still tracked has no sum: its absence changes the hash all the same.
    git ls-files -z -co --exclude-standard -- app frontend style public Cargo.toml Cargo.lock \
      .cargo scripts/wasm-opt/package-lock.json | sort -z | xargs -0 -r sha256sum 2>/dev/null || true
    rustc -V
    cargo leptos --version
    wasm-bindgen --version
    wasm-opt --version
  } | sha256sum | cut -d' ' -f1
}
# The site's assets named in the hash file beside the server (cargo-leptos writes both).
site_complete() {
  local hashes=target/release/hash.txt ext
  [ -f "$hashes" ] || return 1
  for ext in wasm js css; do
    [ -s "$site/pkg/fleetgate.$(sed -n "s/^$ext: //p" "$hashes").$ext.br" ] || return 1
  done
}
stamp="$site/.built-from"
inputs=$(front_inputs)
if [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ] && site_complete; then
  # wasm-bindgen, swc and wasm-opt (binaryen from npm, which runs in node) take over two minutes
  # on 2 cores: a second `make test` with nothing changed reuses the bundle they would produce.
  echo "release: $site is built from these sources and tools already; building the server only"
  cargo leptos build --release --split --precompress --server-only
else
  # A fresh pkg/: hashed names never overwrite, so chunks of earlier builds would pile up. The
  # stamp is removed first and written last, so an interrupted build is never taken for a
  # finished one.
  rm -rf "$site/pkg" "$stamp"
  cargo leptos build --release --split --precompress
  echo "$inputs" >"$stamp"
fi

# Hashed names (`hash-files`): fleetgate.<hash>.wasm and so on, each with its .br and .gz.
asset() { ls "$site"/pkg/fleetgate.*."$1" 2>/dev/null | grep -v '\.\(br\|gz\)$' | head -1; }
for ext in wasm js css; do
  file=$(asset "$ext")
  [ -n "$file" ] && [ -s "$file" ] || { echo "release: $site/pkg/fleetgate.<hash>.$ext is missing" >&2; exit 1; }
  [ -s "$file.br" ] && [ -s "$file.gz" ] || { echo "release: $file is not precompressed" >&2; exit 1; }
done
wasm_file=$(asset wasm)
wasm=$(stat -c %s "$wasm_file")
gz=$(stat -c %s "$wasm_file.gz")
br=$(stat -c %s "$wasm_file.br")
echo "release: $wasm_file $((wasm / 1024)) KiB (sent: $((br / 1024)) KiB brotli, $((gz / 1024)) KiB gzip)"
chunks=$(ls "$site"/pkg/*.wasm | grep -vc "^$wasm_file$" || true)
chunks_br=$(cat $(ls "$site"/pkg/*.wasm.br | grep -v "^$wasm_file.br$" || true) /dev/null | wc -c)
echo "release: $chunks lazy chunks beside it, $((chunks_br / 1024)) KiB brotli in all"
