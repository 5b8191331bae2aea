#!/usr/bin/env bash
# The scale run (docs/BENCHMARKS.md, "Scale"), on PostgreSQL: generates the data set with
# `server seed-scale` (1 organisation, 5,000 users, 1,000 teams, 100,000 vehicles, 500,000 work
# orders) into a fresh database, then measures computing effective permissions from the
# database (examples/scale_probe.rs) and the p99 of the paginated lists over HTTP with wrk —
# first pages and a deep page, for someone who sees everything and someone in one team.
#
#   scripts/scale.sh                  # needs PostgreSQL (scripts/postgres.sh) and wrk
#   DURATION=60 scripts/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
PORT=${PORT:-3300}
ORIGIN="http://127.0.0.1:$PORT"
PG=${FLEETGATE_TEST_PG_URL:-postgres://fleetgate_test:fleetgate_test@127.0.0.1:5432/postgres}
export DATABASE_URL="${PG%/*}/fleetgate_scale"
OUT=target/scale
mkdir -p "$OUT"

cargo build --release -p server --bin server --example scale_probe
psql -q "$PG" -c "DROP DATABASE IF EXISTS fleetgate_scale WITH (FORCE)" -c "CREATE DATABASE fleetgate_scale"
DATA=$(mktemp -d)
export FLEETGATE_DATA_DIR="$DATA" FLEETGATE_ADDR="127.0.0.1:$PORT" RUST_LOG=warn
echo "scale-password" | target/release/server seed-scale
psql -q "$DATABASE_URL" -c "ANALYZE"
target/release/examples/scale_probe | tee "$OUT/probe.txt"

target/release/server serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -fs "$ORIGIN/readyz" >/dev/null && break; sleep 0.2; done
login() {
  curl -fs -o /dev/null -D - -H "Origin: $ORIGIN" \
    --data "email=$1&password=scale-password&next=" "$ORIGIN/api/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(fleetgate_session=[^;]*\).*/\1/p'
}
# A cursor deep into each list: the row at that position in the list's order.
sql() { psql -tA "$DATABASE_URL" -c "$1"; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
DEEP_VEHICLE=$(urlencode "$(sql "SELECT id || ':' || name FROM vehicles ORDER BY name, id OFFSET 90000 LIMIT 1")")
DEEP_ORDER=$(urlencode "$(sql "SELECT id || COALESCE(':' || due_on, '') FROM work_orders ORDER BY due_on NULLS LAST, id OFFSET 400000 LIMIT 1")")

export ORIGIN COOKIE ENDPOINT BODY
RESULTS="$OUT/results.txt"
: >"$RESULTS"
measure() { # name endpoint body
  ENDPOINT=$2 BODY=$3
  echo "== $1" >&2
  wrk -t2 -c8 -d"${DURATION}s" --timeout 10s -s load/read.lua "$ORIGIN" | tee "$OUT/$1.txt" |
    sed -n "s/^RESULT /$1 /p" >>"$RESULTS"
}
COOKIE=$(login 'user1%40scale.test')   # a member of the root team: sees all 100,000 vehicles
# Warm the database's and the server's caches first; the figures are for a running service.
ENDPOINT=/api/vehicles/list BODY="" wrk -t1 -c4 -d3s -s load/read.lua "$ORIGIN" >/dev/null
measure "vehicles, all, first page" /api/vehicles/list ""
measure "vehicles, all, page 1,800" /api/vehicles/list "after=$DEEP_VEHICLE"
measure "work orders, all, first page" /api/work_orders/list ""
measure "work orders, all, page 8,000" /api/work_orders/list "after=$DEEP_ORDER"
measure "work orders, all, open" /api/work_orders/list "status=open"
COOKIE=$(login 'user7%40scale.test')   # one team's technician
measure "vehicles, one team" /api/vehicles/list ""
measure "work orders, one team" /api/work_orders/list ""

python3 - "$RESULTS" <<'EOF' | tee "$OUT/report.md"
import json, sys
print("| list (8 connections) | req/s | p50 ms | p99 ms | 2xx | non-2xx |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
bad = False
for line in open(sys.argv[1]):
    name, data = line.rsplit(" {", 1)
    r = json.loads("{" + data)
    other = r["3xx"] + r["4xx"] + r["5xx"] + r["socket_errors"]
    bad |= other > 0 or r["2xx"] == 0
    print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['2xx']} | {other} |")
sys.exit(1 if bad else 0)
EOF
