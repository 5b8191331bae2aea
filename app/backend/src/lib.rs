//! Fleetgate's server-only layer: everything that touches the database, tokens or password
//! hashes. The `app` crate's server functions call it; the wasm frontend never links it.
//!
//! Dependency direction inside (each module uses only those above it):
//! `entity` · `token` · `cookie` · `principal` · `password` · `auth_epoch` (what invalidates
//! cached sessions, across processes) — the leaves;
//! `audit` (the tamper-evident log) ← `group_commit` (independent writes committed together) · `access` (effective permissions, cached per session) ·
//! `throttle` (sign-in attempts);
//! `impersonation::ending` (the one way an impersonation ends) ← `session` (sign-in rows) ←
//! `session_reader` (their reads on PostgreSQL, off the pool) ← `session_cache` (their rows
//! kept while the epoch holds);
//! `state` (what a request handler needs) ← `impersonation::store` ← `authentication`;
//! `directory` (users, teams, grants) and the repositories build on those;
//! `link_token` (secrets of mailed links) ← `invitation`, `password_reset`; `mail` (the outbox
//! and its worker) ← `onboarding`; `offboarding` (ending every session of a user at once).

pub mod access;
pub mod audit;
pub mod audit_export;
pub mod auth_epoch;
pub mod authentication;
pub mod cookie;
pub mod directory;
pub mod entity;
pub mod group_commit;
pub mod impersonation;
pub mod invitation;
pub mod link_token;
pub mod mail;
pub mod offboarding;
pub mod onboarding;
pub mod password;
pub mod password_reset;
pub mod principal;
pub mod repo;
pub mod session;
pub mod session_cache;
pub mod session_reader;
pub mod state;
pub mod support_access;
pub mod throttle;
pub mod token;
pub mod troubleshoot;
pub mod webhook;
