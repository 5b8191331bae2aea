#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster and makes the role the tests connect with.
# The tests create and drop their own databases under this role.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
PGUSER_NAME=fleetgate_test
PGPASS=fleetgate_test

if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .*online'; then
  echo "[setup] starting PostgreSQL 15"
  as_root pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 0.5
done
exists=$(as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='${PGUSER_NAME}'\"")
if [ "$exists" != 1 ]; then
  as_root su postgres -c "psql -q -c \"CREATE ROLE ${PGUSER_NAME} LOGIN SUPERUSER PASSWORD '${PGPASS}'\""
fi
