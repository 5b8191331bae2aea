//! Fleetgate's pure core, shared by the server and the wasm frontend: what may be done
//! (`authz`), who may view as whom (`impersonation`), who people are (`people`), the states of
//! the fleet's resources (`fleet`) and the parsers that turn input into values valid by
//! construction (`validate`).
//!
//! No I/O and no Leptos: the compiler holds that, because this crate depends on neither. Every
//! other crate depends on this one; it depends on none of them.

pub mod authz;
pub mod error;
pub mod fleet;
pub mod ids;
pub mod impersonation;
pub mod keyed;
pub mod links;
pub mod password;
pub mod people;
pub mod routes;
pub mod support_access;
pub mod validate;
