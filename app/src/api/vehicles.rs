//! Vehicles: the list and one vehicle, within what the caller may view.

use crate::error::AppError;
use crate::model::{VehicleDetail, VehicleRow};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::guard::Guard;
    use crate::entity::{team, vehicle};
    use crate::error::AppError;
    use crate::model::{VehicleRow, VehicleStatus};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use std::collections::HashMap;

    /// Names of the organisation's teams, for display.
    pub async fn team_names(g: &Guard) -> Result<HashMap<i32, String>, AppError> {
        Ok(team::Entity::find()
            .filter(team::Column::OrganisationId.eq(g.principal.organisation_id))
            .all(&g.state.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect())
    }

    pub fn row(v: vehicle::Model, teams: &HashMap<i32, String>) -> VehicleRow {
        VehicleRow {
            team: teams.get(&v.team_id).cloned().unwrap_or_default(),
            status: VehicleStatus::from_key(&v.status).unwrap_or(VehicleStatus::Active),
            id: v.id,
            name: v.name,
            vin: v.vin,
            make: v.make,
            model: v.model,
            year: v.year,
            plate: v.plate,
        }
    }

    /// A vehicle of the caller's organisation; another organisation's is "not found", so
    /// existence does not leak.
    pub async fn load(g: &Guard, id: i32) -> Result<vehicle::Model, AppError> {
        vehicle::Entity::find_by_id(id)
            .one(&g.state.db)
            .await?
            .filter(|v| v.organisation_id == g.principal.organisation_id)
            .ok_or(AppError::NotFound {
                what: "Vehicle".into(),
            })
    }

    pub async fn visible(g: &Guard, teams: Vec<i32>) -> Result<Vec<vehicle::Model>, AppError> {
        Ok(vehicle::Entity::find()
            .filter(vehicle::Column::OrganisationId.eq(g.principal.organisation_id))
            .filter(vehicle::Column::TeamId.is_in(teams))
            .order_by_asc(vehicle::Column::Name)
            .all(&g.state.db)
            .await?)
    }
}

/// The vehicles of every team where the caller holds `vehicles.view`, by name.
#[server(endpoint = "vehicles/list")]
pub async fn list_vehicles() -> Result<Vec<VehicleRow>, AppError> {
    use crate::api::guard::Guard;
    let g = Guard::enter("/api/vehicles/list").await?;
    let teams = g.visible_teams().await?;
    let names = server::team_names(&g).await?;
    let rows = server::visible(&g, teams).await?;
    Ok(rows.into_iter().map(|v| server::row(v, &names)).collect())
}

/// One vehicle and its work orders.
#[server(endpoint = "vehicles/get")]
pub async fn get_vehicle(id: i32) -> Result<VehicleDetail, AppError> {
    use crate::api::guard::Guard;
    use crate::authz::Permission;
    let g = Guard::enter("/api/vehicles/get").await?;
    let v = server::load(&g, id).await?;
    g.authorize(v.team_id, &format!("vehicle:{id}")).await?;
    let names = server::team_names(&g).await?;
    let work_orders = if g
        .access
        .effective
        .allows(Permission::WorkOrdersView, v.team_id)
    {
        crate::api::work_orders::server::rows_for_vehicle(&g, v.id, &names).await?
    } else {
        Vec::new()
    };
    let odometer = v.odometer;
    Ok(VehicleDetail {
        vehicle: server::row(v, &names),
        odometer,
        work_orders,
    })
}
