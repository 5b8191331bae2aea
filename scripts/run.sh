#!/usr/bin/env bash
# `make run`: the server on http://127.0.0.1:3000 with SQLite in ./data and the demo data set.
#
# It builds with the very commands of `make test`, so after a `make test` nothing is compiled:
# the wasm bundle of `cargo leptos build --frontend-only` and the server binary of `cargo test`
# (`--no-run`: built, not run). A plain `cargo build -p server` is not the same binary: the tests
# switch on the dev-dependencies' features (tokio's "process", reqwest's, casbin's) for every
# crate they share, so cargo would compile the server and much under it a second time. And
# `cargo leptos serve` did more: it sets RUSTFLAGS (the `erase_components` cfg once more), so
# cargo compiled every crate a second time, into a second set of artifacts. On a first run this
# also compiles the test binaries, which `make test` needs anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo leptos build --frontend-only --split
cargo test -p domain -p backend -p app -p server -p migration --features app/ssr --no-run
export FLEETGATE_DEMO="${FLEETGATE_DEMO:-true}"
exec "${CARGO_TARGET_DIR:-target}/debug/server" serve
