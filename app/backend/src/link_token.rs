//! The secret of a link sent by mail (an invitation, a password reset): 256 random bits, shown
//! once in the link and stored only as its SHA-256, so a copy of the database opens nothing.
//!
//! A fast hash is enough here, unlike passwords: the secret is random and as long as the hash,
//! so there is nothing to guess faster.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly drawn link secret. Its `Debug` never shows the secret.
pub struct LinkToken {
    secret: String,
}

impl LinkToken {
    /// 32 bytes from the operating system's generator, URL-safe base64 (43 characters).
    pub fn generate() -> LinkToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        LinkToken {
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// The secret, for the link only.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// What the database keeps.
    pub fn hash(&self) -> String {
        hash_of(&self.secret)
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(…)")
    }
}

/// The stored form of a secret presented in a link (hex SHA-256). Anything can be presented;
/// only a secret that was issued hashes to a stored row.
pub fn hash_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Why a link no longer opens anything. One message per case, each one a person can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "This link is no longer valid: it is not one we sent, or it was replaced by a newer one."
    )]
    Unknown,
    #[error("This link is no longer valid: it has expired. Ask for a new one.")]
    Expired,
    #[error("This link is no longer valid: it has already been used.")]
    Used,
    #[error("This link is no longer valid: it was withdrawn.")]
    Revoked,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_and_stored_only_hashed() {
        let a = LinkToken::generate();
        let b = LinkToken::generate();
        assert_eq!(a.secret().len(), 43);
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.hash(), hash_of(a.secret()));
        assert_eq!(a.hash().len(), 64);
        assert!(!a.hash().contains(a.secret()));
        assert_eq!(format!("{a:?}"), "LinkToken(…)");
    }
}
