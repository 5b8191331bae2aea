//! Teams, as lists show them.

use crate::entity::team;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// The names of an organisation's teams, by id.
pub async fn names(db: &impl ConnectionTrait, org: i32) -> Result<HashMap<i32, String>, DbErr> {
    Ok(team::Entity::find()
        .filter(team::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}
