//! Sign-in, sessions and the page guard, over real HTTP on SQLite and PostgreSQL.

use crate::support::{
    Backend, DEMO_PASSWORD, NoSession, Session, TestApp, app_error, retry_after, session_cookie,
    set_cookie,
};
use app::api::auth::{CurrentUser, Login, Logout};
use app::api::vehicles::ListVehicles;
use app::error::{AppError, AuthFailure};
use backend::token::{Actor, Claims};
use reqwest::{StatusCode, header};
use server::config::Tuning;
use std::time::Duration;

on_both_databases!(
    sign_in_sets_a_strict_http_only_session_cookie,
    signed_in_user_sees_only_their_organisations_vehicles,
    wrong_password_and_unknown_email_get_the_same_401,
    repeated_failures_are_throttled_with_retry_after,
    sign_out_revokes_the_session_at_once,
    tampered_and_garbage_cookies_are_refused,
    expired_and_forged_tokens_are_refused,
    pages_need_a_session_and_return_after_sign_in,
    an_unknown_page_is_a_404,
    state_changing_requests_need_our_origin,
    bad_input_gets_field_messages,
    an_unreadable_body_is_a_400_not_a_500,
);

fn login(email: &str, password: &str, next: &str) -> Login {
    Login {
        email: email.into(),
        password: password.into(),
        next: Some(next.into()),
    }
}

const ALL_VEHICLES: ListVehicles = ListVehicles { after: None };

async fn sign_in_sets_a_strict_http_only_session_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .call_raw(
            NoSession,
            login("Maria@Acme.test", DEMO_PASSWORD, "/vehicles?x=1"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/vehicles?x=1");
    let cookie = set_cookie(&res).expect("Set-Cookie");
    assert!(cookie.starts_with("fleetgate_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    // Served over plain HTTP here: no Secure flag (it would make the cookie unusable).
    assert!(!cookie.contains("Secure"), "{cookie}");

    let session = session_cookie(&res).unwrap();
    let claims = app.claims_of(session.cookie());
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        ("fleetgate", "fleetgate-web")
    );
    assert_eq!(claims.act, None);

    let me = app
        .call(&session, CurrentUser {})
        .await
        .expect("who is signed in");
    assert_eq!(me.full_name, "Maria Santos");
    assert_eq!(me.organisation, "Acme Logistics");
    assert_eq!(me.email, "maria@acme.test");
    assert_eq!(claims.sub, me.user_id.to_string());
}

async fn signed_in_user_sees_only_their_organisations_vehicles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let rows = app
        .call(&maria, ALL_VEHICLES)
        .await
        .expect("Maria's vehicles")
        .rows;
    let names: Vec<_> = rows.iter().map(|v| v.name.as_str()).collect();
    // Maria runs Northeast Region: Boston's vehicles, not Denver's, never Globex's.
    assert_eq!(names, ["Box truck B-101", "Van B-102", "Van B-103"]);
    let olga = app.sign_in("olga@acme.test").await;
    let rows = app
        .call(&olga, ALL_VEHICLES)
        .await
        .expect("Olga's vehicles")
        .rows;
    assert_eq!(rows.len(), 6, "Olga sees all of Acme");
    assert!(
        !rows.iter().any(|v| v.name.contains("C-30")),
        "Globex vehicles leaked: {rows:?}"
    );

    let gary = app.sign_in("gary@globex.test").await;
    let rows = app
        .call(&gary, ALL_VEHICLES)
        .await
        .expect("Gary's vehicles")
        .rows;
    assert!(rows.iter().all(|v| v.name.contains("C-30")), "{rows:?}");
    assert_eq!(rows.len(), 2);

    // The denied twin: no session, no vehicles.
    let err = app.call(NoSession, ALL_VEHICLES).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        err,
        AppError::Unauthenticated {
            reason: AuthFailure::Missing
        }
    );
}

async fn wrong_password_and_unknown_email_get_the_same_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let wrong = app.login("maria@acme.test", "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong).is_none());
    let wrong = app_error(wrong).await;
    let unknown = app.login("nobody@acme.test", "not-the-password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&unknown).is_none());
    let unknown = app_error(unknown).await;
    assert_eq!(
        wrong,
        AppError::Unauthenticated {
            reason: AuthFailure::BadCredentials
        }
    );
    assert_eq!(
        wrong, unknown,
        "the answer must not tell whether the account exists"
    );
    assert_eq!(wrong.to_string(), "The e-mail or password is incorrect.");
}

async fn repeated_failures_are_throttled_with_retry_after(backend: Backend) {
    let mut tuning = Tuning::default();
    tuning.throttle_account.slow_after = 2;
    tuning.throttle_account.lock_after = 4;
    tuning.throttle_account.slow_delay = Duration::from_millis(20);
    let app = TestApp::spawn_with(backend, tuning).await;
    for _ in 0..4 {
        let res = app.login("tina@acme.test", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked now: even the right password is refused, with a clear message and Retry-After.
    let res = app.login("tina@acme.test", DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = retry_after(&res);
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(set_cookie(&res).is_none());
    let err = app_error(res).await;
    assert!(err.to_string().starts_with("Too many attempts."), "{err}");
    // The twin: another account from the same address is not locked out.
    assert_eq!(
        app.login("dan@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn sign_out_revokes_the_session_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("dan@acme.test").await;
    assert_eq!(
        app.call_raw(&cookie, CurrentUser {}).await.status(),
        StatusCode::OK
    );

    let res = app.call_raw(&cookie, Logout {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/login");
    let cleared = set_cookie(&res).expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The old cookie is still correctly signed and unexpired, but its session is revoked.
    let err = app.call(&cookie, CurrentUser {}).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        err,
        AppError::Unauthenticated {
            reason: AuthFailure::Revoked
        }
    );
    let page = app.get("/vehicles", &cookie).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

async fn tampered_and_garbage_cookies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("olga@acme.test").await;
    let (name, token) = cookie.cookie().split_once('=').unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    // Flip one character of the payload: the signature no longer matches.
    let payload = parts[1].clone();
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    parts[1] = format!("{}{flipped}", &payload[..payload.len() - 1]);
    let tampered = format!("{name}={}", parts.join("."));
    let oversized = format!("{name}={}", "a".repeat(8000));
    for bad in [
        tampered.as_str(),
        "fleetgate_session=garbage",
        "fleetgate_session=a.b.c",
        oversized.as_str(),
    ] {
        let err = app
            .call(&Session::from_cookies(bad), CurrentUser {})
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED, "{bad:.60}");
        assert_eq!(
            err,
            AppError::Unauthenticated {
                reason: AuthFailure::Invalid
            }
        );
    }
    // The twin: the untouched cookie still works.
    assert_eq!(
        app.call_raw(&cookie, CurrentUser {}).await.status(),
        StatusCode::OK
    );
}

async fn expired_and_forged_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("maria@acme.test").await;
    let real = app.claims_of(cookie.cookie());
    let now = chrono::Utc::now().timestamp();
    let sign = |c: &Claims| {
        Session::from_cookies(format!("fleetgate_session={}", app.keys.sign(c).unwrap()))
    };

    let expired = Claims {
        iat: now - 7200,
        nbf: now - 7200,
        exp: now - 3600,
        ..real.clone()
    };
    let err = app.call(&sign(&expired), CurrentUser {}).await.unwrap_err();
    assert_eq!(
        err,
        AppError::Unauthenticated {
            reason: AuthFailure::Expired
        }
    );

    // Correctly signed, but naming a session that does not exist, another user, or an actor.
    let no_session = Claims {
        sid: "0".repeat(32),
        ..real.clone()
    };
    let other_user = Claims {
        sub: (real.sub.parse::<i32>().unwrap() + 1).to_string(),
        ..real.clone()
    };
    let with_actor = Claims {
        act: Some(Actor { sub: "1".into() }),
        ..real.clone()
    };
    let not_yet = Claims {
        nbf: now + 3600,
        ..real.clone()
    };
    for (what, c) in [("sid", no_session), ("sub", other_user), ("nbf", not_yet)] {
        let res = app.call_raw(&sign(&c), CurrentUser {}).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    // An `act` claim on a plain session is refused: the claims must match the session row.
    let err = app
        .call(&sign(&with_actor), CurrentUser {})
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::Unauthenticated {
            reason: AuthFailure::Invalid
        }
    );

    // A token signed with another key.
    let other = backend::token::TokenKeys::from_secret(&[1u8; 32]).unwrap();
    let forged = Session::from_cookies(format!("fleetgate_session={}", other.sign(&real).unwrap()));
    let err = app.call(&forged, CurrentUser {}).await.unwrap_err();
    assert_eq!(
        err,
        AppError::Unauthenticated {
            reason: AuthFailure::Invalid
        }
    );
}

async fn pages_need_a_session_and_return_after_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/vehicles?page=2", NoSession).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/login?next=/vehicles%3Fpage%3D2"
    );
    let res = app.get("/", NoSession).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let login_page = app.get("/login", NoSession).await;
    assert_eq!(login_page.status(), StatusCode::OK);
    let html = login_page.text().await.unwrap();
    assert!(
        html.contains("Sign in") && html.contains("Password"),
        "{html:.300}"
    );

    let cookie = app.sign_in("tina@acme.test").await;
    let res = app.get("/vehicles", &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    // Rendered on the server from the database: the header and the list.
    for expected in [
        "Tina Nguyen",
        "Technician",
        "Acme Logistics",
        "Sign out",
        "Box truck B-101",
    ] {
        assert!(html.contains(expected), "{expected} missing from the page");
    }
    // Signed in, /login sends you on.
    let res = app.get("/login", &cookie).await;
    assert_eq!(res.headers()[header::LOCATION], "/vehicles");
}

async fn an_unknown_page_is_a_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("tina@acme.test").await;
    assert_eq!(
        app.get("/no-such-page", &cookie).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// About the wire: requests built by hand, without our `Origin`.
async fn state_changing_requests_need_our_origin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = [
        ("email", "maria@acme.test"),
        ("password", DEMO_PASSWORD),
        ("next", ""),
    ];
    let no_origin = app
        .client
        .post(app.url("/api/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&no_origin).is_none());
    let foreign = app
        .client
        .post(app.url("/api/login"))
        .header(header::ORIGIN, "http://evil.test")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(matches!(
        app_error(foreign).await,
        AppError::Forbidden { .. }
    ));
    // The twin: our own origin signs in.
    assert_eq!(
        app.login("maria@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn bad_input_gets_field_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let err = app.call(NoSession, login(" ", "x", "")).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        err.field_message("email"),
        Some("Enter your e-mail address.")
    );
    let err = app
        .call(NoSession, login("maria@acme.test", "", ""))
        .await
        .unwrap_err();
    assert_eq!(err.field_message("password"), Some("Enter your password."));
}

/// About the wire: a body the server function cannot read at all is a 400, not a 500.
async fn an_unreadable_body_is_a_400_not_a_500(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .send_form::<Login>(NoSession, &[("unexpected", "field")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(!body.to_lowercase().contains("panick"), "{body}");
}
