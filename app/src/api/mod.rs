//! Server functions, one module per concept, each thin: enter the guard with the function's own
//! type (its policy is declared beside it: `impl Declared for …`), parse the input, call a
//! repository (`backend::repo`), return a DTO (`crate::model`).
//!
//! Inside, one direction: `policy` (declarations, pure) ← `guard` (the one place decisions are
//! made and denials audited; `ctx` reads the request) ← the endpoint modules and `rows` (the
//! list rows they share) ← `door` (the table of every declaration, for the middleware).
pub mod account;
pub mod admin;
pub mod audit_log;
pub mod auth;
pub mod dashboard;
pub mod door;
pub mod impersonation;
pub mod inspections;
pub mod invitations;
pub mod org;
pub mod organisations;
pub mod paging;
pub mod password_reset;
pub mod people;
pub mod policy;
pub mod support_access;
pub mod team_tree;
pub mod teams;
pub mod troubleshoot;
pub mod vehicles;
pub mod webhooks;
pub mod work_orders;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod rows;
