#!/usr/bin/env bash
# Every check the project has, in the order that fails fastest. Used by `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n\033[1m== %s\033[0m (%s)\n' "$*" "$(date +%T)"; }
start=$(date +%s)

step "tools"
scripts/setup.sh test

step "format"
cargo fmt --all -- --check

# The server side: app with `ssr`, never unified with `hydrate`.
SSR=(-p app -p server -p migration --features app/ssr)

step "clippy (ssr, all targets)"
cargo clippy "${SSR[@]}" --all-targets -- -D warnings

step "clippy (hydrate, wasm32)"
cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
cargo test "${SSR[@]}"

step "fuzzing (token, cookie and input parsers; ${FUZZ_SECONDS:-15}s each)"
scripts/fuzz.sh

step "wasm bundle"
cargo leptos build --frontend-only

step "browser tests (Playwright, Debian chromium)"
# The server binary is the one `cargo test` just built; nothing is compiled twice.
(cd end2end && npx playwright test)

step "load smoke (release build, wrk, ${LOAD_SECONDS:-3}s per scenario: no 5xx, no lost write)"
DURATION=${LOAD_SECONDS:-3} scripts/load.sh

echo
echo "all checks passed in $(( $(date +%s) - start ))s"
