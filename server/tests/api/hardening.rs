//! What an outside attack on the release build found, each as its class, with the attack and
//! its twin (the legitimate request that must still work), on SQLite and PostgreSQL:
//! sign-out with a broken overlay, the door every server function passes before parsing (public
//! ones included), host trust, response headers, and dot segments.

use crate::support::{
    Backend, DEMO_PASSWORD, Session, TestApp, app_error, session_cookie, view_as_cookie,
};
use app::api::auth::{CurrentUser, Login, Logout};
use app::api::door;
use app::api::impersonation::{ExitImpersonation, StartImpersonation};
use app::api::policy::{Kind, Requirement};
use app::error::{AppError, AuthFailure};
use backend::entity::audit_event;
use reqwest::{StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_databases!(
    sign_out_revokes_the_session_whatever_the_view_as_cookie,
    sign_out_during_a_live_impersonation_exits_it,
    signing_in_while_viewing_as_someone_is_refused,
    every_server_function_enforces_its_declaration_before_parsing,
    only_this_servers_own_names_are_served,
    answers_carry_the_security_headers,
    behind_https_browsers_are_told_to_use_it_and_only_the_public_name_is_served,
    dot_segments_are_refused_before_routing,
    an_absolute_form_request_line_must_name_this_server,
    an_overlong_sign_in_is_a_field_error_not_a_500,
    signing_in_again_ends_the_previous_session,
);

const REASON: &str = "Ticket SUP-7: checking the work order page";
/// Text that must never come back in an answer to a caller without a session.
const MARKER: &str = "ECHO-ME-BACK-7f3a";

async fn start_viewing(app: &TestApp, admin: &Session, email: &str, mode: &str) -> String {
    let start = StartImpersonation {
        user: app.user_id(email).await,
        reason: REASON.into(),
        ticket: String::new(),
        mode: mode.into(),
        minutes: String::new(),
    };
    let res = app.call_raw(admin, start).await;
    assert_eq!(res.status(), StatusCode::OK, "start viewing as {email}");
    view_as_cookie(&res).expect("a view-as cookie")
}

/// A sign-in with the demo password, as the sign-in form sends it.
fn login(email: &str) -> Login {
    Login {
        email: email.into(),
        password: DEMO_PASSWORD.into(),
        next: Some(String::new()),
    }
}

async fn me_status(app: &TestApp, who: &Session) -> StatusCode {
    app.call_raw(who, CurrentUser {}).await.status()
}

/// Item 1. Whatever state the view-as cookie is in (exited in another tab, garbage, signed by
/// someone else), signing out revokes the session the own cookie names.
async fn sign_out_revokes_the_session_whatever_the_view_as_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    // Exited elsewhere: the overlay is dead, the own session must still end.
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as = start_viewing(&app, &admin, "tina@acme.test", "view").await;
    let viewing = admin.viewing_as(&view_as);
    let exit = app.call_raw(&viewing, ExitImpersonation {}).await;
    assert_eq!(exit.status(), StatusCode::OK);
    let res = app.call_raw(&viewing, Logout {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me_status(&app, &admin).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.call(&admin, CurrentUser {}).await.unwrap_err(),
        AppError::Unauthenticated {
            reason: AuthFailure::Revoked
        }
    );

    // Garbage, and a validly shaped token from another key.
    for junk in [
        "fleetgate_view_as=garbage".to_owned(),
        format!("fleetgate_view_as={}", "x".repeat(5000)),
        "fleetgate_view_as=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".to_owned(),
    ] {
        let maria = app.sign_in("maria@acme.test").await;
        assert_eq!(me_status(&app, &maria).await, StatusCode::OK);
        let res = app.call_raw(&maria.viewing_as(&junk), Logout {}).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            me_status(&app, &maria).await,
            StatusCode::UNAUTHORIZED,
            "{junk:.40}"
        );
    }

    // Twin: a plain sign-out of one session leaves another session of the same user alive.
    let one = app.sign_in("dan@acme.test").await;
    let two = app.sign_in("dan@acme.test").await;
    assert_eq!(app.call_raw(&one, Logout {}).await.status(), StatusCode::OK);
    assert_eq!(me_status(&app, &one).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &two).await, StatusCode::OK);
}

/// The twin of item 1: with a live impersonation, signing out leaves it (DESIGN: "Logging out
/// while impersonating exits"), and the operator's own session goes on.
async fn sign_out_during_a_live_impersonation_exits_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as = start_viewing(&app, &admin, "tina@acme.test", "view").await;
    let viewing = admin.viewing_as(&view_as);
    let res = app.call_raw(&viewing, Logout {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.call(&viewing, CurrentUser {}).await.unwrap_err(),
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    assert_eq!(me_status(&app, &admin).await, StatusCode::OK);
}

/// Item 7. `/api/login` is own-name-only: refused while viewing as someone, audited, and the
/// overlay is untouched (no new session is minted).
async fn signing_in_while_viewing_as_someone_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as = start_viewing(&app, &admin, "tina@acme.test", "act").await;
    let cookie = admin.viewing_as(&view_as);
    for email in ["maria@acme.test", "admin@fleetgate.test", "tina@acme.test"] {
        let res = app.call_raw(&cookie, login(email)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{email}");
        assert!(session_cookie(&res).is_none(), "no session for {email}");
        assert!(matches!(app_error(res).await, AppError::Forbidden { .. }));
    }
    let denied = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("login"))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .filter(audit_event::Column::ImpersonationId.is_not_null())
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(denied, 3, "each refused sign-in is on the audit log");

    // Twin: the same sign-in without the overlay works.
    let res = app.login("maria@acme.test", DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(session_cookie(&res).is_some());
}

/// Items 7 and 11, for every registered server function: the door is enforced before any
/// argument is parsed. Without a session, everything but the public functions answers 401 to a
/// garbage body and echoes none of it; in read-only impersonation every write and every
/// own-name-only function is refused; the twins show the door lets the legitimate call in.
async fn every_server_function_enforces_its_declaration_before_parsing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as = start_viewing(&app, &admin, "maria@acme.test", "view").await;
    let viewing = admin.viewing_as(&view_as);
    let garbage = format!("%%%{MARKER}=\u{1}&user=not-a-number&team={MARKER}");

    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(registered.len() >= 30, "{registered:?}");
    for path in &registered {
        let declared = door::lookup(path).unwrap_or_else(|| panic!("{path} has no policy"));
        let post = |cookie: Option<&Session>| {
            let mut req = app
                .client
                .post(app.url(path))
                .header(header::ORIGIN, &app.base)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(garbage.clone());
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c.cookie());
            }
            req.send()
        };

        let res = post(None).await.expect("request");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert!(!body.contains(MARKER), "{path} echoed its input: {body}");
        if declared.requirement == Requirement::Public {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{path} is public");
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{path} without a session: {body}"
            );
        }

        if declared.kind == Kind::Exit {
            continue; // leaving is always allowed (and would end the impersonation here)
        }
        let res = post(Some(&viewing)).await.expect("request");
        let status = res.status();
        let body = res.text().await.expect("body");
        match declared.kind {
            Kind::OwnNameOnly | Kind::Write => {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{path} while viewing: {body}"
                )
            }
            // Admitted at the door: whatever the function answers next (its own argument error,
            // or the subject's missing permission), it is not the door's refusal.
            _ => assert!(
                status != StatusCode::UNAUTHORIZED
                    && !body.contains("read_only_impersonation")
                    && !body.contains("while viewing as someone else"),
                "{path} is a read, allowed while viewing: {status} {body}"
            ),
        }
    }

    // Twin: an admitted caller with garbage gets the function's own argument error, not 401.
    let maria = app.sign_in("maria@acme.test").await;
    let res = app
        .client
        .post(app.url("/api/vehicles/create"))
        .header(header::ORIGIN, &app.base)
        .header(header::COOKIE, maria.cookie())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(garbage.clone())
        .send()
        .await
        .expect("request");
    assert!(res.status().is_client_error());
    assert_ne!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Item 8. DNS rebinding: a page on `evil.test` resolving to this server sends its own `Host`.
/// Only the listening address's own names are served (no public URL is configured here).
async fn only_this_servers_own_names_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let port = app.base.rsplit(':').next().expect("port").to_owned();
    let maria = app.sign_in("maria@acme.test").await;
    let evil = format!("evil.test:{port}");
    for (method, path) in [("GET", "/vehicles"), ("GET", "/login"), ("POST", "/api/me")] {
        let req = app
            .client
            .request(method.parse().expect("method"), app.url(path))
            .header(header::HOST, &evil)
            .header(header::ORIGIN, format!("http://{evil}"))
            .header(header::COOKIE, maria.cookie());
        let res = req.send().await.expect("request");
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{method} {path} as {evil}"
        );
    }
    // A write from the rebinding page is refused too, and nothing is created.
    let before = count_vehicles(&app).await;
    let res = app
        .client
        .post(app.url("/api/vehicles/create"))
        .header(header::HOST, &evil)
        .header(header::ORIGIN, format!("http://{evil}"))
        .header(header::COOKIE, maria.cookie())
        .form(&[("name", "Rebound"), ("vin", "1HGCM82633A004352")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count_vehicles(&app).await, before);
    // The probes answer whatever name a load balancer uses.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header(header::HOST, "10.0.0.9:8080")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);

    // Twins: the loopback names of the listening address are this app.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let res = app
            .client
            .post(app.url("/api/me"))
            .header(header::HOST, &host)
            .header(header::ORIGIN, format!("http://{host}"))
            .header(header::COOKIE, maria.cookie())
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
    // A page on another loopback name is another site: it may not write to this one.
    let res = app
        .client
        .post(app.url("/api/me"))
        .header(header::ORIGIN, format!("http://localhost:{port}"))
        .header(header::COOKIE, maria.cookie())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An origin that is not this app's, with the right Host, is still a cross-site write.
    let res = app
        .client
        .post(app.url("/api/me"))
        .header(header::ORIGIN, format!("http://evil.test:{port}"))
        .header(header::COOKIE, maria.cookie())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn count_vehicles(app: &TestApp) -> u64 {
    backend::entity::vehicle::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count")
}

/// Item 9. Every answer forbids framing and sniffing; pages carry a CSP whose nonce is the one
/// on their scripts and no `unsafe-inline`; personal answers are never stored.
async fn answers_carry_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let page = app.get("/vehicles", &maria).await;
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    let html = page.text().await.expect("html");
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(get("x-frame-options"), "DENY");
    assert_eq!(get("x-content-type-options"), "nosniff");
    assert_eq!(get("referrer-policy"), "same-origin");
    assert_eq!(get("cross-origin-opener-policy"), "same-origin");
    assert_eq!(get("cache-control"), "no-store");
    assert!(
        get("strict-transport-security").is_empty(),
        "no HSTS over plain HTTP"
    );
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page's CSP");
    assert!(nonce.len() >= 16);
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the scripts carry the nonce"
    );
    assert!(
        !html.contains(" style=\""),
        "no inline styles under style-src 'self'"
    );
    // Another page view, another nonce.
    let again = app.get("/vehicles", &maria).await;
    let csp2 = again
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_ne!(csp, csp2);

    // A server-function answer: personal data, never stored, nothing may run from it.
    let res = app.call_raw(&maria, CurrentUser {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    let get = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(get("cache-control"), "no-store");
    assert!(get("content-security-policy").starts_with("default-src 'none'"));
    assert_eq!(get("x-frame-options"), "DENY");
}

/// Behind HTTPS, browsers are told never to use plain HTTP; with a public URL, only its name
/// is served.
async fn behind_https_browsers_are_told_to_use_it_and_only_the_public_name_is_served(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut config = app_config_with_public_url(&app, "https://fleet.example.test");
    config.demo = false;
    let secure = app_with(&app, &config).await;
    let res = secure
        .client
        .get(secure.url("/healthz"))
        .header(header::HOST, "fleet.example.test")
        .send()
        .await
        .expect("request");
    assert!(
        res.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("max-age=")),
        "HSTS behind HTTPS"
    );
    let res = secure
        .client
        .get(secure.url("/login"))
        .header(header::HOST, "127.0.0.1")
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "with a public URL, only its name is served"
    );
    let res = secure
        .client
        .get(secure.url("/login"))
        .header(header::HOST, "fleet.example.test")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
}

fn app_config_with_public_url(app: &TestApp, url: &str) -> server::config::Config {
    let mut config = app.config().clone();
    config.public_url = Some(url.to_owned());
    config
}

async fn app_with(app: &TestApp, config: &server::config::Config) -> TestApp {
    app.sibling_with_config(config).await
}

/// Item 12. `/pkg/` is not a page, so the page guard lets it through; with dot segments the
/// path would name a page. Such paths are refused before routing, however they are spelled.
async fn dot_segments_are_refused_before_routing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for path in [
        "/pkg/../vehicles",
        "/pkg/%2e%2e/vehicles",
        "/pkg/%2E%2E/admin/users",
        "/pkg/./../vehicles",
        "/pkg/..%2fvehicles",
        "/pkg/..\\vehicles",
    ] {
        let (status, body) = raw_get(&addr, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!body.contains("<!DOCTYPE html>"), "{path} rendered a page");
    }
    // Twins: the plain paths behave as before.
    let (status, _) = raw_get(&addr, "/vehicles").await;
    assert_eq!(status, 303, "a page without a session goes to sign-in");
    let (status, _) = raw_get(&addr, "/healthz").await;
    assert_eq!(status, 200);
}

/// An absolute-form request line names the host too: it must be ours, and the Host's.
async fn an_absolute_form_request_line_must_name_this_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let port = addr.rsplit(':').next().expect("port");
    let (status, _) = raw(&addr, &format!("http://evil.test:{port}/vehicles"), &addr).await;
    assert_eq!(status, 400, "absolute form naming another host");
    let (status, _) = raw(&addr, &format!("http://{addr}/vehicles"), &addr).await;
    assert_eq!(status, 303, "absolute form naming this one");
}

/// A GET sent byte for byte (HTTP clients resolve dot segments before sending).
async fn raw_get(addr: &str, path: &str) -> (u16, String) {
    raw(addr, path, addr).await
}

async fn raw(addr: &str, target: &str, host: &str) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tcp.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A value longer than its column must never reach the database as a 500 (PostgreSQL refuses
/// it; SQLite would store it): the e-mail of a sign-in is used as a throttle key.
async fn an_overlong_sign_in_is_a_field_error_not_a_500(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = format!("{}@x.io", "a".repeat(295));
    let res = app.login(&email, "whatever").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app_error(res).await.field_message("email").is_some());
    // Twin: an address of a legal length is an ordinary failed sign-in.
    let res = app
        .login(&format!("{}@x.io", "a".repeat(60)), "whatever")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Signing in from a browser that is already signed in replaces its session: the old cookie
/// is dead at once, so a shared browser never keeps two identities alive.
async fn signing_in_again_ends_the_previous_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.sign_in("maria@acme.test").await;
    let res = app.call_raw(&first, login("dan@acme.test")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = session_cookie(&res).expect("a new session");
    assert_eq!(me_status(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &second).await, StatusCode::OK);
}
