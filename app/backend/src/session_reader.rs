//! The read of a request's session on PostgreSQL (`session::read_row`), over connections kept
//! for it alone instead of the pool's.
//!
//! Why: sqlx pings every connection it takes back into its pool, unconditionally
//! (`PoolConnection::return_to_pool` sends a Sync and waits for the answer), to flush whatever
//! a cancelled statement left pending. The session's read is every request's statement — on
//! PostgreSQL nothing is cached, so that a sign-out on one instance holds on every other at
//! once — so through the pool it cost two round trips where one does.
//!
//! What makes it safe without the ping: a connection goes back to the set only after its
//! statement completed and every row of it was read, so nothing is pending on it. A read that
//! does not complete — the request was cancelled mid-statement, the statement failed — drops
//! its connection, which closes it. A kept connection the server has closed meanwhile (a
//! restart, a terminated backend) fails its next read, which runs once more on a new one. A
//! read waits no longer than the pool would for a connection (its acquire timeout), its opening
//! and its answer included: a database that does not answer gives a 503 as soon as through the
//! pool, and the connection it held is closed.

use crate::session::{SessionRow, row_sql};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions};
use sea_orm::{
    ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, FromQueryResult, QueryResult, RuntimeErr,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How the connections name themselves to PostgreSQL (`pg_stat_activity.application_name`).
pub const APPLICATION_NAME: &str = "fleetgate-sessions";

/// Connections at most, in use or kept: a read takes a tenth of a millisecond, so a few serve
/// thousands of requests a second; the pool keeps its own for everything else.
const CONNECTIONS: usize = 4;

/// The connections of one process's session reads.
#[derive(Debug)]
pub struct SessionReader {
    options: PgConnectOptions,
    /// The longest a read takes before it fails as the database's fault.
    wait: Duration,
    idle: Mutex<Vec<PgConnection>>,
    /// One per connection that may exist: a read waits for one rather than open a fifth.
    slots: Arc<Semaphore>,
}

impl SessionReader {
    /// A reader for `db`'s server, when it is PostgreSQL: it connects as the pool does (on
    /// first use) and waits as long as the pool would.
    pub fn of(db: &DatabaseConnection) -> Option<Self> {
        if db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        let pool = db.get_postgres_connection_pool();
        let options = (*pool.connect_options()).clone();
        Some(Self::with(options, pool.options().get_acquire_timeout()))
    }

    /// A reader that connects with `options` and gives up on a read after `wait`.
    pub fn with(options: PgConnectOptions, wait: Duration) -> Self {
        Self {
            options: options.application_name(APPLICATION_NAME),
            wait,
            idle: Mutex::default(),
            slots: Arc::new(Semaphore::new(CONNECTIONS)),
        }
    }

    /// The row of session `session_id`, as [`crate::session::read_row`] reads it.
    pub async fn read(&self, session_id: &str) -> Result<Option<SessionRow>, DbErr> {
        tokio::time::timeout(self.wait, self.read_within(session_id))
            .await
            .unwrap_or(Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)))
    }

    async fn read_within(&self, session_id: &str) -> Result<Option<SessionRow>, DbErr> {
        let _slot = self.slots.acquire().await.map_err(|_| closed())?;
        // A kept connection that fails was most likely closed by the server meanwhile: it is
        // dropped, and the read runs once more on a new one.
        if let Some(mut kept) = self.take()
            && let Ok(row) = read_on(&mut kept, session_id).await
        {
            self.keep(kept);
            return Ok(row);
        }
        let mut fresh = self.options.connect().await.map_err(conn_err)?;
        let row = read_on(&mut fresh, session_id).await.map_err(query_err)?;
        self.keep(fresh);
        Ok(row)
    }

    fn take(&self) -> Option<PgConnection> {
        lock(&self.idle).pop()
    }

    fn keep(&self, conn: PgConnection) {
        lock(&self.idle).push(conn);
    }
}

/// The statement on one connection, read to its end.
async fn read_on(
    conn: &mut PgConnection,
    session_id: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let rows = sqlx::query(row_sql(DbBackend::Postgres))
        .bind(session_id)
        .fetch_all(&mut *conn)
        .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    SessionRow::from_query_result(&QueryResult::from(row), "")
        .map(Some)
        .map_err(|e| sqlx::Error::Decode(e.to_string().into()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn closed() -> DbErr {
    DbErr::Custom("the session reader is closed".to_owned())
}
