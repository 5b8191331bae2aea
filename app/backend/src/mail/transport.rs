//! Where delivered mail goes: an SMTP server (lettre), or the outbox directory.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// Why a message could not be delivered (this time).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the outbox could not be written: {0}")]
    File(#[from] std::io::Error),
}

/// Why the mail configuration is unusable (reported at start-up).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("FLEETGATE_SMTP_URL is not a usable SMTP URL: {0}")]
    Url(String),
    #[error("FLEETGATE_MAIL_FROM is not a mailbox (`Name <address>` or `address`): {0}")]
    From(String),
}

#[derive(Clone)]
enum Route {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<time>-<id>.eml` file per message in this directory.
    Outbox(PathBuf),
}

/// A configured way to deliver mail, with the sender's address.
#[derive(Clone)]
pub struct Transport {
    route: Route,
    from: Mailbox,
}

impl std::fmt::Debug for Transport {
    // The SMTP URL may carry a password: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let route = match &self.route {
            Route::Smtp(_) => "smtp".to_owned(),
            Route::Outbox(dir) => format!("outbox {}", dir.display()),
        };
        write!(f, "Transport({route}, from {})", self.from)
    }
}

impl Transport {
    /// SMTP at `url` (`smtp://host:port`, `smtps://…`, `?tls=required` for STARTTLS).
    pub fn smtp(url: &str, from: &str) -> Result<Transport, ConfigError> {
        let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ConfigError::Url(e.to_string()))?
            .build();
        Ok(Transport {
            route: Route::Smtp(smtp),
            from: parse_from(from)?,
        })
    }

    /// Files in `dir` (created on first use).
    pub fn outbox(dir: PathBuf, from: &str) -> Result<Transport, ConfigError> {
        Ok(Transport {
            route: Route::Outbox(dir),
            from: parse_from(from)?,
        })
    }

    /// Delivers one message; `id` names its file in the outbox.
    pub async fn send(
        &self,
        id: i32,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError::Build(format!("{e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| SendError::Build(e.to_string()))?;
        match &self.route {
            Route::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(SendError::from),
            Route::Outbox(dir) => write_file(dir, id, &message.formatted()).await,
        }
    }
}

fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse()
        .map_err(|e: lettre::address::AddressError| ConfigError::From(e.to_string()))
}

/// Writes `<dir>/<time>-<id>.eml` whole or not at all (a temporary name, then a rename), so a
/// reader never sees half a message.
async fn write_file(dir: &std::path::Path, id: i32, bytes: &[u8]) -> Result<(), SendError> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!(
        "{}-{id}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(name)).await?;
    Ok(())
}
