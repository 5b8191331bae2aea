//! Server functions, grouped by concept. Each one authenticates through `ctx` and scopes every
//! query to the caller's organisation.
pub mod auth;
pub mod vehicles;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
