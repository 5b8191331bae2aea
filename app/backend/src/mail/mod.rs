//! Mail: a message is queued in the database inside the transaction of the change that caused
//! it ([`queue`]), and delivered by a worker with retries ([`postman`]), so sending never
//! blocks or fails a request and a mail-server outage loses nothing.
//!
//! Delivery goes over SMTP when a URL is configured, or else into one RFC 5322 file per
//! message in the outbox directory ([`transport`]).

pub mod letters;
pub mod postman;
pub mod transport;

use crate::entity::mail_outbox;
use chrono::Utc;
use domain::people::Email;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

/// One message to send: plain text, to one person.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub body: String,
}

/// Queues `mail` for delivery; part of the caller's transaction, so the message exists exactly
/// when the change that caused it commits.
pub async fn queue(db: &impl ConnectionTrait, mail: Mail) -> Result<(), DbErr> {
    let now = Utc::now();
    mail_outbox::ActiveModel {
        recipient: Set(mail.to.as_str().to_owned()),
        subject: Set(mail.subject),
        body: Set(mail.body),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(drop)
}
