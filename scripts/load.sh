#!/usr/bin/env bash
# The load run (docs/BENCHMARKS.md, "Load"): the release server on loopback with the demo data,
# driven by wrk (Debian package) through each scenario in turn, bounded in time:
#
#   baseline        a bare axum JSON handler (load/baseline), same machine, same run
#   leptos-baseline a trivial Leptos page rendered on the server (load/baseline, leptos-baseline)
#   page            signed-in page views, rendered on the server (GET /vehicles)
#   page-compressed the same, asking for what Chromium asks for (Accept-Encoding: gzip, deflate,
#                   br, zstd): what a browser is sent, compressed on every request
#   read            a server-function read (POST /api/vehicles/list)
#   read-compressed the same read, asking for what Chromium asks for
#   write           server-function writes (POST /api/vehicles/create, a fresh VIN each), by
#                   another customer (Gary at Globex) than the reads' (Maria at Acme)
#   read-full       the read by the writer after the writes: a full page (50 rows) where `read`
#                   returns Maria's 3 — what a read costs a customer with a real fleet
#   read+writes     the read while writes run in the background (row writes(bg)): the write lock
#                   must not stall reads. Another customer writes, so the read's answer is the
#                   very one it was idle (its first page would otherwise fill up with the new
#                   vehicles: 3 rows idle, 50 under writes)
#   signin          a sign-in storm (argon2id on every request)
#   page+storm      page views while a sign-in storm runs (row storm(bg)): hashing must not stall
#                   pages
#
# Under the table: the signed-in page's req/s over the trivial Leptos page's, the compressed
# page's over the uncompressed one's, the full page's read over the 3-row one, and the read's
# p99 under writes over its p99 idle. Then it counts the rows the writes left and fails when any
# answer was a 5xx, any socket failed, or a confirmed write is missing (or an unconfirmed one is
# present).
#
#   scripts/load.sh                        # 10 s per scenario, SQLite
#   DURATION=600 scripts/load.sh           # the soak: ten minutes per scenario
#   DATABASE_URL=postgres://… scripts/load.sh   # against PostgreSQL (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PORT=${PORT:-3200}
BASELINE_PORT=${BASELINE_PORT:-3201}
LEPTOS_BASELINE_PORT=${LEPTOS_BASELINE_PORT:-3202}
ORIGIN="http://127.0.0.1:$PORT"
OUT=target/load
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

# The server exactly as `cargo leptos build --release` builds it (`make release`, and `make test`
# before this), so cargo finds it fresh instead of compiling a second release server. The
# baselines, in the same invocation, add no feature to the server's dependencies.
cargo build --release -p server --bin server -p load-baseline --bin baseline --bin leptos-baseline
RELEASE="${CARGO_TARGET_DIR:-target}/release"
# The site this server's hash.txt names — `make test` builds the release bundle into
# target/site-release and the debug one into target/site — so the pages measured are the pages
# shipped (their split bundle's manifest included). Unset when neither has it: wrk fetches no
# asset, so the figures hold either way.
if [ -z "${LEPTOS_SITE_ROOT:-}" ]; then
  js=$(sed -n 's/^js: *//p' "$RELEASE/hash.txt" 2>/dev/null || true)
  for root in target/site-release target/site; do
    if [ -n "$js" ] && [ -e "$root/pkg/fleetgate.$js.js" ]; then
      export LEPTOS_SITE_ROOT=$root
      break
    fi
  done
fi

DATA=$(mktemp -d)
export FLEETGATE_DATA_DIR="$DATA" FLEETGATE_ADDR="127.0.0.1:$PORT" FLEETGATE_DEMO=true RUST_LOG=warn
export DATABASE_URL=${DATABASE_URL:-"sqlite://$DATA/fleetgate.db?mode=rwc"}
SERVER=
start_server() {
  "$RELEASE/server" serve >>"$OUT/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "$ORIGIN/readyz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start"; exit 1
}
case "$DATABASE_URL" in
  # The server writes meanwhile (abandoned sign-ins finish after wrk's deadline): wait for
  # the lock rather than fail on it.
  sqlite:*) SQL=(sqlite3 -cmd ".timeout 10000" "$DATA/fleetgate.db") ;;
  *) SQL=(psql -tA "$DATABASE_URL" -c) ;;
esac
# The sign-in throttle counts an attempt whose client went away as a failure (never forgiven),
# and wrk abandons its in-flight requests at each deadline: each sign-in scenario starts with
# the throttle's counters cleared, as a fresh deployment would.
reset_throttle() {
  sleep 2 # let the sign-ins wrk abandoned at its deadline finish first
  "${SQL[@]}" "DELETE FROM sign_in_throttle" >/dev/null
}
: >"$OUT/server.log"
start_server
"$RELEASE/baseline" "127.0.0.1:$BASELINE_PORT" &
BASELINE=$!
"$RELEASE/leptos-baseline" "127.0.0.1:$LEPTOS_BASELINE_PORT" &
LEPTOS_BASELINE=$!
trap 'kill $SERVER $BASELINE $LEPTOS_BASELINE 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for port in "$BASELINE_PORT" "$LEPTOS_BASELINE_PORT"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
done

login() {
  curl -fs -o /dev/null -D - -H "Origin: $ORIGIN" \
    --data "email=$1&password=fleetgate-demo&next=" "$ORIGIN/api/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(fleetgate_session=[^;]*\).*/\1/p'
}
export ORIGIN
export COOKIE
COOKIE=$(login 'maria%40acme.test')
[ -n "$COOKIE" ] || { echo "could not sign in"; exit 1; }
# The writes: Gary's, at Globex, in the first team where he may add vehicles.
WRITER=$(login 'gary%40globex.test')
[ -n "$WRITER" ] || { echo "could not sign the writer in"; exit 1; }
TEAM=$(curl -fs -X POST -H "Origin: $ORIGIN" -H "Cookie: $WRITER" "$ORIGIN/api/vehicles/list" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["create_teams"][0]["id"])')
export TEAM
# What Chromium asks for with every request.
BROWSER_ENCODINGS="gzip, deflate, br, zstd"

RESULTS="$OUT/results.txt"
: >"$RESULTS"
# run <name> <script> <url> [connections]
run() {
  local name=$1 script=$2 url=$3 conns=${4:-$CONNECTIONS}
  echo "== $name ($conns connections, ${DURATION}s)" >&2
  wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --timeout 10s -s "load/$script.lua" "$url" |
    tee "$OUT/$name.txt" | sed -n "s/^RESULT /$name /p" >>"$RESULTS"
}

PAGE=/ run baseline page "http://127.0.0.1:$BASELINE_PORT"
PAGE=/ run leptos-baseline page "http://127.0.0.1:$LEPTOS_BASELINE_PORT"
PAGE=/vehicles run page page "$ORIGIN"
ACCEPT_ENCODING=$BROWSER_ENCODINGS PAGE=/vehicles run page-compressed page "$ORIGIN"
run read read "$ORIGIN"
ACCEPT_ENCODING=$BROWSER_ENCODINGS run read-compressed read "$ORIGIN"
COOKIE=$WRITER run write write "$ORIGIN"
COOKIE=$WRITER run read-full read "$ORIGIN"
# Reads while writes run in the background; the background's VINs are a series of their own
# (load/write.lua), apart from the write scenario's.
COOKIE=$WRITER VIN_SERIES=1 wrk -t1 -c"$CONNECTIONS" -d"$((DURATION + 2))s" --timeout 10s -s load/write.lua "$ORIGIN" \
  >"$OUT/writes-background.txt" &
WRITES=$!
sleep 1
run read+writes read "$ORIGIN"
wait $WRITES
sed -n 's/^RESULT /writes(bg) /p' "$OUT/writes-background.txt" >>"$RESULTS"
reset_throttle
run signin signin "$ORIGIN"
reset_throttle
# Pages while a storm of sign-ins hashes on the blocking pool.
wrk -t1 -c"$CONNECTIONS" -d"$((DURATION + 2))s" --timeout 10s -s load/signin.lua "$ORIGIN" \
  >"$OUT/storm-background.txt" &
STORM=$!
sleep 1
PAGE=/vehicles run page+storm page "$ORIGIN"
wait $STORM
sed -n 's/^RESULT /storm(bg) /p' "$OUT/storm-background.txt" >>"$RESULTS"

# Rows the writes left, against the writes the server confirmed.
ROWS=$("${SQL[@]}" "SELECT count(*) FROM vehicles WHERE name LIKE 'Load 9%'")
AUDITED=$("${SQL[@]}" "SELECT count(*) FROM audit_events WHERE action = 'vehicles/create' AND outcome = 'success'")
AUDIT_OK=$("$RELEASE/server" audit verify >/dev/null 2>&1 && echo intact || echo BROKEN)

python3 - "$RESULTS" "$ROWS" "$AUDIT_OK" "$AUDITED" "$CONNECTIONS" <<'EOF' | tee "$OUT/report.md"
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, data = line.split(" ", 1)
    rows[name] = json.loads(data)
base = rows["baseline"]["rps"]
print("| scenario | requests | req/s | × baseline | p50 ms | p99 ms | max ms | 2xx | 4xx | 5xx | socket errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, r in rows.items():
    print(f"| {name} | {r['requests']} | {r['rps']:.0f} | {r['rps'] / base:.4f} | {r['p50_ms']:.2f} | "
          f"{r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['2xx']} | {r['4xx']} | {r['5xx']} | {r['socket_errors']} |")
def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"
print(f"\npage / leptos-baseline = {ratio(rows['page']['rps'], rows['leptos-baseline']['rps'])}")
print(f"page-compressed / page = {ratio(rows['page-compressed']['rps'], rows['page']['rps'])}")
print(f"read-full / read = {ratio(rows['read-full']['rps'], rows['read']['rps'])}")
print(f"read p99 under writes / idle = {ratio(rows['read+writes']['p99_ms'], rows['read']['p99_ms'])}")
written, audited, connections = int(sys.argv[2]), int(sys.argv[4]), int(sys.argv[5])
# Both write runs create 'Load 9…' vehicles: the write scenario and the background of read+writes.
confirmed = rows["write"]["2xx"] + rows["writes(bg)"]["2xx"]
# wrk stops at its deadline without reading the answers in flight (at most one per
# connection, in each of the two runs): those writes committed but were never confirmed.
slack = 2 * connections
print(f"\nwrites confirmed {confirmed}; vehicle rows {written} "
      f"({written - confirmed} answered after wrk's deadline, at most {slack}); "
      f"audit rows {audited}; audit chain {sys.argv[3]}")
bad = [n for n, r in rows.items() if r["5xx"] or r["socket_errors"] or r["2xx"] == 0]
lost = not (confirmed <= written <= confirmed + slack) or audited != written
if bad or lost or sys.argv[3] != "intact":
    print(f"FAILED: 5xx, socket errors or no success in {bad}; lost or unaudited writes: {lost}; "
          f"chain {sys.argv[3]}")
    sys.exit(1)
EOF
