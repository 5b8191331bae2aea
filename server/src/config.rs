//! Configuration from the command line and the environment (`FLEETGATE_*`, `DATABASE_URL`).

use backend::throttle::Policy;
use clap::builder::BoolishValueParser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    /// Default: a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the SQLite database and the generated signing key.
    #[arg(long, env = "FLEETGATE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Address to listen on.
    #[arg(long, env = "FLEETGATE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Demo mode: load the demo data set into an empty database (password `fleetgate-demo`).
    #[arg(long, env = "FLEETGATE_DEMO", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub demo: bool,

    /// Let webhooks call plain-http and private-network addresses (development and tests only:
    /// in production a customer's webhook URL must never reach the server's own network).
    #[arg(long, env = "FLEETGATE_WEBHOOK_ALLOW_PRIVATE", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub webhook_allow_private: bool,

    /// Session signing key, base64 (at least 32 bytes). Default: a key generated on first run
    /// and kept in `<data dir>/jwt.key`.
    #[arg(long, env = "FLEETGATE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// The public URL people reach the app at, when it differs from the listening address
    /// (behind a proxy). `https://…` turns on `Secure` and `__Host-` cookies.
    #[arg(long, env = "FLEETGATE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How long a sign-in lasts, in minutes.
    #[arg(long, env = "FLEETGATE_SESSION_TTL_MINUTES", default_value_t = 480)]
    pub session_ttl_minutes: u64,

    /// SMTP server for outgoing mail (`smtp://user:pass@host:587?tls=required`, `smtps://…`).
    /// Default: no server; every message is written to `<data dir>/outbox/` as an `.eml` file.
    #[arg(long, env = "FLEETGATE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of outgoing mail.
    #[arg(
        long,
        env = "FLEETGATE_MAIL_FROM",
        default_value = "Fleetgate <no-reply@fleetgate.invalid>"
    )]
    pub mail_from: String,

    /// The built site (wasm, JS, CSS) that cargo-leptos produces.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

impl Config {
    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("fleetgate.db").display()
            )
        })
    }

    /// How outgoing mail leaves: SMTP when configured, else the outbox directory.
    pub fn mail_transport(&self) -> anyhow::Result<backend::mail::transport::Transport> {
        use backend::mail::transport::Transport;
        Ok(
            match self.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
                Some(url) => Transport::smtp(url.trim(), &self.mail_from)?,
                None => Transport::outbox(self.data_dir.join("outbox"), &self.mail_from)?,
            },
        )
    }

    /// What links in mail start with: the public URL, else the address the server listens on.
    pub fn links_base(&self, listening: SocketAddr) -> String {
        match self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{listening}"),
        }
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_minutes.max(1) * 60)
    }

    /// Cookies are `Secure` only when the public URL is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// `scheme://host[:port]` of the public URL, for the same-origin check.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.as_deref()?.trim().to_ascii_lowercase();
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{scheme}://{host}"))
    }
}

/// Settings that are not configuration for operators but differ in tests.
#[derive(Clone, Debug)]
pub struct Tuning {
    pub throttle_account: Policy,
    pub throttle_address: Policy,
    /// How often expired impersonations are ended and recorded, whether or not anyone presents
    /// their cookie again.
    pub impersonation_sweep: std::time::Duration,
    /// How often the mail worker looks for messages to deliver.
    pub mail_every: std::time::Duration,
    /// The wait after a failed delivery before the next attempt (doubled per failure).
    pub mail_retry: std::time::Duration,
    /// How often the webhook worker sends the events beyond each webhook's cursor.
    pub webhook_every: std::time::Duration,
    /// The wait after a failed webhook delivery (doubled per failure, at most an hour).
    pub webhook_retry: std::time::Duration,
    /// A PostgreSQL connection left idle this long is pinged before it is used again. Under
    /// load none is (a ping before every statement was a round trip each); after a database
    /// restart, only those used within this time fail a request (a 503) before being replaced.
    pub db_ping_idle: std::time::Duration,
    /// Every connection of the pool opened before the server listens, and kept (a pool grown
    /// on demand makes the first burst of requests wait for PostgreSQL's backends). The tests'
    /// servers, hundreds of them in a run, open theirs on demand.
    pub db_warm: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            throttle_account: Policy::ACCOUNT,
            throttle_address: Policy::ADDRESS,
            impersonation_sweep: std::time::Duration::from_secs(15),
            mail_every: std::time::Duration::from_secs(1),
            mail_retry: std::time::Duration::from_secs(30),
            webhook_every: std::time::Duration::from_secs(1),
            webhook_retry: std::time::Duration::from_secs(5),
            db_ping_idle: std::time::Duration::from_secs(1),
            db_warm: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: Config,
    }

    #[test]
    fn defaults_use_sqlite_in_the_data_dir() {
        let t = T::parse_from(["t"]);
        assert_eq!(t.c.database_url(), "sqlite://data/fleetgate.db?mode=rwc");
        assert!(!t.c.secure_cookies());
        assert_eq!(t.c.public_origin(), None);
    }

    #[test]
    fn https_public_url_means_secure_cookies() {
        let t = T::parse_from(["t", "--public-url", "https://fleet.example.com/app"]);
        assert!(t.c.secure_cookies());
        assert_eq!(
            t.c.public_origin().as_deref(),
            Some("https://fleet.example.com")
        );
    }
}
