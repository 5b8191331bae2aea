//! Ending impersonations: the one way an impersonation ends, whatever ends it.
//!
//! [`end_in`] revokes the impersonation's row with a conditional update (`revoked_at IS NULL`)
//! and appends its end record in the same transaction only when that update changed the row. So
//! every impersonation gets exactly one end record, even when two instances, or a sweep and an
//! exit, race to end the same one: the second update changes nothing and records nothing.

use crate::audit::{self, AuditedTxn, Details, Field, Outcome};
use crate::entity::{session, user};
use chrono::Utc;
use domain::impersonation::{Consent, Mode};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::time::Duration;

/// Why an impersonation ended; decides the action recorded and its details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The actor left it (Exit, or signing out while viewing as).
    Exit,
    /// Its time ran out.
    Expiry,
    /// The actor signed out of the session it was started from.
    SignOut,
    /// The organisation's consent no longer allows it.
    ConsentChanged(Consent),
    /// The customer's support access no longer covers it (a grant revoked, the person or a
    /// team above them protected); says why.
    AccessWithdrawn(String),
    /// A rule that allowed it no longer holds (the actor's rights, the subject's role or
    /// status, the session it was started from); says which.
    RuleBroken(String),
}

impl Ending {
    pub fn action(&self) -> &'static str {
        match self {
            Ending::Exit => "impersonation.exit",
            Ending::Expiry => "impersonation.expire",
            Ending::SignOut => "impersonation.signout",
            Ending::ConsentChanged(_) | Ending::AccessWithdrawn(_) | Ending::RuleBroken(_) => {
                "impersonation.end"
            }
        }
    }

    fn details(&self) -> Details {
        match self {
            Ending::Exit | Ending::Expiry | Ending::SignOut => Details::new(),
            Ending::ConsentChanged(c) => Details::new()
                .with(Field::Consent, c.key())
                .with(Field::Why, "the organisation's consent no longer allows it"),
            Ending::AccessWithdrawn(why) | Ending::RuleBroken(why) => Details::why(why.clone()),
        }
    }
}

/// Ends the impersonation `id` inside `txn`, if it is still live: revokes its row and appends
/// its end record. Returns whether this call ended it (false: it had ended already, or `id` is
/// not an impersonation).
pub async fn end_in(txn: &AuditedTxn, id: &str, ending: &Ending) -> Result<bool, DbErr> {
    let changed = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::ActorUserId.is_not_null())
        .filter(session::Column::RevokedAt.is_null())
        .exec(&**txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(false);
    }
    let Some(row) = session::Entity::find_by_id(id.to_owned())
        .one(&**txn)
        .await?
    else {
        return Ok(false);
    };
    let org = user::Entity::find_by_id(row.user_id)
        .one(&**txn)
        .await?
        .map(|u| u.organisation_id);
    txn.append(audit::Entry {
        organisation_id: org,
        actor_user_id: row.actor_user_id,
        subject_user_id: Some(row.user_id),
        impersonation_id: Some(row.id.clone()),
        action: ending.action().to_owned(),
        resource: Some(audit::Resource::User(row.user_id).to_string()),
        outcome: Outcome::Success,
        details: ending.details(),
    })
    .await?;
    tell_the_person_viewed(txn, &row).await?;
    Ok(true)
}

/// The person viewed is told, always, in the transaction that ended it: a notice on their next
/// page until they dismiss it, and a mail. Nothing can switch this off.
async fn tell_the_person_viewed(txn: &AuditedTxn, row: &session::Model) -> Result<(), DbErr> {
    crate::support_access::notify(&**txn, &row.id, row.user_id).await?;
    let Some(subject) = user::Entity::find_by_id(row.user_id).one(&**txn).await? else {
        return Ok(());
    };
    let actor = match row.actor_user_id {
        Some(a) => user::Entity::find_by_id(a).one(&**txn).await?,
        None => None,
    };
    let Ok(to) = domain::people::Email::parse(&subject.email) else {
        tracing::warn!(
            user = subject.id,
            "no valid address to tell of an impersonation"
        );
        return Ok(());
    };
    let letter = crate::mail::letters::viewed_as(
        to,
        &crate::mail::letters::Viewing {
            actor: actor
                .map(|a| a.full_name)
                .unwrap_or_else(|| "An operator".into()),
            mode: row
                .mode
                .as_deref()
                .and_then(Mode::from_key)
                .map(|m| m.label())
                .unwrap_or("Read-only"),
            reason: row.reason.as_deref().unwrap_or_default(),
            ticket: row.ticket.as_deref(),
            started: row.created_at,
            ended: Utc::now(),
        },
    );
    crate::mail::queue(&**txn, letter).await
}

/// Ends one impersonation in a transaction of its own.
pub async fn end(db: &DatabaseConnection, id: &str, ending: Ending) -> Result<bool, DbErr> {
    let txn = audit::begin(db).await?;
    let ended = end_in(&txn, id, &ending).await?;
    txn.commit().await?;
    Ok(ended)
}

/// The live impersonations matching `filter` (ids only).
async fn live_ids(
    txn: &AuditedTxn,
    filter: impl FnOnce(sea_orm::Select<session::Entity>) -> sea_orm::Select<session::Entity>,
) -> Result<Vec<session::Model>, DbErr> {
    let q = session::Entity::find()
        .filter(session::Column::ActorUserId.is_not_null())
        .filter(session::Column::RevokedAt.is_null());
    filter(q).all(&**txn).await
}

/// Ends every live impersonation started from the session `parent`.
pub async fn end_started_from(
    txn: &AuditedTxn,
    parent: &str,
    ending: &Ending,
) -> Result<usize, DbErr> {
    let rows = live_ids(txn, |q| {
        q.filter(session::Column::ParentSessionId.eq(parent))
    })
    .await?;
    end_all(txn, rows, ending).await
}

/// Ends every live impersonation of `user_id` (their credentials changed, they were
/// deactivated).
pub async fn end_of_user(txn: &AuditedTxn, user_id: i32, ending: &Ending) -> Result<usize, DbErr> {
    let rows = live_ids(txn, |q| q.filter(session::Column::UserId.eq(user_id))).await?;
    end_all(txn, rows, ending).await
}

/// Ends the live impersonations of organisation `org`'s users that `consent` no longer
/// permits (all of them for `never`, the `act` ones for read-only).
pub async fn end_refused_by_consent(
    txn: &AuditedTxn,
    org: i32,
    consent: Consent,
) -> Result<usize, DbErr> {
    let rows = live_ids(txn, |q| {
        q.filter(session::Column::UserId.in_subquery(users_of(org)))
    })
    .await?;
    let mut refused = Vec::new();
    for r in rows {
        let mode = r.mode.as_deref().and_then(Mode::from_key);
        let grant = crate::support_access::cover(&**txn, org, r.user_id)
            .await?
            .grant;
        if mode.is_none_or(|m| consent.allows(m, grant).is_err()) {
            refused.push(r);
        }
    }
    end_all(txn, refused, &Ending::ConsentChanged(consent)).await
}

/// Ends the live impersonations of `users` that the impersonation rules, read inside `txn`
/// (so the change being made counts), no longer allow: a revoked grant, a protection.
pub async fn end_no_longer_covered(txn: &AuditedTxn, users: &[i32]) -> Result<usize, DbErr> {
    let rows = live_ids(txn, |q| {
        q.filter(session::Column::UserId.is_in(users.iter().copied()))
    })
    .await?;
    let mut n = 0;
    for r in rows {
        let (Some(actor), Some(mode)) =
            (r.actor_user_id, r.mode.as_deref().and_then(Mode::from_key))
        else {
            continue;
        };
        let why = match super::store::target(&**txn, r.user_id).await? {
            Some((_, _, t)) => match domain::impersonation::eligibility(actor, &t, mode) {
                Ok(()) => continue,
                Err(refusal) => refusal.to_string(),
            },
            None => "the user no longer exists".to_owned(),
        };
        if end_in(txn, &r.id, &Ending::AccessWithdrawn(why)).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Ends the live impersonations by actors of organisation `org` (the operator's) who no longer
/// hold what their mode needs, as the change that took it away commits: a revoked grant or a
/// removed membership ends them at once, with "rights lost" on the record, rather than when
/// the view-as cookie is next seen or the sweep finds them expired.
pub async fn end_of_actors_without_rights(txn: &AuditedTxn, org: i32) -> Result<usize, DbErr> {
    let rows = live_ids(txn, |q| {
        q.filter(session::Column::ActorUserId.in_subquery(users_of(org)))
    })
    .await?;
    let mut n = 0;
    for r in rows {
        let (Some(actor), Some(mode)) =
            (r.actor_user_id, r.mode.as_deref().and_then(Mode::from_key))
        else {
            continue;
        };
        // Read inside the transaction: the change being made is part of what is checked.
        let access = crate::access::load_access(&**txn, org, actor).await?;
        let lacking: Vec<&str> = mode
            .needs()
            .iter()
            .filter(|p| !access.effective.anywhere(**p))
            .map(|p| p.key())
            .collect();
        if lacking.is_empty() {
            continue;
        }
        let why = format!("the actor no longer holds {}", lacking.join(" and "));
        if end_in(txn, &r.id, &Ending::RuleBroken(why)).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// The ids of organisation `org`'s users, as a subquery.
fn users_of(org: i32) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::OrganisationId.eq(org))
        .to_owned()
}

async fn end_all(
    txn: &AuditedTxn,
    rows: Vec<session::Model>,
    ending: &Ending,
) -> Result<usize, DbErr> {
    let mut n = 0;
    for r in rows {
        if end_in(txn, &r.id, ending).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// One sweep: ends every live impersonation whose time has run out, whether or not its cookie
/// is ever presented again. Returns how many it ended.
pub async fn sweep(db: &DatabaseConnection) -> Result<usize, DbErr> {
    // A look without the audit log's lock first: most sweeps find nothing to do, and should
    // not hold up the writes of every instance to find that out.
    let now = Utc::now();
    let any_due = session::Entity::find()
        .filter(session::Column::ActorUserId.is_not_null())
        .filter(session::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .iter()
        .any(|r| r.expires_at <= now);
    if !any_due {
        return Ok(0);
    }
    let txn = audit::begin(db).await?;
    // Compared here rather than in SQL: SQLite keeps times as text. Live impersonations are
    // few (operator staff, an hour at most), so reading them all is cheap. Read again under
    // the lock: another instance may have ended some meanwhile (end_in would skip them anyway).
    let rows = live_ids(&txn, |q| q).await?;
    let due = rows.into_iter().filter(|r| r.expires_at <= now).collect();
    let n = end_all(&txn, due, &Ending::Expiry).await?;
    txn.commit().await?;
    Ok(n)
}

/// The background sweep, every `every`, for as long as the handle lives: a failed sweep (the
/// database away) is logged and tried again on the next tick, never fatal.
pub struct Sweeper(tokio::task::JoinHandle<()>);

impl Sweeper {
    pub fn spawn(db: DatabaseConnection, every: Duration) -> Sweeper {
        Sweeper(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match sweep(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(ended = n, "expired impersonations ended"),
                    Err(e) => tracing::warn!(error = %e, "impersonation sweep failed; will retry"),
                }
            }
        }))
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}
