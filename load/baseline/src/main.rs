//! The baseline of the load run (scripts/load.sh): a bare axum JSON handler on the same runtime
//! settings and loopback, so the app's figures can be read as a ratio to "axum doing nothing".
//!
//! `cargo run --release -p load-baseline -- 127.0.0.1:3201`

use axum::{Json, Router, routing::get};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3201".to_owned());
    let app = Router::new().route(
        "/",
        get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
