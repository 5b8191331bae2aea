//! Impersonation on the audit log, as classes rather than cases: every refused start is an
//! attempt the customer sees; every impersonation ends exactly once, with a record, whatever
//! ends it (and even when two instances race to); audit details are fields that cannot be
//! forged by typing one into another. Over real HTTP, on SQLite and PostgreSQL.

use crate::support::{Backend, DEMO_PASSWORD, Server, Session, TestApp, app_error, view_as_cookie};
use app::api::account::ChangePassword;
use app::api::auth::{CurrentUser, Logout};
use app::api::impersonation::{ExitImpersonation, StartImpersonation};
use app::api::org::SetConsent;
use app::api::teams::RevokePermission;
use app::error::{AppError, AuthFailure};
use backend::audit::{Details, Field};
use backend::entity::{audit_event, organisation, session, user};
use backend::impersonation::ending;
use reqwest::{Response, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use server::config::Tuning;
use std::collections::HashMap;
use std::time::Duration;

on_both_databases!(
    every_refused_start_is_an_attempt_on_the_customers_log,
    a_ticket_typed_into_the_reason_is_refused_and_fields_stay_apart,
    moving_text_between_audit_fields_breaks_the_chain,
    every_impersonation_ends_exactly_once_whatever_ends_it,
    two_instances_sweeping_at_once_end_each_expiry_once,
    random_sequences_end_every_impersonation_exactly_once,
    the_sweep_survives_database_errors,
    losing_the_right_ends_it_when_the_change_commits,
);

const REASON: &str = "Ticket SUP-42: technician cannot complete a work order";

/// A start as the admin console sends it; `who` may be viewing as someone already.
async fn start_as(
    app: &Server,
    who: &Session,
    user: i32,
    mode: &str,
    reason: &str,
    ticket: &str,
) -> Response {
    let start = StartImpersonation {
        user,
        reason: reason.into(),
        ticket: ticket.into(),
        mode: mode.into(),
        minutes: "20".into(),
    };
    app.call_raw(who, start).await
}

async fn start(app: &TestApp, cookie: &Session, email: &str, mode: &str) -> Response {
    let id = app.user_id(email).await;
    start_as(app, cookie, id, mode, REASON, "SUP-42").await
}

/// Starts and returns (view-as cookie, impersonation id).
async fn started(app: &TestApp, cookie: &Session, email: &str, mode: &str) -> (String, String) {
    let res = start(app, cookie, email, mode).await;
    assert_eq!(res.status(), StatusCode::OK, "start on {email}");
    let view_as = view_as_cookie(&res).expect("a view-as cookie");
    let sid = app.claims_of(&view_as).sid;
    (view_as, sid)
}

fn fields(e: &audit_event::Model) -> Details {
    Details::from_stored(e.fields.as_deref()).expect("readable fields")
}

fn fast_sweep() -> Tuning {
    Tuning {
        impersonation_sweep: Duration::from_millis(100),
        ..Tuning::default()
    }
}

async fn events(app: &TestApp, action: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn expire_now(app: &TestApp, sid: &str) {
    session::Entity::update_many()
        .col_expr(
            session::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(5)),
        )
        .filter(session::Column::Id.eq(sid))
        .exec(&app.state.db)
        .await
        .unwrap();
}

async fn live_impersonations(app: &TestApp) -> Vec<session::Model> {
    session::Entity::find()
        .filter(session::Column::ActorUserId.is_not_null())
        .filter(session::Column::RevokedAt.is_null())
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Waits (a few seconds at most) until the sweep has ended every expired impersonation.
async fn await_sweep(app: &TestApp) {
    for _ in 0..100 {
        let now = chrono::Utc::now();
        if live_impersonations(app)
            .await
            .iter()
            .all(|r| r.expires_at > now)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sweep did not end the expired impersonations");
}

/// The invariant: every successful start has exactly one end record (and every end record a
/// start), every ended impersonation's row is revoked, nothing is live past its expiry, and the
/// chain verifies. Returns the end action of each impersonation.
async fn assert_every_start_ends_once(app: &TestApp) -> HashMap<String, String> {
    let all = audit_event::Entity::find()
        .filter(audit_event::Column::Action.starts_with("impersonation."))
        .filter(audit_event::Column::Outcome.eq("success"))
        .all(&app.state.db)
        .await
        .unwrap();
    let starts: Vec<String> = all
        .iter()
        .filter(|e| e.action == "impersonation.start")
        .filter_map(|e| e.impersonation_id.clone())
        .collect();
    let mut ends: HashMap<String, Vec<String>> = HashMap::new();
    for e in all.iter().filter(|e| e.action != "impersonation.start") {
        assert!(
            matches!(
                e.action.as_str(),
                "impersonation.exit"
                    | "impersonation.expire"
                    | "impersonation.signout"
                    | "impersonation.end"
            ),
            "{}",
            e.action
        );
        let id = e
            .impersonation_id
            .clone()
            .expect("an end names its impersonation");
        ends.entry(id).or_default().push(e.action.clone());
    }
    let rows: HashMap<String, session::Model> = session::Entity::find()
        .filter(session::Column::ActorUserId.is_not_null())
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    assert_eq!(
        rows.len(),
        starts.len(),
        "one start record per impersonation"
    );
    let now = chrono::Utc::now();
    let mut result = HashMap::new();
    for id in &starts {
        let row = &rows[id];
        match ends.get(id).map(Vec::as_slice) {
            None => {
                assert!(row.revoked_at.is_none(), "{id} was ended without a record");
                assert!(row.expires_at > now, "{id} is live past its expiry");
            }
            Some([one]) => {
                assert!(row.revoked_at.is_some(), "{id} recorded as ended but live");
                result.insert(id.clone(), one.clone());
            }
            Some(many) => panic!("{id} ended {} times: {many:?}", many.len()),
        }
    }
    assert!(
        ends.keys().all(|id| starts.contains(id)),
        "an end record without a start"
    );
    let (_, broken) = backend::audit::verify(&app.state.db).await.unwrap();
    assert_eq!(broken, None);
    result
}

/// (who, cookie, subject, mode, expected status, organisation of the row, why it says)
type Case<'a> = (
    i32,
    &'a Session,
    i32,
    &'a str,
    StatusCode,
    Option<i32>,
    &'a str,
);

async fn every_refused_start_is_an_attempt_on_the_customers_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let id = |email: &'static str| {
        let app = &app;
        async move { app.user_id(email).await }
    };
    let (admin_id, support_id, olga_id) = (
        id("admin@fleetgate.test").await,
        id("support@fleetgate.test").await,
        id("olga@acme.test").await,
    );
    let (tina_id, dan_id, gary_id) = (
        id("tina@acme.test").await,
        id("dan@acme.test").await,
        id("gary@globex.test").await,
    );
    let acme = user::Entity::find_by_id(tina_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .organisation_id;
    let fleetgate = user::Entity::find_by_id(admin_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .organisation_id;
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(false))
        .filter(user::Column::Id.eq(dan_id))
        .exec(&app.state.db)
        .await
        .unwrap();
    app.set_consent("Globex Transport", "never").await;
    let (_, live_sid) = started(&app, &admin, "maria@acme.test", "view").await;
    let (view_as, _) = started(&app, &admin, "tina@acme.test", "view").await;
    let nested_cookie = admin.viewing_as(&view_as);

    let cases: Vec<Case> = vec![
        (
            support_id,
            &support,
            tina_id,
            "act",
            StatusCode::FORBIDDEN,
            Some(acme),
            "users.impersonate_act",
        ),
        (
            olga_id,
            &olga,
            tina_id,
            "view",
            StatusCode::FORBIDDEN,
            Some(acme),
            "users.impersonate",
        ),
        (
            admin_id,
            &admin,
            admin_id,
            "view",
            StatusCode::FORBIDDEN,
            Some(fleetgate),
            "Admins can never",
        ),
        (
            admin_id,
            &admin,
            support_id,
            "view",
            StatusCode::FORBIDDEN,
            Some(fleetgate),
            "Support staff can never",
        ),
        (
            admin_id,
            &admin,
            dan_id,
            "view",
            StatusCode::FORBIDDEN,
            Some(acme),
            "deactivated",
        ),
        (
            admin_id,
            &admin,
            gary_id,
            "view",
            StatusCode::FORBIDDEN,
            org_of(&app, gary_id).await,
            "does not allow",
        ),
        (
            admin_id,
            &admin,
            999_999,
            "view",
            StatusCode::NOT_FOUND,
            None,
            "no such user",
        ),
    ];
    for (i, (actor, cookie, subject, mode, status, org, why)) in cases.into_iter().enumerate() {
        let before = events(&app, "impersonation.start").await.len();
        let reason = format!("Attempt number {i}: checking a refusal");
        let ticket = format!("SUP-{i}");
        let res = start_as(&app, cookie, subject, mode, &reason, &ticket).await;
        assert_eq!(res.status(), status, "case {i}");
        assert!(view_as_cookie(&res).is_none());
        let after = events(&app, "impersonation.start").await;
        assert_eq!(after.len(), before + 1, "case {i}: exactly one record");
        let e = after.last().unwrap();
        let f = fields(e);
        assert_eq!(e.outcome, "denied", "case {i}");
        assert_eq!(
            e.organisation_id, org,
            "case {i}: on the subject's organisation"
        );
        assert_eq!(e.actor_user_id, Some(actor), "case {i}: the real actor");
        let subject_known = subject != 999_999;
        assert_eq!(
            e.subject_user_id,
            subject_known.then_some(subject),
            "case {i}"
        );
        assert_eq!(e.resource.clone(), Some(format!("user:{subject}")));
        assert_eq!(f.get(Field::Mode), Some(mode), "case {i}");
        assert_eq!(f.get(Field::Reason), Some(reason.as_str()), "case {i}");
        assert_eq!(f.get(Field::Ticket), Some(ticket.as_str()), "case {i}");
        let said = f.get(Field::Why).unwrap_or_default().to_owned()
            + " "
            + f.get(Field::Permission).unwrap_or_default();
        assert!(said.contains(why), "case {i}: {said}");
    }
    // A nested start is refused at the door, before its arguments are read (so whom it aimed
    // at is not known): one denied record of the operator, under the impersonation, on the
    // organisation of the person being viewed.
    let door = "impersonation/start";
    let before = events(&app, door).await.len();
    let res = start_as(
        &app,
        &nested_cookie,
        olga_id,
        "view",
        "Nested attempt",
        "SUP-9",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(view_as_cookie(&res).is_none());
    let after = events(&app, door).await;
    assert_eq!(
        after.len(),
        before + 1,
        "the nested attempt: exactly one record"
    );
    let e = after.last().unwrap();
    assert_eq!(e.outcome, "denied");
    assert_eq!(e.actor_user_id, Some(admin_id), "the real actor");
    assert!(e.impersonation_id.is_some(), "under the impersonation");
    assert_eq!(e.organisation_id, Some(acme));
    assert!(
        fields(e)
            .get(Field::Why)
            .is_some_and(|w| w.contains("viewing as someone else"))
    );

    // Input errors are answered per field and are not attempts.
    let before = events(&app, "impersonation.start").await.len();
    let res = start_as(&app, &admin, tina_id, "view", "short", "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(events(&app, "impersonation.start").await.len(), before);

    // The customer's audit page shows the attempts on its people, with who tried and why.
    let page = app.audit_page(&olga).await;
    let attempts: Vec<_> = page
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.action.as_str(),
                "impersonation.start" | "impersonation/start"
            ) && e.outcome == "denied"
        })
        .collect();
    assert_eq!(
        attempts.len(),
        4,
        "support's, olga's, on dan, and the nested one"
    );
    assert!(attempts.iter().any(|e| {
        e.actor.as_deref() == Some("Sam Support")
            && e.subject.as_deref() == Some("Tina Nguyen")
            && e.field("mode") == Some("act")
            && e.field("why")
                .is_some_and(|w| w.contains("users.impersonate_act"))
    }));
    assert!(
        page.events
            .iter()
            .all(|e| e.organisation.as_deref() == Some("Acme Logistics"))
    );
    // Globex sees the one on Gary, and nothing of Acme's.
    let gary = app.sign_in("gary@globex.test").await;
    let page = app.audit_page(&gary).await;
    let on_gary: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.action == "impersonation.start")
        .collect();
    assert_eq!(on_gary.len(), 1);
    assert_eq!(on_gary[0].subject.as_deref(), Some("Gary Mills"));
    // The twin: the allowed starts are on the log as successes, and still live.
    let ok = events(&app, "impersonation.start")
        .await
        .into_iter()
        .filter(|e| e.outcome == "success")
        .count();
    assert_eq!(ok, 2);
    assert!(
        live_impersonations(&app)
            .await
            .iter()
            .any(|r| r.id == live_sid)
    );
}

async fn org_of(app: &TestApp, gary: i32) -> Option<i32> {
    user::Entity::find_by_id(gary)
        .one(&app.state.db)
        .await
        .unwrap()
        .map(|u| u.organisation_id)
}

async fn a_ticket_typed_into_the_reason_is_refused_and_fields_stay_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.user_id("tina@acme.test").await;
    for (reason, ticket, field) in [
        ("Routine check\r\nticket=SUP-9999", "", "reason"),
        ("Routine check\nticket=SUP-9999", "", "reason"),
        ("Routine check \u{1b}[8m hidden", "", "reason"),
        (
            "Routine check for a customer",
            "SUP-1\r\nreason=none",
            "ticket",
        ),
        ("Routine check for a customer", "SUP-1\0", "ticket"),
    ] {
        let res = start_as(&app, &admin, tina, "view", reason, ticket).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reason:?}");
        let e = app_error(res).await;
        assert!(
            e.field_message(field)
                .is_some_and(|m| m.contains("one line")),
            "{e:?}"
        );
    }
    assert!(events(&app, "impersonation.start").await.is_empty());
    assert!(live_impersonations(&app).await.is_empty());

    // The twin: a reason that merely *mentions* a ticket is kept as the reason, and the real
    // ticket is its own field, on the log and on the customer's page.
    let res = start_as(
        &app,
        &admin,
        tina,
        "view",
        "Routine check; ticket=SUP-9999",
        "SUP-42",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let e = events(&app, "impersonation.start").await.pop().unwrap();
    let f = fields(&e);
    assert_eq!(f.get(Field::Reason), Some("Routine check; ticket=SUP-9999"));
    assert_eq!(f.get(Field::Ticket), Some("SUP-42"));
    assert_eq!(f.get(Field::Mode), Some("view"));
    assert_eq!(e.detail, None, "no free text is written any more");
    let olga = app.sign_in("olga@acme.test").await;
    let page = app.audit_page(&olga).await;
    let row = page
        .events
        .iter()
        .find(|e| e.action == "impersonation.start")
        .unwrap();
    let labelled: Vec<(&str, &str)> = row
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        labelled,
        [
            ("Mode", "view"),
            ("Reason", "Routine check; ticket=SUP-9999"),
            ("Ticket", "SUP-42"),
            ("Minutes", "20"),
        ]
    );
    // The page renders each as its own labelled item (hydration markers aside).
    let html = app
        .get("/audit", Some(&olga))
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(
        html.contains(r#"<div data-field="ticket"><dt>Ticket</dt><dd>SUP-42</dd>"#),
        "{html}"
    );
    assert!(html.contains(
        r#"<div data-field="reason"><dt>Reason</dt><dd>Routine check; ticket=SUP-9999</dd>"#
    ));
}

async fn moving_text_between_audit_fields_breaks_the_chain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.user_id("tina@acme.test").await;
    let res = start_as(&app, &admin, tina, "view", "Routine check", "SUP-42").await;
    assert_eq!(res.status(), StatusCode::OK);
    let row = events(&app, "impersonation.start").await.pop().unwrap();
    let original = row.fields.clone().unwrap();
    let set = |v: String| {
        let db = app.state.db.clone();
        async move {
            audit_event::Entity::update_many()
                .col_expr(audit_event::Column::Fields, Expr::value(v))
                .filter(audit_event::Column::Id.eq(row.id))
                .exec(&db)
                .await
                .unwrap();
            backend::audit::verify(&db).await.unwrap().1
        }
    };
    let forged = |pairs: &[(&str, &str)]| {
        serde_json::to_string(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    for tampered in [
        // One value changed.
        forged(&[
            ("mode", "view"),
            ("reason", "Routine check"),
            ("ticket", "SUP-43"),
            ("minutes", "20"),
        ]),
        // The ticket moved into the reason.
        forged(&[
            ("mode", "view"),
            ("reason", "Routine check; ticket=SUP-42"),
            ("minutes", "20"),
        ]),
        // Text moved across the boundary of two fields.
        forged(&[
            ("mode", "view"),
            ("reason", "Routine checkSUP"),
            ("ticket", "-42"),
            ("minutes", "20"),
        ]),
        // A field renamed.
        forged(&[
            ("mode", "act"),
            ("reason", "Routine check"),
            ("ticket", "SUP-42"),
            ("minutes", "20"),
        ]),
        // Unreadable.
        "[[\"reason\"]]".to_owned(),
    ] {
        assert_eq!(set(tampered.clone()).await, Some(row.id), "{tampered}");
    }
    // Put back exactly as written, the chain is whole again.
    assert_eq!(set(original).await, None);
    // Free text added to a row with fields breaks it too.
    audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Detail, Expr::value("ticket=SUP-9999"))
        .filter(audit_event::Column::Id.eq(row.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        backend::audit::verify(&app.state.db).await.unwrap().1,
        Some(row.id)
    );
}

async fn every_impersonation_ends_exactly_once_whatever_ends_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_sweep()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;

    // Exit.
    let (view_as, exited) = started(&app, &admin, "tina@acme.test", "view").await;
    let viewing = admin.viewing_as(&view_as);
    let res = app.call_raw(&viewing, ExitImpersonation {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Exit again with the dead cookie: refused, no second record.
    let again = app.call_raw(&viewing, ExitImpersonation {}).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // Sign-out of the session it was started from, without its cookie.
    let other = app.sign_in("admin@fleetgate.test").await;
    let (_, signed_out) = started(&app, &other, "maria@acme.test", "view").await;
    assert_eq!(
        app.call_raw(&other, Logout {}).await.status(),
        StatusCode::OK
    );

    // Expiry with the cookie never presented again: the sweep ends it.
    let (_, expired) = started(&app, &admin, "dan@acme.test", "view").await;
    expire_now(&app, &expired).await;
    await_sweep(&app).await;

    // The subject changes their password.
    let (_, password) = started(&app, &admin, "olga@acme.test", "view").await;
    let olga = app.sign_in("olga@acme.test").await;
    let change = ChangePassword {
        current: DEMO_PASSWORD.into(),
        new: "a-brand-new-passphrase".into(),
        repeat: "a-brand-new-passphrase".into(),
    };
    assert_eq!(
        app.call_raw(&olga, change.clone()).await.status(),
        StatusCode::OK
    );

    // The actor changes theirs: impersonations from their other sessions end with them.
    let third = app.sign_in("admin@fleetgate.test").await;
    let (_, actor_password) = started(&app, &third, "tina@acme.test", "view").await;
    assert_eq!(app.call_raw(&admin, change).await.status(), StatusCode::OK);

    // Consent: read-only ends the act-mode one at once, never ends the rest.
    let consent = |consent: &str| SetConsent {
        consent: consent.into(),
    };
    let (_, act) = started(&app, &admin, "tina@acme.test", "act").await;
    let (_, view) = started(&app, &admin, "maria@acme.test", "view").await;
    assert_eq!(
        app.call_raw(&olga, consent("read_only")).await.status(),
        StatusCode::OK
    );
    assert!(
        live_impersonations(&app).await.iter().any(|r| r.id == view),
        "read-only consent keeps view mode"
    );
    assert_eq!(
        app.call_raw(&olga, consent("never")).await.status(),
        StatusCode::OK
    );

    // A Globex one is untouched by Acme's consent, and still live.
    let (_, globex) = started(&app, &admin, "gary@globex.test", "view").await;

    let ends = assert_every_start_ends_once(&app).await;
    let expect = [
        (&exited, "impersonation.exit"),
        (&signed_out, "impersonation.signout"),
        (&expired, "impersonation.expire"),
        (&password, "impersonation.end"),
        (&actor_password, "impersonation.end"),
        (&act, "impersonation.end"),
        (&view, "impersonation.end"),
    ];
    for (id, action) in expect {
        assert_eq!(ends.get(id).map(String::as_str), Some(action), "{id}");
    }
    assert!(!ends.contains_key(&globex));
    let why = |id: &str| {
        let app = &app;
        let id = id.to_owned();
        async move {
            let e = audit_event::Entity::find()
                .filter(audit_event::Column::ImpersonationId.eq(id))
                .filter(audit_event::Column::Action.eq("impersonation.end"))
                .one(&app.state.db)
                .await
                .unwrap()
                .unwrap();
            fields(&e)
        }
    };
    assert!(
        why(&password)
            .await
            .get(Field::Why)
            .unwrap()
            .contains("password")
    );
    assert_eq!(why(&act).await.get(Field::Consent), Some("read_only"));
    assert_eq!(why(&view).await.get(Field::Consent), Some("never"));
    // End records are on the subject's organisation's log, with both identities.
    let e = events(&app, "impersonation.signout").await.pop().unwrap();
    assert_eq!(
        (e.actor_user_id, e.subject_user_id),
        (
            Some(app.user_id("admin@fleetgate.test").await),
            Some(app.user_id("maria@acme.test").await)
        )
    );
    assert_eq!(
        e.organisation_id,
        org_of(&app, app.user_id("maria@acme.test").await).await
    );
}

async fn two_instances_sweeping_at_once_end_each_expiry_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_sweep()).await;
    let other = app.sibling_with(fast_sweep()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let mut ids = Vec::new();
    for email in [
        "tina@acme.test",
        "maria@acme.test",
        "dan@acme.test",
        "olga@acme.test",
    ] {
        for _ in 0..2 {
            ids.push(started(&app, &admin, email, "view").await);
        }
    }
    for (_, sid) in &ids {
        expire_now(&app, sid).await;
    }
    // Both background sweeps, plus explicit sweeps and a request presenting an expired cookie
    // on each instance, all at once.
    let cookie = admin.viewing_as(&ids[0].0);
    let (a, b, c, d, _, _) = tokio::join!(
        ending::sweep(&app.state.db),
        ending::sweep(&other.state.db),
        ending::sweep(&app.state.db),
        ending::sweep(&other.state.db),
        app.call_raw(&cookie, CurrentUser {}),
        other.call_raw(&cookie, CurrentUser {}),
    );
    assert!(a.unwrap() + b.unwrap() + c.unwrap() + d.unwrap() <= ids.len());
    await_sweep(&app).await;
    let ends = assert_every_start_ends_once(&app).await;
    assert_eq!(ends.len(), ids.len());
    assert!(ends.values().all(|a| a == "impersonation.expire"));
}

/// A small deterministic generator (no extra dependency): the same seed, the same sequence.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

async fn random_sequences_end_every_impersonation_exactly_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast_sweep()).await;
    let other = app.sibling_with(fast_sweep()).await;
    let seed = std::env::var("FLEETGATE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("random sequence seed: {seed} (FLEETGATE_TEST_SEED to replay)");
    let mut rng = Lcg(seed);
    let subjects = [
        "tina@acme.test",
        "maria@acme.test",
        "dan@acme.test",
        "gary@globex.test",
    ];
    // (admin session cookie, live impersonations started from it: (view-as cookie, id))
    let mut sessions: Vec<(Session, Vec<(String, String)>)> = Vec::new();
    for step in 0..30 {
        let instance = if rng.below(2) == 0 { &app } else { &other };
        if sessions.is_empty() || rng.below(5) == 0 {
            sessions.push((instance.sign_in("admin@fleetgate.test").await, Vec::new()));
        }
        let s = rng.below(sessions.len());
        let action = rng.below(6);
        let (admin, live) = &mut sessions[s];
        match (action, live.is_empty()) {
            (0 | 1, _) | (_, true) => {
                let email = subjects[rng.below(subjects.len())];
                let mode = if rng.below(2) == 0 { "view" } else { "act" };
                let res = start(instance, admin, email, mode).await;
                if let Some(v) = view_as_cookie(&res) {
                    let sid = instance.claims_of(&v).sid;
                    live.push((v, sid));
                }
            }
            (2, false) => {
                let (v, _) = live.remove(rng.below(live.len()));
                let _ = instance
                    .call_raw(&admin.viewing_as(&v), ExitImpersonation {})
                    .await;
            }
            (3, false) => {
                let (_, sid) = &live[rng.below(live.len())];
                expire_now(instance, sid).await;
            }
            (4, false) => {
                let _ = instance.call_raw(&*admin, Logout {}).await;
                sessions.remove(s);
            }
            _ => {
                // Present a cookie: live, expired or ended, the request must not end it twice.
                let (v, _) = &live[rng.below(live.len())];
                let _ = instance
                    .call_raw(&admin.viewing_as(v), CurrentUser {})
                    .await;
            }
        }
        if step % 10 == 9 {
            await_sweep(&app).await;
            assert_every_start_ends_once(&app).await;
        }
    }
    await_sweep(&app).await;
    let ends = assert_every_start_ends_once(&app).await;
    eprintln!("{} impersonations ended: {ends:?}", ends.len());
}

async fn the_sweep_survives_database_errors(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(backend, fast_sweep()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let (_, sid) = started(&app, &admin, "tina@acme.test", "view").await;
    expire_now(&app, &sid).await;
    // The sessions table goes away for a while: every sweep meanwhile fails.
    app.state
        .db
        .execute_unprepared("ALTER TABLE sessions RENAME TO sessions_away")
        .await
        .unwrap();
    assert!(ending::sweep(&app.state.db).await.is_err());
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.state
        .db
        .execute_unprepared("ALTER TABLE sessions_away RENAME TO sessions")
        .await
        .unwrap();
    // The background sweep is still running and catches up.
    await_sweep(&app).await;
    let ends = assert_every_start_ends_once(&app).await;
    assert_eq!(
        ends.get(&sid).map(String::as_str),
        Some("impersonation.expire")
    );
}

/// A revoked grant in the operator's organisation ends, in the same transaction, the
/// impersonations of every actor who no longer holds what their mode needs: "rights lost" is on
/// the record at once, not when the cookie is next seen or the sweep finds it expired. The
/// twin: an actor who still holds the right (through another team) goes on.
async fn losing_the_right_ends_it_when_the_change_commits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fleetgate = app.team_id("Fleetgate").await;
    let operator_org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("Fleetgate"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    // The demo's admins cannot change operator grants; give them the means for this test.
    backend::directory::grant(
        &app.state.db,
        operator_org,
        fleetgate,
        [domain::authz::Permission::PermissionsGrant]
            .into_iter()
            .collect(),
        None,
    )
    .await
    .unwrap();
    let admin = app.sign_in("admin@fleetgate.test").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let (sam_view, sam_sid) = started(&app, &support, "tina@acme.test", "view").await;
    let (alice_view, alice_sid) = started(&app, &admin, "dan@acme.test", "view").await;

    let revoke = RevokePermission {
        team: fleetgate,
        permission: "users.impersonate".into(),
    };
    app.call(&admin, revoke)
        .await
        .expect("the admin revokes it");

    // Ended at once, with its one record, before anyone presents the cookie.
    let row = session::Entity::find_by_id(sam_sid.clone())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.revoked_at.is_some(),
        "support's impersonation ended with the grant"
    );
    let ends: Vec<_> = events(&app, "impersonation.end")
        .await
        .into_iter()
        .filter(|e| e.impersonation_id.as_deref() == Some(sam_sid.as_str()))
        .collect();
    assert_eq!(ends.len(), 1);
    assert!(
        fields(&ends[0])
            .get(Field::Why)
            .is_some_and(|w| w.contains("users.impersonate"))
    );
    assert_eq!(
        app.call(&support.viewing_as(&sam_view), CurrentUser {})
            .await
            .unwrap_err(),
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    // Twin: the admin holds it through Administrators as well, and goes on viewing.
    let alice = session::Entity::find_by_id(alice_sid)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(alice.revoked_at.is_none());
    assert_eq!(
        app.call_raw(&admin.viewing_as(&alice_view), CurrentUser {})
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(events(&app, "impersonation.end").await.len(), 1);
    assert_eq!(backend::audit::verify(&app.state.db).await.unwrap().1, None);
}
