//! Impersonation sessions in the database: starting one, checking on every request
//! that it may go on, and ending it — each step on the audit log.
//!
//! The view-as cookie only overlays the actor's own session: it is honoured only together with
//! the session it was started from, so a view-as token alone is worth nothing, and ending it
//! simply drops the overlay — no new session for the actor is ever minted.

use super::ending::{self, Ending};
use crate::audit::{self, Details, Field, Outcome};
use crate::entity::{organisation, session, user};
use crate::principal::{ActiveImpersonation, Principal};
use crate::session::principal_of;
use crate::state::AppState;
use chrono::Utc;
use domain::authz::Permission;
use domain::error::AuthFailure;
use domain::impersonation::{Consent, Mode, Refusal, Target};
use domain::people::{OrgKind, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The facts the rules need about a user, with the rows they came from, as `db` has them now
/// (inside a write's transaction: the change being made is part of what is checked).
pub async fn target(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(user::Model, organisation::Model, Target)>, DbErr> {
    let Some(u) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    let Some(org) = organisation::Entity::find_by_id(u.organisation_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let cover = crate::support_access::cover(db, org.id, u.id).await?;
    let t = Target {
        user_id: u.id,
        // An unknown role is treated as the most protected one.
        role: Role::stored(&u.role).map_err(corrupt)?,
        active: u.active,
        org_kind: OrgKind::stored(&org.kind).map_err(corrupt)?,
        consent: Consent::stored(&org.impersonation_consent).map_err(corrupt)?,
        suspended: org.suspended_at.is_some(),
        protected_by: cover.protected.then(|| org.name.clone()),
        grant: cover.grant,
    };
    Ok(Some((u, org, t)))
}

/// Whether `actor` (their own session) holds what `mode` needs.
async fn actor_may(st: &AppState, actor: &Principal, mode: Mode) -> Result<bool, DbErr> {
    if !actor.operator {
        return Ok(false);
    }
    let access = st.access.for_principal(&st.db, actor).await?;
    Ok(mode.needs().iter().all(|p| access.effective.anywhere(*p)))
}

/// A request to start viewing as someone, as it was made: what every refusal records.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub user_id: i32,
    pub mode: Mode,
    pub reason: String,
    pub ticket: Option<String>,
    pub minutes: u32,
}

impl Attempt {
    /// What the actor asked for, field by field (never joined into one string).
    fn details(&self) -> Details {
        Details::new()
            .with(Field::Mode, self.mode.key())
            .with(Field::Reason, self.reason.clone())
            .with_opt(Field::Ticket, self.ticket.clone())
            .with(Field::Minutes, self.minutes.to_string())
    }
}

/// Why a start was refused; the application answers each with its own status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartRefusal {
    /// An impersonation rule refuses it (its message is the answer).
    Rule(Refusal),
    /// No such user (404).
    NoSuchUser,
    /// The session it would start from has ended (401).
    SessionEnded,
}

/// Why a start was refused, for the audit log and the answer.
struct Refused {
    error: StartRefusal,
    why: String,
    permission: Option<Permission>,
}

impl Refused {
    fn rule(r: Refusal) -> Refused {
        Refused {
            why: r.to_string(),
            error: StartRefusal::Rule(r),
            permission: None,
        }
    }
}

/// Records a refused start: one denied row on the log of the organisation of the person it was
/// aimed at (so the customer sees attempts on its people), with the real actor (the operator
/// behind an impersonation, for a nested attempt), the subject, and what was asked and why it
/// was refused. A failure to audit is logged, never hidden.
pub async fn refuse(
    st: &AppState,
    actor: &Principal,
    attempt: &Attempt,
    why: &str,
    permission: Option<Permission>,
) {
    let (actor_id, impersonation_id) = match &actor.impersonation {
        Some(imp) => (imp.actor.user_id, Some(imp.id.clone())),
        None => (actor.user_id, None),
    };
    let subject = match user::Entity::find_by_id(attempt.user_id).one(&st.db).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "could not look up the subject of a refused start");
            None
        }
    };
    let details = match permission {
        Some(p) => attempt.details().with(Field::Permission, p.key()),
        None => attempt.details(),
    };
    let e = audit::Entry {
        organisation_id: subject.as_ref().map(|u| u.organisation_id),
        actor_user_id: Some(actor_id),
        subject_user_id: subject.as_ref().map(|u| u.id),
        impersonation_id,
        action: "impersonation.start".to_owned(),
        resource: Some(audit::Resource::User(attempt.user_id).to_string()),
        outcome: Outcome::Denied,
        details: details.with(Field::Why, why),
    };
    if let Err(e) = audit::record(&st.db, e).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}

/// Starts viewing as `attempt.user_id`. The caller has checked `users.impersonate` and that
/// `actor` is not impersonating already. Every refusal is audited (once) before it is returned.
pub async fn start(
    st: &AppState,
    actor: &Principal,
    attempt: Attempt,
) -> Result<Result<session::Model, StartRefusal>, DbErr> {
    Ok(match checked_start(st, actor, &attempt).await? {
        Ok(row) => Ok(row),
        Err(r) => {
            refuse(st, actor, &attempt, &r.why, r.permission).await;
            Err(r.error)
        }
    })
}

/// The start itself: the outer error is the database's, the inner one a refusal to audit.
async fn checked_start(
    st: &AppState,
    actor: &Principal,
    attempt: &Attempt,
) -> Result<Result<session::Model, Refused>, DbErr> {
    let mode = attempt.mode;
    if !actor_may(st, actor, mode).await? {
        let mut r = Refused::rule(Refusal::CannotAct);
        r.permission = Some(Permission::UsersImpersonateAct);
        return Ok(Err(r));
    }
    let Some((_, org, target)) = target(&st.db, attempt.user_id).await? else {
        return Ok(Err(Refused {
            error: StartRefusal::NoSuchUser,
            why: "no such user".into(),
            permission: None,
        }));
    };
    if let Err(r) = domain::impersonation::eligibility(actor.user_id, &target, mode) {
        return Ok(Err(Refused::rule(r)));
    }
    let Some(parent) = session::Entity::find_by_id(actor.session_id.clone())
        .one(&st.db)
        .await?
    else {
        return Ok(Err(Refused {
            error: StartRefusal::SessionEnded,
            why: "the session it was started from has ended".into(),
            permission: None,
        }));
    };
    let now = crate::token::now_seconds();
    // Never outlives the session it was started from.
    let expires_at =
        (now + chrono::Duration::minutes(i64::from(attempt.minutes))).min(parent.expires_at);
    let txn = audit::begin(&st.db).await?;
    let row = session::ActiveModel {
        id: Set(crate::token::new_session_id()),
        user_id: Set(attempt.user_id),
        actor_user_id: Set(Some(actor.user_id)),
        parent_session_id: Set(Some(actor.session_id.clone())),
        reason: Set(Some(attempt.reason.clone())),
        ticket: Set(attempt.ticket.clone()),
        mode: Set(Some(mode.key().to_owned())),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        client_addr: Set(None),
    }
    .insert(&*txn)
    .await?;
    let e = audit::Entry {
        organisation_id: Some(org.id),
        actor_user_id: Some(actor.user_id),
        subject_user_id: Some(row.user_id),
        impersonation_id: Some(row.id.clone()),
        action: "impersonation.start".to_owned(),
        resource: Some(audit::Resource::User(row.user_id).to_string()),
        outcome: Outcome::Success,
        details: attempt.details(),
    };
    txn.commit_with(e).await?;
    Ok(Ok(row))
}

/// Applies a view-as token on top of the actor's own live session `base`: every rule is checked
/// again, and the impersonation ends as soon as one no longer holds.
pub async fn overlay(
    st: &AppState,
    base: Principal,
    token: &str,
) -> Result<Result<Principal, AuthFailure>, DbErr> {
    let claims = match st.tokens.verify(token) {
        Ok(c) => c,
        Err(AuthFailure::Expired) => match st.tokens.verify_ignoring_expiry(token) {
            Ok(c) => c,
            Err(f) => return Ok(Err(f)),
        },
        Err(f) => return Ok(Err(f)),
    };
    let Some(row) = session::Entity::find_by_id(claims.sid.clone())
        .one(&st.db)
        .await?
    else {
        return Ok(Err(AuthFailure::Invalid));
    };
    // Bound to the very session it was started from, by the same actor.
    let bound = row.actor_user_id == Some(base.user_id)
        && row.parent_session_id.as_deref() == Some(base.session_id.as_str())
        && claims.sub == row.user_id.to_string()
        && claims.act.as_ref().map(|a| a.sub.as_str()) == Some(base.user_id.to_string().as_str());
    if !bound {
        return Ok(Err(AuthFailure::Invalid));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    if row.expires_at <= Utc::now() {
        ending::end(&st.db, &row.id, Ending::Expiry).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let Some(mode) = row.mode.as_deref().and_then(Mode::from_key) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if !actor_may(st, &base, mode).await? {
        let why = format!(
            "the actor no longer holds {}",
            mode.needs()
                .iter()
                .map(|p| p.key())
                .collect::<Vec<_>>()
                .join(" and ")
        );
        ending::end(&st.db, &row.id, Ending::RuleBroken(why)).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let eligible = match target(&st.db, row.user_id).await? {
        Some((_, _, t)) => {
            domain::impersonation::eligibility(base.user_id, &t, mode).map_err(|r| r.to_string())
        }
        None => Err("the user no longer exists".to_owned()),
    };
    if let Err(why) = eligible {
        ending::end(&st.db, &row.id, Ending::RuleBroken(why)).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let mut subject = match principal_of(&st.db, &row).await? {
        Ok(p) => p,
        Err(_) => {
            let why = "the user can no longer sign in".to_owned();
            ending::end(&st.db, &row.id, Ending::RuleBroken(why)).await?;
            return Ok(Err(AuthFailure::ImpersonationEnded));
        }
    };
    subject.impersonation = Some(Box::new(ActiveImpersonation {
        id: row.id.clone(),
        actor: base,
        mode,
        reason: row.reason.clone().unwrap_or_default(),
        ticket: row.ticket.clone(),
        expires_at: row.expires_at,
    }));
    Ok(Ok(subject))
}

/// Corrupt data read back from the database: an error of the request, never a default.
pub(crate) fn corrupt(e: domain::keyed::Corrupt) -> DbErr {
    DbErr::Custom(e.to_string())
}
