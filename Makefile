# The two commands of the Quick start. Each installs what is missing first (scripts/setup.sh).
.PHONY: run test release bench

## Serve http://127.0.0.1:3000 with SQLite in ./data and the demo data set (reuses what `make test` built).
run:
	scripts/setup.sh run
	scripts/run.sh

## Format, lint (both feature sets), unit and integration tests (SQLite and PostgreSQL), browser tests.
test:
	scripts/test.sh

## An optimised build: target/release/server and target/site (wasm through the pinned wasm-opt).
release:
	scripts/setup.sh run
	scripts/release.sh

## Benchmarks (not part of `make test`): authz check vs cedar-policy and casbin, effective
## permissions at scale, and a guarded server function over HTTP vs a bare axum handler.
bench:
	cargo bench -p domain --bench authz
	cargo bench -p backend --bench password
	cargo bench -p server --bench http
