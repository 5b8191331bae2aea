//! The rows lists show, assembled from repository rows with the names they display (server
//! only): shared by the endpoints that list work orders, vehicles and inspections.

use crate::api::guard::Guard;
use crate::error::AppError;
use crate::model::{ChecklistItem, InspectionRow, VehicleRow, WorkOrderRow};
use backend::entity::{vehicle, work_order};
use backend::repo;
use domain::authz::TeamTree;
use domain::fleet::{Date, Priority, VehicleStatus, Vin, WorkOrderStatus};
use domain::ids::{VehicleId, WorkOrderId};
use domain::keyed::Corrupt;

/// A vehicle as the lists show it, with its team's name from `tree` — the guard's tree of the
/// request, current as of its authorisation version (renaming a team bumps it), so naming the
/// teams costs no query.
pub fn vehicle(v: vehicle::Model, tree: &TeamTree) -> Result<VehicleRow, AppError> {
    Ok(VehicleRow {
        team: team_name(tree, v.team_id),
        status: VehicleStatus::stored(&v.status)?,
        id: VehicleId(v.id),
        name: v.name,
        vin: Vin::parse(&v.vin).map_err(|_| corrupt("Vin", &v.vin))?,
        make: v.make,
        model: v.model,
        year: v.year,
        plate: v.plate,
    })
}

/// Work orders as the lists show them: with their vehicle's, team's and assignee's names.
pub async fn work_orders(
    g: &Guard,
    orders: Vec<work_order::Model>,
) -> Result<Vec<WorkOrderRow>, AppError> {
    let db = &g.state().db;
    let org = g.principal().organisation_id;
    let assignees = orders.iter().filter_map(|w| w.assignee_id).collect();
    let users = repo::users::names(db, org, assignees).await?;
    let vehicles = orders.iter().map(|w| w.vehicle_id).collect();
    let vehicles = repo::vehicles::names(db, org, vehicles).await?;
    orders
        .into_iter()
        .map(|w| {
            Ok(WorkOrderRow {
                id: WorkOrderId(w.id),
                vehicle: vehicles.get(&w.vehicle_id).cloned().unwrap_or_default(),
                team: team_name(g.tree(), w.team_id),
                status: WorkOrderStatus::stored(&w.status)?,
                priority: Priority::stored(&w.priority)?,
                assignee: w.assignee_id.and_then(|a| users.get(&a).cloned()),
                due_on: w.due_on.map(date).transpose()?,
                title: w.title,
            })
        })
        .collect()
}

fn team_name(tree: &TeamTree, team: i32) -> String {
    tree.name(team).unwrap_or_default().to_owned()
}

/// A vehicle's inspections, newest first, with their inspectors' names.
pub async fn inspections(g: &Guard, vehicle_id: VehicleId) -> Result<Vec<InspectionRow>, AppError> {
    let db = &g.state().db;
    let org = g.principal().organisation_id;
    let rows = repo::inspections::of_vehicle(db, org, vehicle_id).await?;
    let inspectors = rows.iter().filter_map(|r| r.inspector_id).collect();
    let names = repo::users::names(db, org, inspectors).await?;
    Ok(rows
        .into_iter()
        .map(|r| InspectionRow {
            id: r.id,
            submitted_at: r.submitted_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            inspector: r.inspector_id.and_then(|i| names.get(&i).cloned()),
            passed: r.result == "pass",
            items: serde_json::from_str::<Vec<ChecklistItem>>(&r.items).unwrap_or_default(),
        })
        .collect())
}

/// A stored date as the DTOs carry it.
pub fn date(d: chrono::NaiveDate) -> Result<Date, AppError> {
    use chrono::Datelike;
    Ok(
        Date::from_ymd(d.year(), d.month(), d.day())
            .map_err(|_| corrupt("Date", &d.to_string()))?,
    )
}

/// A stored value that does not parse: corrupt data, an error (never shown as something else).
fn corrupt(what: &'static str, value: &str) -> Corrupt {
    Corrupt {
        what,
        value: value.to_owned(),
    }
}
