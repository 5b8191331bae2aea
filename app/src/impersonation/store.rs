//! Impersonation sessions in the database (server only): starting one, checking on every request
//! that it may go on, and ending it — each step on the audit log.
//!
//! The view-as cookie only overlays the actor's own session: it is honoured only together with
//! the session it was started from, so a view-as token alone is worth nothing, and ending it
//! simply drops the overlay — no new session for the actor is ever minted.

use super::{Consent, Mode, Refusal, Target};
use crate::audit::{self, Outcome};
use crate::authz::Permission;
use crate::entity::{organisation, session, user};
use crate::error::{AppError, AuthFailure};
use crate::model::{OrgKind, Role};
use crate::session::{ActiveImpersonation, Principal, principal_of};
use crate::state::AppState;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait};

/// The facts the rules need about a user, with the rows they came from.
pub async fn target(
    st: &AppState,
    user_id: i32,
) -> Result<Option<(user::Model, organisation::Model, Target)>, DbErr> {
    let Some(u) = user::Entity::find_by_id(user_id).one(&st.db).await? else {
        return Ok(None);
    };
    let Some(org) = organisation::Entity::find_by_id(u.organisation_id)
        .one(&st.db)
        .await?
    else {
        return Ok(None);
    };
    let t = Target {
        user_id: u.id,
        // An unknown role is treated as the most protected one.
        role: Role::from_key(&u.role).unwrap_or(Role::Admin),
        active: u.active,
        org_kind: OrgKind::from_key(&org.kind).unwrap_or(OrgKind::Operator),
        consent: Consent::from_key(&org.impersonation_consent).unwrap_or(Consent::Never),
    };
    Ok(Some((u, org, t)))
}

/// The permissions an operator needs for `mode`.
fn needed(mode: Mode) -> &'static [Permission] {
    match mode {
        Mode::View => &[Permission::UsersImpersonate],
        Mode::Act => &[
            Permission::UsersImpersonate,
            Permission::UsersImpersonateAct,
        ],
    }
}

/// Whether `actor` (their own session) holds what `mode` needs.
async fn actor_may(st: &AppState, actor: &Principal, mode: Mode) -> Result<bool, DbErr> {
    if !actor.operator {
        return Ok(false);
    }
    let access = st.access.for_principal(&st.db, actor).await?;
    Ok(needed(mode).iter().all(|p| access.effective.anywhere(*p)))
}

fn entry(
    row: &session::Model,
    org: Option<i32>,
    action: &str,
    outcome: Outcome,
    detail: Option<String>,
) -> audit::Entry {
    audit::Entry {
        organisation_id: org,
        actor_user_id: row.actor_user_id,
        subject_user_id: Some(row.user_id),
        impersonation_id: Some(row.id.clone()),
        action: action.to_owned(),
        resource: Some(format!("user:{}", row.user_id)),
        outcome,
        detail,
    }
}

/// Ends an impersonation (exit, expiry, or a rule that no longer holds) and audits why.
pub async fn end(
    st: &AppState,
    row: session::Model,
    action: &str,
    why: Option<String>,
) -> Result<(), DbErr> {
    if row.revoked_at.is_some() {
        return Ok(());
    }
    let org = user::Entity::find_by_id(row.user_id)
        .one(&st.db)
        .await?
        .map(|u| u.organisation_id);
    let e = entry(&row, org, action, Outcome::Success, why);
    let txn = audit::begin(&st.db).await?;
    let mut active: session::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(&*txn).await?;
    txn.commit_with(e).await
}

/// Starts viewing as `user_id`. The caller has checked `users.impersonate` and that `actor` is
/// not impersonating already.
pub async fn start(
    st: &AppState,
    actor: &Principal,
    user_id: i32,
    mode: Mode,
    reason: String,
    ticket: Option<String>,
    minutes: u32,
) -> Result<session::Model, AppError> {
    if !actor_may(st, actor, mode).await? {
        return Err(AppError::Forbidden {
            message: Refusal::CannotAct.to_string(),
            denial: None,
        });
    }
    let Some((_, org, target)) = target(st, user_id).await? else {
        return Err(AppError::NotFound {
            what: "User".into(),
        });
    };
    super::eligibility(actor.user_id, &target, mode).map_err(|r| AppError::Forbidden {
        message: r.to_string(),
        denial: None,
    })?;
    let parent = session::Entity::find_by_id(actor.session_id.clone())
        .one(&st.db)
        .await?
        .ok_or(AppError::Unauthenticated {
            reason: AuthFailure::Revoked,
        })?;
    let now = crate::session::now_seconds();
    // Never outlives the session it was started from.
    let expires_at = (now + chrono::Duration::minutes(i64::from(minutes))).min(parent.expires_at);
    let txn = audit::begin(&st.db).await?;
    let row = session::ActiveModel {
        id: Set(crate::session::new_session_id()),
        user_id: Set(user_id),
        actor_user_id: Set(Some(actor.user_id)),
        parent_session_id: Set(Some(actor.session_id.clone())),
        reason: Set(Some(reason.clone())),
        ticket: Set(ticket.clone()),
        mode: Set(Some(mode.key().to_owned())),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        client_addr: Set(None),
    }
    .insert(&*txn)
    .await?;
    let detail = format!(
        "mode={}; reason={reason}{}",
        mode.key(),
        ticket.map(|t| format!("; ticket={t}")).unwrap_or_default()
    );
    let e = entry(
        &row,
        Some(org.id),
        "impersonation.start",
        Outcome::Success,
        Some(detail),
    );
    txn.commit_with(e).await?;
    Ok(row)
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
        end(st, row, "impersonation.expire", None).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let Some(mode) = row.mode.as_deref().and_then(Mode::from_key) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if !actor_may(st, &base, mode).await? {
        let why = format!(
            "the actor no longer holds {}",
            needed(mode)
                .iter()
                .map(|p| p.key())
                .collect::<Vec<_>>()
                .join(" and ")
        );
        end(st, row, "impersonation.end", Some(why)).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let eligible = match target(st, row.user_id).await? {
        Some((_, _, t)) => super::eligibility(base.user_id, &t, mode).map_err(|r| r.to_string()),
        None => Err("the user no longer exists".to_owned()),
    };
    if let Err(why) = eligible {
        end(st, row, "impersonation.end", Some(why)).await?;
        return Ok(Err(AuthFailure::ImpersonationEnded));
    }
    let mut subject = match principal_of(&st.db, &row).await? {
        Ok(p) => p,
        Err(_) => {
            end(
                st,
                row,
                "impersonation.end",
                Some("the user can no longer sign in".into()),
            )
            .await?;
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
