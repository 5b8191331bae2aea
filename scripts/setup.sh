#!/usr/bin/env bash
# Installs every tool the project needs, skipping each one that is already present at the right
# version, so a second run costs seconds. Safe to run on a fresh machine of the project's kind.
# Usage: scripts/setup.sh [run|test]   ("test" also needs chromium, npm packages and PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."

purpose="${1:-test}"
CARGO_LEPTOS_VERSION=0.3.10
CARGO_FUZZ_VERSION=0.13.2
LEPTOSFMT_VERSION=0.1.33
# Must equal the wasm-bindgen crate version in Cargo.lock: cargo-leptos runs this binary from PATH.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What `make test` needs beyond the compiled tools: chromium, PostgreSQL (started), the
# browser tests' npm packages, the nightly toolchain (cargo-fuzz), wrk, sqlite3 and a real SMTP
# server for the mail tests (Debian's aiosmtpd, run by the tests themselves).
system() {
  (
    apt_install chromium postgresql-15 wrk sqlite3 python3-aiosmtpd
    if [ ! -d end2end/node_modules/@playwright/test ]; then
      say "installing end2end npm packages"
      # Playwright drives Debian's chromium; it must never try to download a browser of its own.
      (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
    scripts/postgres.sh
    if ! rustup toolchain list | grep -q '^nightly'; then
      say "installing the nightly toolchain (cargo-fuzz needs it)"
      rustup toolchain install nightly --profile minimal
    fi
  ) >"$system_log" 2>&1
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools are compiled here, which is most of a cold run's setup. Their own release profiles
# ask for fat LTO in one codegen unit at opt-level 3 (cargo-leptos: 23 minutes on 2 cores),
# which buys a build tool a little speed at the price of a serial link as long as the rest of
# the build. These overrides compile them at opt-level 1, in 16 units, without LTO: cargo-leptos
# in 9 minutes, and what the tools do at run time (splitting the wasm, wasm-bindgen on it) took
# the same time to within 5 % (docs/BENCHMARKS.md). One target directory for every tool shares
# the crates they have in common.
tool_build_dir=$(mktemp -d "${TMPDIR:-/tmp}/fleetgate-tools.XXXXXX")
trap 'rm -rf "$tool_build_dir"' EXIT
install_tool() {
  CARGO_TARGET_DIR="$tool_build_dir" CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install --quiet "$@"
}

if [ "$purpose" = test ]; then
  # Packages, npm modules, PostgreSQL and the nightly toolchain come from the network and the
  # disk: fetched while the tools compile (`system` below), waited for at the end.
  system_log=$(mktemp "${TMPDIR:-/tmp}/fleetgate-setup.XXXXXX")
  system &
  system_pid=$!
fi

if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 9 minutes on 2 cores)"
  install_tool cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# Formats the `view!` macros that rustfmt leaves alone; `make test` checks it beside `cargo fmt`.
if ! leptosfmt --version 2>/dev/null | grep -q " ${LEPTOSFMT_VERSION}\$"; then
  say "installing leptosfmt ${LEPTOSFMT_VERSION} (under a minute)"
  install_tool leptosfmt --locked --version "$LEPTOSFMT_VERSION"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
  say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (about 2 minutes)"
  install_tool wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# The wasm optimiser of release builds (scripts/release.sh puts it first on PATH): binaryen from
# npm, pinned in scripts/wasm-opt/package-lock.json. Not Debian's binaryen 108, whose wasm-opt
# breaks the output of wasm-bindgen 0.2.130 (the release page never hydrates).
WASM_OPT_VERSION=$(sed -n 's/^ *"binaryen": "\(.*\)"/\1/p' scripts/wasm-opt/package.json)
if [ "$(cat scripts/wasm-opt/node_modules/binaryen/package.json 2>/dev/null |
  sed -n 's/^ *"version": "\(.*\)",/\1/p')" != "$WASM_OPT_VERSION" ]; then
  say "installing binaryen ${WASM_OPT_VERSION} (wasm-opt) from npm"
  (cd scripts/wasm-opt && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$purpose" = test ]; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (under a minute)"
    install_tool cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  fi
  wait "$system_pid" || { cat "$system_log" >&2; say "installing the system's part failed"; exit 1; }
  cat "$system_log"
  rm -f "$system_log"
fi
say "tools ready"
