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
    use backend::repo;
    use domain::authz::Permission;
    use domain::fleet::{VehicleStatus, WorkOrderStatus};

    let g = Guard::enter::<GetDashboard>().await?;
    let org = g.principal().organisation_id;
    let vehicle_teams: Vec<i32> = g.teams_with(Permission::VehiclesView);
    let order_teams: Vec<i32> = g.teams_with(Permission::WorkOrdersView);
    let db = &g.state().db;
    let mut d = Dashboard::default();
    for s in VehicleStatus::ALL {
        let n = repo::vehicles::count_with_status(db, org, vehicle_teams.clone(), s.key()).await?;
        d.vehicles_by_status.push((s, n));
    }
    for s in WorkOrderStatus::ALL {
        let one = vec![s.key()];
        let n =
            repo::work_orders::count_with_status(db, org, order_teams.clone(), one, None).await?;
        d.work_orders_by_status.push((s, n));
    }
    let open: Vec<&str> = WorkOrderStatus::ALL
        .iter()
        .filter(|s| !s.is_closed())
        .map(|s| s.key())
        .collect();
    let count = |due_before| {
        repo::work_orders::count_with_status(db, org, order_teams.clone(), open.clone(), due_before)
    };
    d.open_work_orders = count(None).await?;
    d.overdue_work_orders = count(Some(chrono::Utc::now().date_naive())).await?;
    Ok(d)
}
