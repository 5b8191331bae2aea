//! Sign-in, sessions and the page guard, over real HTTP on SQLite and PostgreSQL.

mod common;

use app::error::{AppError, AuthFailure};
use app::model::{Me, VehicleList};
use backend::token::Actor;
use backend::token::Claims;
use common::{Backend, TestApp, app_error, session_cookie, set_cookie};
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
    state_changing_requests_need_our_origin,
    bad_input_gets_field_messages,
);

async fn sign_in_sets_a_strict_http_only_session_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .call(
            "login",
            None,
            &[
                ("email", "Maria@Acme.test"),
                ("password", "fleetgate-demo"),
                ("next", "/vehicles?x=1"),
            ],
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

    let name_value = session_cookie(&res).unwrap();
    let claims = app.claims_of(&name_value);
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        ("fleetgate", "fleetgate-web")
    );
    assert_eq!(claims.act, None);

    let me: Me = app
        .call("me", Some(&name_value), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.full_name, "Maria Santos");
    assert_eq!(me.organisation, "Acme Logistics");
    assert_eq!(me.email, "maria@acme.test");
    assert_eq!(claims.sub, me.user_id.to_string());
}

async fn signed_in_user_sees_only_their_organisations_vehicles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let res = app.call("vehicles/list", Some(&maria), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = res.json::<VehicleList>().await.unwrap().rows;
    let names: Vec<_> = rows.iter().map(|v| v.name.as_str()).collect();
    // Maria runs Northeast Region: Boston's vehicles, not Denver's, never Globex's.
    assert_eq!(names, ["Box truck B-101", "Van B-102", "Van B-103"]);
    let olga = app.sign_in("olga@acme.test").await;
    let rows = app
        .call("vehicles/list", Some(&olga), &[])
        .await
        .json::<VehicleList>()
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 6, "Olga sees all of Acme");
    assert!(
        !rows.iter().any(|v| v.name.contains("C-30")),
        "Globex vehicles leaked: {rows:?}"
    );

    let gary = app.sign_in("gary@globex.test").await;
    let rows = app
        .call("vehicles/list", Some(&gary), &[])
        .await
        .json::<VehicleList>()
        .await
        .unwrap()
        .rows;
    assert!(rows.iter().all(|v| v.name.contains("C-30")), "{rows:?}");
    assert_eq!(rows.len(), 2);

    // The denied twin: no session, no vehicles.
    let res = app.call("vehicles/list", None, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app_error(res).await,
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
    let res = app.login("tina@acme.test", "fleetgate-demo").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = common::retry_after(&res);
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(set_cookie(&res).is_none());
    let err = app_error(res).await;
    assert!(err.to_string().starts_with("Too many attempts."), "{err}");
    // The twin: another account from the same address is not locked out.
    assert_eq!(
        app.login("dan@acme.test", "fleetgate-demo").await.status(),
        StatusCode::OK
    );
}

async fn sign_out_revokes_the_session_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("dan@acme.test").await;
    assert_eq!(
        app.call("me", Some(&cookie), &[]).await.status(),
        StatusCode::OK
    );

    let res = app.call("logout", Some(&cookie), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/login");
    let cleared = set_cookie(&res).expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The old cookie is still correctly signed and unexpired, but its session is revoked.
    let res = app.call("me", Some(&cookie), &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app_error(res).await,
        AppError::Unauthenticated {
            reason: AuthFailure::Revoked
        }
    );
    let page = app.get("/vehicles", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

async fn tampered_and_garbage_cookies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("olga@acme.test").await;
    let (name, token) = cookie.split_once('=').unwrap();
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
        let res = app.call("me", Some(bad), &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad:.60}");
        assert_eq!(
            app_error(res).await,
            AppError::Unauthenticated {
                reason: AuthFailure::Invalid
            }
        );
    }
    // The twin: the untouched cookie still works.
    assert_eq!(
        app.call("me", Some(&cookie), &[]).await.status(),
        StatusCode::OK
    );
}

async fn expired_and_forged_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app.sign_in("maria@acme.test").await;
    let real = app.claims_of(&cookie);
    let now = chrono::Utc::now().timestamp();
    let sign = |c: &Claims| format!("fleetgate_session={}", app.keys.sign(c).unwrap());

    let expired = Claims {
        iat: now - 7200,
        nbf: now - 7200,
        exp: now - 3600,
        ..real.clone()
    };
    let res = app.call("me", Some(&sign(&expired)), &[]).await;
    assert_eq!(
        app_error(res).await,
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
        let res = app.call("me", Some(&sign(&c)), &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    // An `act` claim on a plain session is refused: the claims must match the session row.
    let res = app.call("me", Some(&sign(&with_actor)), &[]).await;
    assert_eq!(
        app_error(res).await,
        AppError::Unauthenticated {
            reason: AuthFailure::Invalid
        }
    );

    // A token signed with another key.
    let other = backend::token::TokenKeys::from_secret(&[1u8; 32]).unwrap();
    let forged = format!("fleetgate_session={}", other.sign(&real).unwrap());
    let res = app.call("me", Some(&forged), &[]).await;
    assert_eq!(
        app_error(res).await,
        AppError::Unauthenticated {
            reason: AuthFailure::Invalid
        }
    );
}

async fn pages_need_a_session_and_return_after_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/vehicles?page=2", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/login?next=/vehicles%3Fpage%3D2"
    );
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let login_page = app.get("/login", None).await;
    assert_eq!(login_page.status(), StatusCode::OK);
    let html = login_page.text().await.unwrap();
    assert!(
        html.contains("Sign in") && html.contains("Password"),
        "{html:.300}"
    );

    let cookie = app.sign_in("tina@acme.test").await;
    let res = app.get("/vehicles", Some(&cookie)).await;
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
    let res = app.get("/login", Some(&cookie)).await;
    assert_eq!(res.headers()[header::LOCATION], "/vehicles");
    // An unknown page is a real 404.
    assert_eq!(
        app.get("/no-such-page", Some(&cookie)).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn state_changing_requests_need_our_origin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = [
        ("email", "maria@acme.test"),
        ("password", "fleetgate-demo"),
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
        app.login("maria@acme.test", "fleetgate-demo")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn bad_input_gets_field_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .call(
            "login",
            None,
            &[("email", " "), ("password", "x"), ("next", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app_error(res).await.field_message("email"),
        Some("Enter your e-mail address.")
    );
    let res = app
        .call(
            "login",
            None,
            &[("email", "maria@acme.test"), ("password", ""), ("next", "")],
        )
        .await;
    assert_eq!(
        app_error(res).await.field_message("password"),
        Some("Enter your password.")
    );
    // A body the server function cannot read at all is a 400, not a 500.
    let res = app.call("login", None, &[("unexpected", "field")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(!body.to_lowercase().contains("panick"), "{body}");
}
