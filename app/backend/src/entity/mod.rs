//! sea-orm entities, one per table of `migrations/`. Relations are queried
//! explicitly where a request needs them, so each query stays visible and indexed.
pub mod audit_event;
pub mod inspection;
pub mod invitation;
pub mod mail_outbox;
pub mod membership;
pub mod organisation;
pub mod password_reset;
pub mod protection;
pub mod session;
pub mod sign_in_throttle;
pub mod support_grant;
pub mod support_notice;
pub mod support_request;
pub mod team;
pub mod team_permission;
pub mod user;
pub mod vehicle;
pub mod webhook;
pub mod work_order;
