//! People, as lists and pickers show them.

use crate::entity::{membership, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

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
