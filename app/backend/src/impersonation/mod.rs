//! Impersonation sessions in the database: starting one and checking it on every request
//! (`store`), and the one way one ends (`ending`). The rules themselves are pure, in
//! `domain::impersonation`.

pub mod ending;
pub mod store;
