//! The signed token (JWT, HS256 only) a cookie carries, and its claims.
//!
//! A token alone never authenticates: its session row must be live too (`session`), so sign-out
//! and revocation take effect at once on every instance.

use crate::entity::session;
use chrono::{DateTime, Utc};
use domain::error::AuthFailure;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "fleetgate";
pub const AUDIENCE: &str = "fleetgate-web";
/// The one algorithm accepted: a token naming another one (`none`, RS256 …) is refused.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// Real tokens are a few hundred bytes; anything far larger is refused before parsing.
pub const MAX_TOKEN_LEN: usize = 4096;
/// HMAC-SHA256 keys shorter than the hash output are refused.
pub const MIN_KEY_LEN: usize = 32;

/// The token's claims (RFC 7519), with `act` (RFC 8693) while impersonating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user whose identity the session carries.
    pub sub: String,
    /// The session row's id.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

/// The party acting on behalf of `sub`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
}

impl Claims {
    /// Claims for a session row.
    pub fn for_session(row: &session::Model) -> Claims {
        Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: row.user_id.to_string(),
            sid: row.id.clone(),
            iat: row.created_at.timestamp(),
            nbf: row.created_at.timestamp(),
            exp: row.expires_at.timestamp(),
            act: row.actor_user_id.map(|a| Actor { sub: a.to_string() }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the session signing key must be at least {MIN_KEY_LEN} bytes")]
    TooShort,
}

/// The signing and verification keys, and the pinned validation rules.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Result<TokenKeys, KeyError> {
        if secret.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort);
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        // The session row's expiry is authoritative; no grace period on the token either.
        validation.leeway = 0;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &self.encoding)
    }

    /// Checks the signature and claims but not the expiry: to recognise an expired view-as
    /// token and end its impersonation properly. Never used to authenticate.
    pub fn verify_ignoring_expiry(&self, token: &str) -> Result<Claims, AuthFailure> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthFailure::Invalid);
        }
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| AuthFailure::Invalid)
    }

    /// Checks signature, algorithm and claims; says only *why* a token is unusable.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthFailure> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthFailure::Invalid);
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::Expired,
                _ => AuthFailure::Invalid,
            })
    }
}

/// The current time, truncated to whole seconds like the token's timestamps.
pub fn now_seconds() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// 128 random bits, hex: unguessable and the same on every database.
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&[7u8; 32]).unwrap()
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "42".into(),
            sid: "abc".into(),
            iat: now,
            nbf: now,
            exp: now + exp_offset,
            act: None,
        }
    }

    #[test]
    fn a_signed_token_verifies() {
        let k = keys();
        let c = claims(60);
        assert_eq!(k.verify(&k.sign(&c).unwrap()), Ok(c));
    }

    #[test]
    fn expired_token_says_expired() {
        let k = keys();
        assert_eq!(
            k.verify(&k.sign(&claims(-10)).unwrap()),
            Err(AuthFailure::Expired)
        );
    }

    #[test]
    fn wrong_key_issuer_or_audience_is_invalid() {
        let k = keys();
        let other = TokenKeys::from_secret(&[8u8; 32]).unwrap();
        assert_eq!(
            k.verify(&other.sign(&claims(60)).unwrap()),
            Err(AuthFailure::Invalid)
        );
        let mut c = claims(60);
        c.iss = "someone-else".into();
        assert_eq!(k.verify(&k.sign(&c).unwrap()), Err(AuthFailure::Invalid));
        let mut c = claims(60);
        c.aud = "other-app".into();
        assert_eq!(k.verify(&k.sign(&c).unwrap()), Err(AuthFailure::Invalid));
    }

    #[test]
    fn garbage_and_oversized_tokens_are_invalid() {
        let k = keys();
        for t in ["", "abc", "a.b.c", &"x".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(k.verify(t), Err(AuthFailure::Invalid));
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenKeys::from_secret(&[1u8; 31]).is_err());
    }
}
