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
for target in token signed_claims cookie validators; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${FUZZ_SECONDS}s" >&2
  cargo +nightly fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 2>&1 |
    grep -E "^(Done|stat::(number_of_executed_units|new_units_added))|ERROR|panicked|SUMMARY|artifact" || true
  # grep hides libFuzzer's chatter; the run's own status decides.
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz target $target failed" >&2; exit 1; }
done
