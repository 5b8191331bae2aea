//! Logging: `RUST_LOG` filters; one span per request carries its id.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    // A second init (tests start several servers in one process) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// For tests: output goes through the test harness's capture, and only warnings by default.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
