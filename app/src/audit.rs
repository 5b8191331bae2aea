//! The audit log: append-only and hash-chained (server only).
//!
//! Each row's hash covers its own content and the previous row's hash, so editing or deleting a
//! row breaks every hash after it. Appends are serialised (a process-wide lock, plus a
//! transaction-scoped advisory lock on PostgreSQL for several instances) so the chain never forks.

use crate::entity::audit_event;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryOrder, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Key of the PostgreSQL advisory lock that serialises appends across instances.
const PG_LOCK_KEY: i64 = 0x6175_6469_7400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Denied,
    Failure,
}

impl Outcome {
    pub const fn key(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

/// One event to record.
#[derive(Clone, Debug)]
pub struct Entry {
    pub organisation_id: Option<i32>,
    pub actor_user_id: Option<i32>,
    pub subject_user_id: Option<i32>,
    pub impersonation_id: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

/// The hash of one row: SHA-256 over the previous hash and every field, length-prefixed so no
/// two different rows can produce the same input.
pub fn chain_hash(prev_hash: &str, occurred_at: &DateTime<Utc>, e: &Entry) -> String {
    let mut h = Sha256::new();
    let opt_i = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
    let fields = [
        prev_hash.to_owned(),
        occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        opt_i(e.organisation_id),
        opt_i(e.actor_user_id),
        opt_i(e.subject_user_id),
        e.impersonation_id.clone().unwrap_or_default(),
        e.action.clone(),
        e.resource.clone().unwrap_or_default(),
        e.outcome.key().to_owned(),
        e.detail.clone().unwrap_or_default(),
    ];
    for f in &fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

static APPEND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A write transaction whose audit row is appended inside it: the change and its record commit
/// together or not at all. It holds the chain's lock (process-wide, plus a transaction-scoped
/// advisory lock on PostgreSQL) from the start, so appends never fork the chain. Dropping it
/// without committing rolls everything back.
pub struct AuditedTxn {
    txn: DatabaseTransaction,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl std::ops::Deref for AuditedTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Opens a write transaction that will end with an audit row.
pub async fn begin(db: &DatabaseConnection) -> Result<AuditedTxn, DbErr> {
    let serial = APPEND.lock().await;
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"),
        ))
        .await?;
    }
    Ok(AuditedTxn {
        txn,
        _serial: serial,
    })
}

impl AuditedTxn {
    /// Commits a transaction that turned out to change nothing worth recording (a no-op).
    pub async fn commit_unaudited(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Appends `entry` to the chain and commits the whole transaction.
    pub async fn commit_with(self, entry: Entry) -> Result<(), DbErr> {
        append(&self.txn, entry).await?;
        self.txn.commit().await
    }
}

/// Appends one event on its own (events that change nothing else: denials, impersonation
/// expiry).
pub async fn record(db: &DatabaseConnection, entry: Entry) -> Result<(), DbErr> {
    begin(db).await?.commit_with(entry).await
}

async fn append(txn: &DatabaseTransaction, entry: Entry) -> Result<(), DbErr> {
    let prev = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .one(txn)
        .await?
        .map(|r| r.hash)
        .unwrap_or_else(|| GENESIS.to_owned());
    // Microsecond precision: what both databases store exactly, so the hash can be re-checked.
    let now = Utc::now();
    let occurred_at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let hash = chain_hash(&prev, &occurred_at, &entry);
    audit_event::ActiveModel {
        occurred_at: Set(occurred_at),
        organisation_id: Set(entry.organisation_id),
        actor_user_id: Set(entry.actor_user_id),
        subject_user_id: Set(entry.subject_user_id),
        impersonation_id: Set(entry.impersonation_id),
        action: Set(entry.action),
        resource: Set(entry.resource),
        outcome: Set(entry.outcome.key().to_owned()),
        detail: Set(entry.detail),
        prev_hash: Set(prev),
        hash: Set(hash),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map(drop)
}

/// Re-computes the whole chain in order: how many rows, and the first that does not match.
pub async fn verify(db: &DatabaseConnection) -> Result<(u64, Option<i32>), DbErr> {
    use sea_orm::PaginatorTrait;
    let mut pages = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .paginate(db, 1000);
    let mut prev = GENESIS.to_owned();
    let mut rows = 0u64;
    while let Some(page) = pages.fetch_and_next().await? {
        for r in page {
            rows += 1;
            let entry = Entry {
                organisation_id: r.organisation_id,
                actor_user_id: r.actor_user_id,
                subject_user_id: r.subject_user_id,
                impersonation_id: r.impersonation_id.clone(),
                action: r.action.clone(),
                resource: r.resource.clone(),
                outcome: match r.outcome.as_str() {
                    "success" => Outcome::Success,
                    "denied" => Outcome::Denied,
                    _ => Outcome::Failure,
                },
                detail: r.detail.clone(),
            };
            let known_outcome = matches!(r.outcome.as_str(), "success" | "denied" | "failure");
            if !known_outcome
                || r.prev_hash != prev
                || chain_hash(&prev, &r.occurred_at, &entry) != r.hash
            {
                return Ok((rows, Some(r.id)));
            }
            prev = r.hash;
        }
    }
    Ok((rows, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            organisation_id: Some(2),
            actor_user_id: Some(4),
            subject_user_id: Some(4),
            impersonation_id: None,
            action: "work_orders/complete".into(),
            resource: Some("work_order:1".into()),
            outcome: Outcome::Denied,
            detail: Some("work_orders.complete".into()),
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let t = Utc::now();
        let base = chain_hash(GENESIS, &t, &entry());
        assert_eq!(base.len(), 64);
        assert_eq!(base, chain_hash(GENESIS, &t, &entry()));
        assert_ne!(base, chain_hash(&base, &t, &entry()));
        let mut e = entry();
        e.outcome = Outcome::Success;
        assert_ne!(base, chain_hash(GENESIS, &t, &e));
        let mut e = entry();
        e.detail = None;
        e.resource = Some("work_order:1work_orders.complete".into());
        assert_ne!(
            base,
            chain_hash(GENESIS, &t, &e),
            "fields cannot be shifted into each other"
        );
    }
}
