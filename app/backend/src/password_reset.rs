//! Password reset links: single use, valid 30 minutes, the secret stored only as its hash.
//! Asking again replaces the previous link, so at most one works at a time.

use crate::entity::password_reset;
use crate::link_token::{LinkError, LinkToken, hash_of};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

pub fn valid_for() -> chrono::Duration {
    chrono::Duration::minutes(30)
}

/// Issues a reset link for `user_id` (inside the caller's transaction); earlier unused links
/// of the user die.
pub async fn issue(db: &impl ConnectionTrait, user_id: i32) -> Result<LinkToken, DbErr> {
    let now = Utc::now();
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let token = LinkToken::generate();
    password_reset::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token.hash()),
        created_at: Set(now),
        expires_at: Set(now + valid_for()),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The reset a link's secret opens, if it can still be used.
pub async fn open(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<Result<password_reset::Model, LinkError>, DbErr> {
    let Some(found) = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(hash_of(secret)))
        .one(db)
        .await?
    else {
        return Ok(Err(LinkError::Unknown));
    };
    if found.used_at.is_some() {
        return Ok(Err(LinkError::Used));
    }
    if found.expires_at <= Utc::now() {
        return Ok(Err(LinkError::Expired));
    }
    Ok(Ok(found))
}

/// Uses the link (inside the caller's transaction): a conditional update, so it works once.
/// Returns the user whose password may now be set.
pub async fn consume(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<Result<i32, LinkError>, DbErr> {
    let found = match open(db, secret).await? {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let used = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(Utc::now()))
        .filter(password_reset::Column::Id.eq(found.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        return Ok(Err(LinkError::Used));
    }
    Ok(Ok(found.user_id))
}
