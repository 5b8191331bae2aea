#!/usr/bin/env bash
# Fuzzes the token and cookie parsing and every input validator (fuzz/fuzz_targets) with
# libFuzzer on nightly, each target for FUZZ_SECONDS (15 in `make test`; the documented long
# run is FUZZ_SECONDS=3600). The corpus grows in fuzz/corpus/<target> across runs; a crash
# leaves its input in fuzz/artifacts/<target> and fails the run.
#
# `-s none`: the code under test is safe Rust, so AddressSanitizer adds build time, not
# findings; coverage-guided fuzzing with debug assertions stays on.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
log=$(mktemp "${TMPDIR:-/tmp}/fleetgate-fuzz.XXXXXX")
trap 'rm -f "$log"' EXIT
for target in token signed_claims cookie validators; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${FUZZ_SECONDS}s" >&2
  # The run's own status decides, read before anything else runs: with pipefail, a
  # `|| true` after the pipeline would replace PIPESTATUS and hide a crash.
  status=0
  cargo +nightly fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 >"$log" 2>&1 || status=$?
  # Only the summary, the crash and where its input was kept; libFuzzer's chatter stays out.
  grep -E "^(Done|stat::(number_of_executed_units|new_units_added))|ERROR|panicked|SUMMARY|artifact" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 30 "$log" >&2
    echo "fuzz target $target failed (status $status)" >&2
    exit 1
  fi
done
