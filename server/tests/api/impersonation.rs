//! Impersonation ("view as"), each rule and the attempt to break it, over real HTTP on SQLite and
//! PostgreSQL.

use crate::support::{
    Backend, DEMO_PASSWORD, Server, Session, TestApp, app_error, every_event, view_as_cookie,
};
use app::api::account::ChangePassword;
use app::api::auth::{CurrentUser, Logout};
use app::api::impersonation::{ExitImpersonation, StartImpersonation};
use app::api::org::SetConsent;
use app::api::teams::PermissionMatrix;
use app::api::work_orders::{CompleteWorkOrder, GetWorkOrder, SetWorkOrderStatus};
use app::error::{AppError, AuthFailure};
use backend::entity::{audit_event, session, user, work_order};
use domain::fleet::WorkOrderStatus;
use domain::ids::WorkOrderId;
use reqwest::{Response, StatusCode, header};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

on_both_databases!(
    admin_views_as_tina_read_only_with_both_identities_on_the_audit_log,
    who_may_not_be_viewed_as_and_how_a_start_is_refused,
    act_mode_writes_in_the_users_name,
    exit_ends_it_everywhere_and_a_replayed_cookie_is_refused,
    signing_out_while_impersonating_exits_only_the_impersonation,
    expiry_ends_it_and_returns_to_the_admin,
    losing_the_right_or_the_target_ends_it_mid_session,
    revoking_the_admins_session_ends_its_impersonations,
    the_subjects_own_session_is_untouched_and_cannot_become_the_admins,
    the_customer_sees_who_looked,
    the_customer_decides_who_may,
    a_tampered_audit_row_breaks_the_chain,
    credentials_are_never_changed_in_someone_elses_name,
);

/// Starts viewing as `email`; returns the response.
async fn start(app: &TestApp, admin: &Session, email: &str, mode: &str, reason: &str) -> Response {
    let user = app.user_id(email).await;
    app.call_raw(admin, viewing(user, mode, reason, "SUP-42"))
        .await
}

/// A start as the admin console sends it.
fn viewing(user: i32, mode: &str, reason: &str, ticket: &str) -> StartImpersonation {
    StartImpersonation {
        user,
        reason: reason.into(),
        ticket: ticket.into(),
        mode: mode.into(),
        minutes: String::new(),
    }
}

async fn me(app: &Server, who: &Session) -> Response {
    app.call_raw(who, CurrentUser {}).await
}

const REASON: &str = "Ticket SUP-42: technician cannot complete a work order";

async fn admin_views_as_tina_read_only_with_both_identities_on_the_audit_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let res = start(&app, &admin, "tina@acme.test", "view", REASON).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/");
    let view_as = view_as_cookie(&res).expect("a view-as cookie");
    let claims = app.claims_of(&view_as);
    let tina_id = app.user_id("tina@acme.test").await;
    let admin_id = app.user_id("admin@fleetgate.test").await;
    assert_eq!(claims.sub, tina_id.to_string());
    assert_eq!(
        claims.act.as_ref().map(|a| a.sub.clone()),
        Some(admin_id.to_string())
    );

    let cookie = admin.viewing_as(&view_as);
    let m = app
        .call(&cookie, CurrentUser {})
        .await
        .expect("who is seen");
    assert_eq!(m.full_name, "Tina Nguyen");
    assert!(!m.operator, "the app renders exactly as the subject");
    let info = m.impersonation.expect("the banner's data");
    assert_eq!(
        (info.actor.as_str(), info.reason.as_str()),
        ("Alice Admin", REASON)
    );
    // The view-as token alone is worth nothing.
    assert_eq!(
        me(&app, &Session::from_cookies(view_as.clone()))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Same decisions as Tina gets herself.
    let wo = work_order::Entity::find()
        .filter(work_order::Column::Title.eq("Replace front brake pads"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let d = app
        .call(
            &cookie,
            GetWorkOrder {
                id: WorkOrderId(wo.id),
            },
        )
        .await
        .expect("the work order");
    assert!(
        !d.actions
            .get(domain::authz::Permission::WorkOrdersComplete)
            .unwrap()
            .is_allowed()
    );
    assert!(
        d.actions
            .get(domain::authz::Permission::WorkOrdersUpdate)
            .unwrap()
            .is_allowed()
    );

    // Read-only: a write Tina could make is refused with its own error, and nothing changes.
    let update = SetWorkOrderStatus {
        id: WorkOrderId(wo.id),
        status: "in_progress".into(),
        version: d.version,
    };
    let err = app.call(&cookie, update).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(err, AppError::ReadOnlyImpersonation);
    assert_eq!(
        err.to_string(),
        "This is a read-only impersonation: changes are not allowed."
    );
    let after = work_order::Entity::find_by_id(wo.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((after.status.as_str(), after.version), ("open", wo.version));

    // The audit log: the start with reason and ticket, and the refused write, both identities.
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ImpersonationId.eq(claims.sid.clone()))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    let started = &events[0];
    assert_eq!(started.action, "impersonation.start");
    assert_eq!(
        (started.actor_user_id, started.subject_user_id),
        (Some(admin_id), Some(tina_id))
    );
    let fields = backend::audit::Details::from_stored(started.fields.as_deref()).unwrap();
    use backend::audit::Field;
    assert_eq!(
        (
            fields.get(Field::Reason),
            fields.get(Field::Ticket),
            fields.get(Field::Mode)
        ),
        (Some(REASON), Some("SUP-42"), Some("view")),
        "{fields:?}"
    );
    let refused = events
        .iter()
        .find(|e| e.action == "work_orders/status")
        .expect("the refused write is audited");
    assert_eq!(
        (
            refused.outcome.as_str(),
            refused.actor_user_id,
            refused.subject_user_id
        ),
        ("denied", Some(admin_id), Some(tina_id))
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor_user_id == Some(admin_id) && e.subject_user_id == Some(tina_id))
    );
}

async fn who_may_not_be_viewed_as_and_how_a_start_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let expect = |res: Response, status: StatusCode, text: &'static str| async move {
        assert_eq!(res.status(), status, "{text}");
        let e = app_error(res).await.to_string();
        assert!(e.contains(text), "{e} should say {text}");
    };
    expect(
        start(&app, &admin, "admin@fleetgate.test", "view", REASON).await,
        StatusCode::FORBIDDEN,
        "Admins can never",
    )
    .await;
    expect(
        start(&app, &admin, "support@fleetgate.test", "view", REASON).await,
        StatusCode::FORBIDDEN,
        "Support staff can never",
    )
    .await;
    // A deactivated user.
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(false))
        .filter(user::Column::Email.eq("dan@acme.test"))
        .exec(&app.state.db)
        .await
        .unwrap();
    expect(
        start(&app, &admin, "dan@acme.test", "view", REASON).await,
        StatusCode::FORBIDDEN,
        "deactivated",
    )
    .await;
    // An organisation that said never.
    app.set_consent("Globex Transport", "never").await;
    expect(
        start(&app, &admin, "gary@globex.test", "view", REASON).await,
        StatusCode::FORBIDDEN,
        "does not allow",
    )
    .await;
    // Unknown user, too short a reason.
    let err = app
        .call(&admin, viewing(999_999, "view", REASON, ""))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    let res = start(&app, &admin, "tina@acme.test", "view", "because").await;
    assert_eq!(
        app_error(res)
            .await
            .field_message("reason")
            .map(str::to_owned),
        Some("Give a reason of at least 10 characters.".into())
    );
    // Support may view but not act; a customer may not impersonate at all.
    let support = app.sign_in("support@fleetgate.test").await;
    expect(
        start(&app, &support, "tina@acme.test", "act", REASON).await,
        StatusCode::FORBIDDEN,
        "users.impersonate_act",
    )
    .await;
    let olga = app.sign_in("olga@acme.test").await;
    expect(
        start(&app, &olga, "tina@acme.test", "view", REASON).await,
        StatusCode::FORBIDDEN,
        "users.impersonate",
    )
    .await;
    // Only by a same-origin POST (requests built by hand: a GET, and another origin).
    let tina = app.user_id("tina@acme.test").await.to_string();
    let get = app
        .get(
            &format!("/api/impersonation/start?user={tina}&reason=x&ticket=&mode=view&minutes="),
            &admin,
        )
        .await;
    assert!(get.status().is_client_error(), "{}", get.status());
    let cross = app
        .client
        .post(app.url("/api/impersonation/start"))
        .header(header::ORIGIN, "https://evil.test")
        .header(header::COOKIE, admin.cookie())
        .form(&[
            ("user", tina.as_str()),
            ("reason", REASON),
            ("ticket", ""),
            ("mode", "view"),
            ("minutes", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(view_as_cookie(&cross).is_none());
    // Never nested.
    let res = start(&app, &admin, "tina@acme.test", "view", REASON).await;
    let cookie = admin.viewing_as(&view_as_cookie(&res).unwrap());
    let olga_id = app.user_id("olga@acme.test").await;
    let nested = app
        .call_raw(&cookie, viewing(olga_id, "view", REASON, ""))
        .await;
    assert_eq!(nested.status(), StatusCode::FORBIDDEN);
    assert!(view_as_cookie(&nested).is_none());
    // Support's twin: viewing read-only works.
    assert_eq!(
        start(&app, &support, "tina@acme.test", "view", REASON)
            .await
            .status(),
        StatusCode::OK
    );
    let live = session::Entity::find()
        .filter(session::Column::ActorUserId.is_not_null())
        .filter(session::Column::RevokedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(live, 2, "only the two allowed starts created sessions");
}

async fn act_mode_writes_in_the_users_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let res = start(&app, &admin, "tina@acme.test", "act", REASON).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = admin.viewing_as(&view_as_cookie(&res).unwrap());
    let wo = work_order::Entity::find()
        .filter(work_order::Column::Title.eq("Replace front brake pads"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let update = SetWorkOrderStatus {
        id: WorkOrderId(wo.id),
        status: "in_progress".into(),
        version: wo.version,
    };
    let d = app
        .call(&cookie, update)
        .await
        .expect("the write, in Tina's name");
    assert_eq!(d.status, WorkOrderStatus::InProgress);
    // Still only what Tina may do.
    let complete = CompleteWorkOrder {
        id: WorkOrderId(wo.id),
        version: d.version,
    };
    let err = app.call(&cookie, complete).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let write = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("work_orders/status"))
        .filter(audit_event::Column::Outcome.eq("success"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        write.actor_user_id,
        Some(app.user_id("admin@fleetgate.test").await)
    );
    assert_eq!(
        write.subject_user_id,
        Some(app.user_id("tina@acme.test").await)
    );
    assert!(write.impersonation_id.is_some());
}

async fn exit_ends_it_everywhere_and_a_replayed_cookie_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.sibling().await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    let cookie = admin.viewing_as(&view_as);
    // Started on one instance, used on the other.
    let m = other
        .call(&cookie, CurrentUser {})
        .await
        .expect("who is seen");
    assert_eq!(m.full_name, "Tina Nguyen");
    // Exit on the other instance: back to the admin page, view-as cookie cleared.
    let res = other.call_raw(&cookie, ExitImpersonation {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/admin/users")
    );
    let cleared = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("fleetgate_view_as=;"));
    assert!(cleared);
    // Refused at once on the first instance, and the admin's own session goes on.
    let replay = app.call(&cookie, CurrentUser {}).await.unwrap_err();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        replay,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    let m = app
        .call(&admin, CurrentUser {})
        .await
        .expect("the admin's own session");
    assert_eq!(
        (m.full_name.as_str(), m.impersonation.is_none()),
        ("Alice Admin", true)
    );
    // A page visit with the dead cookie goes back to the admin console, clearing it.
    let page = app.get("/vehicles", &cookie).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()[header::LOCATION],
        "/admin/users?notice=impersonation-ended"
    );
    let exit_events = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("impersonation.exit"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(exit_events, 1);
}

/// Signing out while impersonating exits the impersonation, not the admin.
async fn signing_out_while_impersonating_exits_only_the_impersonation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    let viewing = admin.viewing_as(&view_as);
    let res = app.call_raw(&viewing, Logout {}).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(&app, &admin).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &viewing).await.status(), StatusCode::UNAUTHORIZED);
}

async fn expiry_ends_it_and_returns_to_the_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    let sid = app.claims_of(&view_as).sid;
    session::Entity::update_many()
        .col_expr(
            session::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(5)),
        )
        .filter(session::Column::Id.eq(sid.clone()))
        .exec(&app.state.db)
        .await
        .unwrap();
    let cookie = admin.viewing_as(&view_as);
    assert_eq!(
        app.call(&cookie, CurrentUser {}).await.unwrap_err(),
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    let expired = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("impersonation.expire"))
        .filter(audit_event::Column::ImpersonationId.eq(sid))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(
        me(&app, &cookie).await.status(),
        StatusCode::UNAUTHORIZED,
        "replay after expiry"
    );
    assert_eq!(
        me(&app, &admin).await.status(),
        StatusCode::OK,
        "the admin's own session goes on"
    );
}

async fn losing_the_right_or_the_target_ends_it_mid_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let ended = || AppError::Unauthenticated {
        reason: AuthFailure::ImpersonationEnded,
    };
    // The subject becomes an Admin.
    let view_as =
        view_as_cookie(&start(&app, &admin, "olga@acme.test", "view", REASON).await).unwrap();
    let viewing = admin.viewing_as(&view_as);
    assert_eq!(me(&app, &viewing).await.status(), StatusCode::OK);
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value("admin"))
        .filter(user::Column::Email.eq("olga@acme.test"))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        app.call(&viewing, CurrentUser {}).await.unwrap_err(),
        ended()
    );

    // The admin loses users.impersonate.
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    let viewing = admin.viewing_as(&view_as);
    assert_eq!(me(&app, &viewing).await.status(), StatusCode::OK);
    let fleetgate = backend::entity::team::Entity::find()
        .filter(backend::entity::team::Column::Name.eq("Fleetgate"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let admins = backend::entity::team::Entity::find()
        .filter(backend::entity::team::Column::Name.eq("Administrators"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    // In a write transaction as the app makes them (a change outside one reaches the admin's
    // session only within `session_cache::MAX_AGE` on SQLite).
    let txn = backend::audit::begin(&app.state.db).await.unwrap();
    for t in [fleetgate.id, admins.id] {
        backend::directory::revoke(
            &*txn,
            fleetgate.organisation_id,
            t,
            domain::authz::Permission::UsersImpersonate,
        )
        .await
        .unwrap();
    }
    txn.commit_unaudited().await.unwrap();
    assert_eq!(
        app.call(&viewing, CurrentUser {}).await.unwrap_err(),
        ended()
    );
    let ended = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("impersonation.end"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(ended.len(), 2);
    assert!(ended.iter().any(|e| {
        backend::audit::Details::from_stored(e.fields.as_deref())
            .and_then(|f| f.get(backend::audit::Field::Why).map(str::to_owned))
            .is_some_and(|why| why.contains("users.impersonate"))
    }));
}

/// The admin's own session is revoked elsewhere: its impersonations end with it.
async fn revoking_the_admins_session_ends_its_impersonations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    assert_eq!(
        app.call_raw(&admin, Logout {}).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        me(&app, &admin.viewing_as(&view_as)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let live = session::Entity::find()
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ActorUserId.is_not_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        live, 0,
        "revoking a session revokes the impersonations started from it"
    );
}

async fn the_subjects_own_session_is_untouched_and_cannot_become_the_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "view", REASON).await).unwrap();
    let tina = app.sign_in("tina@acme.test").await;
    // An exit from Tina's own session is refused and yields no cookie at all.
    let res = app.call_raw(&tina, ExitImpersonation {}).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    // Tina's own session with the admin's view-as cookie is not bound to it: refused.
    let res = me(&app, &tina.viewing_as(&view_as)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The admin's exit leaves Tina's session alone.
    assert_eq!(
        app.call_raw(&admin.viewing_as(&view_as), ExitImpersonation {})
            .await
            .status(),
        StatusCode::OK
    );
    let m = app
        .call(&tina, CurrentUser {})
        .await
        .expect("Tina's own session");
    assert_eq!(
        (m.full_name.as_str(), m.impersonation.is_none()),
        ("Tina Nguyen", true)
    );
}

async fn the_customer_sees_who_looked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    assert_eq!(
        start(&app, &admin, "tina@acme.test", "view", REASON)
            .await
            .status(),
        StatusCode::OK
    );
    // Olga (audit.view on Acme) sees the start, with who and why.
    let olga = app.sign_in("olga@acme.test").await;
    let page = app.audit_page(&olga).await;
    let start_event = page
        .events
        .iter()
        .find(|e| e.action == "impersonation.start")
        .expect("the customer sees it");
    assert_eq!(start_event.actor.as_deref(), Some("Alice Admin"));
    assert_eq!(start_event.subject.as_deref(), Some("Tina Nguyen"));
    assert_eq!(start_event.field("reason"), Some(REASON));
    assert_eq!(start_event.field("ticket"), Some("SUP-42"));
    assert!(
        page.chain.is_none(),
        "the chain status is for operator staff"
    );
    assert!(
        page.events
            .iter()
            .all(|e| e.organisation.as_deref() == Some("Acme Logistics"))
    );
    // Gary (Globex) sees none of it; Tina (no audit.view) is refused.
    let gary = app.sign_in("gary@globex.test").await;
    let page = app.audit_page(&gary).await;
    assert!(
        page.events
            .iter()
            .all(|e| e.action != "impersonation.start")
    );
    let tina = app.sign_in("tina@acme.test").await;
    assert_eq!(
        app.call_raw(&tina, every_event()).await.status(),
        StatusCode::FORBIDDEN
    );
    // The operator sees everything and the chain's status.
    let page = app.audit_page(&admin).await;
    assert_eq!(page.chain.as_ref().map(|c| c.first_broken), Some(None));
}

async fn the_customer_decides_who_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let consent = |consent: &str| SetConsent {
        consent: consent.into(),
    };
    // Consent: Olga says read-only; Maria may not change it.
    let maria = app.sign_in("maria@acme.test").await;
    assert_eq!(
        app.call_raw(&maria, consent("never")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call_raw(&olga, consent("read_only")).await.status(),
        StatusCode::OK
    );
    let res = start(&app, &admin, "dan@acme.test", "act", REASON).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        app_error(res)
            .await
            .to_string()
            .contains("read-only impersonation only")
    );
    assert_eq!(
        start(&app, &admin, "dan@acme.test", "view", REASON)
            .await
            .status(),
        StatusCode::OK
    );
    // Never: refused, and live impersonations of Acme end on their next request.
    let view_as =
        view_as_cookie(&start(&app, &admin, "maria@acme.test", "view", REASON).await).unwrap();
    assert_eq!(
        app.call_raw(&olga, consent("never")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        me(&app, &admin.viewing_as(&view_as)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        start(&app, &admin, "tina@acme.test", "view", REASON)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn a_tampered_audit_row_breaks_the_chain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    assert_eq!(
        start(&app, &admin, "tina@acme.test", "view", REASON)
            .await
            .status(),
        StatusCode::OK
    );
    let tina = app.sign_in("tina@acme.test").await;
    // A denial adds a second row.
    let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    let (rows, broken) = backend::audit::verify(&app.state.db).await.unwrap();
    assert!(rows >= 2 && broken.is_none());
    let first = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    audit_event::Entity::update_many()
        .col_expr(
            audit_event::Column::Detail,
            Expr::value("mode=view; reason=nothing to see here"),
        )
        .filter(audit_event::Column::Id.eq(first.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    let (_, broken) = backend::audit::verify(&app.state.db).await.unwrap();
    assert_eq!(broken, Some(first.id));
    let page = app.audit_page(&admin).await;
    assert_eq!(page.chain.and_then(|c| c.first_broken), Some(first.id));

    // The CLI says so with a non-zero exit.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("BROKEN at event {}", first.id))
    );
}

fn new_password(current: &str) -> ChangePassword {
    ChangePassword {
        current: current.into(),
        new: "a-brand-new-passphrase".into(),
        repeat: "a-brand-new-passphrase".into(),
    }
}

async fn credentials_are_never_changed_in_someone_elses_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    // Even in act mode.
    let view_as =
        view_as_cookie(&start(&app, &admin, "tina@acme.test", "act", REASON).await).unwrap();
    let err = app
        .call(&admin.viewing_as(&view_as), new_password(DEMO_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert!(err.to_string().contains("while viewing as someone else"));
    assert_eq!(
        app.login("tina@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK,
        "unchanged"
    );

    // The twin: Tina changes her own; her other sessions end, the old password no longer works.
    let tina = app.sign_in("tina@acme.test").await;
    let other = app.sign_in("tina@acme.test").await;
    let wrong = app.call(&tina, new_password("nope")).await.unwrap_err();
    assert_eq!(
        wrong.field_message("current"),
        Some("That is not your current password.")
    );
    assert_eq!(
        app.call_raw(&tina, new_password(DEMO_PASSWORD))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(me(&app, &tina).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &other).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("tina@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("tina@acme.test", "a-brand-new-passphrase")
            .await
            .status(),
        StatusCode::OK
    );
}
