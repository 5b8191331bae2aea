//! Invitations: a person asked to join a team with a role. The link's secret is stored only as
//! its hash ([`crate::link_token`]), valid for seven days, used once; resending draws a new
//! secret (the old link dies), revoking withdraws it. Accepting creates the account and its
//! membership in one transaction.
//!
//! Who may invite whom is not decided here: the caller (a server function through its guard,
//! or the operator's organisation onboarding) has checked it.

use crate::directory::{self, NewUser};
use crate::entity::{invitation, user};
use crate::link_token::{LinkError, LinkToken, hash_of};
use chrono::{DateTime, Utc};
use domain::people::{Email, Role};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

/// How long an invitation link stays valid.
pub fn valid_for() -> chrono::Duration {
    chrono::Duration::days(7)
}

/// A person to invite into a team.
pub struct NewInvitation<'a> {
    pub organisation_id: i32,
    pub team_id: i32,
    pub email: &'a Email,
    pub full_name: &'a str,
    pub role: Role,
    pub invited_by: Option<i32>,
}

/// Why an invitation cannot be made or accepted.
#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error("Someone with this e-mail address already has an account.")]
    HasAccount,
    #[error("This address already has a pending invitation: resend it instead.")]
    AlreadyInvited,
    /// The organisation is suspended: nobody of it signs in, newcomers included (the link
    /// keeps working for when it is reactivated).
    #[error("The organisation is suspended.")]
    Suspended,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether an invitation can still be accepted at `now`, or why not.
pub fn state(i: &invitation::Model, now: DateTime<Utc>) -> Result<(), LinkError> {
    if i.revoked_at.is_some() {
        Err(LinkError::Revoked)
    } else if i.accepted_at.is_some() {
        Err(LinkError::Used)
    } else if i.expires_at <= now {
        Err(LinkError::Expired)
    } else {
        Ok(())
    }
}

/// Creates an invitation (inside the caller's transaction) and returns it with its secret, to
/// be put in the link and nowhere else. E-mail addresses are unique on the platform: an
/// address with an account or a pending invitation is refused.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewInvitation<'_>,
) -> Result<(invitation::Model, LinkToken), InvitationError> {
    if crate::repo::users::by_email(db, new.email).await?.is_some() {
        return Err(InvitationError::HasAccount);
    }
    let now = Utc::now();
    let pending = invitation::Entity::find()
        .filter(invitation::Column::Email.eq(new.email.as_str()))
        .all(db)
        .await?
        .iter()
        .any(|i| state(i, now).is_ok());
    if pending {
        return Err(InvitationError::AlreadyInvited);
    }
    let token = LinkToken::generate();
    let row = invitation::ActiveModel {
        organisation_id: Set(new.organisation_id),
        team_id: Set(new.team_id),
        email: Set(new.email.as_str().to_owned()),
        full_name: Set(new.full_name.to_owned()),
        role: Set(new.role.key().to_owned()),
        token_hash: Set(token.hash()),
        invited_by: Set(new.invited_by),
        created_at: Set(now),
        expires_at: Set(now + valid_for()),
        accepted_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, token))
}

/// The invitation a link's secret opens, if it can still be accepted.
pub async fn open(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<invitation::Model, InvitationError> {
    let found = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(hash_of(secret)))
        .one(db)
        .await?
        .ok_or(LinkError::Unknown)?;
    state(&found, Utc::now())?;
    Ok(found)
}

/// Accepts the invitation `secret` opens (inside the caller's transaction): marks it used —
/// a conditional update, so two acceptances of one link cannot both succeed — and creates the
/// account with its membership of the team.
pub async fn accept(
    db: &impl ConnectionTrait,
    secret: &str,
    password_hash: String,
) -> Result<(invitation::Model, user::Model), InvitationError> {
    let inv = open(db, secret).await?;
    let suspended = crate::entity::organisation::Entity::find_by_id(inv.organisation_id)
        .one(db)
        .await?
        .is_none_or(|o| o.suspended_at.is_some());
    if suspended {
        return Err(InvitationError::Suspended);
    }
    let used = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        return Err(LinkError::Used.into());
    }
    let email = Email::parse(&inv.email).map_err(|_| LinkError::Unknown)?;
    let role = Role::from_key(&inv.role).ok_or(LinkError::Unknown)?;
    if crate::repo::users::by_email(db, &email).await?.is_some() {
        return Err(InvitationError::HasAccount);
    }
    let user = directory::create_user(
        db,
        NewUser {
            organisation_id: inv.organisation_id,
            email: &email,
            full_name: &inv.full_name,
            role,
            password_hash,
        },
    )
    .await?;
    directory::add_member(db, inv.organisation_id, user.id, inv.team_id).await?;
    Ok((inv, user))
}

/// Draws a new secret for a pending invitation and restarts its seven days; the old link
/// stops working at once.
pub async fn renew(
    db: &impl ConnectionTrait,
    inv: &invitation::Model,
) -> Result<LinkToken, InvitationError> {
    if let Err(e @ (LinkError::Used | LinkError::Revoked)) = state(inv, Utc::now()) {
        return Err(e.into());
    }
    let token = LinkToken::generate();
    let now = Utc::now();
    invitation::Entity::update_many()
        .col_expr(invitation::Column::TokenHash, Expr::value(token.hash()))
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(now + valid_for()),
        )
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(token)
}

/// Withdraws a pending invitation; false when it was not pending.
pub async fn revoke(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    let res = invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// An invitation of organisation `org`; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: i32,
) -> Result<invitation::Model, crate::repo::RepoError> {
    invitation::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|i| i.organisation_id == org)
        .ok_or(crate::repo::RepoError::NotFound("Invitation"))
}

/// The invitations into `team` not accepted nor revoked, newest first: expired ones included,
/// since they can be resent.
pub async fn pending_of_team(
    db: &impl ConnectionTrait,
    team: i32,
) -> Result<Vec<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::TeamId.eq(team))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .order_by_desc(invitation::Column::Id)
        .all(db)
        .await
}
