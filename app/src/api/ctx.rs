//! What a server function reads from its request (server only).

use crate::error::{AppError, AuthFailure};
use axum::extract::ConnectInfo;
use backend::principal::{Authentication, Principal};
use backend::state::AppState;
use http::request::Parts;
use leptos::prelude::use_context;
use std::net::SocketAddr;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or(AppError::Internal)
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or(AppError::Internal)
}

/// The path of the request being served (a page's, when a page calls a function while it is
/// rendered on the server).
pub fn with_request_path<R>(f: impl FnOnce(&str) -> R) -> Result<R, AppError> {
    // Borrowed in place: every guarded call asks, and copying the request's parts is not free.
    leptos::prelude::with_context::<Parts, R>(|p| f(p.uri.path())).ok_or(AppError::Internal)
}

/// What the authentication middleware found for this request (missing only when the request
/// did not pass through it, which the router never allows).
pub fn authentication() -> Result<Authentication, AppError> {
    // Only the authentication is copied, not the request's parts (headers, every extension).
    leptos::prelude::with_context::<Parts, _>(|p| p.extensions.get::<Authentication>().cloned())
        .ok_or(AppError::Internal)?
        .ok_or(AppError::Unauthenticated {
            reason: AuthFailure::Missing,
        })
}

/// The signed-in principal, or why there is none (401).
pub fn principal() -> Result<Principal, AppError> {
    authentication()?
        .result
        .map_err(|reason| AppError::Unauthenticated { reason })
}

/// The peer's IP address (no proxy header is trusted).
pub fn client_addr() -> String {
    parts()
        .ok()
        .and_then(|p| {
            p.extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) -> Result<(), AppError> {
    let res = use_context::<leptos_axum::ResponseOptions>().ok_or(AppError::Internal)?;
    let value = http::HeaderValue::from_str(value).map_err(|_| AppError::Internal)?;
    res.append_header(http::header::SET_COOKIE, value);
    Ok(())
}
