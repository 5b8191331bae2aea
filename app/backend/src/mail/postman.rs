//! The worker that delivers the outbox: every tick it claims the messages that are due, sends
//! each, and records the outcome. A failure is tried again later, waiting twice as long each
//! time (at most an hour), so an outage of the mail server delays mail and loses none.
//!
//! Several instances may run it against one database: a message is claimed with a conditional
//! update (its attempt count must still be the one read), so only one instance sends it; a
//! claim that is never finished (the instance died) is taken again when its lease runs out.

use super::transport::Transport;
use crate::audit::serially;
use crate::entity::mail_outbox;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::Duration;

/// How long a claimed message is left alone before another attempt may take it.
const LEASE: Duration = Duration::from_secs(300);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Messages looked at per tick.
const BATCH: u64 = 50;

/// The wait before attempt `attempts + 1`: `retry`, doubled per earlier failure, capped.
pub fn backoff(retry: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(0, 16) as u32;
    retry
        .checked_mul(1u32 << doublings)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

fn later(d: Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// One round: delivers every message that is due. Returns how many were delivered.
pub async fn deliver_due(
    db: &DatabaseConnection,
    transport: &Transport,
    retry: Duration,
) -> Result<usize, DbErr> {
    let now = Utc::now();
    // Due ones are picked here rather than in SQL: SQLite keeps times as text. Unsent messages
    // are few (they leave within seconds unless the mail server is away).
    let pending = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .order_by_asc(mail_outbox::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut delivered = 0;
    for m in pending.into_iter().filter(|m| m.next_attempt_at <= now) {
        if !claim(db, &m).await? {
            continue;
        }
        match transport
            .send(m.id, &m.recipient, &m.subject, &m.body)
            .await
        {
            Ok(()) => {
                finish(db, m.id).await?;
                delivered += 1;
            }
            Err(e) => {
                // The error names the server or the file, never the message (it holds a link).
                tracing::warn!(mail = m.id, attempt = m.attempts + 1, error = %e, "mail not delivered; will retry");
                postpone(db, m.id, &e.to_string(), backoff(retry, m.attempts)).await?;
            }
        }
    }
    Ok(delivered)
}

/// Takes `m` for this instance: true when no one else took it since it was read.
async fn claim(db: &DatabaseConnection, m: &mail_outbox::Model) -> Result<bool, DbErr> {
    serially(db, async |txn| claim_in(txn, m).await).await
}

async fn claim_in(
    db: &sea_orm::DatabaseTransaction,
    m: &mail_outbox::Model,
) -> Result<bool, DbErr> {
    let claimed = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::Attempts, Expr::value(m.attempts + 1))
        .col_expr(
            mail_outbox::Column::NextAttemptAt,
            Expr::value(later(LEASE)),
        )
        .filter(mail_outbox::Column::Id.eq(m.id))
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::Attempts.eq(m.attempts))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Marks a message delivered and forgets its body: the link in it is a secret the database
/// should not keep once it has left.
async fn finish(db: &DatabaseConnection, id: i32) -> Result<(), DbErr> {
    serially(db, async |txn| {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::SentAt, Expr::value(Utc::now()))
            .col_expr(mail_outbox::Column::Body, Expr::value(""))
            .col_expr(
                mail_outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(mail_outbox::Column::Id.eq(id))
            .exec(txn)
            .await
            .map(drop)
    })
    .await
}

async fn postpone(
    db: &DatabaseConnection,
    id: i32,
    error: &str,
    wait: Duration,
) -> Result<(), DbErr> {
    let error: String = error.chars().take(500).collect();
    serially(db, async |txn| {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(later(wait)))
            .col_expr(mail_outbox::Column::LastError, Expr::value(error))
            .filter(mail_outbox::Column::Id.eq(id))
            .exec(txn)
            .await
            .map(drop)
    })
    .await
}

/// The delivery worker, every `every`, for as long as the handle lives. A round that fails
/// (the database away) is logged and tried again on the next tick, never fatal.
pub struct Postman(tokio::task::JoinHandle<()>);

impl Postman {
    pub fn spawn(
        db: DatabaseConnection,
        transport: Transport,
        every: Duration,
        retry: Duration,
    ) -> Postman {
        Postman(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match deliver_due(&db, &transport, retry).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(delivered = n, "mail delivered"),
                    Err(e) => tracing::warn!(error = %e, "mail round failed; will retry"),
                }
            }
        }))
    }
}

impl Drop for Postman {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_doubles_the_wait_up_to_an_hour() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 0), Duration::from_secs(10));
        assert_eq!(backoff(base, 1), Duration::from_secs(20));
        assert_eq!(backoff(base, 3), Duration::from_secs(80));
        assert_eq!(backoff(base, 12), MAX_BACKOFF);
        assert_eq!(backoff(base, i32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(base, -4), base);
    }
}
