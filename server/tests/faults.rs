//! Process-level faults against the real binary: SIGTERM under load finishes the requests in
//! flight; SIGKILL in the middle of writes leaves the database consistent and the audit chain
//! verifying, with exactly one audit row per committed change.

mod common;

use common::{Backend, TestDb};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The real server binary on a free port, with the demo data, on `db`.
async fn spawn_server(db: &TestDb) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("FLEETGATE_DATA_DIR", db.dir.join("data"))
        .env("FLEETGATE_ADDR", format!("127.0.0.1:{port}"))
        .env("FLEETGATE_DEMO", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

async fn signal(child: &Child, sig: &str) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args([sig, &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

async fn login(client: &reqwest::Client, base: &str) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/login"))
        .header("origin", base)
        .form(&[
            ("email", "dan@acme.test"),
            ("password", "fleetgate-demo"),
            ("next", ""),
        ])
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_requests_in_flight() {
    let db = TestDb::create(Backend::Sqlite).await;
    let (mut child, base) = spawn_server(&db).await;
    let client = reqwest::Client::new();
    let guess = |client: reqwest::Client, base: String| async move {
        client
            .post(format!("{base}/api/login"))
            .header("origin", &base)
            .form(&[
                ("email", "dan@acme.test"),
                ("password", "a wrong guess"),
                ("next", ""),
            ])
            .send()
            .await
            .map(|r| r.status())
    };
    // Five failures, after which the throttle holds every attempt for a second on the server:
    // a deterministic way to have requests in flight.
    for _ in 0..5 {
        assert_eq!(
            guess(client.clone(), base.clone()).await.unwrap(),
            reqwest::StatusCode::UNAUTHORIZED
        );
    }
    let in_flight: Vec<_> = (0..3)
        .map(|_| tokio::spawn(guess(client.clone(), base.clone())))
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
    assert!(login(&client, &base).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_leaves_the_database_consistent() {
    let db = TestDb::create(Backend::Sqlite).await;
    let (mut child, base) = spawn_server(&db).await;
    let client = reqwest::Client::new();
    let cookie = login(&client, &base)
        .await
        .unwrap()
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    // Writers hammer status changes (each a versioned update plus an audit append)…
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let (client, base, cookie) = (client.clone(), base.clone(), cookie.clone());
            tokio::spawn(async move {
                for n in 0..200 {
                    let status = if (n + i) % 2 == 0 {
                        "on_hold"
                    } else {
                        "in_progress"
                    };
                    // The current version, then a change against it; conflicts are expected.
                    let Ok(res) = client
                        .post(format!("{base}/api/work_orders/get"))
                        .header("origin", &base)
                        .header("cookie", &cookie)
                        .form(&[("id", "4")])
                        .send()
                        .await
                    else {
                        return;
                    };
                    let Ok(w) = res.json::<serde_json::Value>().await else {
                        return;
                    };
                    let version = w["version"].as_i64().unwrap_or(0).to_string();
                    if client
                        .post(format!("{base}/api/work_orders/status"))
                        .header("origin", &base)
                        .header("cookie", &cookie)
                        .form(&[
                            ("id", "4"),
                            ("status", status),
                            ("version", version.as_str()),
                        ])
                        .send()
                        .await
                        .is_err()
                    {
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
