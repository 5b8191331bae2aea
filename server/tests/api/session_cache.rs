//! Authentication without a round trip (`backend::session_cache`), and the guarantee it keeps:
//! once a sign-out, a deactivation, a role change or a suspension has returned on one instance,
//! the next request on every instance sees it — even one that authenticated the session from
//! its cache a moment before. On SQLite the cache is used (the instances share the database's
//! authentication epoch); on PostgreSQL nothing is kept and every request reads its session.

use crate::support::{Backend, Session, TestApp, app_error};
use app::api::auth::{CurrentUser, Logout};
use app::api::organisations::SuspendOrganisation;
use app::api::people::{ChangeRole, DeactivateUser};
use app::error::AppError;
use backend::entity::{organisation, session};
use domain::error::AuthFailure;
use domain::people::Role;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use std::time::{Duration, Instant};

on_both_databases!(
    a_warm_sibling_refuses_a_session_signed_out_elsewhere,
    a_warm_sibling_sees_deactivation_role_and_suspension_at_once,
    no_request_started_after_a_sign_out_returned_is_admitted,
    a_change_made_behind_the_apps_back_holds_within_the_maximum_age,
);

/// Asks `app` who `who` is `times` times: the cache's hits it added.
async fn warm(app: &TestApp, who: &Session, times: u64) -> u64 {
    let before = app.state.sessions.hits();
    for _ in 0..times {
        app.call(who, CurrentUser {}).await.expect("signed in");
    }
    app.state.sessions.hits() - before
}

/// Whether the cache served `asked` requests after the first (SQLite), or none (PostgreSQL).
fn assert_served_from_cache(backend: Backend, hits: u64, asked: u64) {
    match backend {
        Backend::Sqlite => assert!(hits >= asked - 1, "{hits} of {asked} from the cache"),
        Backend::Postgres => assert_eq!(hits, 0, "nothing is kept on PostgreSQL"),
    }
}

async fn refused(app: &TestApp, who: &Session) -> AuthFailure {
    match app.call(who, CurrentUser {}).await {
        Err(AppError::Unauthenticated { reason }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn a_warm_sibling_refuses_a_session_signed_out_elsewhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sibling = app.sibling().await;
    let dan = app.sign_in("dan@acme.test").await;
    let hits = warm(&sibling, &dan, 5).await;
    assert_served_from_cache(backend, hits, 5);

    assert_eq!(app.call_raw(&dan, Logout {}).await.status(), StatusCode::OK);
    let before = sibling.state.sessions.hits();
    assert_eq!(refused(&sibling, &dan).await, AuthFailure::Revoked);
    assert_eq!(refused(&app, &dan).await, AuthFailure::Revoked);
    assert_eq!(
        sibling.state.sessions.hits(),
        before,
        "the refusal was read from the database"
    );
    // The twin: another session of the same person, warm too, is not touched by it.
    let again = app.sign_in("dan@acme.test").await;
    assert_served_from_cache(backend, warm(&sibling, &again, 3).await, 3);
}

async fn a_warm_sibling_sees_deactivation_role_and_suspension_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sibling = app.sibling().await;
    let (olga, admin) = (
        app.sign_in("olga@acme.test").await,
        app.sign_in("admin@fleetgate.test").await,
    );
    let (dan, tina, gary) = (
        app.sign_in("dan@acme.test").await,
        app.sign_in("tina@acme.test").await,
        app.sign_in("gary@globex.test").await,
    );
    for who in [&dan, &tina, &gary] {
        assert_served_from_cache(backend, warm(&sibling, who, 3).await, 3);
    }
    let me = sibling.call(&tina, CurrentUser {}).await.unwrap();
    assert_eq!(me.role, Role::Technician);

    let dan_id = app.user_id("dan@acme.test").await;
    app.call(&olga, DeactivateUser { user: dan_id })
        .await
        .unwrap();
    // Deactivation ends the person's sessions in its transaction.
    assert_eq!(refused(&sibling, &dan).await, AuthFailure::Revoked);

    let tina_id = app.user_id("tina@acme.test").await;
    app.call(
        &olga,
        ChangeRole {
            user: tina_id,
            role: "fleet_manager".into(),
        },
    )
    .await
    .unwrap();
    let me = sibling.call(&tina, CurrentUser {}).await.unwrap();
    assert_eq!(
        me.role,
        Role::FleetManager,
        "the new role, not the kept one"
    );

    let globex = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("Globex Transport"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("Globex")
        .id;
    app.call(
        &admin,
        SuspendOrganisation {
            organisation: globex,
        },
    )
    .await
    .unwrap();
    // Suspension ends its people's sessions in its transaction.
    assert_eq!(refused(&sibling, &gary).await, AuthFailure::Revoked);
}

/// Requests race a sign-out on another instance: whatever they were answered while it ran,
/// every one that started after it returned is refused.
async fn no_request_started_after_a_sign_out_returned_is_admitted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sibling = Arc::new(app.sibling().await);
    let dan = app.sign_in("dan@acme.test").await;
    warm(&sibling, &dan, 3).await;

    let returned: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let askers: Vec<_> = (0..4)
        .map(|_| {
            let (sibling, dan, returned) = (sibling.clone(), dan.clone(), returned.clone());
            tokio::spawn(async move {
                let mut after = Vec::new();
                // Until 25 requests each have started after the sign-out returned.
                while after.len() < 25 {
                    let started = Instant::now();
                    let status = sibling.call_raw(&dan, CurrentUser {}).await.status();
                    if returned.get().is_some_and(|r| started > *r) {
                        after.push(status);
                    }
                }
                after
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.call_raw(&dan, Logout {}).await.status(), StatusCode::OK);
    returned.set(Instant::now()).unwrap();
    for asker in askers {
        let after = asker.await.unwrap();
        assert!(
            after.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
            "admitted after the sign-out returned: {after:?}"
        );
    }
}

/// What no epoch can signal — a session revoked by hand in SQL — holds once the kept row is
/// older than `MAX_AGE`; the application's own revocations hold at once (above).
async fn a_change_made_behind_the_apps_back_holds_within_the_maximum_age(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dan = app.sign_in("dan@acme.test").await;
    warm(&app, &dan, 2).await;
    let sid = app.claims_of(dan.cookie()).sid;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .filter(session::Column::Id.eq(sid))
        .exec(&app.state.db)
        .await
        .unwrap();
    let by_hand = Instant::now();
    let limit = backend::session_cache::MAX_AGE * 3;
    loop {
        let res = app.call_raw(&dan, CurrentUser {}).await;
        if res.status() == StatusCode::UNAUTHORIZED {
            let err = app_error(res).await;
            assert_eq!(
                err,
                AppError::Unauthenticated {
                    reason: AuthFailure::Revoked
                }
            );
            break;
        }
        assert!(
            by_hand.elapsed() < limit,
            "still admitted {:?} after the row was revoked",
            by_hand.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
