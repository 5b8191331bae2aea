//! Vehicles: load one, check a VIN, a keyset page, names.

use super::RepoError;
use crate::entity::vehicle;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A vehicle of the organisation; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: i32,
) -> Result<vehicle::Model, RepoError> {
    vehicle::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|v| v.organisation_id == org)
        .ok_or(RepoError::NotFound("Vehicle"))
}

/// Whether another vehicle of the organisation (not `except`) has this VIN (unique within an
/// organisation: the index `idx_vehicles_org_vin` has the last word).
pub async fn vin_taken(
    db: &impl ConnectionTrait,
    org: i32,
    vin: &str,
    except: Option<i32>,
) -> Result<bool, DbErr> {
    let existing = vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(org))
        .filter(vehicle::Column::Vin.eq(vin))
        .one(db)
        .await?;
    Ok(existing.is_some_and(|v| Some(v.id) != except))
}

/// Up to `limit` vehicles of `teams`, by (name, id), after `after`.
pub async fn page(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Vec<i32>,
    after: Option<(String, i32)>,
    limit: u64,
) -> Result<Vec<vehicle::Model>, DbErr> {
    let mut q = vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(org))
        .filter(vehicle::Column::TeamId.is_in(teams));
    if let Some((name, id)) = after {
        // A row-value comparison, (name, id) > (…, …): one range of the index, where the
        // equivalent OR of two conditions made PostgreSQL scan (76 ms at page 1,800).
        q = q.filter(
            Expr::tuple([
                Expr::col(vehicle::Column::Name),
                Expr::col(vehicle::Column::Id),
            ])
            .gt(Expr::tuple([Expr::val(name), Expr::val(id)])),
        );
    }
    q.order_by_asc(vehicle::Column::Name)
        .order_by_asc(vehicle::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The names of the organisation's vehicles among `ids`.
pub async fn names(
    db: &impl ConnectionTrait,
    org: i32,
    ids: Vec<i32>,
) -> Result<HashMap<i32, String>, DbErr> {
    Ok(vehicle::Entity::find()
        .filter(vehicle::Column::Id.is_in(ids))
        .filter(vehicle::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect())
}
