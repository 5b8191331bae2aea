//! Authenticating a request from its headers: the session cookie's token, its live session row
//! and user, then the view-as overlay of an impersonation started from that session.

use crate::cookie::CookieKind;
use crate::principal::Authentication;
use crate::state::AppState;
use domain::error::AuthFailure;
use sea_orm::DbErr;

/// Authenticates a request from its headers: the session cookie's token, its live row and
/// user; then, if present, the view-as overlay of an impersonation started from that session.
pub async fn authenticate(
    st: &AppState,
    headers: &http::HeaderMap,
) -> Result<Authentication, DbErr> {
    let view_as = st.cookie.read_kind(CookieKind::ViewAs, headers);
    // Without a usable own session, a view-as cookie is worthless: it is cleared.
    let refused = |reason| Authentication {
        result: Err(reason),
        own_session: None,
        clear_view_as: view_as.is_some(),
    };
    let Some(token) = st.cookie.read(headers) else {
        return Ok(refused(AuthFailure::Missing));
    };
    let claims = match st.tokens.verify(&token) {
        Ok(c) => c,
        Err(f) => return Ok(refused(f)),
    };
    // The session, its user and their organisation: one round trip, or none while nothing of
    // them can have changed (`session_cache`).
    let base = match st.sessions.own_principal(&st.db, &claims).await? {
        Ok(p) => p,
        Err(f) => return Ok(refused(f)),
    };
    let own_session = Some(base.session_id.clone());
    let Some(token) = view_as else {
        return Ok(Authentication {
            result: Ok(base),
            own_session,
            clear_view_as: false,
        });
    };
    let overlay = crate::impersonation::store::overlay(st, base, &token).await?;
    Ok(Authentication {
        clear_view_as: overlay.is_err(),
        result: overlay,
        own_session,
    })
}
