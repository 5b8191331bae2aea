#!/usr/bin/env bash
# Every check the project has, in the order that fails fastest. Used by `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n\033[1m== %s\033[0m (%s)\n' "$*" "$(date +%T)"; }
start=$(date +%s)

# A check run beside others: its output goes to target/<name>.log, shown when it is awaited, so
# that two checks at once do not interleave their lines.
declare -A pids
beside() {
  local name=$1
  shift
  mkdir -p target
  "$@" >"target/$name.log" 2>&1 &
  pids[$name]=$!
}
# Waits for a check started by `beside`, shows its output and returns its status.
await() {
  local status=0
  wait "${pids[$1]}" || status=$?
  cat "target/$1.log"
  [ "$status" = 0 ] || echo "$1 failed (status $status)" >&2
  return "$status"
}

step "tools"
scripts/setup.sh test

step "format"
cargo fmt --all -- --check
# The `view!` macros, which rustfmt does not look into.
leptosfmt --check --quiet app/src

# The server side: app with `ssr`, never unified with `hydrate`. scripts/run.sh (`make run`)
# builds with the same packages and features, so it reuses this build.
SSR=(-p domain -p backend -p app -p server -p migration --features app/ssr)

step "clippy (ssr, all targets)"
cargo clippy "${SSR[@]}" -p load-baseline --all-targets -- -D warnings

step "clippy (hydrate, wasm32)"
cargo clippy -p frontend -p app -p domain --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL), fuzzing beside them"
# The fuzzers (nightly, their own target directory in fuzz/, one core at a time) run while the
# tests do: most of an integration test is waiting for a database, and the fuzzers' build and
# runs fill that core instead of running after the tests. Their output follows the tests'.
beside fuzz scripts/fuzz.sh
tests_status=0
cargo test "${SSR[@]}" || tests_status=$?
step "fuzzing (token, cookie and input parsers; ${FUZZ_SECONDS:-15}s each), run beside the tests"
await fuzz
[ "$tests_status" = 0 ] || { echo "unit and integration tests failed" >&2; exit 1; }

step "wasm bundle (debug, target/site)"
cargo leptos build --frontend-only --split

step "release build (server, and wasm through the pinned wasm-opt into target/site-release)"
# Exactly `make release`, into a site root of its own so the debug bundle stays in target/site.
LEPTOS_SITE_ROOT=target/site-release scripts/release.sh

step "browser tests, debug and release builds side by side (Playwright, Debian chromium)"
# debug: the server binary `cargo test` built, nothing compiled twice; release: the server and
# bundle that ship. Each suite has its own server, database, port and output folder, and runs its
# specs one at a time; the two suites run at once because most of a browser test is waiting.
# Every test fails on a page error, a console error, an asset that does not load or a page that
# does not hydrate.
browser_suite() { cd end2end && FLEETGATE_E2E_BUILDS="$1" npx playwright test; }
beside e2e-debug browser_suite debug
beside e2e-release browser_suite release
browsers_status=0
await e2e-debug || browsers_status=1
await e2e-release || browsers_status=1
[ "$browsers_status" = 0 ] || { echo "browser tests failed" >&2; exit 1; }

step "load smoke (release build, wrk, ${LOAD_SECONDS:-3}s per scenario: no 5xx, no lost write)"
# The release server built above, not built again.
DURATION=${LOAD_SECONDS:-3} scripts/load.sh

echo
echo "all checks passed in $(( $(date +%s) - start ))s"
