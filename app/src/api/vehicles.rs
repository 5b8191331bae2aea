//! Vehicles: the list and one vehicle, within what the caller may view; add, edit, retire.

// A server function's arguments are its form's fields, one each; the vehicle form has eight.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Permission as Needs;
use crate::api::policy::{Declared, Policy, read, write};
use crate::error::AppError;
use crate::model::{VehicleDetail, VehicleList};
use domain::authz::Permission;
use domain::ids::VehicleId;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::guard::Guard;
    use crate::api::paging::next_page;
    use crate::error::AppError;
    use crate::model::{Cursor, PAGE_SIZE};
    use backend::entity::vehicle;

    /// A VIN is unique within an organisation: the index `idx_vehicles_org_vin` decides, and
    /// the create or edit that meets it answers with this. Nothing is read before writing: a
    /// check could only repeat the index's (and never replace it), one query more every time.
    /// So an edit from a stale form is told it is stale (409) before anything about its VIN.
    pub const DUPLICATE_VIN: &str = "A vehicle with this VIN is already registered.";
    pub const TEAM_GONE: &str = "That team was deleted meanwhile. Choose another team.";

    pub const VERSIONED: backend::repo::versioned::Versioned<vehicle::Entity> =
        backend::repo::versioned::Versioned {
            id: vehicle::Column::Id,
            version: vehicle::Column::Version,
            updated_at: vehicle::Column::UpdatedAt,
            what: "vehicle",
            unique: Some(("vin", DUPLICATE_VIN)),
        };

    /// One page of the vehicles in `teams` (`None`: the whole organisation's), by (name, id),
    /// after `after`; and the cursor of the page after it.
    pub async fn visible_page(
        g: &Guard,
        teams: Option<Vec<i32>>,
        after: Option<Cursor>,
    ) -> Result<(Vec<vehicle::Model>, Option<String>), AppError> {
        let org = g.principal().organisation_id;
        let after = after.map(|c| (c.key.unwrap_or_default(), c.id));
        let mut rows =
            backend::repo::vehicles::page(&g.state().db, org, teams, after, PAGE_SIZE + 1).await?;
        let next = next_page(&mut rows, |v| Cursor {
            id: v.id,
            key: Some(v.name.clone()),
        });
        Ok((rows, next))
    }
}

impl Declared for ListVehicles {
    const POLICY: Policy = read::<Self>(Needs(Permission::VehiclesView));
}

/// The vehicles of every team where the caller holds `vehicles.view`, by name, a page at a
/// time (`after`: the cursor of the previous page), and where they may add one.
#[server(endpoint = "vehicles/list")]
pub async fn list_vehicles(after: Option<String>) -> Result<VehicleList, AppError> {
    use crate::api::guard::Guard;
    use domain::authz::{Decision, Permission};
    let after = crate::api::paging::parse_cursor(after.as_deref())?;
    let g = Guard::enter::<ListVehicles>().await?;
    let teams = g.visible_teams().await?;
    let (rows, next) = server::visible_page(&g, g.team_filter(&teams), after).await?;
    let tree = &g.tree();
    let create_teams: Vec<_> = tree
        .teams()
        .filter(|t| g.allows(Permission::VehiclesCreate, *t))
        .filter_map(|t| tree.team_ref(t))
        .collect();
    let create = match create_teams.first() {
        Some(t) => g.decide(Permission::VehiclesCreate, t.id),
        None => g.decide(Permission::VehiclesCreate, tree.root()),
    };
    debug_assert!(create_teams.is_empty() != matches!(create, Decision::Allow));
    Ok(VehicleList {
        rows: rows
            .into_iter()
            .map(|v| crate::api::rows::vehicle(v, g.tree()))
            .collect::<Result<_, AppError>>()?,
        next,
        create_teams,
        create,
    })
}

impl Declared for GetVehicle {
    const POLICY: Policy = read::<Self>(Needs(Permission::VehiclesView));
}

/// One vehicle, its work orders and inspections, and the decisions for its actions.
#[server(endpoint = "vehicles/get")]
pub async fn get_vehicle(id: VehicleId) -> Result<VehicleDetail, AppError> {
    use crate::api::guard::Guard;
    use crate::model::Actions;
    use domain::authz::Permission;
    let g = Guard::enter::<GetVehicle>().await?;
    let v = backend::repo::vehicles::load(&g.state().db, g.principal().organisation_id, id).await?;
    g.authorize(v.team_id, Resource::Vehicle(id)).await?;
    let allows = |p| g.allows(p, v.team_id);
    let work_orders = if allows(Permission::WorkOrdersView) {
        let orders =
            backend::repo::work_orders::of_vehicle(&g.state().db, v.organisation_id, id).await?;
        crate::api::rows::work_orders(&g, orders).await?
    } else {
        Vec::new()
    };
    let inspections = if allows(Permission::InspectionsView) {
        crate::api::rows::inspections(&g, id).await?
    } else {
        Vec::new()
    };
    let actions = Actions(
        [
            Permission::VehiclesEdit,
            Permission::VehiclesRetire,
            Permission::WorkOrdersCreate,
            Permission::InspectionsSubmit,
        ]
        .into_iter()
        .map(|p| (p, g.decide(p, v.team_id)))
        .collect(),
    );
    Ok(VehicleDetail {
        team_id: v.team_id,
        odometer: v.odometer,
        version: v.version,
        vehicle: crate::api::rows::vehicle(v, g.tree())?,
        work_orders,
        inspections,
        actions,
    })
}

/// The fields of the vehicle form, parsed; every problem is reported at once.
pub fn parse_vehicle(
    name: &str,
    vin: &str,
    make: &str,
    model: &str,
    year: &str,
    plate: &str,
    odometer: &str,
) -> Result<crate::model::VehicleFields, AppError> {
    use domain::validate::{self as v, Problems};
    let mut p = Problems::default();
    let fields = (
        p.check("name", v::required(name, "a name", 100)),
        p.check("vin", v::vin(vin)),
        p.check("make", v::required(make, "the make", 60)),
        p.check("model", v::required(model, "the model", 60)),
        p.check("year", v::year(year)),
        p.check("plate", v::required(plate, "the plate", 20)),
        p.check(
            "odometer",
            v::odometer(if odometer.trim().is_empty() {
                "0"
            } else {
                odometer
            }),
        ),
    );
    p.finish()?;
    match fields {
        (
            Some(name),
            Some(vin),
            Some(make),
            Some(model),
            Some(year),
            Some(plate),
            Some(odometer),
        ) => Ok(crate::model::VehicleFields {
            name,
            vin,
            make,
            model,
            year,
            plate,
            odometer,
        }),
        _ => Err(AppError::Internal),
    }
}

impl Declared for CreateVehicle {
    const POLICY: Policy = write::<Self>(Needs(Permission::VehiclesCreate));
}

/// Adds a vehicle to a team (needs `vehicles.create` there).
#[server(endpoint = "vehicles/create")]
pub async fn create_vehicle(
    team: i32,
    name: String,
    vin: String,
    make: String,
    model: String,
    year: String,
    plate: String,
    odometer: String,
) -> Result<VehicleId, AppError> {
    use crate::api::guard::{Guard, Written};
    use crate::error::DuplicateField;

    let f = parse_vehicle(&name, &vin, &make, &model, &year, &plate, &odometer)?;
    let g = Guard::enter::<CreateVehicle>().await?;
    if !g.tree().contains(team) {
        return Err(AppError::invalid("team", "Choose one of your teams."));
    }
    g.authorize(team, Resource::Team(team)).await?;
    let new = backend::repo::vehicles::NewVehicle {
        organisation_id: g.principal().organisation_id,
        team_id: team,
        name: f.name,
        vin: f.vin,
        make: f.make,
        model: f.model,
        year: f.year,
        plate: f.plate,
        odometer: f.odometer,
    };
    g.write_independent(move |txn| {
        let new = new.clone();
        Box::pin(async move {
            let v = match backend::repo::vehicles::insert(txn, new).await {
                // The team was deleted since the guard's tree was read: its foreign key says so.
                Err(e) if backend::repo::is_missing_reference(&e) => {
                    return Err(AppError::invalid("team", server::TEAM_GONE));
                }
                inserted => inserted.or_duplicate("vin", server::DUPLICATE_VIN)?,
            };
            let id = VehicleId(v.id);
            Ok(Written::new(id, Resource::Vehicle(id)))
        })
    })
    .await
}

impl Declared for EditVehicle {
    const POLICY: Policy = write::<Self>(Needs(Permission::VehiclesEdit));
}

/// Edits a vehicle (needs `vehicles.edit`), if nobody changed it since `version`.
#[server(endpoint = "vehicles/edit")]
pub async fn edit_vehicle(
    id: VehicleId,
    version: i32,
    name: String,
    vin: String,
    make: String,
    model: String,
    year: String,
    plate: String,
    odometer: String,
) -> Result<(), AppError> {
    use crate::api::guard::{Guard, Written};
    use backend::entity::vehicle;
    use sea_orm::sea_query::Expr;

    let f = parse_vehicle(&name, &vin, &make, &model, &year, &plate, &odometer)?;
    let g = Guard::enter::<EditVehicle>().await?;
    let v = backend::repo::vehicles::load(&g.state().db, g.principal().organisation_id, id).await?;
    g.authorize(v.team_id, Resource::Vehicle(id)).await?;
    g.write_independent(move |txn| {
        let changes = vec![
            (vehicle::Column::Name, Expr::value(f.name.clone())),
            (vehicle::Column::Vin, Expr::value(f.vin.to_string())),
            (vehicle::Column::Make, Expr::value(f.make.clone())),
            (vehicle::Column::Model, Expr::value(f.model.clone())),
            (vehicle::Column::Year, Expr::value(f.year)),
            (vehicle::Column::Plate, Expr::value(f.plate.clone())),
            (vehicle::Column::Odometer, Expr::value(f.odometer)),
        ];
        Box::pin(async move {
            server::VERSIONED.update(txn, id, version, changes).await?;
            Ok(Written::new((), Resource::Vehicle(id)))
        })
    })
    .await
}

impl Declared for RetireVehicle {
    const POLICY: Policy = write::<Self>(Needs(Permission::VehiclesRetire));
}

/// Retires a vehicle (needs `vehicles.retire`).
#[server(endpoint = "vehicles/retire")]
pub async fn retire_vehicle(id: VehicleId, version: i32) -> Result<(), AppError> {
    use crate::api::guard::{Guard, Written};
    use backend::entity::vehicle;
    use domain::fleet::VehicleStatus;
    use sea_orm::sea_query::Expr;

    let g = Guard::enter::<RetireVehicle>().await?;
    let v = backend::repo::vehicles::load(&g.state().db, g.principal().organisation_id, id).await?;
    g.authorize(v.team_id, Resource::Vehicle(id)).await?;
    if v.status == VehicleStatus::Retired.key() {
        return Err(AppError::Conflict {
            message: "This vehicle is already retired.".into(),
        });
    }
    g.write_independent(move |txn| {
        Box::pin(async move {
            let retired = vec![(
                vehicle::Column::Status,
                Expr::value(VehicleStatus::Retired.key()),
            )];
            server::VERSIONED.update(txn, id, version, retired).await?;
            Ok(Written::new((), Resource::Vehicle(id)).with(
                backend::audit::Details::new().with(backend::audit::Field::Change, "retired"),
            ))
        })
    })
    .await
}
