//! Process-level faults against the real binary: SIGTERM under load finishes the requests in
//! flight; SIGKILL in the middle of writes leaves the database consistent and the audit chain
//! verifying, with exactly one audit row per committed change.

use crate::binary::spawn_server;
use crate::common::client::{Browser, Call, DEMO_PASSWORD, NoSession, session_cookie};
use crate::common::db::{Backend, TestDb};
use app::api::auth::Login;
use app::api::work_orders::{GetWorkOrder, SetWorkOrderStatus};
use domain::ids::WorkOrderId;
use std::time::Duration;
use tokio::process::{Child, Command};

async fn signal(child: &Child, sig: &str) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args([sig, &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// Dan's sign-in with `password`, sent where the server may be gone (so an error is an answer).
async fn login(browser: &Browser, password: &str) -> reqwest::Result<reqwest::Response> {
    let login = Login {
        email: "dan@acme.test".into(),
        password: password.into(),
        next: Some(String::new()),
    };
    browser.request(NoSession, &Call::of(&login)).send().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_requests_in_flight() {
    let db = TestDb::create(Backend::Sqlite).await;
    let (mut child, browser) = spawn_server(&db).await;
    let guess = |browser: Browser| async move {
        login(&browser, "a wrong guess").await.map(|r| r.status())
    };
    // Five failures, after which the throttle holds every attempt for a second on the server:
    // a deterministic way to have requests in flight.
    for _ in 0..5 {
        assert_eq!(
            guess(browser.clone()).await.unwrap(),
            reqwest::StatusCode::UNAUTHORIZED
        );
    }
    let in_flight: Vec<_> = (0..3)
        .map(|_| tokio::spawn(guess(browser.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    signal(&child, "-TERM").await;
    for r in in_flight {
        let status = r
            .await
            .unwrap()
            .expect("an in-flight request is answered, not cut off");
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    }
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("it stops")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    // And it no longer accepts connections.
    assert!(login(&browser, DEMO_PASSWORD).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_leaves_the_database_consistent() {
    let db = TestDb::create(Backend::Sqlite).await;
    let (mut child, browser) = spawn_server(&db).await;
    let cookie = session_cookie(&login(&browser, DEMO_PASSWORD).await.unwrap()).unwrap();
    // Writers hammer status changes (each a versioned update plus an audit append)…
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let (browser, cookie) = (browser.clone(), cookie.clone());
            tokio::spawn(async move {
                for n in 0..200 {
                    let status = if (n + i) % 2 == 0 {
                        "on_hold"
                    } else {
                        "in_progress"
                    };
                    // The current version, then a change against it; conflicts are expected.
                    let get = Call::of(&GetWorkOrder { id: WorkOrderId(4) });
                    let Ok(res) = browser.request(&cookie, &get).send().await else {
                        return;
                    };
                    // Read loosely: an error answer (no version) still makes a change to send.
                    let Ok(w) = res.json::<serde_json::Value>().await else {
                        return;
                    };
                    let change = SetWorkOrderStatus {
                        id: WorkOrderId(4),
                        status: status.into(),
                        version: w["version"].as_i64().unwrap_or(0) as i32,
                    };
                    let sent = browser.request(&cookie, &Call::of(&change)).send().await;
                    if sent.is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    // …and the process is killed without warning in the middle.
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&child, "-KILL").await;
    let _ = child.wait().await;
    for w in writers {
        let _ = w.await;
    }
    // The audit chain still verifies…
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("intact"), "{text}");
    // …and every successful change left exactly one audit row and one version step.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let w = backend::entity::work_order::Entity::find_by_id(4)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let changes = backend::entity::audit_event::Entity::find()
        .filter(backend::entity::audit_event::Column::Action.eq("work_orders/status"))
        .filter(backend::entity::audit_event::Column::Outcome.eq("success"))
        .count(&conn)
        .await
        .unwrap();
    assert!(w.version >= 2, "some writes happened before the kill");
    // A change and its audit row commit in one transaction: none is ever lost or invented.
    let committed = (w.version - 1) as u64;
    assert_eq!(
        changes, committed,
        "every committed change is on the audit log"
    );
}
