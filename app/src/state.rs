//! Everything a request handler needs from the running server (server only).

use crate::access::AccessCache;
use crate::session::{CookieConfig, TokenKeys};
use crate::throttle::Throttle;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub tokens: Arc<TokenKeys>,
    pub throttle: Arc<Throttle>,
    /// Effective permissions per session, invalidated by the organisation's authz version.
    pub access: Arc<AccessCache>,
    pub cookie: CookieConfig,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
