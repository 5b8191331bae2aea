//! PostgreSQL itself stopped and started while the app is under load (the real server, not a
//! simulated failure): requests get 503 with a message a person can act on — never 500, never
//! "signed out" — no write is half done, and the service recovers without a restart.
//!
//! This stops the machine's PostgreSQL cluster, so it is not in the `api` binary: cargo runs
//! test binaries one after another, and the only other tests of this one (`faults`) use SQLite,
//! so no other test is using PostgreSQL meanwhile. It needs the right to run `pg_ctlcluster`
//! (root in CI; scripts/postgres.sh documents it).

use crate::common::client::Call;
use crate::common::db::{Backend, TestDb};
use crate::common::server::{Server, test_config};
use app::api::vehicles::{CreateVehicle, ListVehicles};
use reqwest::StatusCode;
use server::config::Tuning;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `<version> <cluster>` of the PostgreSQL the tests use.
fn cluster() -> Vec<String> {
    std::env::var("FLEETGATE_TEST_PG_CLUSTER")
        .unwrap_or_else(|_| "15 main".to_owned())
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn pg_ctl(action: &str) {
    let mut args = cluster();
    args.push(action.to_owned());
    if action == "stop" {
        // Fast shutdown: open connections are cut, like a crash or a failover.
        args.extend(["-m".to_owned(), "fast".to_owned()]);
    }
    let status = std::process::Command::new("pg_ctlcluster")
        .args(&args)
        .status()
        .expect("pg_ctlcluster must be on PATH (PostgreSQL server package)");
    assert!(status.success(), "pg_ctlcluster {args:?} failed: {status}");
}

/// Starts PostgreSQL again when dropped, so a failing assertion never leaves it stopped for the
/// test binaries that follow.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let mut args = cluster();
        args.push("start".to_owned());
        let _ = std::process::Command::new("pg_ctlcluster")
            .args(&args)
            .status();
    }
}

/// What one request got: the status, and for errors the `code` of the typed error body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    status: u16,
    code: String,
}

async fn seen(res: reqwest::Result<reqwest::Response>) -> Seen {
    match res {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Seen { status, code }
        }
        Err(_) => Seen {
            status: 0,
            code: "transport".into(),
        },
    }
}

fn vin(n: usize) -> String {
    format!("1FDWE3FL6H{n:07}")
}

/// The server in this process, on a PostgreSQL database of its own.
async fn spawn_on_postgres() -> Server {
    let db = TestDb::create(Backend::Postgres).await;
    let (config, _) = test_config(&db);
    Server::start(Arc::new(db), &config, Tuning::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load() {
    let app = spawn_on_postgres().await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    let stop = Arc::new(AtomicBool::new(false));
    let app = Arc::new(app);

    // Writers create vehicles with unique VINs and remember which ones the server confirmed.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (app, maria, boston, stop) = (app.clone(), maria.clone(), boston, stop.clone());
            tokio::spawn(async move {
                let mut log = Vec::new();
                let mut n = w * 100_000;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let vin = vin(n);
                    let create = CreateVehicle {
                        team: boston,
                        name: format!("Outage {n}"),
                        vin: vin.clone(),
                        make: "Ford".into(),
                        model: "Transit".into(),
                        year: "2023".into(),
                        plate: "MA OUT".into(),
                        odometer: "1".into(),
                    };
                    let res = app
                        .request(&maria, &Call::of(&create))
                        .timeout(Duration::from_secs(20))
                        .send()
                        .await;
                    log.push((Instant::now(), vin, seen(res).await));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                log
            })
        })
        .collect();
    // A reader keeps loading a server-rendered page.
    let reader = {
        let (app, maria, stop) = (app.clone(), maria.clone(), stop.clone());
        tokio::spawn(async move {
            let mut log = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let res = app
                    .client
                    .get(app.url("/vehicles"))
                    .header("cookie", maria.cookie())
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                log.push((Instant::now(), seen(res).await));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            log
        })
    };

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped_at = Instant::now();
    let restart = Restart;
    pg_ctl("stop");
    tokio::time::sleep(Duration::from_secs(3)).await;
    // While it is down, a request is answered quickly with the typed 503.
    let error = app
        .call(&maria, ListVehicles { after: None })
        .await
        .unwrap_err();
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error, app::error::AppError::Unavailable);
    // What the page shows for it:
    assert_eq!(
        error.to_string(),
        "The service is temporarily unavailable. Please try again in a moment."
    );
    let started_at = Instant::now();
    pg_ctl("start");
    std::mem::forget(restart);

    // Recovery without a restart: the same process serves again within seconds.
    let mut recovered = None;
    for _ in 0..300 {
        let res = app.call_raw(&maria, ListVehicles { after: None }).await;
        if res.status() == StatusCode::OK {
            recovered = Some(started_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("the app recovers once PostgreSQL is back");
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);

    let mut writes = Vec::new();
    for w in writers {
        writes.extend(w.await.unwrap());
    }
    let pages = reader.await.unwrap();

    // Only two answers ever: success, or the typed "unavailable". Never 500, never 401.
    let mut tally: BTreeMap<Seen, usize> = BTreeMap::new();
    for s in writes
        .iter()
        .map(|(_, _, s)| s)
        .chain(pages.iter().map(|(_, s)| s))
    {
        *tally.entry(s.clone()).or_default() += 1;
    }
    for s in tally.keys() {
        assert!(
            s.status == 200 || (s.status == 503 && (s.code == "unavailable" || s.code.is_empty())),
            "unexpected answer {s:?}; all answers: {tally:?}"
        );
    }
    // Pages are HTML: a 503 page is an error page, not a half-rendered list.
    assert!(tally.keys().any(|s| s.status == 503), "{tally:?}");
    assert!(
        writes.iter().any(
            |(at, _, s)| *at > stopped_at + Duration::from_secs(1) + recovered && s.status == 200
        ) || writes.iter().rev().take(3).all(|(_, _, s)| s.status == 200),
        "writes succeed again after recovery"
    );

    // No partial writes: exactly the confirmed vehicles exist, each with its one audit row.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let conn = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let stored: std::collections::BTreeSet<String> = backend::entity::vehicle::Entity::find()
        .filter(backend::entity::vehicle::Column::Name.starts_with("Outage "))
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.vin)
        .collect();
    let confirmed: std::collections::BTreeSet<String> = writes
        .iter()
        .filter(|(_, _, s)| s.status == 200)
        .map(|(_, v, _)| v.clone())
        .collect();
    assert_eq!(stored, confirmed, "stored vehicles == confirmed creations");
    let audited = backend::entity::audit_event::Entity::find()
        .filter(backend::entity::audit_event::Column::Action.eq("vehicles/create"))
        .filter(backend::entity::audit_event::Column::Outcome.eq("success"))
        .count(&conn)
        .await
        .unwrap();
    assert_eq!(
        audited as usize,
        confirmed.len(),
        "one audit row per change"
    );
    let (checked, broken_at) = backend::audit::verify(&conn).await.unwrap();
    assert_eq!(broken_at, None, "the audit chain verifies ({checked} rows)");
    eprintln!(
        "outage: {} writes, {} pages, answers {tally:?}, recovered {recovered:?} after start",
        writes.len(),
        pages.len()
    );
}
