//! Server functions, grouped by concept. Each one authenticates through `ctx` and scopes every
//! query to the caller's organisation.
pub mod account;
pub mod admin;
pub mod audit_log;
pub mod auth;
pub mod dashboard;
pub mod door;
pub mod impersonation;
pub mod inspections;
pub mod org;
pub mod paging;
pub mod policy;
pub mod teams;
pub mod vehicles;
pub mod work_orders;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod rows;
#[cfg(feature = "ssr")]
pub mod versioned;
