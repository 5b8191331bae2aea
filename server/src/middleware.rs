//! The gate every request passes before its handler ([`gate`]): the trusted-request and
//! same-origin checks, authentication, the server-function door, the page guard, and the one
//! mapping from `AppError` to an HTTP status — each a step of its own, in one visible order.

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

/// What a request passes, in this order: refused when untrusted or cross-origin; then, unless
/// it is for an asset or a probe, authenticated, admitted through the server-function door,
/// and sent to `/login` when it is a page that needs a session; then its handler, whose failed
/// server-function call gets the status its error names.
///
/// One middleware rather than a layer per step: the order is read here, not worked out from
/// the order layers were added in, and a request pays for one layer, not six (each layer
/// clones the rest of the stack on every request).
pub async fn gate(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    if let Some(refused) =
        untrusted(&gate.origins, &req).or_else(|| cross_origin(&gate.origins, &req))
    {
        return refused;
    }
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    authenticated(&gate.state, req, next).await
}

/// What [`gate`] needs: the application, and the names and origins it answers to.
#[derive(Clone)]
pub struct Gate {
    pub state: AppState,
    pub origins: Origins,
}

/// Looks up the session of the request and records the result in its extensions. A dead
/// view-as cookie is cleared on the way out, whatever the answer; a page request that carried
/// one goes back to the admin console with a notice.
async fn authenticated(st: &AppState, mut req: Request, next: Next) -> Response {
    let auth = match backend::authentication::authenticate(st, req.headers()).await {
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
        admitted(st, req, next).await
    };
    if let Some(v) = clear.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// An authenticated request through the server-function door and the page guard, to its
/// handler.
async fn admitted(st: &AppState, req: Request, next: Next) -> Response {
    let refused = unadmitted(st, req.uri().path(), req.extensions().get()).await;
    if let Some(refused) = refused {
        return refused;
    }
    if let Some(elsewhere) = page_guard(&req) {
        return elsewhere;
    }
    error_status(next.run(req).await).await
}

/// A page (as opposed to an API call or an asset) that a browser navigates to.
fn is_page(method: &Method, path: &str) -> bool {
    method == Method::GET && !path.starts_with("/api/") && !is_static(path)
}

/// Pages need a session: visitors go to `/login`, remembering where they were going; signed-in
/// people are sent away from `/login`. `None`: on to the handler.
fn page_guard(req: &Request) -> Option<Response> {
    let path = req.uri().path();
    if !is_page(req.method(), path) {
        return None;
    }
    let principal = match req.extensions().get::<Authentication>() {
        Some(Authentication { result: Ok(p), .. }) => Some(p),
        _ => None,
    };
    if path == routes::LOGIN {
        let p = principal?;
        return Some(Redirect::to(routes::home_of(p.operator)).into_response());
    }
    // Forgotten passwords and invitation links: for people without a session.
    if routes::is_public_page(path) || principal.is_some() {
        return None;
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or(path);
    Some(Redirect::to(&routes::login_with_next(target)).into_response())
}

/// Refuses, before routing, what must never reach a handler: a request addressed to a name
/// this server does not answer to (DNS rebinding), and a path with dot segments, whose meaning
/// differs between the page guard and the file server (`/pkg/../vehicles`).
fn untrusted(origins: &Origins, req: &Request) -> Option<Response> {
    let path = req.uri().path();
    if has_dot_segment(path) {
        tracing::warn!("path with dot segments refused");
        return Some(error_response(AppError::BadRequest {
            message: "the address contains “.” or “..” segments.".into(),
        }));
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
            return Some(error_response(AppError::BadRequest {
                message: "this server does not answer to that name.".into(),
            }));
        }
    }
    None
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
fn cross_origin(origins: &Origins, req: &Request) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let origin = header(header::ORIGIN);
    if origins.allows_origin(origin, header(header::HOST)) {
        return None;
    }
    tracing::warn!(?origin, "cross-origin request refused");
    Some(error_response(AppError::Forbidden {
        message: "This request did not come from the Fleetgate app and was refused.".into(),
        denial: None,
    }))
}

/// The door of every server function, before its arguments are parsed: its declared policy,
/// a session when it needs one, and what may be done in someone else's name
/// (`app::api::door::admit`, the same rule `Guard::enter` applies).
///
/// Takes the parts it reads, not the request: a request's body is not `Sync`, so a borrow of the
/// whole request held across the await would make the gate's future not `Send`.
async fn unadmitted(st: &AppState, path: &str, auth: Option<&Authentication>) -> Option<Response> {
    if !path.starts_with("/api/") {
        return None;
    }
    app::api::door::admit(st, path, auth)
        .await
        .err()
        .map(error_response)
}

/// Gives a failed server-function call the status its `AppError` names (server_fn answers
/// every error with 500), plus `Retry-After` when throttled.
async fn error_status(res: Response) -> Response {
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
