//! The demo data set of DESIGN.md, loaded into an empty database in demo mode.
//!
//! It includes the case that started the product: Tina, a Boston Depot technician, cannot
//! complete her work order because Boston Depot lacks `work_orders.complete` (Denver has it).

use backend::directory::{self, NewUser};
use backend::entity::{organisation, vehicle, work_order};
use chrono::Utc;
use domain::authz::{Permission, PermissionSet, templates};
use domain::people::{Email, OrgKind, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, TransactionTrait,
};
use std::collections::HashMap;

/// The password of every demo account (demo mode only).
pub const DEMO_PASSWORD: &str = "fleetgate-demo";

/// The demo accounts: e-mail, full name, role, organisation, teams.
pub const ACCOUNTS: &[(&str, &str, Role, &str, &[&str])] = &[
    (
        "admin@fleetgate.test",
        "Alice Admin",
        Role::Admin,
        "Fleetgate",
        &["Fleetgate", "Administrators"],
    ),
    (
        "support@fleetgate.test",
        "Sam Support",
        Role::Support,
        "Fleetgate",
        &["Fleetgate"],
    ),
    (
        "maria@acme.test",
        "Maria Santos",
        Role::FleetManager,
        "Acme Logistics",
        &["Northeast Region"],
    ),
    (
        "tina@acme.test",
        "Tina Nguyen",
        Role::Technician,
        "Acme Logistics",
        &["Boston Depot"],
    ),
    (
        "dan@acme.test",
        "Dan Brooks",
        Role::Technician,
        "Acme Logistics",
        &["Denver Depot"],
    ),
    (
        "olga@acme.test",
        "Olga Petrova",
        Role::FleetManager,
        "Acme Logistics",
        &["Acme Logistics"],
    ),
    (
        "gary@globex.test",
        "Gary Mills",
        Role::FleetManager,
        "Globex Transport",
        &["Globex Transport"],
    ),
];

/// A team and its parent.
type TeamSeed = (&'static str, Option<&'static str>);

/// Organisations and their team trees: (organisation, kind, [(team, parent)]), parents first.
const TREES: &[(&str, OrgKind, &[TeamSeed])] = &[
    (
        "Fleetgate",
        OrgKind::Operator,
        &[("Fleetgate", None), ("Administrators", Some("Fleetgate"))],
    ),
    (
        "Acme Logistics",
        OrgKind::Customer,
        &[
            ("Acme Logistics", None),
            ("Northeast Region", Some("Acme Logistics")),
            ("Boston Depot", Some("Northeast Region")),
            ("West Region", Some("Acme Logistics")),
            ("Denver Depot", Some("West Region")),
        ],
    ),
    (
        "Globex Transport",
        OrgKind::Customer,
        &[
            ("Globex Transport", None),
            ("Chicago Yard", Some("Globex Transport")),
        ],
    ),
];

/// Grants per team.
fn grants() -> Vec<(&'static str, PermissionSet)> {
    vec![
        (
            "Fleetgate",
            templates::operator_support().with(Permission::AuditViewAll),
        ),
        ("Administrators", templates::operator_admin()),
        ("Acme Logistics", templates::fleet_manager()),
        ("Northeast Region", templates::fleet_manager()),
        ("Boston Depot", templates::technician()),
        (
            "Denver Depot",
            templates::technician().with(Permission::WorkOrdersComplete),
        ),
        ("Globex Transport", templates::fleet_manager()),
    ]
}

/// (team, name, VIN, make, model, year, plate, status)
type VehicleSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i32,
    &'static str,
    &'static str,
);
const VEHICLES: &[VehicleSeed] = &[
    (
        "Boston Depot",
        "Box truck B-101",
        "1FDWE3FL6HDC10101",
        "Ford",
        "E-350",
        2021,
        "MA 4KX211",
        "active",
    ),
    (
        "Boston Depot",
        "Van B-102",
        "WD3PE8CD5JP510102",
        "Mercedes-Benz",
        "Sprinter",
        2019,
        "MA 7TR902",
        "in_shop",
    ),
    (
        "Boston Depot",
        "Van B-103",
        "1FTBW2CM8LKA10103",
        "Ford",
        "Transit",
        2022,
        "MA 2PL388",
        "active",
    ),
    (
        "Denver Depot",
        "Box truck D-201",
        "1FDWE3FL2KDC20201",
        "Ford",
        "E-450",
        2020,
        "CO BXT-201",
        "active",
    ),
    (
        "Denver Depot",
        "Pickup D-202",
        "1GCUYDED5LZ120202",
        "Chevrolet",
        "Silverado",
        2020,
        "CO PKP-202",
        "active",
    ),
    (
        "Denver Depot",
        "Van D-203",
        "3C6TRVDG9KE520203",
        "Ram",
        "ProMaster",
        2019,
        "CO VAN-203",
        "retired",
    ),
    (
        "Chicago Yard",
        "Tractor C-301",
        "1XKYDP9X6MJ430301",
        "Kenworth",
        "T680",
        2021,
        "IL P 30301",
        "active",
    ),
    (
        "Chicago Yard",
        "Tractor C-302",
        "3AKJHHDR5NSM30302",
        "Freightliner",
        "Cascadia",
        2022,
        "IL P 30302",
        "active",
    ),
];

/// (vehicle, title, description, status, priority, assignee e-mail, due in days)
type WorkOrderSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    i64,
);
const WORK_ORDERS: &[WorkOrderSeed] = &[
    (
        "Box truck B-101",
        "Replace front brake pads",
        "Pads at 2 mm; driver reports squeal when braking.",
        "open",
        "high",
        Some("tina@acme.test"),
        2,
    ),
    (
        "Van B-102",
        "Oil and filter change",
        "Scheduled 10,000-mile service.",
        "open",
        "normal",
        None,
        7,
    ),
    (
        "Van B-103",
        "Fix passenger-side mirror",
        "Mirror housing cracked.",
        "in_progress",
        "low",
        Some("tina@acme.test"),
        10,
    ),
    (
        "Box truck D-201",
        "Rotate tyres",
        "Scheduled rotation.",
        "in_progress",
        "normal",
        Some("dan@acme.test"),
        3,
    ),
    (
        "Pickup D-202",
        "Check engine light",
        "Code P0420 reported by driver.",
        "open",
        "high",
        Some("dan@acme.test"),
        1,
    ),
    (
        "Tractor C-301",
        "Annual DOT inspection",
        "Due this month.",
        "open",
        "normal",
        Some("gary@globex.test"),
        14,
    ),
];

/// Loads the demo data if the database has no organisation yet; true when it did.
pub async fn seed_if_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    if organisation::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let hash = backend::password::hash(DEMO_PASSWORD.to_owned()).await?;
    let txn = db.begin().await?;
    seed(&txn, &hash).await?;
    txn.commit().await?;
    Ok(true)
}

async fn seed(db: &impl ConnectionTrait, password_hash: &str) -> anyhow::Result<()> {
    let mut orgs = HashMap::new();
    let mut teams = HashMap::new();
    for (org_name, kind, tree) in TREES {
        let org = directory::create_organisation(db, org_name, *kind).await?;
        for (team, parent) in *tree {
            let parent_id = parent.map(|p| teams[p]);
            let t = directory::create_team(db, org.id, parent_id, team).await?;
            teams.insert(*team, t.id);
        }
        orgs.insert(*org_name, org.id);
    }
    for (team, set) in grants() {
        directory::grant(db, orgs[org_of_team(team)], teams[team], set, None).await?;
    }
    let mut users = HashMap::new();
    for (email, name, role, org, member_of) in ACCOUNTS {
        let email_addr = Email::parse(email)?;
        let u = directory::create_user(
            db,
            NewUser {
                organisation_id: orgs[org],
                email: &email_addr,
                full_name: name,
                role: *role,
                // The demo accounts share one well-known password, so one argon2 run (and
                // one salt) serves them all; real accounts each get their own.
                password_hash: password_hash.to_owned(),
            },
        )
        .await?;
        for team in *member_of {
            directory::add_member(db, orgs[org], u.id, teams[team]).await?;
        }
        users.insert(*email, u.id);
    }
    let mut vehicles = HashMap::new();
    let now = Utc::now();
    for (team, name, vin, make, model, year, plate, status) in VEHICLES {
        let team_id = teams[team];
        let org_id = org_of_team(team);
        let v = vehicle::ActiveModel {
            organisation_id: Set(orgs[org_id]),
            team_id: Set(team_id),
            vin: Set((*vin).to_owned()),
            name: Set((*name).to_owned()),
            make: Set((*make).to_owned()),
            model: Set((*model).to_owned()),
            year: Set(*year),
            plate: Set((*plate).to_owned()),
            status: Set((*status).to_owned()),
            odometer: Set(42_000),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        vehicles.insert(*name, v);
    }
    let today = now.date_naive();
    for (vehicle_name, title, description, status, priority, assignee, due_in) in WORK_ORDERS {
        let v = &vehicles[vehicle_name];
        work_order::ActiveModel {
            organisation_id: Set(v.organisation_id),
            team_id: Set(v.team_id),
            vehicle_id: Set(v.id),
            title: Set((*title).to_owned()),
            description: Set((*description).to_owned()),
            status: Set((*status).to_owned()),
            priority: Set((*priority).to_owned()),
            assignee_id: Set(assignee.map(|a| users[a])),
            due_on: Set(Some(today + chrono::Duration::days(*due_in))),
            created_by: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            completed_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The organisation a demo team belongs to.
fn org_of_team(team: &str) -> &'static str {
    TREES
        .iter()
        .find(|(_, _, tree)| tree.iter().any(|(t, _)| *t == team))
        .map(|(org, _, _)| *org)
        .unwrap_or("")
}

/// Lines printed at start-up in demo mode.
pub fn banner() -> String {
    let mut s = format!("Demo accounts (password `{DEMO_PASSWORD}`):\n");
    for (email, name, role, org, _) in ACCOUNTS {
        s.push_str(&format!(
            "  {email:<24} {name:<14} {:<14} {org}\n",
            role.label()
        ));
    }
    s
}
