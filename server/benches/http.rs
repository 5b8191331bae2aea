//! A guarded server function end to end over HTTP, next to a bare axum JSON handler, in the same
//! run on loopback: median and p99 latency of sequential requests, and throughput with 8
//! concurrent clients. Not a test: it asserts nothing about time.
//!
//! Run: `cargo bench -p server --bench http` (SQLite in a temp dir; release build).

use axum::{Json, Router, routing::get};
use base64::Engine;
use server::config::{Config, Tuning};
use server::startup::Application;
use std::time::{Duration, Instant};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT_CLIENTS: usize = 8;
const CONCURRENT_EACH: usize = 500;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn measure<F, Fut>(label: &str, send: F)
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = reqwest::StatusCode> + Send,
{
    for _ in 0..100 {
        send().await; // warm-up
    }
    let mut times = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        let status = send().await;
        times.push(t.elapsed());
        assert!(status.is_success(), "{label}: {status}");
    }
    times.sort();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT_CLIENTS)
        .map(|_| {
            let send = send.clone();
            tokio::spawn(async move {
                for _ in 0..CONCURRENT_EACH {
                    send().await;
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let rps = (CONCURRENT_CLIENTS * CONCURRENT_EACH) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{label:<40} median {:>8.1?}  p99 {:>8.1?}  throughput ({CONCURRENT_CLIENTS} clients) {rps:>8.0} req/s",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("fleetgate-bench-{}", uuid::Uuid::new_v4()));
    let config = Config {
        database_url: None,
        data_dir: dir.clone(),
        addr: "127.0.0.1:0".parse()?,
        demo: true,
        webhook_allow_private: false,
        jwt_secret: Some(base64::engine::general_purpose::STANDARD.encode([7u8; 32])),
        public_url: None,
        session_ttl_minutes: 60,
        smtp_url: None,
        mail_from: "Fleetgate <no-reply@fleetgate.invalid>".into(),
        site_root: "target/site".into(),
    };
    let app = Application::build(&config, Tuning::default()).await?;
    let base = format!("http://{}", app.local_addr()?);
    tokio::spawn(app.run_until(std::future::pending()));

    let bare = Router::new().route(
        "/bare",
        get(|| async { Json(serde_json::json!({"id": 1, "title": "bare"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}/bare", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, bare).await });

    let client = reqwest::Client::new();
    let login = client
        .post(format!("{base}/api/login"))
        .header("origin", &base)
        .form(&[
            ("email", "tina@acme.test"),
            ("password", "fleetgate-demo"),
            ("next", ""),
        ])
        .send()
        .await?;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;

    println!("sequential: {SEQUENTIAL} requests each, after 100 warm-up requests");
    let c = client.clone();
    measure("bare axum JSON handler (GET /bare)", move || {
        let (c, url) = (c.clone(), bare_url.clone());
        async move {
            c.get(url)
                .send()
                .await
                .map(|r| r.status())
                .unwrap_or_default()
        }
    })
    .await;
    let c = client.clone();
    let (b, ck) = (base.clone(), cookie.clone());
    measure("guarded server fn (POST /api/work_orders/get)", move || {
        let (c, b, ck) = (c.clone(), b.clone(), ck.clone());
        async move {
            c.post(format!("{b}/api/work_orders/get"))
                .header("origin", &b)
                .header("cookie", &ck)
                .form(&[("id", "1")])
                .send()
                .await
                .map(|r| r.status())
                .unwrap_or_default()
        }
    })
    .await;
    let c = client.clone();
    measure(
        "signed-in page, server-side rendered (GET /work-orders/1)",
        move || {
            let (c, b, ck) = (c.clone(), base.clone(), cookie.clone());
            async move {
                c.get(format!("{b}/work-orders/1"))
                    .header("cookie", &ck)
                    .send()
                    .await
                    .map(|r| r.status())
                    .unwrap_or_default()
            }
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
