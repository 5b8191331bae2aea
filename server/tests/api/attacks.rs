//! Attacks on tokens, sessions and the sign-in throttle, over real HTTP on both databases.

use crate::support::{Backend, Call, DEMO_PASSWORD, NoSession, Session, TestApp};
use app::api::auth::{CurrentUser, Login, Logout};
use app::error::{AppError, AuthFailure};
use backend::token::Claims;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::StatusCode;
use server::config::Tuning;
use std::time::Duration;

on_both_databases!(
    forged_and_altered_tokens_are_all_refused,
    parallel_guesses_never_get_past_the_throttle,
    guesses_spread_over_two_instances_share_one_limit,
);

/// `header.payload.signature` from JSON parts and raw signature bytes.
fn token(header: &serde_json::Value, claims: &serde_json::Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(signature)
    )
}

async fn forged_and_altered_tokens_are_all_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("olga@acme.test").await;
    let real = app.claims_of(cookie.cookie());
    let (_, jwt) = cookie.cookie().split_once('=').unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let claims = serde_json::to_value(&real).unwrap();
    let sign = |c: &Claims| format!("fleetgate_session={}", app.keys.sign(c).unwrap());

    let mut attempts: Vec<(&str, String)> = vec![
        // alg "none" with no signature.
        (
            "alg none",
            format!(
                "fleetgate_session={}",
                token(
                    &serde_json::json!({"alg": "none", "typ": "JWT"}),
                    &claims,
                    b""
                )
            ),
        ),
        // Algorithm confusion: claim RS256 but keep the HMAC signature.
        (
            "alg RS256",
            format!(
                "fleetgate_session={}.{}.{}",
                B64.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
                parts[1],
                parts[2]
            ),
        ),
        // HS512 with the right key is still not the pinned algorithm.
        ("alg HS512", {
            let t = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
                &real,
                &jsonwebtoken::EncodingKey::from_secret(&app.secret),
            )
            .unwrap();
            format!("fleetgate_session={t}")
        }),
        // The payload swapped under the real signature.
        ("payload swapped", {
            let mut other = claims.clone();
            other["sub"] = serde_json::json!("1");
            format!(
                "fleetgate_session={}.{}.{}",
                parts[0],
                B64.encode(other.to_string()),
                parts[2]
            )
        }),
        ("garbage", "fleetgate_session=%%%".to_owned()),
        ("empty", "fleetgate_session=".to_owned()),
        (
            "oversized",
            format!("fleetgate_session={}", "A".repeat(20_000)),
        ),
    ];
    // Correctly signed with our key but claims changed: issuer, audience, expiry, validity, ids.
    let now = chrono::Utc::now().timestamp();
    let changed = [
        (
            "iss",
            Claims {
                iss: "evil".into(),
                ..real.clone()
            },
        ),
        (
            "aud",
            Claims {
                aud: "other".into(),
                ..real.clone()
            },
        ),
        (
            "exp",
            Claims {
                exp: now - 1,
                ..real.clone()
            },
        ),
        (
            "nbf",
            Claims {
                nbf: now + 600,
                ..real.clone()
            },
        ),
        (
            "sid",
            Claims {
                sid: "f".repeat(32),
                ..real.clone()
            },
        ),
        (
            "sub",
            Claims {
                sub: "1".into(),
                ..real.clone()
            },
        ),
        (
            "act",
            Claims {
                act: Some(backend::token::Actor { sub: "1".into() }),
                ..real.clone()
            },
        ),
    ];
    for (what, c) in &changed {
        attempts.push((what, sign(c)));
    }
    for (what, bad) in attempts {
        let bad = Session::from_cookies(bad);
        let err = app.call(&bad, CurrentUser {}).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert!(matches!(err, AppError::Unauthenticated { .. }), "{what}");
        // Pages too: back to sign-in, never the app.
        assert_eq!(
            app.get("/vehicles", &bad).await.status(),
            StatusCode::SEE_OTHER,
            "{what}"
        );
    }
    // A valid token of a revoked session.
    assert_eq!(
        app.call_raw(&cookie, Logout {}).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(&cookie, CurrentUser {}).await.unwrap_err(),
        AppError::Unauthenticated {
            reason: AuthFailure::Revoked
        }
    );
}

fn strict_account_limit() -> Tuning {
    let mut tuning = Tuning::default();
    tuning.throttle_account.slow_after = 3;
    tuning.throttle_account.lock_after = 5;
    tuning.throttle_account.slow_delay = Duration::from_millis(10);
    tuning
}

/// 24 parallel wrong guesses for Maria, spread over `apps`; how many were checked (401).
async fn guess_in_parallel(apps: &[&TestApp]) -> usize {
    let guesses: Vec<_> = (0..24)
        .map(|i| {
            let guess = Login {
                email: "maria@acme.test".into(),
                password: format!("guess-{i}"),
                next: Some(String::new()),
            };
            let req = apps[i % apps.len()].request(NoSession, &Call::of(&guess));
            tokio::spawn(async move { req.send().await.map(|r| r.status()) })
        })
        .collect();
    let mut checked = 0;
    for g in guesses {
        let status = g.await.unwrap().unwrap();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
        if status == StatusCode::UNAUTHORIZED {
            checked += 1;
        }
    }
    checked
}

async fn parallel_guesses_never_get_past_the_throttle(backend: Backend) {
    let app = TestApp::spawn_with(backend, strict_account_limit()).await;
    // Only `lock_after` guesses were ever checked against the password; the rest were refused.
    assert_eq!(guess_in_parallel(&[&app]).await, 5);
    assert_eq!(
        app.login("maria@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Two instances behind a load balancer share one limit: the counters are in the database.
async fn guesses_spread_over_two_instances_share_one_limit(backend: Backend) {
    let first = TestApp::spawn_with(backend, strict_account_limit()).await;
    let second = first.sibling_with(strict_account_limit()).await;
    assert_eq!(guess_in_parallel(&[&first, &second]).await, 5);
    for app in [&first, &second] {
        assert_eq!(
            app.login("maria@acme.test", DEMO_PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // The twin: another account is untouched on either instance.
    assert_eq!(
        second.login("dan@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
}
