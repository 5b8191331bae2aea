//! The API scenarios, one module per concern: the real router on a random port, driven over
//! real HTTP, each scenario on a fresh SQLite file **and** a fresh PostgreSQL database
//! (`on_both_databases!`). Server functions are called by their type (`app.call(&dan,
//! CompleteWorkOrder { id, version })`); only tests about the wire itself (hostile bodies,
//! foreign origins, forged cookies) build requests by hand.
//!
//! PostgreSQL must be running: `scripts/postgres.sh`.

#[path = "../common/mod.rs"]
mod common;
#[macro_use]
mod support;

mod attacks;
mod audit_chain;
mod audit_export;
mod auth;
mod authz;
mod compression;
mod duplicates;
mod escalation;
mod group_commit;
mod hardening;
mod health;
mod impersonation;
mod impersonation_audit;
mod lifecycle;
mod lists;
mod mail;
mod migrations;
mod password_change;
mod session_cache;
mod session_reader;
mod support_access;
mod troubleshoot;
mod webhooks;
