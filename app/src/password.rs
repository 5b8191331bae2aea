//! Password hashing: argon2id at the OWASP minimums (m = 19 MiB, t = 2, p = 1), PHC strings.
//!
//! Hashing is CPU-bound for tens of milliseconds, so the async entry points run it on tokio's
//! blocking pool: a sign-in storm must not stall other requests.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

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

/// Hashes on the blocking pool.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|_| PasswordError::Join)?
}

/// Verifies on the blocking pool; `None` as the stored hash verifies against the dummy hash and
/// always fails, taking the same time as a real check.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
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

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        assert!(!verify("anything".into(), None).await);
    }
}
