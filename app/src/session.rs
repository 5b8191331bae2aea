//! Sessions: a revocable row per session, and the signed token (JWT) the cookie carries.
//!
//! A request is authenticated only when the token's signature and claims are valid *and* its
//! session row is live, so sign-out and revocation take effect at once on every instance.

use crate::entity::{organisation, session, user};
use crate::error::AuthFailure;
use crate::model::{OrgKind, Role};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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

/// The authenticated identity of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub session_id: String,
    pub user_id: i32,
    pub organisation_id: i32,
    pub organisation: String,
    /// The vendor's own organisation (operator staff).
    pub operator: bool,
    /// The organisation's authz version when this request was authenticated.
    pub authz_version: i32,
    pub role: Role,
    pub full_name: String,
    pub email: String,
}

/// What the authentication middleware found for a request, kept in its extensions.
#[derive(Clone, Debug)]
pub struct Authentication(pub Result<Principal, AuthFailure>);

/// Opens a session for `user_id`.
pub async fn start(
    db: &DatabaseConnection,
    user_id: i32,
    ttl: Duration,
    client_addr: Option<String>,
) -> Result<session::Model, DbErr> {
    let now = now_seconds();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(8));
    session::ActiveModel {
        id: Set(new_session_id()),
        user_id: Set(user_id),
        actor_user_id: Set(None),
        parent_session_id: Set(None),
        reason: Set(None),
        ticket: Set(None),
        mode: Set(None),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        client_addr: Set(client_addr),
    }
    .insert(db)
    .await
}

/// The current time, truncated to whole seconds like the token's timestamps.
fn now_seconds() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// 128 random bits, hex: unguessable and the same on every database.
fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Resolves verified claims to a live principal; the outer error is the database's.
pub async fn resolve(
    db: &DatabaseConnection,
    claims: &Claims,
) -> Result<Result<Principal, AuthFailure>, DbErr> {
    let Some(row) = session::Entity::find_by_id(claims.sid.clone())
        .one(db)
        .await?
    else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if row.user_id.to_string() != claims.sub {
        return Ok(Err(AuthFailure::Invalid));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(AuthFailure::Revoked));
    }
    if row.expires_at <= Utc::now() {
        return Ok(Err(AuthFailure::Expired));
    }
    let Some(u) = user::Entity::find_by_id(row.user_id).one(db).await? else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if !u.active {
        return Ok(Err(AuthFailure::Revoked));
    }
    let Some(role) = Role::from_key(&u.role) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    let Some(org) = organisation::Entity::find_by_id(u.organisation_id)
        .one(db)
        .await?
    else {
        return Ok(Err(AuthFailure::Invalid));
    };
    Ok(Ok(Principal {
        session_id: row.id,
        user_id: u.id,
        organisation_id: u.organisation_id,
        operator: org.kind == OrgKind::Operator.key(),
        authz_version: org.authz_version,
        organisation: org.name,
        role,
        full_name: u.full_name,
        email: u.email,
    }))
}

/// Ends a session at once (sign-out).
pub async fn revoke(db: &DatabaseConnection, session_id: &str) -> Result<(), DbErr> {
    if let Some(row) = session::Entity::find_by_id(session_id.to_owned())
        .one(db)
        .await?
        && row.revoked_at.is_none()
    {
        let mut active: session::ActiveModel = row.into();
        active.revoked_at = Set(Some(Utc::now()));
        active.update(db).await?;
    }
    Ok(())
}

/// The session cookie's name and attributes.
#[derive(Clone, Copy, Debug)]
pub struct CookieConfig {
    /// Served over HTTPS: adds `Secure` and the `__Host-` prefix.
    pub secure: bool,
}

impl CookieConfig {
    pub fn name(self) -> &'static str {
        if self.secure {
            "__Host-fleetgate_session"
        } else {
            "fleetgate_session"
        }
    }

    fn attributes(self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// `Set-Cookie` value carrying a token for `max_age`.
    pub fn set(self, token: &str, max_age: Duration) -> String {
        format!(
            "{}={token}; Max-Age={}{}",
            self.name(),
            max_age.as_secs(),
            self.attributes()
        )
    }

    /// `Set-Cookie` value that deletes the cookie.
    pub fn clear(self) -> String {
        format!("{}=; Max-Age=0{}", self.name(), self.attributes())
    }

    /// The session token from a request's `Cookie` headers, if any.
    pub fn read(self, headers: &http::HeaderMap) -> Option<String> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.to_owned())
    }
}

/// Authenticates a request from its headers: the cookie's token, then the session row.
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    cookie: CookieConfig,
    headers: &http::HeaderMap,
) -> Result<Authentication, DbErr> {
    let Some(token) = cookie.read(headers) else {
        return Ok(Authentication(Err(AuthFailure::Missing)));
    };
    let claims = match keys.verify(&token) {
        Ok(c) => c,
        Err(f) => return Ok(Authentication(Err(f))),
    };
    Ok(Authentication(resolve(db, &claims).await?))
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

    #[test]
    fn cookie_attributes() {
        let plain = CookieConfig { secure: false };
        let v = plain.set("tok", Duration::from_secs(60));
        assert_eq!(
            v,
            "fleetgate_session=tok; Max-Age=60; Path=/; HttpOnly; SameSite=Strict"
        );
        let secure = CookieConfig { secure: true };
        let v = secure.set("tok", Duration::from_secs(60));
        assert!(v.starts_with("__Host-fleetgate_session=tok;") && v.ends_with("; Secure"));
        assert!(secure.clear().contains("Max-Age=0"));
    }

    #[test]
    fn cookie_is_found_among_others() {
        let c = CookieConfig { secure: false };
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "a=1; fleetgate_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(c.read(&h).as_deref(), Some("tok"));
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "fleetgate_sessionX=tok".parse().unwrap(),
        );
        assert_eq!(c.read(&h), None);
    }
}
