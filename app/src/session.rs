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
    /// Set while an operator views the app as this user.
    pub impersonation: Option<Box<ActiveImpersonation>>,
}

/// The live impersonation behind a principal: who is really acting, how and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveImpersonation {
    /// The impersonation session's id (the view-as token's `sid`).
    pub id: String,
    pub actor: Principal,
    pub mode: crate::impersonation::Mode,
    pub reason: String,
    pub ticket: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// What the authentication middleware found for a request, kept in its extensions.
#[derive(Clone, Debug)]
pub struct Authentication {
    /// The effective identity: the user's own, or the subject of a live impersonation.
    pub result: Result<Principal, AuthFailure>,
    /// The live session the session cookie names, whatever became of a view-as overlay on top
    /// of it: a broken overlay must never cost a request the identity it needs to end its own
    /// session (sign-out revokes this one).
    pub own_session: Option<String>,
    /// The request carried a view-as cookie that is no longer usable: the response clears it.
    pub clear_view_as: bool,
}

/// Opens a session for `user_id`.
pub async fn start(
    db: &impl sea_orm::ConnectionTrait,
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
pub fn now_seconds() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// 128 random bits, hex: unguessable and the same on every database.
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Resolves verified claims to their live session row; the outer error is the database's.
pub async fn live_row(
    db: &DatabaseConnection,
    claims: &Claims,
) -> Result<Result<session::Model, AuthFailure>, DbErr> {
    let Some(row) = session::Entity::find_by_id(claims.sid.clone())
        .one(db)
        .await?
    else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if row.user_id.to_string() != claims.sub
        || row.actor_user_id.map(|a| a.to_string()) != claims.act.as_ref().map(|a| a.sub.clone())
    {
        return Ok(Err(AuthFailure::Invalid));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(AuthFailure::Revoked));
    }
    if row.expires_at <= Utc::now() {
        return Ok(Err(AuthFailure::Expired));
    }
    Ok(Ok(row))
}

/// The principal of a live session row's user.
pub async fn principal_of(
    db: &DatabaseConnection,
    row: &session::Model,
) -> Result<Result<Principal, AuthFailure>, DbErr> {
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
        session_id: row.id.clone(),
        user_id: u.id,
        organisation_id: u.organisation_id,
        operator: org.kind == OrgKind::Operator.key(),
        authz_version: org.authz_version,
        organisation: org.name,
        role,
        full_name: u.full_name,
        email: u.email,
        impersonation: None,
    }))
}

/// Ends a session at once (sign-out), and every impersonation started from it, each with its
/// end record, all in one transaction.
pub async fn revoke(db: &DatabaseConnection, session_id: &str) -> Result<(), DbErr> {
    use crate::impersonation::ending::Ending;
    let txn = crate::audit::begin(db).await?;
    revoke_in(&txn, session_id, &Ending::SignOut).await?;
    txn.commit().await
}

/// Revokes one session inside `txn`, and ends every impersonation started from it with its
/// record (`ending` says why: a sign-out, a password change …).
pub async fn revoke_in(
    txn: &crate::audit::AuditedTxn,
    session_id: &str,
    ending: &crate::impersonation::ending::Ending,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    crate::impersonation::ending::end_started_from(txn, session_id, ending).await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&**txn)
        .await?;
    Ok(())
}

/// Which cookie: the user's own session, or the view-as overlay of an impersonation (which is
/// only honoured together with the actor's own session cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieKind {
    Session,
    ViewAs,
}

/// The cookies' names and attributes.
#[derive(Clone, Copy, Debug)]
pub struct CookieConfig {
    /// Served over HTTPS: adds `Secure` and the `__Host-` prefix.
    pub secure: bool,
}

impl CookieConfig {
    pub fn name_of(self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Session, true) => "__Host-fleetgate_session",
            (CookieKind::Session, false) => "fleetgate_session",
            (CookieKind::ViewAs, true) => "__Host-fleetgate_view_as",
            (CookieKind::ViewAs, false) => "fleetgate_view_as",
        }
    }

    pub fn name(self) -> &'static str {
        self.name_of(CookieKind::Session)
    }

    fn attributes(self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// `Set-Cookie` value carrying a session token for `max_age`.
    pub fn set(self, token: &str, max_age: Duration) -> String {
        self.set_kind(CookieKind::Session, token, max_age)
    }

    pub fn set_kind(self, kind: CookieKind, token: &str, max_age: Duration) -> String {
        format!(
            "{}={token}; Max-Age={}{}",
            self.name_of(kind),
            max_age.as_secs(),
            self.attributes()
        )
    }

    /// `Set-Cookie` value that deletes the session cookie.
    pub fn clear(self) -> String {
        self.clear_kind(CookieKind::Session)
    }

    pub fn clear_kind(self, kind: CookieKind) -> String {
        format!("{}=; Max-Age=0{}", self.name_of(kind), self.attributes())
    }

    /// The session token from a request's `Cookie` headers, if any.
    pub fn read(self, headers: &http::HeaderMap) -> Option<String> {
        self.read_kind(CookieKind::Session, headers)
    }

    pub fn read_kind(self, kind: CookieKind, headers: &http::HeaderMap) -> Option<String> {
        let name = self.name_of(kind);
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.to_owned())
    }
}

/// Authenticates a request from its headers: the session cookie's token, its live row and
/// user; then, if present, the view-as overlay of an impersonation started from that session.
pub async fn authenticate(
    st: &crate::state::AppState,
    headers: &http::HeaderMap,
) -> Result<Authentication, DbErr> {
    let view_as = st.cookie.read_kind(CookieKind::ViewAs, headers);
    // Without a usable own session, a view-as cookie is worthless: it is cleared.
    let refused = |reason| Authentication {
        result: Err(reason),
        own_session: None,
        clear_view_as: view_as.is_some(),
    };
    let Some(token) = st.cookie.read(headers) else {
        return Ok(refused(AuthFailure::Missing));
    };
    let claims = match st.tokens.verify(&token) {
        Ok(c) => c,
        Err(f) => return Ok(refused(f)),
    };
    let row = match live_row(&st.db, &claims).await? {
        // A view-as session is never accepted as someone's own session.
        Ok(row) if row.actor_user_id.is_none() => row,
        Ok(_) => return Ok(refused(AuthFailure::Invalid)),
        Err(f) => return Ok(refused(f)),
    };
    let base = match principal_of(&st.db, &row).await? {
        Ok(p) => p,
        Err(f) => return Ok(refused(f)),
    };
    let own_session = Some(row.id);
    let Some(token) = view_as else {
        return Ok(Authentication {
            result: Ok(base),
            own_session,
            clear_view_as: false,
        });
    };
    let overlay = crate::impersonation::store::overlay(st, base, &token).await?;
    Ok(Authentication {
        clear_view_as: overlay.is_err(),
        result: overlay,
        own_session,
    })
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
    fn view_as_cookie_has_its_own_name() {
        let c = CookieConfig { secure: false };
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "fleetgate_session=a; fleetgate_view_as=b".parse().unwrap(),
        );
        assert_eq!(c.read(&h).as_deref(), Some("a"));
        assert_eq!(c.read_kind(CookieKind::ViewAs, &h).as_deref(), Some("b"));
        assert!(
            CookieConfig { secure: true }
                .name_of(CookieKind::ViewAs)
                .starts_with("__Host-")
        );
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
