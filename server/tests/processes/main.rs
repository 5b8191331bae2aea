//! Tests that drive processes rather than requests: the real server binary under SIGTERM and
//! SIGKILL (`faults`, on SQLite), two server processes on one SQLite database (`instances`),
//! and the machine's PostgreSQL stopped and started under load (`outage`). Not in the `api` binary, whose PostgreSQL scenarios must never run while
//! `outage` has PostgreSQL stopped: cargo runs test binaries one after another.

#[path = "../common/mod.rs"]
mod common;

mod binary;
mod faults;
mod instances;
mod outage;
