//! Everything a request handler needs from the running server.

use crate::access::AccessCache;
use crate::cookie::CookieConfig;
use crate::throttle::Throttle;
use crate::token::TokenKeys;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;

/// Everything a request handler needs from the running server, behind one shared pointer: it is
/// cloned several times per request (each middleware, the page's context, every server
/// function's guard), and a clone of the fields themselves — a dozen reference counts that every
/// request on every core touches, and an allocation — was measured at ~5 % of a trivial
/// request's time. Read its fields through `Deref` (`state.db`).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Services {
    pub db: DatabaseConnection,
    /// Where independent writes (fleet records) are committed, many requests' together.
    pub writes: crate::group_commit::GroupCommit,
    pub tokens: Arc<TokenKeys>,
    pub throttle: Arc<Throttle>,
    /// Effective permissions per session, invalidated by the organisation's authz version.
    pub access: Arc<AccessCache>,
    /// Sessions' rows as authentication read them, while the authentication epoch holds.
    pub sessions: Arc<crate::session_cache::SessionCache>,
    /// What each team owns, for the troubleshooter's blast radii (reused for a minute).
    pub resource_counts: Arc<crate::troubleshoot::CountsCache>,
    pub cookie: CookieConfig,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// Where people reach the app (`scheme://host[:port][/path]`, no trailing `/`): links in
    /// mail start with it.
    pub public_url: String,
    /// Webhooks may call plain-http and private addresses (development and tests only).
    pub webhook_allow_private: bool,
}
