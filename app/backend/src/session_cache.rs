//! Authenticating a request without a database round trip when nothing it reads can have
//! changed: the session's row (with its user and organisation, `session::read_row`) is kept per
//! session, tagged with the authentication epoch (`auth_epoch`) read *before* the row was. It is
//! used again only while the epoch still has that value, and for at most [`MAX_AGE`]; every use
//! is judged afresh (`session::judge`: expiry against the clock, the claims against the row).
//!
//! Why this is safe across instances: every write that could change such a row changes the
//! epoch after its commit and before it answers, and every instance reads the epoch before it
//! looks here. A request that reads an epoch older than a commit reads the database; a row read
//! before a commit carries the epoch from before it, which the commit's change retires. So a
//! sign-out, an exit, a deactivation or a revocation is refused by every instance on the next
//! request after it returned, as when every request read the database.
//!
//! [`MAX_AGE`] bounds what no epoch can signal: a change made outside the application (by hand
//! in SQL), or an instance that stopped between a commit and its epoch change.
//!
//! On PostgreSQL (no shared epoch) nothing is kept: every request reads its row, over
//! connections of the reads' own (`session_reader`: one round trip, where the pool's took two).

use crate::auth_epoch::{self, Epoch};
use crate::principal::Principal;
use crate::session::{self, SessionRow};
use crate::session_reader::SessionReader;
use crate::token::Claims;
use domain::error::AuthFailure;
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The longest a kept row is used, whatever the epoch says.
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// Sessions kept before the cache starts over (a crude bound; a row is one query to read again).
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug)]
struct Kept {
    epoch: u64,
    read_at: Instant,
    row: Arc<SessionRow>,
}

/// The rows of recently seen sessions (one per process, in `AppState`).
#[derive(Debug, Default)]
pub struct SessionCache {
    /// The database's epoch, found on first use (`None`: nothing is kept).
    epoch: OnceLock<Option<Arc<Epoch>>>,
    /// PostgreSQL's reads, found on first use (`None` on SQLite, whose reads use the pool).
    reader: OnceLock<Option<SessionReader>>,
    rows: Mutex<HashMap<String, Kept>>,
    hits: AtomicU64,
}

impl SessionCache {
    /// The principal of verified claims naming someone's own session: the row from the cache
    /// while current, else from the database. The outer error is the database's.
    pub async fn own_principal(
        &self,
        db: &DatabaseConnection,
        claims: &Claims,
    ) -> Result<Result<Principal, AuthFailure>, DbErr> {
        let Some(row) = self.row(db, &claims.sid).await? else {
            return Ok(Err(AuthFailure::Invalid));
        };
        Ok(session::judge(&row, claims, chrono::Utc::now()))
    }

    /// How many requests were authenticated from the cache (for tests and diagnostics).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    async fn row(
        &self,
        db: &DatabaseConnection,
        session_id: &str,
    ) -> Result<Option<Arc<SessionRow>>, DbErr> {
        // Both taken before the row is read: a commit after this point changes the epoch again,
        // and the row's age counts from before it was read.
        let read_at = Instant::now();
        let epoch = self.epoch(db).and_then(|e| e.read());
        if let Some(now) = epoch
            && let Some(row) = self.current(session_id, now)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(row));
        }
        let read = match self.reader.get_or_init(|| SessionReader::of(db)) {
            Some(reader) => reader.read(session_id).await?,
            None => session::read_row(db, session_id).await?,
        };
        let Some(row) = read.map(Arc::new) else {
            return Ok(None);
        };
        if let Some(epoch) = epoch {
            self.keep(session_id, epoch, read_at, row.clone());
        }
        Ok(Some(row))
    }

    /// The database's epoch, once it could be opened (until then nothing is kept).
    fn epoch(&self, db: &DatabaseConnection) -> Option<&Epoch> {
        if let Some(known) = self.epoch.get() {
            return known.as_deref();
        }
        match auth_epoch::of(db) {
            Ok(epoch) => self.epoch.get_or_init(|| epoch).as_deref(),
            Err(error) => {
                tracing::warn!(%error, "no authentication epoch: this request reads its session");
                None
            }
        }
    }

    fn current(&self, session_id: &str, epoch: u64) -> Option<Arc<SessionRow>> {
        lock(&self.rows)
            .get(session_id)
            .filter(|k| k.epoch == epoch && k.read_at.elapsed() < MAX_AGE)
            .map(|k| k.row.clone())
    }

    fn keep(&self, session_id: &str, epoch: u64, read_at: Instant, row: Arc<SessionRow>) {
        let mut rows = lock(&self.rows);
        if rows.len() >= MAX_ENTRIES {
            rows.clear();
        }
        rows.insert(
            session_id.to_owned(),
            Kept {
                epoch,
                read_at,
                row,
            },
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
