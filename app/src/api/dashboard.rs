//! The home dashboard's counts, over what the caller may view.

use crate::api::policy::Requirement::SignedIn;
use crate::api::policy::{Declared, Policy, read};
use crate::error::AppError;
use crate::model::Dashboard;
use leptos::prelude::*;

impl Declared for GetDashboard {
    const POLICY: Policy = read::<Self>(SignedIn);
}

#[server(endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    use crate::api::guard::Guard;
    use backend::entity::{vehicle, work_order};
    use domain::authz::Permission;
    use domain::fleet::{VehicleStatus, WorkOrderStatus};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let g = Guard::enter::<GetDashboard>().await?;
    let org = g.principal().organisation_id;
    let vehicle_teams: Vec<i32> = g.teams_with(Permission::VehiclesView);
    let order_teams: Vec<i32> = g.teams_with(Permission::WorkOrdersView);
    let db = &g.state().db;
    let mut d = Dashboard::default();
    for s in [
        VehicleStatus::Active,
        VehicleStatus::InShop,
        VehicleStatus::Retired,
    ] {
        let n = vehicle::Entity::find()
            .filter(vehicle::Column::OrganisationId.eq(org))
            .filter(vehicle::Column::TeamId.is_in(vehicle_teams.clone()))
            .filter(vehicle::Column::Status.eq(s.key()))
            .count(db)
            .await?;
        d.vehicles_by_status.push((s, n));
    }
    let orders = || {
        work_order::Entity::find()
            .filter(work_order::Column::OrganisationId.eq(org))
            .filter(work_order::Column::TeamId.is_in(order_teams.clone()))
    };
    for s in WorkOrderStatus::ALL {
        let n = orders()
            .filter(work_order::Column::Status.eq(s.key()))
            .count(db)
            .await?;
        d.work_orders_by_status.push((s, n));
    }
    let open: Vec<&str> = WorkOrderStatus::ALL
        .iter()
        .filter(|s| !s.is_closed())
        .map(|s| s.key())
        .collect();
    d.open_work_orders = orders()
        .filter(work_order::Column::Status.is_in(open.clone()))
        .count(db)
        .await?;
    d.overdue_work_orders = orders()
        .filter(work_order::Column::Status.is_in(open))
        .filter(work_order::Column::DueOn.lt(chrono::Utc::now().date_naive()))
        .count(db)
        .await?;
    Ok(d)
}
