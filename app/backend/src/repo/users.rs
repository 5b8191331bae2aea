//! People, as lists and pickers show them.

use crate::entity::{membership, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A user of the organisation; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: i32,
) -> Result<user::Model, super::RepoError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| u.organisation_id == org)
        .ok_or(super::RepoError::NotFound("User"))
}

/// The account with this e-mail address, in any organisation (signing in: e-mail is unique on
/// the platform).
pub async fn by_email(
    db: &impl ConnectionTrait,
    email: &domain::people::Email,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

/// Replaces a user's password hash (inside the caller's transaction).
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: i32,
    hash: String,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The organisation's users, by name, and which of them are direct members of `team`.
pub async fn with_membership_of(
    db: &impl ConnectionTrait,
    org: i32,
    team: i32,
) -> Result<(Vec<user::Model>, Vec<user::Model>), DbErr> {
    let member_ids: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::TeamId.eq(team))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let people = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .order_by_asc(user::Column::FullName)
        .all(db)
        .await?;
    Ok(people.into_iter().partition(|u| member_ids.contains(&u.id)))
}

/// The names of the organisation's users among `ids`.
pub async fn names(
    db: &impl ConnectionTrait,
    org: i32,
    ids: Vec<i32>,
) -> Result<HashMap<i32, String>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect())
}

/// The members of `teams`, by name; `None` when they are more than `max` (the query stops
/// counting there).
pub async fn members_of(
    db: &impl ConnectionTrait,
    org: i32,
    teams: &[i32],
    max: u64,
) -> Result<Option<Vec<user::Model>>, DbErr> {
    let ids: Vec<i32> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .distinct()
        .filter(membership::Column::TeamId.is_in(teams.to_vec()))
        .limit(max + 1)
        .into_tuple()
        .all(db)
        .await?;
    if ids.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::OrganisationId.eq(org))
            .order_by_asc(user::Column::FullName)
            .all(db)
            .await?,
    ))
}

/// The active members of `teams`, by name.
pub async fn active_members_of(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Vec<i32>,
) -> Result<Vec<user::Model>, DbErr> {
    let members: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::TeamId.is_in(teams))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let mut people = user::Entity::find()
        .filter(user::Column::Id.is_in(members))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::OrganisationId.eq(org))
        .all(db)
        .await?;
    people.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    Ok(people)
}
