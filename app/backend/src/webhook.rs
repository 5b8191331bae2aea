//! Webhooks: an organisation's audit events POSTed, in order, to a URL it chose, each signed
//! with HMAC-SHA256 over a timestamp and the body (`Fleetgate-Signature: t=<unix>,v1=<hex>`),
//! so a receiver can check who sent it and refuse a replay (a timestamp older than a few
//! minutes).
//!
//! The audit log is the transactional outbox: an event exists exactly when the change it
//! records committed, so nothing is written per event. Each webhook keeps a cursor (the last
//! event it acknowledged with a 2xx) and sends what lies beyond it; a failure stops the round
//! and is retried with doubling waits (at most an hour): at least once, in order, nothing lost
//! while the receiver is away. Several instances share the work through a lease on each webhook.

use crate::audit::serially;
use crate::audit_export::ExportRow;
use crate::entity::{audit_event, webhook};
use crate::mail::postman::backoff;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::Sha256;
use std::net::IpAddr;
use std::time::Duration;

/// The signature header a receiver checks.
pub const SIGNATURE: &str = "fleetgate-signature";
/// The audit event's id: a receiver that saw it already (at least once) can skip it.
pub const EVENT: &str = "fleetgate-event";
/// How old a signed timestamp a receiver should accept.
pub const TOLERANCE: Duration = Duration::from_secs(300);
/// Events sent per webhook per round.
const BATCH: u64 = 100;
/// How long a claimed webhook is left to its instance.
const LEASE: Duration = Duration::from_secs(120);
/// One delivery's time limit.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Vec<u8> {
    // An HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// What a receiver does: the signature is the body's under `secret`, made at most `tolerance`
/// before `now` (and not in the future beyond it). Compared in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance: Duration) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).unsigned_abs() > tolerance.as_secs() {
        return false;
    }
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.verify_slice(&v1).is_ok()
}

/// Why a URL is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("Give a full URL, starting with https://.")]
    NotAUrl,
    #[error("Use https:// so the events travel encrypted.")]
    NotHttps,
    #[error("That address is inside a private network; Fleetgate only calls public addresses.")]
    Private,
}

/// A webhook URL: https (plain http only where private addresses are allowed, for tests and
/// development), with a host, at most 2,000 characters.
pub fn parse_url(raw: &str, allow_private: bool) -> Result<url::Url, UrlRefusal> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(UrlRefusal::NotAUrl);
    }
    let u = url::Url::parse(raw).map_err(|_| UrlRefusal::NotAUrl)?;
    if u.host_str().is_none() || !u.username().is_empty() || u.password().is_some() {
        return Err(UrlRefusal::NotAUrl);
    }
    match u.scheme() {
        "https" => Ok(u),
        "http" if allow_private => Ok(u),
        "http" => Err(UrlRefusal::NotHttps),
        _ => Err(UrlRefusal::NotAUrl),
    }
}

/// Loopback, private, link-local (cloud metadata), shared, benchmarking, reserved, multicast or
/// otherwise not a public unicast address, in IPv4 or any IPv6 form that carries one.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0 // "this network"
                || a == 100 && (b & 0xc0) == 64 // carrier-grade NAT
                || a == 192 && b == 0 && c == 0 // IETF protocol assignments
                || a == 198 && (b & 0xfe) == 18 // benchmarking
                || a >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                || s[0] == 0x2002 // 6to4: an IPv4 address inside
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64
                || v6.to_ipv4().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// The addresses to connect to: the host resolved once, here, and refused if any address is not
/// public (unless allowed); the request then goes to exactly these (no second lookup a DNS
/// rebinding could answer differently).
async fn resolve(u: &url::Url, allow_private: bool) -> Result<Vec<std::net::SocketAddr>, String> {
    let port = u.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![(ip, port).into()],
        Some(url::Host::Ipv6(ip)) => vec![(ip, port).into()],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map_err(|_| "the host does not resolve".to_owned())?
            .collect(),
        None => Vec::new(),
    };
    if addrs.is_empty() {
        return Err("the host does not resolve".into());
    }
    if !allow_private && addrs.iter().any(|a| is_private(a.ip())) {
        return Err(UrlRefusal::Private.to_string());
    }
    Ok(addrs)
}

/// A new secret: 32 random bytes, base64url.
fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The organisation's webhook, if it has one.
pub async fn of(db: &impl ConnectionTrait, org: i32) -> Result<Option<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .filter(webhook::Column::OrganisationId.eq(org))
        .one(db)
        .await
}

/// Sets the organisation's webhook to `url` with a new secret (returned, to show once). It
/// starts at the log's end: events from before are in the export, not re-sent.
pub async fn save(
    db: &impl ConnectionTrait,
    org: i32,
    all_organisations: bool,
    url: &url::Url,
    by: i32,
) -> Result<(webhook::Model, String), DbErr> {
    let secret = new_secret();
    let last = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .one(db)
        .await?
        .map_or(0, |e| e.id);
    if let Some(old) = of(db, org).await? {
        webhook::Entity::delete_by_id(old.id).exec(db).await?;
    }
    let row = webhook::ActiveModel {
        organisation_id: Set(org),
        all_organisations: Set(all_organisations),
        url: Set(url.to_string()),
        secret: Set(secret.clone()),
        created_at: Set(Utc::now()),
        created_by: Set(Some(by)),
        delivered_up_to: Set(last),
        attempts: Set(0),
        next_attempt_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, secret))
}

/// Removes the organisation's webhook; whether there was one.
pub async fn remove(db: &impl ConnectionTrait, org: i32) -> Result<bool, DbErr> {
    Ok(webhook::Entity::delete_many()
        .filter(webhook::Column::OrganisationId.eq(org))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// How a delivery went: the receiver's status, or why there was none.
type Sent = Result<u16, String>;

/// POSTs one signed body to the addresses checked just before.
async fn post(hook: &webhook::Model, event: &str, body: Vec<u8>, allow_private: bool) -> Sent {
    let u = parse_url(&hook.url, allow_private).map_err(|e| e.to_string())?;
    let addrs = resolve(&u, allow_private).await?;
    let client = client_for(&u, &addrs);
    let sig = signature(&hook.secret, Utc::now().timestamp(), &body);
    let res = client
        .post(u)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE, sig)
        .header(EVENT, event)
        .body(body)
        .send()
        .await
        // The error names the failure, never the secret or the body.
        .map_err(|e| {
            if e.is_timeout() {
                "the receiver did not answer in time".to_owned()
            } else if e.is_connect() {
                "could not connect to the receiver".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    Ok(res.status().as_u16())
}

/// A signed `ping` to the webhook, now: the receiver's status, or why there was none.
pub async fn ping(hook: &webhook::Model, allow_private: bool) -> Sent {
    let body = serde_json::json!({ "type": "ping", "organisation_id": hook.organisation_id });
    post(hook, "ping", body.to_string().into_bytes(), allow_private).await
}

/// The events beyond the webhook's cursor that it takes, oldest first.
async fn due_events(
    db: &DatabaseConnection,
    hook: &webhook::Model,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut q = audit_event::Entity::find()
        .filter(audit_event::Column::Id.gt(hook.delivered_up_to))
        .order_by_asc(audit_event::Column::Id)
        .limit(BATCH);
    if !hook.all_organisations {
        q = q.filter(audit_event::Column::OrganisationId.eq(hook.organisation_id));
    }
    q.all(db).await
}

/// Takes `hook` for this instance until its lease runs out: the lease, or `None` when another
/// instance has it.
async fn claim(
    db: &DatabaseConnection,
    hook: &webhook::Model,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = Utc::now();
    if hook.leased_until.is_some_and(|l| l > now) {
        return Ok(None);
    }
    // Microseconds, as both databases keep them: the lease is compared again when settling.
    let until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
    let until = DateTime::from_timestamp_micros(until.timestamp_micros()).unwrap_or(until);
    serially(db, async |txn| {
        let q = webhook::Entity::update_many()
            .col_expr(webhook::Column::LeasedUntil, Expr::value(until))
            .filter(webhook::Column::Id.eq(hook.id));
        // Claimed only if nobody renewed the lease since it was read.
        let q = match hook.leased_until {
            None => q.filter(webhook::Column::LeasedUntil.is_null()),
            Some(l) => q.filter(webhook::Column::LeasedUntil.eq(l)),
        };
        Ok((q.exec(txn).await?.rows_affected == 1).then_some(until))
    })
    .await
}

/// Records the round's outcome and releases the lease — only if the lease is still this
/// round's (another instance that took over settles its own), and never moving the cursor back.
async fn settle(
    db: &DatabaseConnection,
    hook: &webhook::Model,
    lease: DateTime<Utc>,
    up_to: i32,
    failure: Option<(Option<u16>, String)>,
    retry: Duration,
) -> Result<(), DbErr> {
    let now = Utc::now();
    serially(db, async |txn| {
        let mut q = webhook::Entity::update_many()
            .col_expr(webhook::Column::DeliveredUpTo, Expr::value(up_to))
            .col_expr(
                webhook::Column::LeasedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook::Column::Id.eq(hook.id))
            .filter(webhook::Column::LeasedUntil.eq(lease))
            .filter(webhook::Column::DeliveredUpTo.lte(up_to));
        if up_to > hook.delivered_up_to {
            q = q.col_expr(webhook::Column::LastDeliveredAt, Expr::value(now));
        }
        q = match &failure {
            None => q
                .col_expr(webhook::Column::Attempts, Expr::value(0))
                .col_expr(webhook::Column::NextAttemptAt, Expr::value(now))
                .col_expr(
                    webhook::Column::LastError,
                    Expr::value(Option::<String>::None),
                ),
            Some((status, error)) => {
                let wait = backoff(retry, hook.attempts);
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                q.col_expr(webhook::Column::Attempts, Expr::value(hook.attempts + 1))
                    .col_expr(webhook::Column::NextAttemptAt, Expr::value(next))
                    .col_expr(
                        webhook::Column::LastStatus,
                        Expr::value(status.map(i32::from)),
                    )
                    .col_expr(
                        webhook::Column::LastError,
                        Expr::value(error.chars().take(500).collect::<String>()),
                    )
            }
        };
        q.exec(txn).await.map(drop)
    })
    .await
}

/// One webhook's round: its due events in order, until one fails. Returns how many were
/// delivered.
async fn deliver_one(
    db: &DatabaseConnection,
    hook: &webhook::Model,
    lease: DateTime<Utc>,
    retry: Duration,
    allow_private: bool,
) -> Result<usize, DbErr> {
    let mut up_to = hook.delivered_up_to;
    let mut failure = None;
    let mut n = 0;
    // Stop with half the lease left: the next round goes on from the cursor, and no other
    // instance takes the webhook while this one still sends.
    let budget = Utc::now() + chrono::Duration::from_std(LEASE / 2).unwrap_or_default();
    for e in due_events(db, hook).await? {
        if Utc::now() > budget {
            break;
        }
        let id = e.id;
        let body = serde_json::to_vec(&ExportRow::of(e)).unwrap_or_default();
        match post(hook, &id.to_string(), body, allow_private).await {
            Ok(s) if (200..300).contains(&s) => {
                up_to = id;
                n += 1;
            }
            Ok(s) => {
                failure = Some((Some(s), format!("the receiver answered {s}")));
                break;
            }
            Err(why) => {
                failure = Some((None, why));
                break;
            }
        }
    }
    if let Some((_, why)) = &failure {
        tracing::warn!(webhook = hook.id, attempt = hook.attempts + 1, error = %why, "webhook delivery failed; will retry");
    }
    settle(db, hook, lease, up_to, failure, retry).await?;
    Ok(n)
}

/// One round over every webhook that is due. Returns how many events were delivered.
pub async fn deliver_due(
    db: &DatabaseConnection,
    retry: Duration,
    allow_private: bool,
) -> Result<usize, DbErr> {
    let now = Utc::now();
    // Webhooks are few (one per organisation at most): read them all, pick the due ones here
    // (SQLite keeps times as text).
    let hooks = webhook::Entity::find().all(db).await?;
    let mut n = 0;
    for h in hooks.into_iter().filter(|h| h.next_attempt_at <= now) {
        if let Some(lease) = claim(db, &h).await? {
            n += deliver_one(db, &h, lease, retry, allow_private).await?;
        }
    }
    Ok(n)
}

/// The delivery worker, every `every`, for as long as the handle lives.
pub struct Courier(tokio::task::JoinHandle<()>);

impl Courier {
    pub fn spawn(
        db: DatabaseConnection,
        every: Duration,
        retry: Duration,
        allow_private: bool,
    ) -> Courier {
        Courier(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match deliver_due(&db, retry, allow_private).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(delivered = n, "webhook events delivered"),
                    Err(e) => tracing::warn!(error = %e, "webhook round failed; will retry"),
                }
            }
        }))
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A client that reaches `u`'s host at `addrs` only: no redirect (it could lead anywhere), no
/// proxy from the environment.
fn client_for(u: &url::Url, addrs: &[std::net::SocketAddr]) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(url::Host::Domain(d)) = u.host() {
        b = b.resolve_to_addrs(d, addrs);
    }
    b.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let body = br#"{"id":1}"#;
        let h = signature("s3cret", 1_000_000, body);
        assert!(verify("s3cret", &h, body, 1_000_100, TOLERANCE));
        assert!(!verify("other", &h, body, 1_000_100, TOLERANCE));
        assert!(!verify("s3cret", &h, br#"{"id":2}"#, 1_000_100, TOLERANCE));
        // A replay after the tolerance is refused.
        assert!(!verify("s3cret", &h, body, 1_000_000 + 301, TOLERANCE));
        assert!(!verify("s3cret", "t=1,v1=zz", body, 1, TOLERANCE));
        assert!(!verify("s3cret", "", body, 1, TOLERANCE));
    }

    #[test]
    fn urls_are_https_and_public() {
        assert!(parse_url("https://hooks.example.com/x", false).is_ok());
        assert_eq!(
            parse_url("http://hooks.example.com/x", false),
            Err(UrlRefusal::NotHttps)
        );
        assert!(parse_url("http://127.0.0.1:9/x", true).is_ok());
        assert_eq!(parse_url("ftp://x", false), Err(UrlRefusal::NotAUrl));
        assert_eq!(
            parse_url("https://user:pw@x.example/", false),
            Err(UrlRefusal::NotAUrl)
        );
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_private("93.184.216.34".parse().unwrap()));
    }
}
