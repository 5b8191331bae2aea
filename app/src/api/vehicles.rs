//! Vehicles of the caller's organisation.

use crate::error::AppError;
use crate::model::VehicleRow;
use leptos::prelude::*;

/// Every vehicle of the signed-in user's organisation, by name.
#[server(endpoint = "vehicles/list")]
pub async fn list_vehicles() -> Result<Vec<VehicleRow>, AppError> {
    use crate::api::ctx;
    use crate::entity::{team, vehicle};
    use crate::model::VehicleStatus;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use std::collections::HashMap;

    let p = ctx::principal()?;
    let st = ctx::state()?;
    let vehicles = vehicle::Entity::find()
        .filter(vehicle::Column::OrganisationId.eq(p.organisation_id))
        .order_by_asc(vehicle::Column::Name)
        .all(&st.db)
        .await?;
    let teams: HashMap<i32, String> = team::Entity::find()
        .filter(team::Column::OrganisationId.eq(p.organisation_id))
        .all(&st.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(vehicles
        .into_iter()
        .map(|v| VehicleRow {
            team: teams.get(&v.team_id).cloned().unwrap_or_default(),
            status: VehicleStatus::from_key(&v.status).unwrap_or(VehicleStatus::Active),
            id: v.id,
            name: v.name,
            vin: v.vin,
            make: v.make,
            model: v.model,
            year: v.year,
            plate: v.plate,
        })
        .collect())
}
