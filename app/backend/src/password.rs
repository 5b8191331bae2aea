//! Password hashing: argon2id at the OWASP minimums (m = 19 MiB, t = 2, p = 1), PHC strings.
//!
//! Hashing is CPU-bound for tens of milliseconds and takes 19 MiB, so the async entry points run
//! it on tokio's blocking pool, at most [`hashing_slots`] at a time: a sign-in storm queues for
//! hashing instead of taking every core (and a gigabyte of memory) from everything else.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// The longest password accepted: long enough for any passphrase, short enough that hashing an
/// attacker's megabyte costs nothing extra.
pub const MAX_PASSWORD_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task did not finish")]
    Join,
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants within argon2's documented ranges.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .unwrap_or_else(|_| Params::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string with a fresh random salt (blocking).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string (blocking). A malformed stored hash never matches.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the e-mail is unknown, so that the
/// response time does not tell whether an account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    hash_blocking(&format!("{random:?}")).unwrap_or_default()
});

/// How many hashes may run at once: half the cores, at least one. Measured on 2 cores: with no
/// limit, 16 parallel sign-ins took page p99 from 9 ms to 366 ms (docs/BENCHMARKS.md, "Load").
pub fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

static HASHING: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(hashing_slots())));

/// Runs `work` on the blocking pool once a hashing slot is free. The slot moves into the task,
/// so a client that goes away mid-hash cannot free it early.
async fn on_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let slot = HASHING
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PasswordError::Join)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|_| PasswordError::Join)
}

/// Hashes on the blocking pool.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    on_hashing_slot(move || hash_blocking(&password)).await?
}

/// Verifies on the blocking pool; `None` as the stored hash verifies against the dummy hash and
/// always fails, taking the same time as a real check.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    on_hashing_slot(move || match phc {
        Some(phc) => verify_blocking(&password, &phc),
        None => {
            verify_blocking(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Warms the dummy hash at start-up so the first unknown e-mail is not slower than the rest.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_uses_argon2id_at_owasp_minimums() {
        let phc = hash_blocking("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse", &phc));
        assert!(!verify_blocking("Correct horse", &phc));
    }

    #[test]
    fn same_password_gets_different_salts() {
        assert_ne!(hash_blocking("pw").unwrap(), hash_blocking("pw").unwrap());
    }

    #[test]
    fn malformed_stored_hash_never_matches() {
        assert!(!verify_blocking("", ""));
        assert!(!verify_blocking("x", "not-a-phc-string"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4 * hashing_slots() + 4)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(on_hashing_slot(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // Never more than the slots; and the slots are really used (the twin of the limit).
        assert_eq!(most.load(Ordering::SeqCst), hashing_slots());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        assert!(!verify("anything".into(), None).await);
    }
}
