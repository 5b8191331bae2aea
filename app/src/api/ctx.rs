//! What a server function reads from its request (server only).

use crate::error::{AppError, AuthFailure};
use crate::session::{Authentication, Principal};
use crate::state::AppState;
use axum::extract::ConnectInfo;
use http::request::Parts;
use leptos::prelude::use_context;
use std::net::SocketAddr;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or(AppError::Internal)
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or(AppError::Internal)
}

/// The signed-in principal, or why there is none (401).
pub fn principal() -> Result<Principal, AppError> {
    let parts = parts()?;
    match parts.extensions.get::<Authentication>() {
        Some(Authentication { result: Ok(p), .. }) => Ok(p.clone()),
        Some(Authentication {
            result: Err(reason),
            ..
        }) => Err(AppError::Unauthenticated { reason: *reason }),
        None => Err(AppError::Unauthenticated {
            reason: AuthFailure::Missing,
        }),
    }
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
