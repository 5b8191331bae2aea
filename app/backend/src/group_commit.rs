//! Group commit: the independent writes of many requests committed in one transaction.
//!
//! Why: what a write costs is mostly its transaction, not its change. On SQLite a write is four
//! statements (`BEGIN`, the change, its audit row, `COMMIT`), each a hand-off to the
//! connection's worker thread, taken one writer at a time; on PostgreSQL it is `BEGIN`, the
//! change, the chain's turn, the audit row and a `COMMIT` that waits for its WAL flush. Writes
//! that arrive while a group is committing wait for the next one, which takes them all: one
//! `BEGIN`, each write's statements, every audit row, one `COMMIT`. Under no load a group is
//! one write, committed as soon as it comes: nothing waits for a timer.
//!
//! What stays true:
//! - A write is answered only once the transaction holding its change **and its audit rows**
//!   committed, or with the error that kept it out. Both commit together or not at all.
//! - A group's writes run one after another in one transaction, each seeing the ones before it
//!   as if they had committed: the group is the same as committing them one by one, in order.
//! - A write that fails (a duplicate, a stale version, a missing reference) rolls its group
//!   back, because on PostgreSQL a failed statement spoils its transaction, and a write of
//!   several statements may have made some of them. The writes before it are committed again
//!   as a group of their own (they succeeded once on exactly that state), and the failed write
//!   is run again first in a fresh transaction (the writes after it follow it there): whatever
//!   it answers there is its own answer, never one caused by a write that was then rolled
//!   back. So a write must be repeatable — [`GroupCommit::write`] takes an `Fn` — and must do
//!   nothing outside its transaction.
//! - A write that meets a database error must fail with it, never carry on: on PostgreSQL the
//!   error spoils the transaction for the whole group. (The audit rows appended after the
//!   writes then fail, so the group is answered with an error rather than a `COMMIT` that
//!   PostgreSQL turns into a silent rollback; a write without audit events would lack even
//!   that.)
//! - Only writes of [`audit::Isolation::Independent`]: a group is one independent write to the
//!   audit chain, which orders it among every other instance's writes as before.
//! - A write must not wait for another write (an audit of a denial, another group write): the
//!   group holds the writer's turn while it runs.

use crate::audit::{self, Entry};
use sea_orm::{DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// A future a write returns, borrowing the group's transaction.
pub type WriteFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// A write's statements in a group's transaction, giving `O` — for [`GroupCommit::write`],
/// its answer and the audit events of its change. An `Fn`: it may run more than once.
pub trait Write<O>:
    for<'t> Fn(&'t DatabaseTransaction) -> WriteFuture<'t, O> + Send + 'static
{
}

impl<O, F> Write<O> for F where
    F: for<'t> Fn(&'t DatabaseTransaction) -> WriteFuture<'t, O> + Send + 'static
{
}

/// At most this many writes in one group: enough for every connection a load test opens, and
/// a bound on how long one group holds SQLite's writer while reads wait for nothing (WAL).
const GROUP: usize = 64;
/// Writes waiting for their group beyond this wait to be queued (back-pressure).
const QUEUE: usize = 1024;

/// Where a process's independent writes go to be committed in groups: one committer task per
/// database connection pool, started with it.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl GroupCommit {
    /// Starts the committer for `db` (on the current tokio runtime); it ends when the last
    /// handle is dropped and the writes queued before it are answered.
    pub fn start(db: DatabaseConnection) -> GroupCommit {
        let (queue, writes) = mpsc::channel(QUEUE);
        tokio::spawn(committer(db, writes));
        GroupCommit { queue }
    }

    /// How many writes wait for a group to take them.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Runs `work` in the next group's transaction and answers once that committed: its value,
    /// or its own error. `work` returns the audit events of its change, appended in the same
    /// transaction. It may run more than once (see the module's notes): it must be a function
    /// of its captured values and the database alone.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
        F: Write<Result<(T, Vec<Entry>), E>>,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work,
            staged: None,
            reply,
        });
        self.queue.send(job).await.map_err(|_| stopped())?;
        // Dropped unanswered only if its group's task panicked.
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> DbErr {
    DbErr::Custom("the group committer stopped".into())
}

/// One queued write, its type erased so that writes of every kind share a group.
trait Job: Send {
    /// Runs the write in `txn`: its audit events, or `None` when it failed (its error kept for
    /// [`Job::answer`]).
    fn run<'t>(&'t mut self, txn: &'t DatabaseTransaction) -> WriteFuture<'t, Option<Vec<Entry>>>;
    /// Answers the request: the outcome of its last run if `commit` succeeded (or the run
    /// failed, so there was nothing of it to commit), else the commit's error.
    fn answer(self: Box<Self>, commit: Result<(), DbErr>);
}

struct Pending<T, E, F> {
    work: F,
    staged: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for Pending<T, E, F>
where
    T: Send + 'static,
    E: From<DbErr> + Send + 'static,
    F: Write<Result<(T, Vec<Entry>), E>>,
{
    fn run<'t>(&'t mut self, txn: &'t DatabaseTransaction) -> WriteFuture<'t, Option<Vec<Entry>>> {
        Box::pin(async move {
            match (self.work)(txn).await {
                Ok((value, events)) => {
                    self.staged = Some(Ok(value));
                    Some(events)
                }
                Err(e) => {
                    self.staged = Some(Err(e));
                    None
                }
            }
        })
    }

    fn answer(self: Box<Self>, commit: Result<(), DbErr>) {
        let answer = match (commit, self.staged) {
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(E::from(DbErr::Custom("a write was never run".into()))),
        };
        // The request may have gone (its client left): the write stands all the same.
        let _ = self.reply.send(answer);
    }
}

/// Takes the writes waiting, up to [`GROUP`], and commits them as a group, with at most
/// [`groups_at_once`] groups committing at a time; writes that come meanwhile wait for the next.
async fn committer(db: DatabaseConnection, mut writes: mpsc::Receiver<Box<dyn Job>>) {
    let slots = Arc::new(Semaphore::new(groups_at_once(&db)));
    // A slot first, then the writes: while every slot is busy, writes wait in the queue, and
    // the next group takes them all.
    while let Ok(slot) = slots.clone().acquire_owned().await {
        let Some(first) = writes.recv().await else {
            return;
        };
        let mut group = VecDeque::from([first]);
        while group.len() < GROUP {
            match writes.try_recv() {
                Ok(job) => group.push_back(job),
                Err(_) => break,
            }
        }
        let db = db.clone();
        // A task of its own, so that a write that panics loses its group's answers (their
        // requests fail) and nothing else; the slot is freed when the task ends either way.
        tokio::spawn(async move {
            let _slot = slot;
            commit_group(db, group).await;
        });
    }
}

/// How many groups commit at once. SQLite has one writer: a second group would only wait for
/// the first's turn with the writes it took, which could have joined a later, larger group.
/// PostgreSQL runs independent writes side by side until they append (`audit::AuditedTxn`):
/// while one group appends and waits for its commit's WAL flush, others make their changes.
pub fn groups_at_once(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => 1,
        _ => POSTGRES_GROUPS,
    }
}

/// Groups committing at once on PostgreSQL.
const POSTGRES_GROUPS: usize = 2;

/// Commits `group` in order, answering each write (see the module's notes for failures).
async fn commit_group(db: DatabaseConnection, mut group: VecDeque<Box<dyn Job>>) {
    // How many of the writes at the front to try together next.
    let mut take = group.len();
    while !group.is_empty() {
        let started = std::time::Instant::now();
        match attempt(&db, group.range_mut(..take)).await {
            Attempt::Committed => {
                let micros = started.elapsed().as_micros();
                tracing::debug!(writes = take, micros, "a group of writes committed");
                group.drain(..take).for_each(|job| job.answer(Ok(())));
                take = group.len();
            }
            // It failed first in a fresh transaction: that is its own answer.
            Attempt::Refused(0) => {
                if let Some(job) = group.pop_front() {
                    job.answer(Ok(()));
                }
                take = group.len();
            }
            // Those before it again, without it; then it, first.
            Attempt::Refused(k) => take = k,
            Attempt::Failed(e) => {
                tracing::error!(error = %e, writes = take, "a group of writes did not commit");
                group
                    .drain(..take)
                    .for_each(|job| job.answer(Err(e.clone())));
                take = group.len();
            }
        }
    }
}

enum Attempt {
    Committed,
    /// The write at this position failed; the group was rolled back.
    Refused(usize),
    /// The transaction could not begin or commit: none of the writes is known to stand.
    Failed(DbErr),
}

/// Runs `jobs` in one transaction and commits them with their audit events.
async fn attempt<'a>(
    db: &DatabaseConnection,
    jobs: impl Iterator<Item = &'a mut Box<dyn Job>>,
) -> Attempt {
    let txn = match audit::begin_with(db, audit::Isolation::Independent).await {
        Ok(txn) => txn,
        Err(e) => return Attempt::Failed(e),
    };
    for (k, job) in jobs.enumerate() {
        let Some(events) = job.run(&txn).await else {
            txn.rollback().await;
            return Attempt::Refused(k);
        };
        for event in events {
            if let Err(e) = txn.append(event).await {
                txn.rollback().await;
                return Attempt::Failed(e);
            }
        }
    }
    match txn.commit().await {
        Ok(()) => Attempt::Committed,
        Err(e) => Attempt::Failed(e),
    }
}
