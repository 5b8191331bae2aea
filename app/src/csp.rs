//! The Content-Security-Policy of a page (server only): the app's own scripts, styles and
//! wasm, and nothing else. The only inline scripts are Leptos's hydration and streaming
//! scripts, which carry the response's nonce; nothing may frame the app.

use leptos::nonce::{provide_nonce, use_nonce};
use leptos::prelude::use_context;

/// The policy for a page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    [
        "default-src 'none'",
        // 'wasm-unsafe-eval' lets the page compile the app's own wasm, nothing more.
        &format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'",
        // The shell's empty favicon is a data: URL.
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    .join("; ")
}

/// Gives this page a fresh nonce (which Leptos puts on its scripts) and sends the policy that
/// names it. Runs while the shell renders, before the first byte is sent.
pub fn protect_page() {
    provide_nonce();
    let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_code_runs() {
        let p = page_policy("abc123");
        assert!(p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(p.starts_with("default-src 'none'"));
        assert!(!p.contains("unsafe-inline"));
    }
}
