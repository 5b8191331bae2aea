//! Probes, start-up and the CLI.

use crate::support::{
    Backend, DEMO_PASSWORD, NoSession, TestApp, TestDb, cold_pool, pg_admin_url, test_config, van,
};
use app::api::vehicles::ListVehicles;
use reqwest::StatusCode;
use server::config::Tuning;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

on_both_databases!(probes_answer, the_pool_is_open_before_the_first_request);

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

/// Every connection of the pool is open once the server is built (none opened on demand by the
/// first burst of requests), and stays open while requests come and go.
async fn the_pool_is_open_before_the_first_request(backend: Backend) {
    let open = |db: &sea_orm::DatabaseConnection| match backend {
        Backend::Sqlite => db.get_sqlite_connection_pool().size(),
        Backend::Postgres => db.get_postgres_connection_pool().size(),
    };
    let size = server::startup::pool_size(matches!(backend, Backend::Sqlite));
    let app = TestApp::spawn_with(backend, Tuning::default()).await;
    assert_eq!(open(&app.state.db), size, "opened at start");
    let maria = app.sign_in("maria@acme.test").await;
    for _ in 0..3 {
        app.call(&maria, ListVehicles { after: None })
            .await
            .expect("a read");
    }
    assert_eq!(open(&app.state.db), size, "kept");

    // The twin: connected cold (as the tests' servers are), a pool holds only what it was
    // asked for — nothing else (no migration, no demo data, no worker) runs on it here.
    let db = TestDb::create(backend).await;
    let (config, _) = test_config(&db);
    let cold = server::startup::connect_tuned(&config, &cold_pool())
        .await
        .expect("connect");
    assert_eq!(open(&cold), 1, "opened on demand");
    let warm = server::startup::connect_tuned(&config, &Tuning::default())
        .await
        .expect("connect");
    assert_eq!(open(&warm), size, "opened at once");
}

/// PostgreSQL refuses connections to the database: /readyz says 503 (not 500, no detail), the
/// process stays up, and it is ready again once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_a_lost_database_and_recovers() {
    let app = TestApp::spawn(Backend::Postgres).await;
    as_admin(&app, |db| {
        format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS false")
    })
    .await;
    drop_app_connections(&app).await;

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

    as_admin(&app, |db| {
        format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS true")
    })
    .await;
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

/// Runs `sql(the app's database name)` as PostgreSQL's administrator.
async fn as_admin(app: &TestApp, sql: impl FnOnce(&str) -> String) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(pg_admin_url()).await.unwrap();
    let name = app.db.url.rsplit('/').next().unwrap();
    admin.execute_unprepared(&sql(name)).await.unwrap();
    admin.close().await.unwrap();
}

/// Ends every connection the application holds to its PostgreSQL database, as a restart of
/// the server or a proxy's idle timeout would.
async fn drop_app_connections(app: &TestApp) {
    as_admin(app, |db| {
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
    })
    .await;
}

/// Connections are not pinged on every use (that was a round trip per statement), only after
/// they sat idle: a connection the database dropped after it sat idle is found out and
/// replaced before it is used — no request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_after_sitting_idle_is_replaced_before_use() {
    let tuning = Tuning {
        db_ping_idle: Duration::from_millis(200),
        ..Tuning::default()
    };
    let app = TestApp::spawn_with(Backend::Postgres, tuning).await;
    let maria = app.sign_in("maria@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    app.call(&maria, ListVehicles { after: None })
        .await
        .expect("a read before");
    drop_app_connections(&app).await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    for round in 0..3 {
        let rows = app.call(&maria, ListVehicles { after: None }).await;
        assert_eq!(rows.expect("a read after").rows.len(), 3 + round);
        app.call(&maria, van(boston, &format!("1FTBW3XM0PKA0000{round}")))
            .await
            .expect("a write after");
    }
}

/// Its twin: a connection used within the threshold is not pinged (under load every one is), so
/// after the database dropped it the one request that meets it fails — with a 503 a person can
/// act on, not a database error — and the pool discards it: the requests after succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recently_used_connection_dropped_fails_one_request_then_heals() {
    let tuning = Tuning {
        db_ping_idle: Duration::from_secs(60),
        ..Tuning::default()
    };
    let app = TestApp::spawn_with(Backend::Postgres, tuning).await;
    let maria = app.sign_in("maria@acme.test").await;
    app.call(&maria, ListVehicles { after: None })
        .await
        .expect("a read before");
    drop_app_connections(&app).await;

    let mut failures = 0;
    let mut healed = false;
    // Each dropped connection fails at most one request; the pool holds at most 16.
    for _ in 0..20 {
        let res = app.call_raw(&maria, ListVehicles { after: None }).await;
        if res.status() == StatusCode::OK {
            healed = true;
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = res.text().await.unwrap();
        assert!(!body.to_lowercase().contains("postgres"), "{body}");
        failures += 1;
    }
    assert!(healed, "the pool replaces dropped connections");
    assert!(
        failures >= 1,
        "a connection in use is not pinged before it is used"
    );
    let rows = app.call(&maria, ListVehicles { after: None }).await;
    assert_eq!(rows.expect("reads go on").rows.len(), 3);
}

/// The bundled SQLite is built as .cargo/config.toml says: with the query planner stability
/// guarantee (without it, every statement with `LIMIT ?` — each page of a list, each single-row
/// read — is parsed and planned again on every run), and without memory statistics (which
/// take one process-wide lock on every allocation: each value of each row read is one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_sqlite_is_built_as_tuned() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(Backend::Sqlite).await;
    for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        let sql = format!(
            "SELECT count(*) AS n FROM pragma_compile_options WHERE compile_options = '{option}'"
        );
        let stmt = Statement::from_string(sea_orm::DatabaseBackend::Sqlite, sql);
        let row = app.state.db.query_one_raw(stmt).await.unwrap().unwrap();
        assert_eq!(row.try_get::<i32>("", "n").unwrap(), 1, "{option}");
    }
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

/// `create-org` onboards a customer from the command line: it prints the manager's invitation
/// link, which opens and is accepted on the running server; the same name again is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_org_prints_an_invitation_link_that_works() {
    use app::api::auth::CurrentUser;
    use app::api::invitations::{AcceptInvitation, OpenInvitation};
    let db = TestDb::create(Backend::Sqlite).await;
    let run = || {
        let url = db.url.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args([
                    "create-org",
                    "--name",
                    "Initech",
                    "--manager-email",
                    "Peter@Initech.test",
                    "--manager-name",
                    "Peter Gibbons",
                ])
                .env("DATABASE_URL", url)
                .env("FLEETGATE_PUBLIC_URL", "https://fleet.example.com")
                .env("RUST_LOG", "warn")
                .output()
                .await
                .unwrap()
        }
    };
    let out = run().await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("peter@initech.test"), "{stdout}");
    let link = stdout
        .split_whitespace()
        .find(|w| w.starts_with("https://fleet.example.com/invite/"))
        .unwrap_or_else(|| panic!("an invitation link in: {stdout}"));
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 43, "256 random bits, base64url");

    let again = run().await;
    assert!(
        !again.status.success(),
        "a second organisation of that name"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let (mut config, secret) = test_config(&db);
    config.demo = false;
    let app = TestApp::start(db, &config, &secret, Tuning::default()).await;
    let view = app
        .call(
            NoSession,
            OpenInvitation {
                token: token.clone(),
            },
        )
        .await
        .expect("the link opens");
    assert_eq!(
        (view.organisation.as_str(), view.team.as_str()),
        ("Initech", "Initech")
    );
    let res = app
        .call_raw(
            NoSession,
            AcceptInvitation {
                token,
                password: "a-long-manager-password".into(),
                confirm: "a-long-manager-password".into(),
            },
        )
        .await;
    let peter = crate::support::session_cookie(&res).expect("accepting signs in");
    let me = app.call(&peter, CurrentUser {}).await.expect("signed in");
    assert_eq!(me.email, "peter@initech.test");
    assert_eq!(me.role, domain::people::Role::FleetManager);
}

/// Production mode on an empty database says, at start-up, how to create the first Admin;
/// demo mode and a database with users do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_production_install_says_how_to_create_the_first_admin() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let db = TestDb::create(Backend::Sqlite).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("FLEETGATE_DATA_DIR", db.dir.join("data"))
        .env("FLEETGATE_ADDR", "127.0.0.1:0")
        .env("FLEETGATE_DEMO", "false")
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let found = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let hint = line.contains("server create-admin");
            said.push(line);
            if hint {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    child.kill().await.ok();
    assert!(found, "start-up said: {said:?}");
}
