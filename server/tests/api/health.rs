//! Probes, start-up and the CLI.

use crate::support::{
    Backend, DEMO_PASSWORD, NoSession, TestApp, TestDb, pg_admin_url, test_config,
};
use reqwest::StatusCode;
use server::config::Tuning;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

on_both_databases!(probes_answer);

async fn probes_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/healthz", NoSession).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response carries its request id"
    );
    assert_eq!(app.get("/readyz", NoSession).await.status(), StatusCode::OK);
}

/// PostgreSQL refuses connections to the database: /readyz says 503 (not 500, no detail), the
/// process stays up, and it is ready again once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_a_lost_database_and_recovers() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn(Backend::Postgres).await;
    let admin = sea_orm::Database::connect(pg_admin_url()).await.unwrap();
    let name = app.db.url.rsplit('/').next().unwrap().to_owned();
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();

    let res = app.get("/readyz", NoSession).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz", NoSession).await.status(),
        StatusCode::OK
    );
    // A server function answers 503 with a message a person can act on, not a database error.
    let res = app.login("maria@acme.test", DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("unavailable") && !body.to_lowercase().contains("postgres"),
        "{body}"
    );

    admin
        .execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz", NoSession).await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the service recovers without a restart");
}

/// `create-admin` reads the password from stdin (never argv) and the account can sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_reads_the_password_from_stdin() {
    let db = TestDb::create(Backend::Sqlite).await;
    let run = |password: &'static str| {
        let url = db.url.clone();
        async move {
            let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args([
                    "create-admin",
                    "--email",
                    "Ops@Fleetgate.test",
                    "--name",
                    "Olivia Ops",
                ])
                .env("DATABASE_URL", url)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(password.as_bytes()).await.unwrap();
            drop(stdin);
            child.wait_with_output().await.unwrap()
        }
    };
    let short = run("short\n").await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));

    let ok = run("a-long-operator-password\n").await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created admin ops@fleetgate.test"));

    let again = run("a-long-operator-password\n").await;
    assert!(
        !again.status.success(),
        "a second admin with the same e-mail is refused"
    );

    let (mut config, secret) = test_config(&db);
    config.demo = false;
    let app = TestApp::start(db, &config, &secret, Tuning::default()).await;
    let res = app
        .login("ops@fleetgate.test", "a-long-operator-password")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.login("ops@fleetgate.test", "wrong-password-here").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
