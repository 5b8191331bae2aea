//! Support access the customer controls (DESIGN.md), over real HTTP on SQLite and PostgreSQL:
//! the consent "only with a grant" and its grants (who may open them, for whom, for how long,
//! revoked on one instance and refused on another), protected people and teams, and the notice
//! every impersonation leaves its person. Each rule with the attempt to get round it.

use crate::support::{Backend, Session, TestApp, view_as_cookie};
use app::api::admin::AdminUsers;
use app::api::auth::CurrentUser;
use app::api::impersonation::{ExitImpersonation, StartImpersonation};
use app::api::org::SetConsent;
use app::api::support_access::{
    AnswerSupportRequest, DismissNotice, GetProtections, GetSupportAccess, GrantSupportAccess,
    RequestSupportAccess, RevokeSupportGrant, SetProtection, SupportNotices, SupportRequests,
};
use app::error::{AppError, AuthFailure};
use app::model::AdminUserRow;
use backend::entity::{audit_event, mail_outbox, session, support_grant, support_notice};
use domain::impersonation::Refusal;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

on_both_databases!(
    only_with_a_grant_support_views_as_no_one_without_one,
    who_may_open_and_revoke_a_grant_for_whom,
    an_expired_grant_opens_nothing,
    a_grant_revoked_on_one_instance_ends_the_impersonation_on_another,
    protected_people_and_teams_are_never_viewed_as,
    every_impersonation_leaves_its_person_exactly_one_notice,
    support_asks_and_the_customer_answers,
    the_trail_records_what_support_saw_and_nothing_else,
);

const REASON: &str = "Ticket SUP-314: checking the work order list";

fn grant(user: Option<i32>, length: &str, mode: &str) -> GrantSupportAccess {
    GrantSupportAccess {
        user,
        length: length.into(),
        mode: Some(mode.into()),
        ticket: "SUP-314".into(),
        note: String::new(),
    }
}

fn viewing(user: i32, mode: &str) -> StartImpersonation {
    StartImpersonation {
        user,
        reason: REASON.into(),
        ticket: "SUP-314".into(),
        mode: mode.into(),
        minutes: String::new(),
    }
}

/// Starts viewing as `user`: the view-as session, or the refusal.
async fn view_as(
    app: &TestApp,
    admin: &Session,
    user: i32,
    mode: &str,
) -> Result<Session, AppError> {
    let res = app.call_raw(admin, viewing(user, mode)).await;
    match view_as_cookie(&res) {
        Some(c) if res.status() == StatusCode::OK => Ok(admin.viewing_as(&c)),
        _ => Err(crate::support::app_error(res).await),
    }
}

/// The admin console's row of `email`.
async fn row_of(app: &TestApp, admin: &Session, email: &str) -> AdminUserRow {
    let page = app
        .call(
            admin,
            AdminUsers {
                q: Some(email.into()),
                organisation: None,
                role: None,
                active: None,
                after: None,
            },
        )
        .await
        .expect("the admin console");
    page.rows
        .into_iter()
        .find(|r| r.email == email)
        .expect("the row")
}

async fn only_with_a_grant_support_views_as_no_one_without_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    app.call(
        &olga,
        SetConsent {
            consent: "with_grant".into(),
        },
    )
    .await
    .expect("Olga sets only with a grant");

    // No grant: greyed with the reason, and refused (and audited) if sent anyway.
    let row = row_of(&app, &admin, "tina@acme.test").await;
    assert_eq!(row.view_as, Err(Refusal::NoGrant));
    assert_eq!(row.granted_until, None);
    let refused = view_as(&app, &admin, tina_id, "view").await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused.to_string().contains("No support access grant"),
        "{refused}"
    );

    // Tina grants read-only access for an hour: viewing works, acting does not.
    app.call(&tina, grant(None, "1h", "view"))
        .await
        .expect("Tina grants support access");
    let row = row_of(&app, &admin, "tina@acme.test").await;
    assert_eq!(row.view_as, Ok(()));
    assert!(row.granted_until.is_some());
    let act = view_as(&app, &admin, tina_id, "act").await.unwrap_err();
    assert!(act.to_string().contains("read-only"), "{act}");
    let viewing = view_as(&app, &admin, tina_id, "view")
        .await
        .expect("viewing as Tina with her grant");
    let me = app.call(&viewing, CurrentUser {}).await.expect("as Tina");
    assert_eq!(me.full_name, "Tina Nguyen");
    app.call(&viewing, ExitImpersonation {})
        .await
        .expect("exit");

    // Her grant is on her account page; she revokes it and View as is greyed again.
    let mine = app.call(&tina, GetSupportAccess {}).await.expect("account");
    assert_eq!(mine.grants.len(), 1);
    assert_eq!(mine.viewings.len(), 1);
    assert_eq!(mine.viewings[0].actor, "Alice Admin");
    app.call(
        &tina,
        RevokeSupportGrant {
            grant: mine.grants[0].id,
        },
    )
    .await
    .expect("Tina revokes");
    let row = row_of(&app, &admin, "tina@acme.test").await;
    assert_eq!(row.view_as, Err(Refusal::NoGrant));
    assert!(view_as(&app, &admin, tina_id, "view").await.is_err());

    // Every step on the log: the grant, its revocation, the refused starts.
    for (action, outcome, n) in [
        ("support/grant", "success", 1),
        ("support/revoke", "success", 1),
        ("impersonation.start", "denied", 3),
    ] {
        let count = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .filter(audit_event::Column::Outcome.eq(outcome))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(count, n, "{action} {outcome}");
    }
}

async fn who_may_open_and_revoke_a_grant_for_whom(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let dan = app.sign_in("dan@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    let dan_id = app.user_id("dan@acme.test").await;

    // For someone else: org.settings (Olga), not a technician, not Maria (her region only).
    let e = app
        .call(&tina, grant(Some(dan_id), "1h", "view"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    assert!(e.to_string().contains("org.settings"), "{e}");
    let e = app
        .call(&maria, grant(Some(dan_id), "1h", "view"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    app.call(&olga, grant(Some(tina_id), "1d", "act"))
        .await
        .expect("Olga grants for Tina");
    // Another organisation's person is not found; operator staff have nothing to grant.
    let e = app
        .call(&gary, grant(Some(tina_id), "1h", "view"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
    let e = app
        .call(&admin, grant(None, "1h", "view"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    // Bad input: a clear error on its field, nothing written.
    let e = app
        .call(&tina, grant(None, "2h", "view"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Read-only only: no act grant.
    app.set_consent("Acme Logistics", "read_only").await;
    let e = app.call(&tina, grant(None, "1h", "act")).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.set_consent("Acme Logistics", "never").await;
    let e = app
        .call(&tina, grant(None, "1h", "view"))
        .await
        .unwrap_err();
    assert!(
        e.field_message("mode")
            .is_some_and(|m| m.contains("never allows support access")),
        "{e:?}"
    );
    app.set_consent("Acme Logistics", "with_grant").await;
    let grants = support_grant::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(grants.len(), 1, "only Olga's grant was written");

    // An impersonation never grants in its person's name, even acting.
    let viewing = view_as(&app, &admin, tina_id, "act")
        .await
        .expect("acting as Tina with Olga's grant");
    let e = app
        .call(&viewing, grant(None, "7d", "act"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    app.call(&viewing, ExitImpersonation {})
        .await
        .expect("exit");

    // Revoking: not Dan (neither its person, its grantor nor org.settings); Tina may.
    let e = app
        .call(
            &dan,
            RevokeSupportGrant {
                grant: grants[0].id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let e = app
        .call(
            &gary,
            RevokeSupportGrant {
                grant: grants[0].id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
    app.call(
        &tina,
        RevokeSupportGrant {
            grant: grants[0].id,
        },
    )
    .await
    .expect("Tina revokes the grant Olga opened for her");
    let denied = audit_event::Entity::find()
        .filter(audit_event::Column::Action.is_in(["support/grant", "support/revoke"]))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(denied >= 4, "every refusal audited: {denied}");
}

async fn an_expired_grant_opens_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    app.set_consent("Acme Logistics", "with_grant").await;
    app.call(&tina, grant(None, "1h", "view"))
        .await
        .expect("a grant");
    let viewing = view_as(&app, &admin, tina_id, "view")
        .await
        .expect("viewing");
    // The hour passes (moved back in the database).
    support_grant::Entity::update_many()
        .col_expr(
            support_grant::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    // The live impersonation ends on its next request, and no new one starts.
    let e = app.call(&viewing, CurrentUser {}).await.unwrap_err();
    assert_eq!(
        e,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    let e = view_as(&app, &admin, tina_id, "view").await.unwrap_err();
    assert!(e.to_string().contains("No support access grant"), "{e}");
    let mine = app.call(&tina, GetSupportAccess {}).await.expect("account");
    assert!(mine.grants.is_empty(), "an expired grant is not live");
}

async fn a_grant_revoked_on_one_instance_ends_the_impersonation_on_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.sibling().await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    app.set_consent("Acme Logistics", "with_grant").await;
    app.call(&tina, grant(None, "1h", "view"))
        .await
        .expect("a grant");
    let viewing = view_as(&app, &admin, tina_id, "view")
        .await
        .expect("viewing");
    assert!(app.call(&viewing, CurrentUser {}).await.is_ok());
    let id = app.call(&tina, GetSupportAccess {}).await.unwrap().grants[0].id;
    other
        .call(&tina, RevokeSupportGrant { grant: id })
        .await
        .expect("revoked on the other instance");
    // Ended in the revocation's transaction: refused on the first instance's next request.
    let e = app.call(&viewing, CurrentUser {}).await.unwrap_err();
    assert_eq!(
        e,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    let ended = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("impersonation.end"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the end on the log");
    assert!(
        ended
            .fields
            .unwrap_or_default()
            .contains("No support access grant"),
        "the end names why"
    );
    // The admin's own session goes on.
    let me = app.call(&admin, CurrentUser {}).await.expect("admin");
    assert_eq!(me.full_name, "Alice Admin");
}

async fn protected_people_and_teams_are_never_viewed_as(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    let dan_id = app.user_id("dan@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;
    let protect = |kind: &str, id, protect| SetProtection {
        kind: kind.into(),
        id,
        protect,
    };

    // Tina is viewed as; protecting Northeast (above her depot) ends it at once.
    let viewing = view_as(&app, &admin, tina_id, "view")
        .await
        .expect("viewing");
    let e = app
        .call(&maria, protect("team", northeast, true))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN, "org.settings only");
    let e = app
        .call(&gary, protect("team", northeast, true))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND, "another organisation's");
    app.call(&olga, protect("team", northeast, true))
        .await
        .expect("Olga protects Northeast");
    let e = app.call(&viewing, CurrentUser {}).await.unwrap_err();
    assert_eq!(
        e,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    let row = row_of(&app, &admin, "tina@acme.test").await;
    assert_eq!(
        row.view_as,
        Err(Refusal::Protected {
            by: "Acme Logistics".into()
        })
    );
    let e = view_as(&app, &admin, tina_id, "view").await.unwrap_err();
    assert!(e.to_string().contains("Protected by Acme Logistics"), "{e}");
    // Whatever the grants say.
    let tina = app.sign_in("tina@acme.test").await;
    app.call(&tina, grant(None, "1h", "act"))
        .await
        .expect("a grant");
    assert!(view_as(&app, &admin, tina_id, "view").await.is_err());
    // Dan, in the West, is not protected; then he is, by name.
    let viewing = view_as(&app, &admin, dan_id, "view")
        .await
        .expect("Dan is not protected");
    app.call(&viewing, ExitImpersonation {}).await.unwrap();
    app.call(&olga, protect("user", dan_id, true))
        .await
        .expect("Olga protects Dan");
    assert!(view_as(&app, &admin, dan_id, "view").await.is_err());
    // The settings list shows both; unprotecting Northeast lets Tina be viewed as again.
    let list = app.call(&olga, GetProtections {}).await.expect("the list");
    assert!(list.teams.iter().any(|t| t.id == northeast && t.protected));
    assert!(list.people.iter().any(|p| p.id == dan_id && p.protected));
    assert!(app.call(&maria, GetProtections {}).await.is_err());
    app.call(&olga, protect("team", northeast, false))
        .await
        .expect("unprotected");
    assert!(view_as(&app, &admin, tina_id, "view").await.is_ok());
}

async fn every_impersonation_leaves_its_person_exactly_one_notice(backend: Backend) {
    // The postman waits: the mails are read from the queue, whose bodies it erases once it
    // delivers them (every second by default, which a slow run could reach).
    let tuning = server::config::Tuning {
        mail_every: std::time::Duration::from_secs(3600),
        ..server::config::Tuning::default()
    };
    let app = TestApp::spawn_with(backend, tuning).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;

    // Ended three ways: an exit, a consent change, a sign-out of the admin's session.
    let viewing = view_as(&app, &admin, tina_id, "view").await.unwrap();
    // While viewed as, her notices are not shown to the viewer, and cannot be dismissed.
    assert_eq!(app.call(&viewing, SupportNotices {}).await.unwrap(), vec![]);
    app.call(&viewing, ExitImpersonation {}).await.unwrap();
    let viewing = view_as(&app, &admin, tina_id, "view").await.unwrap();
    let e = app
        .call(&viewing, DismissNotice { id: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    app.call(
        &olga,
        SetConsent {
            consent: "never".into(),
        },
    )
    .await
    .unwrap();
    app.set_consent("Acme Logistics", "allowed").await;
    let _ = view_as(&app, &admin, tina_id, "act").await.unwrap();
    app.call(&admin, app::api::auth::Logout {}).await.unwrap();

    let impersonations = session::Entity::find()
        .filter(session::Column::UserId.eq(tina_id))
        .filter(session::Column::ActorUserId.is_not_null())
        .count(&app.state.db)
        .await
        .unwrap();
    let notices = support_notice::Entity::find()
        .filter(support_notice::Column::UserId.eq(tina_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!((impersonations, notices), (3, 3));
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Recipient.eq("tina@acme.test"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(mails.len(), 3, "a mail each");
    assert!(mails[0].body.contains("Alice Admin") && mails[0].body.contains(REASON));

    // Tina sees them, naming who and why, until she dismisses each.
    let shown = app.call(&tina, SupportNotices {}).await.unwrap();
    assert_eq!(shown.len(), 3);
    assert!(
        shown
            .iter()
            .all(|n| n.actor == "Alice Admin" && n.reason == REASON)
    );
    app.call(
        &tina,
        DismissNotice {
            id: shown[0].id.clone(),
        },
    )
    .await
    .expect("dismissed");
    assert_eq!(app.call(&tina, SupportNotices {}).await.unwrap().len(), 2);
    // Someone else's notice is not found.
    let e = app
        .call(
            &olga,
            DismissNotice {
                id: shown[1].id.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
    // Her session was signed in before any of them, and shows them: whether she has notices is
    // read with the session on each request, not kept from the sign-in. Once all are
    // dismissed, none shows.
    for n in &shown[1..] {
        let dismiss = DismissNotice { id: n.id.clone() };
        app.call(&tina, dismiss).await.expect("dismissed");
    }
    assert_eq!(app.call(&tina, SupportNotices {}).await.unwrap(), vec![]);
}

fn ask(user: i32) -> RequestSupportAccess {
    RequestSupportAccess {
        user,
        reason: REASON.into(),
        ticket: "SUP-314".into(),
        mode: None,
    }
}

fn answer(request: i32, approve: bool, why: &str) -> AnswerSupportRequest {
    AnswerSupportRequest {
        request,
        approve,
        length: Some("1h".into()),
        why: why.into(),
    }
}

async fn support_asks_and_the_customer_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let dan = app.sign_in("dan@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    app.set_consent("Acme Logistics", "with_grant").await;

    // Operator staff ask; a customer cannot, and a reason is needed.
    let e = app.call(&olga, ask(tina_id)).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let mut short = ask(tina_id);
    short.reason = "help".into();
    let e = app.call(&admin, short).await.unwrap_err();
    assert!(e.field_message("reason").is_some(), "{e:?}");
    app.call(&admin, ask(tina_id))
        .await
        .expect("the admin asks");

    // Tina and Olga (org.settings) are told by mail and see it; Maria and Dan do not.
    for to in ["tina@acme.test", "olga@acme.test"] {
        let n = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Recipient.eq(to))
            .filter(mail_outbox::Column::Subject.contains("asks for access"))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(n, 1, "{to}");
    }
    let theirs = app.call(&tina, SupportRequests {}).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].answerable, Ok(()));
    assert_eq!(theirs[0].asked_by, "Alice Admin");
    assert_eq!(app.call(&olga, SupportRequests {}).await.unwrap().len(), 1);
    assert!(
        app.call(&maria, SupportRequests {})
            .await
            .unwrap()
            .is_empty()
    );
    assert!(app.call(&dan, SupportRequests {}).await.unwrap().is_empty());
    let id = theirs[0].id;

    // Someone who may not answer is refused (audited); another organisation does not see it.
    let e = app.call(&dan, answer(id, true, "")).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let gary = app.sign_in("gary@globex.test").await;
    let e = app.call(&gary, answer(id, true, "")).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
    let e = app.call(&admin, answer(id, true, "")).await.unwrap_err();
    assert_eq!(
        e.status(),
        StatusCode::FORBIDDEN,
        "support never answers for the customer"
    );

    // Tina approves for an hour: a grant opens and the admin may view as her.
    app.call(&tina, answer(id, true, ""))
        .await
        .expect("approved");
    let e = app
        .call(&olga, answer(id, false, "too late"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::CONFLICT, "answered once");
    let seen = app.call(&admin, SupportRequests {}).await.unwrap();
    assert_eq!(seen[0].approved, Some(true));
    assert!(
        seen[0]
            .answer
            .as_deref()
            .unwrap_or_default()
            .contains("Tina Nguyen")
    );
    let viewing = view_as(&app, &admin, tina_id, "view")
        .await
        .expect("viewing with the approved grant");
    app.call(&viewing, ExitImpersonation {}).await.unwrap();

    // Support asks again; Olga declines, saying why (a reason is required to decline).
    app.call(&support, ask(tina_id))
        .await
        .expect("support asks");
    let second = app.call(&olga, SupportRequests {}).await.unwrap()[0].id;
    let e = app
        .call(&olga, answer(second, false, ""))
        .await
        .unwrap_err();
    assert!(e.field_message("why").is_some(), "{e:?}");
    app.call(&olga, answer(second, false, "Not during the audit week"))
        .await
        .expect("declined");
    let seen = app.call(&support, SupportRequests {}).await.unwrap();
    let declined = seen.iter().find(|r| r.id == second).expect("the request");
    assert_eq!(declined.approved, Some(false));
    assert!(
        declined
            .answer
            .as_deref()
            .unwrap_or_default()
            .contains("Not during the audit week")
    );
    let grants = support_grant::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(grants, 1, "a decline opens nothing");
    for (action, outcome) in [
        ("support/ask", "success"),
        ("support/answer", "success"),
        ("support/answer", "denied"),
    ] {
        let n = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .filter(audit_event::Column::Outcome.eq(outcome))
            .count(&app.state.db)
            .await
            .unwrap();
        assert!(n >= 1, "{action} {outcome}");
    }
}

async fn the_trail_records_what_support_saw_and_nothing_else(backend: Backend) {
    use app::api::vehicles::ListVehicles;
    use backend::entity::user;
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    let seen_before = user::Entity::find_by_id(tina_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .last_sign_in_at;
    // Tina's own reads leave no trail.
    app.call(&tina, ListVehicles { after: None }).await.unwrap();
    let viewing = view_as(&app, &admin, tina_id, "view").await.unwrap();
    let imp = session::Entity::find()
        .filter(session::Column::UserId.eq(tina_id))
        .filter(session::Column::ActorUserId.is_not_null())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    app.call(&viewing, ListVehicles { after: None })
        .await
        .unwrap();
    let page = app.get("/work-orders", &viewing).await;
    assert_eq!(page.status(), StatusCode::OK);
    app.call(&viewing, ExitImpersonation {}).await.unwrap();

    let trail = audit_event::Entity::find()
        .filter(audit_event::Column::ImpersonationId.eq(imp.clone()))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    let fields: Vec<String> = trail
        .iter()
        .map(|e| format!("{} {}", e.action, e.fields.clone().unwrap_or_default()))
        .collect();
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("vehicles/list") && f.contains("/api/vehicles/list")),
        "the read: {fields:#?}"
    );
    assert!(
        fields.iter().any(|f| f.contains("\"/work-orders\"")),
        "the page and what it read: {fields:#?}"
    );
    assert_eq!(
        trail.first().map(|e| e.action.as_str()),
        Some("impersonation.start")
    );
    assert_eq!(
        trail.last().map(|e| e.action.as_str()),
        Some("impersonation.exit")
    );
    // Nothing of Tina's own reads, and no other trace of the read-only visit.
    let own = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("vehicles/list"))
        .filter(audit_event::Column::ImpersonationId.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(own, 0);
    let seen_after = user::Entity::find_by_id(tina_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .last_sign_in_at;
    assert_eq!(seen_before, seen_after, "no last-seen touched");
}
