#!/usr/bin/env bash
# `make run`: the server on http://127.0.0.1:3000 with SQLite in ./data and the demo data set.
#
# It builds what `make test` builds, with the same commands, so after a `make test` nothing is
# compiled: the wasm bundle of `cargo leptos build --frontend-only` and the server binary of
# `cargo test` (same packages and features; an example target brings in the dev-dependencies'
# features as the tests do). `cargo leptos serve` compiled the server again: it sets RUSTFLAGS
# (the `erase_components` cfg once more), and cargo rebuilds every crate when RUSTFLAGS change.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo leptos build --frontend-only
cargo build -p app -p server -p migration --features app/ssr --bin server --examples
export FLEETGATE_DEMO="${FLEETGATE_DEMO:-true}"
exec "${CARGO_TARGET_DIR:-target}/debug/server" serve
