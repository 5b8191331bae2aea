//! The password change is no oracle, over real HTTP on SQLite and PostgreSQL: a wrong current
//! password counts on the account's sign-in throttle (shared with sign-in) and is audited.

use crate::support::{Backend, DEMO_PASSWORD, Session, TestApp, app_error, retry_after};
use app::api::account::ChangePassword;
use backend::entity::audit_event;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::config::Tuning;
use std::time::Duration;

on_both_databases!(
    wrong_current_passwords_are_throttled_with_sign_in_and_audited,
    the_right_current_password_before_the_limit_works,
);

const NEW: &str = "a-brand-new-passphrase";

fn tuning() -> Tuning {
    let mut tuning = Tuning::default();
    tuning.throttle_account.slow_after = 2;
    tuning.throttle_account.lock_after = 4;
    tuning.throttle_account.slow_delay = Duration::from_millis(20);
    tuning
}

async fn change(app: &TestApp, who: &Session, current: &str) -> reqwest::Response {
    let change = ChangePassword {
        current: current.into(),
        new: NEW.into(),
        repeat: NEW.into(),
    };
    app.call_raw(who, change).await
}

async fn denials(app: &TestApp, detail: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("account/password"))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .filter(audit_event::Column::Fields.contains(detail))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn wrong_current_passwords_are_throttled_with_sign_in_and_audited(backend: Backend) {
    let app = TestApp::spawn_with(backend, tuning()).await;
    let tina = app.sign_in("tina@acme.test").await;
    let tina_id = app.user_id("tina@acme.test").await;
    for i in 0..4 {
        let res = change(&app, &tina, &format!("guess-{i}")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "guess {i}");
        assert_eq!(
            app_error(res).await.field_message("current"),
            Some("That is not your current password.")
        );
    }
    // Each wrong guess is on the audit log, with who made it.
    assert_eq!(denials(&app, "wrong current password").await, 4);
    let row = audit_event::Entity::find()
        .filter(audit_event::Column::Fields.contains("wrong current password"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.actor_user_id, row.resource.as_deref()),
        (Some(tina_id), Some(format!("user:{tina_id}").as_str()))
    );

    // Locked now: even the right current password is refused, with Retry-After, and audited.
    let res = change(&app, &tina, DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = retry_after(&res);
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(
        app_error(res)
            .await
            .to_string()
            .starts_with("Too many attempts.")
    );
    assert_eq!(denials(&app, "throttled").await, 1);

    // The counter is the account's, shared with sign-in and by every instance: signing in is
    // refused too, here and on a second server on the same database…
    assert_eq!(
        app.login("tina@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let sibling = app.sibling_with(tuning()).await;
    assert_eq!(
        sibling
            .login("tina@acme.test", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // …and the password did not change.
    let changed = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("account/password"))
        .filter(audit_event::Column::Outcome.eq("success"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(changed, 0);
    // Another account is not locked out.
    assert_eq!(
        app.login("dan@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn the_right_current_password_before_the_limit_works(backend: Backend) {
    let app = TestApp::spawn_with(backend, tuning()).await;
    let tina = app.sign_in("tina@acme.test").await;
    for i in 0..3 {
        let res = change(&app, &tina, &format!("guess-{i}")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // One attempt left: the right password goes through and forgives the failures.
    let res = change(&app, &tina, DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..3 {
        let res = app.login("tina@acme.test", "wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login("tina@acme.test", NEW).await.status(),
        StatusCode::OK
    );
}
