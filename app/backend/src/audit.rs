//! The audit log: append-only and hash-chained.
//!
//! Each row's hash covers its own content and the previous row's hash, so editing or deleting a
//! row breaks every hash after it. The chain never forks: no two rows may follow the same row
//! (a unique index on `prev_hash`, whoever appends), and appends within a process take turns
//! (a process-wide lock); a write appends its events when it commits, so on PostgreSQL that
//! turn spans only the appends and the commit ([`AuditedTxn`]). Instances meet on the index: an
//! append that follows a row another instance is committing waits for it, then re-reads the
//! head under a transaction-scoped advisory lock.

use crate::entity::audit_event;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryOrder, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Key of the PostgreSQL advisory lock taken by an append whose guess of the head was wrong,
/// before it re-reads the head (the key earlier versions took for every append).
pub const PG_CHAIN_KEY: i64 = 0x6175_6469_7400;
/// Key of the PostgreSQL advisory lock that serialises serial writes across instances.
pub const PG_SERIAL_KEY: i64 = 0x6175_6469_7401;

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

/// The key of one structured detail of an event. Keys are stable (they are hashed into the chain
/// and stored); each value is kept and shown as a separate field, so text a user typed (a reason,
/// a ticket) can never pass for another field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// Why the actor did it, in their words (impersonation reason).
    Reason,
    /// The support ticket the actor named.
    Ticket,
    /// Impersonation mode (`view`, `act`).
    Mode,
    /// How long an impersonation was asked for, in minutes.
    Minutes,
    /// The permission a denial or a change is about.
    Permission,
    /// Why something was refused or ended, as the system decided it.
    Why,
    /// What a write did (`granted`, `revoked`, `added`, `removed`, `retired`, …).
    Change,
    /// The user a write was about (`user:<id>`).
    User,
    /// The vehicle a write was about (`vehicle:<id>`).
    Vehicle,
    /// A new status (work orders, inspections).
    Status,
    /// A work order's new assignee (`user:<id>`, empty for none).
    Assignee,
    /// An organisation's impersonation consent.
    Consent,
    /// A name given or changed (a team, an organisation).
    Name,
    /// A team's parent (`team:<id>`).
    Parent,
    /// A role given (`technician`, `fleet_manager`).
    Role,
    /// The e-mail address an invitation or a reset was for.
    Email,
    /// The team a change was about (`team:<id>`).
    Team,
    /// When something granted ends (a support access grant).
    Until,
    /// A note given with a support access grant.
    Note,
    /// The path of a page viewed, or the server function read, during an impersonation.
    Path,
    /// The work order a question or a write was about (`work_order:<id>`).
    WorkOrder,
}

impl Field {
    pub const ALL: [Field; 21] = [
        Field::Reason,
        Field::Ticket,
        Field::Mode,
        Field::Minutes,
        Field::Permission,
        Field::Why,
        Field::Change,
        Field::User,
        Field::Vehicle,
        Field::Status,
        Field::Assignee,
        Field::Consent,
        Field::Name,
        Field::Parent,
        Field::Role,
        Field::Email,
        Field::Team,
        Field::Until,
        Field::Note,
        Field::Path,
        Field::WorkOrder,
    ];

    /// The stored and hashed key: never change one, add new ones.
    pub const fn key(self) -> &'static str {
        match self {
            Field::Reason => "reason",
            Field::Ticket => "ticket",
            Field::Mode => "mode",
            Field::Minutes => "minutes",
            Field::Permission => "permission",
            Field::Why => "why",
            Field::Change => "change",
            Field::User => "user",
            Field::Vehicle => "vehicle",
            Field::Status => "status",
            Field::Assignee => "assignee",
            Field::Consent => "consent",
            Field::Name => "name",
            Field::Parent => "parent",
            Field::Role => "role",
            Field::Email => "email",
            Field::Team => "team",
            Field::Until => "until",
            Field::Note => "note",
            Field::Path => "path",
            Field::WorkOrder => "work_order",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Field::Reason => "Reason",
            Field::Ticket => "Ticket",
            Field::Mode => "Mode",
            Field::Minutes => "Minutes",
            Field::Permission => "Permission",
            Field::Why => "Why",
            Field::Change => "Change",
            Field::User => "User",
            Field::Vehicle => "Vehicle",
            Field::Status => "Status",
            Field::Assignee => "Assignee",
            Field::Consent => "Consent",
            Field::Name => "Name",
            Field::Parent => "Parent",
            Field::Role => "Role",
            Field::Email => "E-mail",
            Field::Team => "Team",
            Field::Until => "Until",
            Field::Note => "Note",
            Field::Path => "Viewed",
            Field::WorkOrder => "Work order",
        }
    }

    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// The structured details of an event: fields in the order they were given. Build it with
/// [`Details::with`]; values are stored as given, never joined into one string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details(Vec<(String, String)>);

impl Details {
    pub fn new() -> Details {
        Details::default()
    }

    /// Adds one field.
    pub fn with(mut self, field: Field, value: impl Into<String>) -> Details {
        self.0.push((field.key().to_owned(), value.into()));
        self
    }

    /// Adds a field by its stored key, as read back from an export (keys are hashed as they
    /// were written, even one no longer in [`Field`]).
    pub(crate) fn with_key(mut self, key: &str, value: &str) -> Details {
        self.0.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds one field when there is a value.
    pub fn with_opt(self, field: Field, value: Option<impl Into<String>>) -> Details {
        match value {
            Some(v) => self.with(field, v),
            None => self,
        }
    }

    /// The usual detail of a denial: the permission that was missing.
    pub fn permission(p: domain::authz::Permission) -> Details {
        Details::new().with(Field::Permission, p.key())
    }

    /// Why something was refused or ended.
    pub fn why(why: impl Into<String>) -> Details {
        Details::new().with(Field::Why, why)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields as (key, value), in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `field`, if given.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.pairs()
            .find(|(k, _)| *k == field.key())
            .map(|(_, v)| v)
    }

    /// The stored form: a JSON array of `[key, value]` pairs (ordered, unambiguous); `None`
    /// when there are no fields, as on rows written before fields existed.
    pub fn to_stored(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        serde_json::to_string(&self.0).ok()
    }

    /// Reads the stored form back; `None` when it is not what [`Details::to_stored`] writes.
    pub fn from_stored(stored: Option<&str>) -> Option<Details> {
        match stored {
            None => Some(Details::default()),
            Some(s) => serde_json::from_str::<Vec<(String, String)>>(s)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Details),
        }
    }
}

/// What an audit record is about, stored as `kind:id` (`vehicle:12`), or a word for a request
/// about no one row (`list`, `audit`, `-`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Vehicle(domain::ids::VehicleId),
    WorkOrder(domain::ids::WorkOrderId),
    Team(i32),
    User(i32),
    Organisation(i32),
    Invitation(i32),
    SupportGrant(i32),
    SupportRequest(i32),
    /// A list: the caller may see nothing of it.
    List,
    /// The audit log itself.
    AuditLog,
    /// Refused before any resource was looked at.
    Unspecified,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Vehicle(id) => write!(f, "vehicle:{id}"),
            Resource::WorkOrder(id) => write!(f, "work_order:{id}"),
            Resource::Team(id) => write!(f, "team:{id}"),
            Resource::User(id) => write!(f, "user:{id}"),
            Resource::Organisation(id) => write!(f, "organisation:{id}"),
            Resource::Invitation(id) => write!(f, "invitation:{id}"),
            Resource::SupportGrant(id) => write!(f, "support_grant:{id}"),
            Resource::SupportRequest(id) => write!(f, "support_request:{id}"),
            Resource::List => f.write_str("list"),
            Resource::AuditLog => f.write_str("audit"),
            Resource::Unspecified => f.write_str("-"),
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
    /// As stored: a [`Resource`] written out (`vehicle:12`).
    pub resource: Option<String>,
    pub outcome: Outcome,
    pub details: Details,
}

/// The hash of one row: SHA-256 over the previous hash and every field, length-prefixed so no
/// two different rows can produce the same input. `legacy_detail` is the free-text detail of
/// rows written before structured fields (always `None` for new rows). The structured fields
/// follow as a count and then each key and value on its own, so a value cannot be moved into
/// another field, and rows without fields hash exactly as they always did.
pub fn chain_hash(
    prev_hash: &str,
    occurred_at: &DateTime<Utc>,
    e: &Entry,
    legacy_detail: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    let opt_i = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut fields = vec![
        prev_hash.to_owned(),
        occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        opt_i(e.organisation_id),
        opt_i(e.actor_user_id),
        opt_i(e.subject_user_id),
        e.impersonation_id.clone().unwrap_or_default(),
        e.action.clone(),
        e.resource.clone().unwrap_or_default(),
        e.outcome.key().to_owned(),
        legacy_detail.unwrap_or_default().to_owned(),
    ];
    if !e.details.is_empty() {
        fields.push(format!("fields:{}", e.details.0.len()));
        for (k, v) in e.details.pairs() {
            fields.push(k.to_owned());
            fields.push(v.to_owned());
        }
    }
    for f in &fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The chain's lock within this process, holding the hash this process last saw at the head
/// of the chain: a guess that spares reading the head back on every append (one round trip
/// less inside the lock). A row is only inserted **if the guess is still the head** — another
/// instance, or a commit that failed after appending, may have moved it — and otherwise the
/// head is read and the append made from it. A stale guess costs a round trip, never a fork:
/// the chain's correctness never rests on it.
static CHAIN: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);
/// Serial writes' turn within this process (PostgreSQL; on SQLite the chain's lock is the turn).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How a write transaction is kept apart from the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// One at a time, from its first statement to its commit, across every instance: whatever
    /// the write read inside its transaction still holds when it commits. The default.
    Serial,
    /// Runs beside other writes until it appends its audit rows. Only for a write whose every
    /// invariant the database itself holds — a unique constraint, a foreign key, a
    /// compare-and-set on a version — never a check it read earlier in the transaction; and
    /// never one that touches teams, memberships or grants, which serial writes re-check inside
    /// their turn (the no-escalation rule), nor anything authenticating a request reads
    /// (sessions, users, organisations, support notices): only a serial write's commit changes
    /// the authentication epoch (`auth_epoch`). A request's independent write is committed in a
    /// group with others' (`group_commit`), whose transaction takes this isolation.
    Independent,
}

/// At most this many independent writes hold a connection at once on PostgreSQL (half the
/// pool): a burst of them queued for the chain's lock must never take every connection from
/// the reads and the sign-ins.
const INDEPENDENT_WRITERS: usize = 8;
static WRITERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(INDEPENDENT_WRITERS);
/// On SQLite, the writes that hold a connection at once: the one whose turn it is and the one
/// ready behind it, its `BEGIN` done. More would only hold connections the reads need while
/// they wait for the turn.
static SQLITE_WRITERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A write transaction whose audit rows are appended inside it: the change and its record commit
/// together or not at all. Dropping it without committing rolls everything back.
///
/// The events are appended **at commit**, under the chain's lock (this process's), which spans
/// only the appends and the commit. A row can only follow a committed row (this process's lock
/// spans its commit; another instance's row is learnt by reading it, or waited for on the
/// unique `prev_hash`), so rows get their ids and commit in chain order (the webhook cursor
/// relies on it), and the chain never forks. A lock taken before it (a serial write's turn, a
/// row the change locked) never waits for the chain's holder, which only inserts audit rows
/// (no foreign keys), waits for another appender's commit at most, and commits — so the
/// chain's lock can never be part of a deadlock.
///
/// On SQLite the chain's lock is taken at the start instead (right after `BEGIN`), whatever the
/// isolation: SQLite has one writer, and a deferred transaction that meets another in this
/// process fails with "database is locked" rather than waiting, so the lock is also the
/// writer's turn. A write dropped without committing (an error, a refusal after it wrote) keeps
/// its turn until its rollback has run: the next write has its `BEGIN` done already, and
/// SQLite refuses at once — its busy timeout does not cover a transaction that read and then
/// writes — while the abandoned one still holds the write lock.
pub struct AuditedTxn {
    /// Open until [`Self::commit`] takes it, or `drop` rolls it back.
    txn: Option<DatabaseTransaction>,
    /// The chain's lock, when taken at the start (SQLite).
    chain: Option<tokio::sync::MutexGuard<'static, Option<String>>>,
    /// A serial write's turn on PostgreSQL, held to the end (with its advisory lock).
    _serial: Option<tokio::sync::MutexGuard<'static, ()>>,
    /// A write's place among those holding a connection (SQLite; independent on PostgreSQL).
    _writer: Option<tokio::sync::SemaphorePermit<'static>>,
    /// The events recorded so far, appended in this order at commit.
    events: std::sync::Mutex<Vec<Entry>>,
    /// Changed once a serial write has committed, so that no instance authenticates a request
    /// from a session row read before it (`session_cache`). `None` for an independent write
    /// (fleet records only) and on PostgreSQL.
    epoch: Option<std::sync::Arc<crate::auth_epoch::Epoch>>,
}

impl std::ops::Deref for AuditedTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        // Only `commit` and `drop` take it, and both consume the write.
        self.txn
            .as_ref()
            .expect("a write's transaction is open until it ends")
    }
}

/// Opens a serial write transaction that will end with an audit row.
pub async fn begin(db: &DatabaseConnection) -> Result<AuditedTxn, DbErr> {
    begin_with(db, Isolation::Serial).await
}

/// Opens a write transaction kept apart from the others as `isolation` says.
pub async fn begin_with(
    db: &DatabaseConnection,
    isolation: Isolation,
) -> Result<AuditedTxn, DbErr> {
    // Before anything is opened: a serial write that could not change the epoch after its
    // commit must not happen at all (other instances would keep using what it changed).
    let epoch = match isolation {
        Isolation::Serial => crate::auth_epoch::of(db).map_err(|e| {
            DbErr::Custom(format!("the authentication epoch cannot be opened: {e}"))
        })?,
        Isolation::Independent => None,
    };
    let sqlite = db.get_database_backend() == DatabaseBackend::Sqlite;
    let (mut serial, mut writer) = (None, None);
    match (sqlite, isolation) {
        (true, _) => writer = SQLITE_WRITERS.acquire().await.ok(),
        (false, Isolation::Serial) => serial = Some(SERIAL.lock().await),
        (false, Isolation::Independent) => writer = WRITERS.acquire().await.ok(),
    }
    let txn = db.begin().await?;
    // SQLite's `BEGIN` (deferred) takes no lock and no snapshot — the first statement does —
    // so the turn can start after it: nothing the write reads predates its turn, and the
    // round trip of the `BEGIN` is made while the write before it still has the turn.
    let chain = if sqlite {
        Some(CHAIN.lock().await)
    } else {
        None
    };
    if serial.is_some() {
        advisory_lock(&txn, PG_SERIAL_KEY).await?;
    }
    Ok(AuditedTxn {
        txn: Some(txn),
        chain,
        _serial: serial,
        _writer: writer,
        events: std::sync::Mutex::new(Vec::new()),
        epoch,
    })
}

async fn advisory_lock(txn: &DatabaseTransaction, key: i64) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT pg_advisory_xact_lock({key})"),
    ))
    .await
    .map(drop)
}

fn poisoned<T>(_: T) -> DbErr {
    DbErr::Custom("the audit events of a transaction were poisoned".into())
}

impl AuditedTxn {
    /// Commits a transaction that turned out to change nothing worth recording (a no-op).
    pub async fn commit_unaudited(self) -> Result<(), DbErr> {
        self.commit().await
    }

    /// Rolls the write back and waits for it, before its turn ends (as dropping it does, but
    /// awaited: the next write's statements come after it).
    pub async fn rollback(mut self) {
        if let Some(txn) = self.txn.take() {
            rollback(txn).await;
        }
    }

    /// Records `entry` and commits the whole transaction.
    pub async fn commit_with(self, entry: Entry) -> Result<(), DbErr> {
        self.append(entry).await?;
        self.commit().await
    }

    /// Records `entry`, appended when the transaction commits (for a change that records
    /// several events, such as ending impersonations together with what ended them); commit
    /// with [`Self::commit`].
    pub async fn append(&self, entry: Entry) -> Result<(), DbErr> {
        self.events.lock().map_err(poisoned)?.push(entry);
        Ok(())
    }

    /// Appends the events recorded, in order, and commits them with the change; then, for a
    /// serial write, changes the authentication epoch before the caller can answer (even when
    /// the commit failed: whether it reached the database is unknown).
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let epoch = self.epoch.take();
        let committed = self.commit_events().await;
        if let Some(epoch) = epoch {
            epoch.bump();
        }
        committed
    }

    async fn commit_events(&mut self) -> Result<(), DbErr> {
        let events = std::mem::take(self.events.get_mut().map_err(poisoned)?);
        let (Some(txn), held) = (self.txn.take(), self.chain.take()) else {
            return Err(DbErr::Custom("a write committed twice".into()));
        };
        if events.is_empty() {
            return txn.commit().await;
        }
        let mut head = match held {
            Some(held) => held,
            None => CHAIN.lock().await,
        };
        match append_all(&txn, events, head.clone()).await {
            Ok(last) => {
                let committed = txn.commit().await;
                // Whether a failed commit reached the database is unknown: guess nothing.
                *head = if committed.is_ok() { last } else { None };
                committed
            }
            Err(e) => {
                // Rolled back before the chain's lock is released (the guess still holds).
                rollback(txn).await;
                Err(e)
            }
        }
    }
}

impl Drop for AuditedTxn {
    /// A write abandoned before its commit: its rollback runs before its turn and its place
    /// end (see [`AuditedTxn`]). Only SQLite's turn is held here; on PostgreSQL the rollback
    /// sea-orm starts releases the advisory locks, which the next write waits for.
    fn drop(&mut self) {
        let (Some(txn), Some(turn)) = (self.txn.take(), self.chain.take()) else {
            return;
        };
        let writer = self._writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn(async move {
                rollback(txn).await;
                drop((turn, writer));
            })),
            // No runtime left (the process is ending): sea-orm's own rollback on drop.
            Err(_) => drop(txn),
        }
    }
}

/// Appends `events` in order after `head` (this process's guess) under the chain's lock;
/// returns the last row's hash.
///
/// Only the first row needs the head: it is appended as [`Chain::append`] says. Every row after
/// it follows a row of this very transaction, which no other can follow before it commits (and
/// then only by reading it as the head), so the rest go in together, [`ROWS_PER_INSERT`] to a
/// statement: a group of writes (`group_commit`) appends its audit rows in one or two
/// statements, not one each.
async fn append_all(
    txn: &DatabaseTransaction,
    events: Vec<Entry>,
    head: Option<String>,
) -> Result<Option<String>, DbErr> {
    let mut events = events.into_iter();
    let Some(first) = events.next() else {
        return Ok(head);
    };
    let mut chain = Chain { txn, locked: false };
    let mut prev = chain.append(first, head.as_deref()).await?;
    let rest: Vec<Entry> = events.collect();
    for batch in rest.chunks(ROWS_PER_INSERT) {
        let mut rows = Vec::with_capacity(batch.len());
        for entry in batch {
            let occurred_at = now_micros();
            let hash = chain_hash(&prev, &occurred_at, entry, None);
            rows.push(Row {
                entry,
                occurred_at,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            });
        }
        insert_rows(txn, &rows).await?;
    }
    Ok(Some(prev))
}

/// Rows in one `INSERT` at most: 12 values each, well within both databases' limits on bound
/// parameters (SQLite's 32,766; PostgreSQL's 65,535).
const ROWS_PER_INSERT: usize = 256;

/// A row of the chain, its hash computed.
struct Row<'a> {
    entry: &'a Entry,
    occurred_at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
}

/// The current time at microsecond precision: what both databases store exactly, so the hash
/// can be re-checked.
fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Inserts rows that follow each other (and a row of this transaction) as they are.
async fn insert_rows(txn: &DatabaseTransaction, rows: &[Row<'_>]) -> Result<(), DbErr> {
    use sea_orm::sea_query::Query;

    let mut insert = Query::insert();
    insert.into_table(audit_event::Entity).columns(COLUMNS);
    for row in rows {
        insert
            .values(row_values(
                row.entry,
                row.occurred_at,
                &row.prev_hash,
                &row.hash,
            ))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    txn.execute(&insert).await.map(drop)
}

/// An audit row's columns, in the order of [`row_values`].
const COLUMNS: [audit_event::Column; 12] = [
    audit_event::Column::OccurredAt,
    audit_event::Column::OrganisationId,
    audit_event::Column::ActorUserId,
    audit_event::Column::SubjectUserId,
    audit_event::Column::ImpersonationId,
    audit_event::Column::Action,
    audit_event::Column::Resource,
    audit_event::Column::Outcome,
    audit_event::Column::Detail,
    audit_event::Column::Fields,
    audit_event::Column::PrevHash,
    audit_event::Column::Hash,
];

/// The values of a new row, in the order of [`COLUMNS`] (no legacy free-text detail).
fn row_values(
    e: &Entry,
    occurred_at: DateTime<Utc>,
    prev: &str,
    hash: &str,
) -> [sea_orm::sea_query::Expr; 12] {
    use sea_orm::sea_query::Expr;
    [
        Expr::val(occurred_at),
        Expr::val(e.organisation_id),
        Expr::val(e.actor_user_id),
        Expr::val(e.subject_user_id),
        Expr::val(e.impersonation_id.clone()),
        Expr::val(e.action.clone()),
        Expr::val(e.resource.clone()),
        Expr::val(e.outcome.key()),
        Expr::val(Option::<String>::None),
        Expr::val(e.details.to_stored()),
        Expr::val(prev),
        Expr::val(hash),
    ]
}

/// Rolls a write back, waiting for it; a failure is logged (the connection is then discarded by
/// the pool, which rolls back just the same).
async fn rollback(txn: DatabaseTransaction) {
    if let Err(error) = txn.rollback().await {
        tracing::warn!(%error, "a write's rollback failed");
    }
}

/// Runs one short serial write, like every other write by default: on SQLite two writers in one
/// process must never meet (a deferred transaction that meets another writer fails with
/// "database is locked" instead of waiting). For the workers' bookkeeping (claims, retries),
/// which changes nothing that needs an audit row — so nothing authentication reads (every such
/// change is audited): it leaves the authentication epoch alone, and the webhook courier's
/// claim every second does not empty every process's session cache.
pub async fn serially<T>(
    db: &DatabaseConnection,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<T, DbErr>,
) -> Result<T, DbErr> {
    let mut txn = begin(db).await?;
    txn.epoch = None;
    let out = write(&txn).await?;
    txn.commit_unaudited().await?;
    Ok(out)
}

/// Appends one event on its own (events that change nothing else: denials, impersonation
/// expiry).
pub async fn record(db: &DatabaseConnection, entry: Entry) -> Result<(), DbErr> {
    // It reads nothing and changes nothing else, so it needs no turn. On PostgreSQL it takes a
    // connection (one of the independent writers' few) before the chain's lock, so the lock
    // is never held while waiting for the pool.
    begin_with(db, Isolation::Independent)
        .await?
        .commit_with(entry)
        .await
}

/// How often an append re-reads the head that moved under it before it gives up. It moves
/// only when another instance's row on the same head commits first, and after the first
/// re-read this append holds the chain's advisory lock, which every instance's slow path takes:
/// a second move means an instance that appends without it (an older version).
const HEAD_READS: usize = 3;

/// One transaction's appends to the chain.
struct Chain<'a> {
    txn: &'a DatabaseTransaction,
    /// Whether this transaction took the chain's advisory lock (PostgreSQL).
    locked: bool,
}

impl Chain<'_> {
    /// Appends `entry` after `guess` if that is still the chain's head (one statement), else
    /// after the head as read; returns the new row's hash.
    ///
    /// No row can follow a row another already follows (a unique index on `prev_hash`), so the
    /// chain never forks whoever appends, and a right guess needs no lock: one statement. A
    /// guess that another instance's append proved wrong (its row went in first, or waits to
    /// commit on the same head: the index makes this one wait for it) costs the advisory lock,
    /// which orders the instances that had to re-read, and a read of the head.
    async fn append(&mut self, entry: Entry, guess: Option<&str>) -> Result<String, DbErr> {
        let occurred_at = now_micros();
        if let Some(prev) = guess {
            let hash = chain_hash(prev, &occurred_at, &entry, None);
            if insert_after(self.txn, &entry, occurred_at, prev, &hash).await? {
                return Ok(hash);
            }
        }
        for _ in 0..HEAD_READS {
            self.lock().await?;
            let prev = audit_event::Entity::find()
                .order_by_desc(audit_event::Column::Id)
                .one(self.txn)
                .await?
                .map(|r| r.hash)
                .unwrap_or_else(|| GENESIS.to_owned());
            let hash = chain_hash(&prev, &occurred_at, &entry, None);
            if insert_after(self.txn, &entry, occurred_at, &prev, &hash).await? {
                return Ok(hash);
            }
        }
        Err(DbErr::Custom(
            "the audit chain's head kept moving: another instance appends without its lock".into(),
        ))
    }

    /// The chain's advisory lock, once per transaction (PostgreSQL; SQLite has one writer).
    async fn lock(&mut self) -> Result<(), DbErr> {
        if !self.locked && self.txn.get_database_backend() == DatabaseBackend::Postgres {
            advisory_lock(self.txn, PG_CHAIN_KEY).await?;
        }
        self.locked = true;
        Ok(())
    }
}

/// `INSERT … SELECT <the row> WHERE <the head's hash> = prev ON CONFLICT (prev_hash) DO
/// NOTHING`: whether the row went in. The head is read in the statement's snapshot, which on
/// PostgreSQL may miss a row another transaction committed since; the unique `prev_hash` then
/// refuses the row (after waiting for that transaction, if it has not ended), and nothing went
/// in.
async fn insert_after(
    txn: &DatabaseTransaction,
    e: &Entry,
    occurred_at: DateTime<Utc>,
    prev: &str,
    hash: &str,
) -> Result<bool, DbErr> {
    use audit_event::Column as C;
    use sea_orm::sea_query::{Expr, ExprTrait, Query};

    let head = Query::select()
        .column(C::Hash)
        .from(audit_event::Entity)
        .order_by(C::Id, sea_orm::Order::Desc)
        .limit(1)
        .to_owned();
    let row = Query::select()
        .exprs(row_values(e, occurred_at, prev, hash))
        // An empty chain's head is the genesis hash.
        .and_where(
            Expr::from(sea_orm::sea_query::Func::coalesce([
                Expr::from(head),
                Expr::val(GENESIS),
            ]))
            .eq(prev),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(audit_event::Entity)
        .columns(COLUMNS)
        .select_from(row)
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(C::PrevHash)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let done = txn.execute(&insert).await?;
    Ok(done.rows_affected() == 1)
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
            // Fields that cannot be read back as written count as a broken row.
            let Some(details) = Details::from_stored(r.fields.as_deref()) else {
                return Ok((rows, Some(r.id)));
            };
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
                details,
            };
            let known_outcome = matches!(r.outcome.as_str(), "success" | "denied" | "failure");
            if !known_outcome
                || r.prev_hash != prev
                || chain_hash(&prev, &r.occurred_at, &entry, r.detail.as_deref()) != r.hash
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
            details: Details::new(),
        }
    }

    fn hash(e: &Entry, legacy: Option<&str>) -> String {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        chain_hash(GENESIS, &t, e, legacy)
    }

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let t = Utc::now();
        let base = chain_hash(GENESIS, &t, &entry(), Some("work_orders.complete"));
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            chain_hash(GENESIS, &t, &entry(), Some("work_orders.complete"))
        );
        assert_ne!(
            base,
            chain_hash(&base, &t, &entry(), Some("work_orders.complete"))
        );
        let mut e = entry();
        e.outcome = Outcome::Success;
        assert_ne!(
            base,
            chain_hash(GENESIS, &t, &e, Some("work_orders.complete"))
        );
        let mut e = entry();
        e.resource = Some("work_order:1work_orders.complete".into());
        assert_ne!(
            base,
            chain_hash(GENESIS, &t, &e, None),
            "fields cannot be shifted into each other"
        );
    }

    /// A row written before structured fields (this hash was computed by the code of that
    /// time) still verifies: rows without fields hash exactly as before.
    #[test]
    fn rows_without_fields_hash_as_they_always_did() {
        let mut h = Sha256::new();
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for f in [
            GENESIS,
            &t.to_rfc3339_opts(SecondsFormat::Micros, true),
            "2",
            "4",
            "4",
            "",
            "work_orders/complete",
            "work_order:1",
            "denied",
            "work_orders.complete",
        ] {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        assert_eq!(
            hex::encode(h.finalize()),
            hash(&entry(), Some("work_orders.complete"))
        );
    }

    #[test]
    fn each_field_is_hashed_on_its_own() {
        let with = |d: Details| Entry {
            details: d,
            ..entry()
        };
        let real = with(
            Details::new()
                .with(Field::Reason, "Routine check")
                .with(Field::Ticket, "SUP-9999"),
        );
        let base = hash(&real, None);
        // The forgery of the attack: the ticket typed into the reason.
        let forged = with(Details::new().with(Field::Reason, "Routine check; ticket=SUP-9999"));
        assert_ne!(base, hash(&forged, None));
        // Text moved from one field to the next.
        let moved = with(
            Details::new()
                .with(Field::Reason, "Routine checkS")
                .with(Field::Ticket, "UP-9999"),
        );
        assert_ne!(base, hash(&moved, None));
        // One value changed, keys swapped, or the same text as the old free-text detail.
        let changed = with(
            Details::new()
                .with(Field::Reason, "Routine check")
                .with(Field::Ticket, "SUP-9998"),
        );
        assert_ne!(base, hash(&changed, None));
        let swapped = with(
            Details::new()
                .with(Field::Ticket, "Routine check")
                .with(Field::Reason, "SUP-9999"),
        );
        assert_ne!(base, hash(&swapped, None));
        assert_ne!(
            hash(&with(Details::new().with(Field::Why, "x")), None),
            hash(&entry(), Some("x"))
        );
    }

    #[test]
    fn details_round_trip_through_their_stored_form() {
        let d = Details::new()
            .with(Field::Reason, "a \"quoted\" reason; ticket=x")
            .with(Field::Mode, "view");
        let stored = d.to_stored().unwrap();
        assert_eq!(Details::from_stored(Some(&stored)), Some(d.clone()));
        assert_eq!(d.get(Field::Mode), Some("view"));
        assert_eq!(Details::new().to_stored(), None);
        assert_eq!(Details::from_stored(None), Some(Details::new()));
        assert_eq!(Details::from_stored(Some("not json")), None);
        assert_eq!(Details::from_stored(Some("[]")), None);
        for f in Field::ALL {
            assert_eq!(Field::from_key(f.key()), Some(f));
        }
    }
}
