//! Sign-in throttling per account and per client address.
//!
//! Each attempt is counted as a failure the moment it is admitted, under one lock, and forgiven
//! only when it succeeds. So parallel attempts cannot slip past the limit while their password
//! hashes are still being checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    failures: u32,
    last: Option<Instant>,
    locked_until: Option<Instant>,
}

impl Entry {
    /// Decides an attempt and counts it, as one step (pure: `now` is given).
    fn admit(&mut self, policy: &Policy, now: Instant) -> Verdict {
        if let Some(until) = self.locked_until {
            if until > now {
                return Verdict::Refuse {
                    retry_after: until - now,
                };
            }
            *self = Entry::default();
        }
        if self
            .last
            .is_some_and(|last| now.duration_since(last) > policy.window)
        {
            *self = Entry::default();
        }
        if self.failures >= policy.lock_after {
            self.locked_until = Some(now + policy.lock_for);
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

    fn expired(&self, policy: &Policy, now: Instant) -> bool {
        let lock_over = self.locked_until.is_none_or(|u| u <= now);
        let window_over = self
            .last
            .is_none_or(|l| now.duration_since(l) > policy.window);
        lock_over && window_over
    }
}

/// Shared throttle state of one server process.
#[derive(Debug)]
pub struct Throttle {
    account: Policy,
    address: Policy,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<String, Entry>,
    addresses: HashMap<String, Entry>,
}

/// Entries kept before a sweep drops the expired ones.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub fn new(account: Policy, address: Policy) -> Throttle {
        Throttle {
            account,
            address,
            state: Mutex::new(State::default()),
        }
    }

    /// Admits (and counts) an attempt for `account` from `address`.
    pub fn admit(&self, account: &str, address: &str, now: Instant) -> Verdict {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.accounts.len() + state.addresses.len() > SWEEP_AT {
            let (acc, addr) = (self.account, self.address);
            state.accounts.retain(|_, e| !e.expired(&acc, now));
            state.addresses.retain(|_, e| !e.expired(&addr, now));
        }
        // Check both before counting either, so a refusal by one key does not use up the other.
        let account_entry = state.accounts.get(account).copied().unwrap_or_default();
        let address_entry = state.addresses.get(address).copied().unwrap_or_default();
        let (mut a, mut b) = (account_entry, address_entry);
        let verdict = a.admit(&self.account, now).max(b.admit(&self.address, now));
        state.accounts.insert(account.to_owned(), a);
        state.addresses.insert(address.to_owned(), b);
        verdict
    }

    /// A successful sign-in forgives the account's failures and this attempt's address count.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.accounts.remove(account);
        if let Some(e) = state.addresses.get_mut(address) {
            e.failures = e.failures.saturating_sub(1);
        }
    }
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

    #[test]
    fn free_then_slowed_then_refused() {
        let t = Throttle::new(P, LOOSE);
        let now = Instant::now();
        let verdicts: Vec<_> = (0..6).map(|_| t.admit("a", "ip", now)).collect();
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
        let t = Throttle::new(P, LOOSE);
        let now = Instant::now();
        for _ in 0..5 {
            t.admit("a", "ip", now);
        }
        let later = now + P.lock_for + Duration::from_secs(1);
        assert_eq!(t.admit("a", "ip", later), Verdict::Allow);
    }

    #[test]
    fn refused_attempt_reports_time_left() {
        let t = Throttle::new(P, LOOSE);
        let now = Instant::now();
        for _ in 0..5 {
            t.admit("a", "ip", now);
        }
        let v = t.admit("a", "ip", now + Duration::from_secs(20));
        assert_eq!(
            v,
            Verdict::Refuse {
                retry_after: Duration::from_secs(40)
            }
        );
    }

    #[test]
    fn success_forgives_the_account() {
        let t = Throttle::new(P, LOOSE);
        let now = Instant::now();
        for _ in 0..3 {
            t.admit("a", "ip", now);
        }
        t.succeeded("a", "ip");
        assert_eq!(t.admit("a", "ip", now), Verdict::Allow);
    }

    #[test]
    fn accounts_are_independent_but_an_address_is_shared() {
        let t = Throttle::new(LOOSE, P);
        let now = Instant::now();
        for i in 0..4 {
            t.admit(&format!("user{i}"), "ip", now);
        }
        // The fifth account from the same address is refused by the address limit.
        assert!(matches!(
            t.admit("user9", "ip", now),
            Verdict::Refuse { .. }
        ));
        assert_eq!(t.admit("user9", "other-ip", now), Verdict::Allow);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t = Throttle::new(P, LOOSE);
        let now = Instant::now();
        for _ in 0..3 {
            t.admit("a", "ip", now);
        }
        let later = now + P.window + Duration::from_secs(1);
        assert_eq!(t.admit("a", "ip", later), Verdict::Allow);
    }

    #[test]
    fn parallel_attempts_never_exceed_the_limit() {
        let t = std::sync::Arc::new(Throttle::new(P, LOOSE));
        let now = Instant::now();
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.admit("a", "ip", now))
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|v| !matches!(v, Verdict::Refuse { .. }))
            .count();
        assert_eq!(admitted, P.lock_after as usize);
    }
}
