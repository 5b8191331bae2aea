//! Request middleware: authentication, the page guard, the same-origin check, and the one
//! mapping from `AppError` to an HTTP status.

use crate::origins::Origins;
use app::error::{AppError, AuthFailure};
use app::routes;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use backend::cookie::CookieKind;
use backend::principal::Authentication;
use backend::state::AppState;
use http::{HeaderValue, Method, StatusCode, header};

/// The largest error body re-read to map its status; real ones are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// server_fn marks failed calls with this header.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// A JSON response for an error raised outside a server function.
pub fn error_response(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json_body(&err);
    let mut res = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    add_retry_after(&mut res, &err);
    res
}

fn serde_json_body(err: &AppError) -> String {
    // AppError always serialises; the fallback only keeps this total.
    serde_json::to_string(err).unwrap_or_else(|_| r#"{"code":"internal"}"#.to_owned())
}

fn add_retry_after(res: &mut Response, err: &AppError) {
    if let AppError::Throttled { retry_after_secs } = err
        && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// Paths that never need a session lookup: the built assets and the probes.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || matches!(path, "/healthz" | "/readyz" | "/favicon.ico")
}

/// Looks up the session of every request and records the result in its extensions. A dead
/// view-as cookie is cleared on the way out; a page request that carried one goes back to the
/// admin console with a notice.
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let auth = match backend::authentication::authenticate(&st, req.headers()).await {
        Ok(auth) => auth,
        Err(e) => return error_response(AppError::from(e)),
    };
    if let Err(reason @ (AuthFailure::Invalid | AuthFailure::Expired)) = &auth.result {
        tracing::info!(?reason, "unusable session cookie");
    }
    let clear = auth
        .clear_view_as
        .then(|| st.cookie.clear_kind(CookieKind::ViewAs));
    let ended = matches!(auth.result, Err(AuthFailure::ImpersonationEnded));
    let page = is_page(req.method(), req.uri().path());
    let mut res = if ended && page {
        Redirect::to("/admin/users?notice=impersonation-ended").into_response()
    } else {
        req.extensions_mut().insert(auth);
        next.run(req).await
    };
    if let Some(v) = clear.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A page (as opposed to an API call or an asset) that a browser navigates to.
fn is_page(method: &Method, path: &str) -> bool {
    method == Method::GET && !path.starts_with("/api/") && !is_static(path)
}

/// Pages need a session: send visitors to `/login`, remembering where they were going; send
/// signed-in people away from `/login`.
pub async fn page_guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_page(req.method(), path) {
        return next.run(req).await;
    }
    let principal = match req.extensions().get::<Authentication>() {
        Some(Authentication { result: Ok(p), .. }) => Some(p),
        _ => None,
    };
    let signed_in = principal.is_some();
    if path == routes::LOGIN {
        if let Some(p) = principal {
            return Redirect::to(routes::home_of(p.operator)).into_response();
        }
    } else if routes::is_public_page(path) {
        // Forgotten passwords and invitation links: for people without a session.
    } else if !signed_in {
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or(path);
        return Redirect::to(&routes::login_with_next(target)).into_response();
    }
    next.run(req).await
}

/// Refuses, before routing, what must never reach a handler: a request addressed to a name
/// this server does not answer to (DNS rebinding), and a path with dot segments, whose meaning
/// differs between the page guard and the file server (`/pkg/../vehicles`).
pub async fn trusted_request(State(origins): State<Origins>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if has_dot_segment(path) {
        tracing::warn!("path with dot segments refused");
        return error_response(AppError::BadRequest {
            message: "the address contains “.” or “..” segments.".into(),
        });
    }
    if !matches!(path, "/healthz" | "/readyz") {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        // An absolute-form request line (`GET http://name/ HTTP/1.1`) names the host too, and
        // wins over the header by the HTTP spec: both must be ours, and the same one. HTTP/2
        // carries it only there.
        let authority = req.uri().authority().map(|a| a.as_str());
        let addressed = match (host, authority) {
            (Some(h), Some(a)) => h.eq_ignore_ascii_case(a).then_some(h),
            (h, a) => h.or(a),
        };
        if !origins.allows_host(addressed) {
            tracing::warn!(
                ?host,
                ?authority,
                "request for a host this server does not serve refused"
            );
            return error_response(AppError::BadRequest {
                message: "this server does not answer to that name.".into(),
            });
        }
    }
    next.run(req).await
}

/// A path segment that is `.` or `..`, literally or percent-encoded, or a backslash (which
/// some clients treat as a separator).
fn has_dot_segment(path: &str) -> bool {
    // Runs on every request: no allocation, and nothing to do for the usual path.
    if !path.contains(['.', '%', '\\']) {
        return false;
    }
    let encoded = |s: &str, hex: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(hex.as_bytes()))
    };
    if path.contains('\\') || encoded(path, "%2f") || encoded(path, "%5c") {
        return true;
    }
    path.split('/').any(is_dots)
}

/// `.` or `..`, each dot literal or percent-encoded (`%2e`, any case).
fn is_dots(seg: &str) -> bool {
    let mut rest = seg.as_bytes();
    let mut n = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
        } else {
            return false;
        }
        n += 1;
    }
    n == 1 || n == 2
}

/// Refuses every state-changing request whose `Origin` is not this app (CSRF defence in depth
/// beside `SameSite=Strict`).
pub async fn same_origin(State(origins): State<Origins>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (allowed, origin) = {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        let origin = header(header::ORIGIN);
        (
            origins.allows_origin(origin, header(header::HOST)),
            origin.map(str::to_owned),
        )
    };
    if allowed {
        return next.run(req).await;
    }
    tracing::warn!(?origin, "cross-origin request refused");
    error_response(AppError::Forbidden {
        message: "This request did not come from the Fleetgate app and was refused.".into(),
        denial: None,
    })
}

/// The door of every server function, before its arguments are parsed: its declared policy,
/// a session when it needs one, and what may be done in someone else's name
/// (`app::api::door::admit`, the same rule `Guard::enter` applies).
pub async fn admit_server_fn(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let admitted = {
        let auth = req.extensions().get::<Authentication>();
        app::api::door::admit(&st, req.uri().path(), auth).await
    };
    match admitted {
        Ok(_) => next.run(req).await,
        Err(e) => error_response(e),
    }
}

/// Gives a failed server-function call the status its `AppError` names (server_fn answers
/// every error with 500), plus `Retry-After` when throttled.
pub async fn error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return error_response(AppError::Internal);
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status()).unwrap_or(parts.status);
        let mut res = Response::from_parts(parts, Body::from(bytes));
        add_retry_after(&mut res, &err);
        return res;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_found_however_they_are_spelled() {
        for path in [
            "/pkg/../vehicles",
            "/pkg/%2e%2e/vehicles",
            "/pkg/%2E./vehicles",
            "/./vehicles",
            "/pkg/..",
            "/pkg/..%2fvehicles",
            "/pkg\\..\\vehicles",
            "/pkg/%5c../vehicles",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/",
            "/vehicles",
            "/pkg/fleetgate.wasm",
            "/vehicles/12",
            "/a..b/c.d",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }

    #[test]
    fn pages_are_told_apart_from_api_and_assets() {
        assert!(is_page(&Method::GET, "/vehicles"));
        assert!(is_page(&Method::GET, "/"));
        assert!(!is_page(&Method::POST, "/vehicles"));
        assert!(!is_page(&Method::GET, "/api/me"));
        assert!(!is_page(&Method::GET, "/pkg/fleetgate.wasm"));
        assert!(!is_page(&Method::GET, "/readyz"));
    }
}
