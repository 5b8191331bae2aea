//! Password throttling per account and per client address: sign-in, and every other check of
//! a password (the password change), on the same counters.
//!
//! Each attempt is counted as a failure the moment it is admitted and forgiven only when it
//! succeeds, so parallel attempts cannot slip past the limit while their password hashes are
//! still being checked. The counters live in the shared database and each admission is one
//! transaction holding both keys' rows, so the limits hold across every instance behind a load
//! balancer, not per process. The decision itself is pure ([`decide`]) and unit-tested.

use crate::entity::sign_in_throttle as row;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use std::time::Duration;

/// Milliseconds since the Unix epoch: the throttle's clock, the same on every instance.
pub type Millis = i64;

fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn duration(ms: Millis) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// Limits for one kind of key.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures after which every further attempt is slowed down.
    pub slow_after: u32,
    /// Failures after which attempts are refused for `lock_for`.
    pub lock_after: u32,
    pub slow_delay: Duration,
    pub lock_for: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Policy {
    /// Per account: five free failures, five slowed ones, then fifteen minutes refused.
    pub const ACCOUNT: Policy = Policy {
        slow_after: 5,
        lock_after: 10,
        slow_delay: Duration::from_secs(1),
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };

    /// Per client address: looser, since many people may share one address.
    pub const ADDRESS: Policy = Policy {
        slow_after: 20,
        lock_after: 50,
        slow_delay: Duration::from_secs(1),
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };
}

/// What to do with an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Go ahead after waiting this long.
    Slow(Duration),
    /// Refuse; the client may retry after this long.
    Refuse {
        retry_after: Duration,
    },
}

impl Verdict {
    /// The stricter of two verdicts.
    fn max(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (Refuse { retry_after: a }, Refuse { retry_after: b }) => Refuse {
                retry_after: a.max(b),
            },
            (r @ Refuse { .. }, _) | (_, r @ Refuse { .. }) => r,
            (Slow(a), Slow(b)) => Slow(a.max(b)),
            (s @ Slow(_), Allow) | (Allow, s @ Slow(_)) => s,
            (Allow, Allow) => Allow,
        }
    }
}

/// The failures recorded for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub failures: u32,
    pub last: Option<Millis>,
    pub locked_until: Option<Millis>,
}

impl Entry {
    /// Decides an attempt and counts it, as one step.
    fn admit(&mut self, policy: &Policy, now: Millis) -> Verdict {
        if let Some(until) = self.locked_until {
            if until > now {
                return Verdict::Refuse {
                    retry_after: duration(until - now),
                };
            }
            *self = Entry::default();
        }
        if self.last.is_some_and(|last| now - last > ms(policy.window)) {
            *self = Entry::default();
        }
        if self.failures >= policy.lock_after {
            self.locked_until = Some(now + ms(policy.lock_for));
            return Verdict::Refuse {
                retry_after: policy.lock_for,
            };
        }
        let verdict = if self.failures >= policy.slow_after {
            Verdict::Slow(policy.slow_delay)
        } else {
            Verdict::Allow
        };
        self.failures += 1;
        self.last = Some(now);
        verdict
    }
}

/// Decides an attempt for an account from an address and counts it on both. Both are checked
/// before either is counted, so a refusal by one key does not use up the other.
pub fn decide(
    (account_policy, address_policy): (&Policy, &Policy),
    account: &mut Entry,
    address: &mut Entry,
    now: Millis,
) -> Verdict {
    let (mut a, mut b) = (*account, *address);
    let (by_account, by_address) = (a.admit(account_policy, now), b.admit(address_policy, now));
    let refused = |v: Verdict| matches!(v, Verdict::Refuse { .. });
    // A key that refused keeps its change (the lock); the other counts only admitted attempts.
    if refused(by_account) || !refused(by_address) {
        *account = a;
    }
    if refused(by_address) || !refused(by_account) {
        *address = b;
    }
    by_account.max(by_address)
}

/// After a success: the account's failures are forgiven, and this attempt's count on the address.
pub fn forgive(account: &mut Entry, address: &mut Entry) {
    *account = Entry::default();
    address.failures = address.failures.saturating_sub(1);
}

/// A password attempt refused: too many recent failures (429 with the time left), or the
/// counters could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many attempts; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Limits, and the counters in the database.
#[derive(Debug)]
pub struct Throttle {
    account: Policy,
    address: Policy,
}

fn account_key(account: &str) -> String {
    format!("account:{account}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

impl From<&row::Model> for Entry {
    fn from(r: &row::Model) -> Entry {
        Entry {
            failures: u32::try_from(r.failures).unwrap_or(0),
            last: r.last_at,
            locked_until: r.locked_until,
        }
    }
}

impl Throttle {
    pub fn new(account: Policy, address: Policy) -> Throttle {
        Throttle { account, address }
    }

    /// Admits (and counts) an attempt for `account` from `address`.
    pub async fn admit(
        &self,
        db: &DatabaseConnection,
        account: &str,
        address: &str,
    ) -> Result<Verdict, DbErr> {
        let keys = [account_key(account), address_key(address)];
        let verdict = update_pair(db, &keys, |a, b| {
            decide((&self.account, &self.address), a, b, now_millis())
        })
        .await?;
        // Now and then, drop counters nobody needs any more.
        if rand::random::<u8>() == 0 {
            self.sweep(db).await?;
        }
        Ok(verdict)
    }

    /// Admits one proof of a password for `account` (the normalised e-mail) from `address`:
    /// signing in and every other place that checks a password (the password change) go
    /// through here, on the same counters, so a stolen session cannot guess where sign-in
    /// would stop it. Refused (429, with the time left) while locked; slowed near the limit;
    /// counted as a failure until [`Throttle::succeeded`] forgives it.
    pub async fn admit_password(
        &self,
        db: &DatabaseConnection,
        account: &str,
        address: &str,
    ) -> Result<(), ThrottleError> {
        match self.admit(db, account, address).await? {
            Verdict::Refuse { retry_after } => {
                tracing::warn!(%address, "password attempt refused: throttled");
                Err(ThrottleError::Throttled {
                    retry_after_secs: Ord::max(retry_after.as_secs(), 1),
                })
            }
            Verdict::Slow(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            Verdict::Allow => Ok(()),
        }
    }

    /// A successful sign-in forgives the account's failures and this attempt's address count.
    pub async fn succeeded(
        &self,
        db: &DatabaseConnection,
        account: &str,
        address: &str,
    ) -> Result<(), DbErr> {
        let keys = [account_key(account), address_key(address)];
        update_pair(db, &keys, forgive).await
    }

    /// Deletes counters whose failures are all older than the window and that are not locked.
    async fn sweep(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let now = now_millis();
        let window = ms(self.account.window.max(self.address.window));
        row::Entity::delete_many()
            .filter(row::Column::LastAt.lt(now - window))
            .filter(
                row::Column::LockedUntil
                    .is_null()
                    .or(row::Column::LockedUntil.lt(now)),
            )
            .exec(db)
            .await
            .map(drop)
    }
}

/// Reads the two keys' counters, applies `change` and writes them back, in one transaction
/// that holds both rows: concurrent attempts on any instance queue here, one at a time.
async fn update_pair<T>(
    db: &DatabaseConnection,
    keys: &[String; 2],
    change: impl FnOnce(&mut Entry, &mut Entry) -> T,
) -> Result<T, DbErr> {
    use sea_orm::sea_query::OnConflict;
    let txn = db.begin().await?;
    // Make sure both rows exist (a no-op when they do). On SQLite this write also takes the
    // database's write lock at once, so two transactions never both read and then both write.
    row::Entity::insert_many(keys.iter().map(|k| row::ActiveModel {
        key: Set(k.clone()),
        failures: Set(0),
        last_at: Set(None),
        locked_until: Set(None),
    }))
    .on_conflict(OnConflict::column(row::Column::Key).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    let mut select = row::Entity::find()
        .filter(row::Column::Key.is_in(keys.iter().cloned()))
        // A fixed order, so two transactions never wait for each other's second row.
        .order_by_asc(row::Column::Key);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let rows = select.all(&txn).await?;
    // A row the clean-up deleted between the insert and the lock (PostgreSQL's insert above
    // does not lock an existing row) is a fresh counter: nothing to remember about it.
    let find = |k: &String| {
        rows.iter()
            .find(|r| &r.key == k)
            .map(Entry::from)
            .unwrap_or_default()
    };
    let (mut account, mut address) = (find(&keys[0]), find(&keys[1]));
    let out = change(&mut account, &mut address);
    for (key, entry) in [(&keys[0], account), (&keys[1], address)] {
        // An upsert: the row may have been cleaned up since it was read (see above).
        row::Entity::insert(row::ActiveModel {
            key: Set(key.clone()),
            failures: Set(i32::try_from(entry.failures).unwrap_or(i32::MAX)),
            last_at: Set(entry.last),
            locked_until: Set(entry.locked_until),
        })
        .on_conflict(
            OnConflict::column(row::Column::Key)
                .update_columns([
                    row::Column::Failures,
                    row::Column::LastAt,
                    row::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        slow_after: 2,
        lock_after: 4,
        slow_delay: Duration::from_millis(10),
        lock_for: Duration::from_secs(60),
        window: Duration::from_secs(300),
    };
    const LOOSE: Policy = Policy {
        slow_after: 100,
        lock_after: 200,
        ..P
    };

    /// The counters of a few keys in memory, driven through the pure decision.
    #[derive(Default)]
    struct Counters(std::collections::HashMap<String, Entry>);

    impl Counters {
        fn admit(
            &mut self,
            policies: (&Policy, &Policy),
            account: &str,
            address: &str,
            now: Millis,
        ) -> Verdict {
            let mut a = self.0.get(account).copied().unwrap_or_default();
            let mut b = self.0.get(address).copied().unwrap_or_default();
            let v = decide(policies, &mut a, &mut b, now);
            self.0.insert(account.to_owned(), a);
            self.0.insert(address.to_owned(), b);
            v
        }

        fn succeeded(&mut self, account: &str, address: &str) {
            let mut a = self.0.get(account).copied().unwrap_or_default();
            let mut b = self.0.get(address).copied().unwrap_or_default();
            forgive(&mut a, &mut b);
            self.0.insert(account.to_owned(), a);
            self.0.insert(address.to_owned(), b);
        }
    }

    const NOW: Millis = 1_800_000_000_000;

    #[test]
    fn free_then_slowed_then_refused() {
        let mut t = Counters::default();
        let verdicts: Vec<_> = (0..6)
            .map(|_| t.admit((&P, &LOOSE), "a", "ip", NOW))
            .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Allow,
                Verdict::Allow,
                Verdict::Slow(P.slow_delay),
                Verdict::Slow(P.slow_delay),
                Verdict::Refuse {
                    retry_after: P.lock_for
                },
                Verdict::Refuse {
                    retry_after: P.lock_for
                },
            ]
        );
    }

    #[test]
    fn lock_ends_after_its_time() {
        let mut t = Counters::default();
        for _ in 0..5 {
            t.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        let later = NOW + ms(P.lock_for) + 1_000;
        assert_eq!(t.admit((&P, &LOOSE), "a", "ip", later), Verdict::Allow);
    }

    #[test]
    fn refused_attempt_reports_time_left() {
        let mut t = Counters::default();
        for _ in 0..5 {
            t.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        let v = t.admit((&P, &LOOSE), "a", "ip", NOW + 20_000);
        assert_eq!(
            v,
            Verdict::Refuse {
                retry_after: Duration::from_secs(40)
            }
        );
    }

    #[test]
    fn success_forgives_the_account() {
        let mut t = Counters::default();
        for _ in 0..3 {
            t.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        t.succeeded("a", "ip");
        assert_eq!(t.admit((&P, &LOOSE), "a", "ip", NOW), Verdict::Allow);
        // The twin: without the success, the same attempt is slowed.
        let mut u = Counters::default();
        for _ in 0..3 {
            u.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        assert_eq!(
            u.admit((&P, &LOOSE), "a", "ip", NOW),
            Verdict::Slow(P.slow_delay)
        );
    }

    #[test]
    fn accounts_are_independent_but_an_address_is_shared() {
        let mut t = Counters::default();
        for i in 0..4 {
            t.admit((&LOOSE, &P), &format!("user{i}"), "ip", NOW);
        }
        // The fifth account from the same address is refused by the address limit.
        assert!(matches!(
            t.admit((&LOOSE, &P), "user9", "ip", NOW),
            Verdict::Refuse { .. }
        ));
        assert_eq!(
            t.admit((&LOOSE, &P), "user9", "other-ip", NOW),
            Verdict::Allow
        );
    }

    #[test]
    fn old_failures_are_forgotten() {
        let mut t = Counters::default();
        for _ in 0..3 {
            t.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        let later = NOW + ms(P.window) + 1_000;
        assert_eq!(t.admit((&P, &LOOSE), "a", "ip", later), Verdict::Allow);
    }

    #[test]
    fn a_refusal_by_one_key_does_not_count_on_the_other() {
        let mut t = Counters::default();
        for _ in 0..5 {
            t.admit((&P, &LOOSE), "a", "ip", NOW);
        }
        // The account is locked; the address saw 4 counted attempts, not 5.
        assert_eq!(t.0["ip"].failures, 4);
    }
}
