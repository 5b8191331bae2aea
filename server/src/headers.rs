//! Response headers every answer carries, as tower-http layers: no framing, no sniffing, no
//! referrer leaking across sites, no shared browsing-context group, HSTS behind HTTPS, and no
//! caching of anything that may carry personal data.
//!
//! Pages get their Content-Security-Policy from the shell (`app::csp`), because it names the
//! per-response nonce of the hydration scripts; every other answer gets the strictest policy.

use axum::Router;
use axum::body::Body;
use http::{HeaderValue, Response, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Response headers that are not per-page (the page's nonce-bearing CSP is set by the shell).
#[derive(Clone, Copy, Debug)]
pub struct SecurityHeaders {
    /// Served over HTTPS (the public URL says so): browsers must never use plain HTTP again.
    pub hsts: bool,
}

/// For answers that are not pages (JSON, redirects, files): nothing may run or be framed.
const NON_PAGE_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const ONE_YEAR_HSTS: &str = "max-age=31536000; includeSubDomains";

/// Sets the headers on every answer of `router`, as one layer (a layer each cloned the whole
/// stack beneath it on every request).
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    security: SecurityHeaders,
) -> Router<S> {
    let fixed =
        |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    let hsts = security
        .hsts
        .then(|| HeaderValue::from_static(ONE_YEAR_HSTS));
    router.layer(
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::STRICT_TRANSPORT_SECURITY,
                hsts,
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                cache_control,
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(NON_PAGE_CSP),
            ))
            .layer(fixed(
                http::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ))
            .layer(fixed(header::REFERRER_POLICY, "same-origin"))
            .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(fixed(header::X_FRAME_OPTIONS, "DENY")),
    )
}

/// Pages, server-function answers and redirects may carry personal data: never stored. The
/// built assets (wasm, JS, CSS) are the same for everyone and may be cached.
fn cache_control(res: &Response<Body>) -> Option<HeaderValue> {
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (!is_shared_asset(content_type)).then(|| HeaderValue::from_static("no-store"))
}

fn is_shared_asset(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    matches!(
        essence,
        "application/wasm" | "text/javascript" | "application/javascript" | "text/css"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_answers_are_never_stored_and_assets_may_be() {
        for ct in [
            "text/html; charset=utf-8",
            "application/json",
            "text/plain",
            "",
        ] {
            assert!(!is_shared_asset(ct), "{ct}");
        }
        for ct in [
            "application/wasm",
            "text/javascript; charset=utf-8",
            "text/css",
        ] {
            assert!(is_shared_asset(ct), "{ct}");
        }
    }
}
