//! Sessions: a revocable row per sign-in. A request is authenticated only when its token is valid
//! *and* its session row is live (`authentication`).

use crate::entity::{organisation, session, user};
use crate::principal::Principal;
use crate::token::{Claims, new_session_id, now_seconds};
use chrono::Utc;
use domain::error::AuthFailure;
use domain::people::{OrgKind, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};
use std::time::Duration;

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
        return Ok(Err(AuthFailure::Deactivated));
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
    if org.suspended_at.is_some() {
        return Ok(Err(AuthFailure::Suspended));
    }
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

/// The user's other live sessions of their own (not `except`, not impersonations).
pub async fn others_of(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    except: &str,
) -> Result<Vec<session::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ActorUserId.is_null())
        .filter(session::Column::Id.ne(except))
        .filter(session::Column::RevokedAt.is_null())
        .all(db)
        .await
}
