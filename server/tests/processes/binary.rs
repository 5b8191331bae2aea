//! The real server binary, started as a process of its own.

use crate::common::client::Browser;
use crate::common::db::TestDb;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The real server binary on a free port, with the demo data, on `db`; and a browser of it.
pub async fn spawn_server(db: &TestDb) -> (Child, Browser) {
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
    let browser = Browser::new(format!("http://127.0.0.1:{port}"));
    for _ in 0..200 {
        if browser
            .client
            .get(browser.url("/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, browser);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}
