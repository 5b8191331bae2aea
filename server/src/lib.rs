//! Fleetgate's server: configuration, CLI, router, middleware, start-up and shutdown. The
//! application itself (pages, server functions, rules) lives in the `app` crate.
pub mod admin;
pub mod assets;
pub mod audit_export;
pub mod config;
pub mod demo;
pub mod headers;
pub mod health;
pub mod keys;
pub mod middleware;
pub mod origins;
pub mod scale;
pub mod startup;
pub mod telemetry;
