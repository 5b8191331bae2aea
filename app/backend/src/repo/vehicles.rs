//! Vehicles: load one, a keyset page, names.

use super::RepoError;
use crate::entity::vehicle;
use domain::ids::VehicleId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A vehicle of the organisation; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: VehicleId,
) -> Result<vehicle::Model, RepoError> {
    vehicle::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .filter(|v| v.organisation_id == org)
        .ok_or(RepoError::NotFound("Vehicle"))
}

/// Up to `limit` of the organisation's vehicles in `teams` (`None`: in any of its teams), by
/// (name, id), after `after`.
pub async fn page(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Option<Vec<i32>>,
    after: Option<(String, i32)>,
    limit: u64,
) -> Result<Vec<vehicle::Model>, DbErr> {
    let mut q = vehicle::Entity::find().filter(vehicle::Column::OrganisationId.eq(org));
    if let Some(teams) = teams {
        q = q.filter(vehicle::Column::TeamId.is_in(teams));
    }
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

/// How many of the organisation's vehicles in `teams` have the status `status` (its key).
pub async fn count_with_status(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Vec<i32>,
    status: &str,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(org))
        .filter(vehicle::Column::TeamId.is_in(teams))
        .filter(vehicle::Column::Status.eq(status))
        .count(db)
        .await
}

/// A new vehicle, its fields already parsed.
#[derive(Clone, Debug)]
pub struct NewVehicle {
    pub organisation_id: i32,
    pub team_id: i32,
    pub name: String,
    pub vin: domain::fleet::Vin,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub plate: String,
    pub odometer: i32,
}

/// Inserts an active vehicle (inside the caller's transaction); the VIN's unique index has the
/// last word on duplicates (a unique-constraint error the caller turns into the field's message).
pub async fn insert(db: &impl ConnectionTrait, new: NewVehicle) -> Result<vehicle::Model, DbErr> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    vehicle::ActiveModel {
        organisation_id: Set(new.organisation_id),
        team_id: Set(new.team_id),
        vin: Set(new.vin.to_string()),
        name: Set(new.name),
        make: Set(new.make),
        model: Set(new.model),
        year: Set(new.year),
        plate: Set(new.plate),
        status: Set(domain::fleet::VehicleStatus::Active.key().to_owned()),
        odometer: Set(new.odometer),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}
