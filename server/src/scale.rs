//! A generated data set for measuring the app at scale (`server seed-scale`): one customer
//! organisation with a deep team tree, thousands of people, and a large fleet with its work
//! orders. Rows are inserted in batches, each batch its own transaction, so the full set
//! (5,000 users, 1,000 teams, 100,000 vehicles, 500,000 work orders) loads in about a minute on
//! PostgreSQL.
//!
//! Everyone shares one password (one argon2id run for all, like the demo data); the data set is
//! for measurement, never for production.

use backend::directory;
use backend::entity::{membership, user, vehicle, work_order};
use domain::authz::{Permission, PermissionSet, templates};
use domain::fleet::WorkOrderStatus;
use domain::people::{OrgKind, Role};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};

/// How much to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub users: u32,
    pub teams: u32,
    pub vehicles: u32,
    pub work_orders: u32,
}

impl Scale {
    /// The size issue 5 measures at.
    pub const FULL: Scale = Scale {
        users: 5_000,
        teams: 1_000,
        vehicles: 100_000,
        work_orders: 500_000,
    };
}

pub const ORGANISATION: &str = "Scale Freight Co";
/// Children per team: 1,000 teams make a tree five levels deep.
const FAN_OUT: u32 = 8;
/// Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const BATCH: u32 = 1_000;

/// The e-mail address of generated user `n` (1-based). User 1 is a member of the root team.
pub fn email(n: u32) -> String {
    format!("user{n}@scale.test")
}

/// Progress reports: the stage, rows done, rows in the stage.
pub trait Progress {
    fn stage(&self, name: &'static str, total: u64);
    fn advance(&self, rows: u64);
    fn finish(&self);
}

/// Generates the data set into a migrated database; refuses if the organisation exists.
pub async fn generate(
    db: &DatabaseConnection,
    scale: Scale,
    password_hash: &str,
    progress: &impl Progress,
) -> anyhow::Result<i32> {
    use sea_orm::{ColumnTrait, QueryFilter};
    anyhow::ensure!(scale.teams >= 1, "at least one team (the root) is needed");
    anyhow::ensure!(
        scale.vehicles > 0 || scale.work_orders == 0,
        "work orders need vehicles"
    );
    let exists = backend::entity::organisation::Entity::find()
        .filter(backend::entity::organisation::Column::Name.eq(ORGANISATION))
        .one(db)
        .await?;
    anyhow::ensure!(
        exists.is_none(),
        "“{ORGANISATION}” is already in this database"
    );
    let org = directory::create_organisation(db, ORGANISATION, OrgKind::Customer).await?;
    let teams = teams(db, org.id, scale.teams, progress).await?;
    let users = users(db, org.id, scale.users, &teams, password_hash, progress).await?;
    let vehicles = vehicles(db, org.id, scale.vehicles, &teams, progress).await?;
    work_orders(db, org.id, scale.work_orders, &vehicles, &users, progress).await?;
    progress.finish();
    Ok(org.id)
}

/// The grants of team `i` (0 is the root): managers at the top two levels, technicians below,
/// every third depot also completing work orders — about ten grants per team.
fn grants_of(i: u32) -> PermissionSet {
    if i <= FAN_OUT {
        templates::fleet_manager()
    } else if i.is_multiple_of(3) {
        templates::technician().with(Permission::WorkOrdersComplete)
    } else {
        templates::technician()
    }
}

async fn teams(
    db: &DatabaseConnection,
    org: i32,
    count: u32,
    progress: &impl Progress,
) -> Result<Vec<i32>, DbErr> {
    progress.stage("teams and grants", u64::from(count));
    let txn = db.begin().await?;
    let mut ids: Vec<i32> = Vec::with_capacity(count as usize);
    for i in 0..count {
        // Team i's parent is (i - 1) / FAN_OUT: a complete tree, parents before children.
        let parent = (i > 0).then(|| ids[((i - 1) / FAN_OUT) as usize]);
        let name = if i == 0 {
            ORGANISATION.to_owned()
        } else {
            format!("Team {i:04}")
        };
        let team = directory::create_team(&txn, org, parent, &name).await?;
        directory::grant(&txn, org, team.id, grants_of(i), None).await?;
        ids.push(team.id);
        progress.advance(1);
    }
    txn.commit().await?;
    Ok(ids)
}

/// The team of generated user `n` (1-based): user 1 at the root, the rest spread over all teams.
fn team_of_user(n: u32, teams: &[i32]) -> i32 {
    if n == 1 {
        teams[0]
    } else {
        teams[(n as usize) % teams.len()]
    }
}

async fn users(
    db: &DatabaseConnection,
    org: i32,
    count: u32,
    teams: &[i32],
    password_hash: &str,
    progress: &impl Progress,
) -> Result<Vec<i32>, DbErr> {
    progress.stage("users and memberships", u64::from(count));
    let now = chrono::Utc::now();
    let mut ids = Vec::with_capacity(count as usize);
    for start in (1..=count).step_by(BATCH as usize) {
        let end = (start + BATCH - 1).min(count);
        let txn = db.begin().await?;
        let rows = (start..=end).map(|n| user::ActiveModel {
            organisation_id: Set(org),
            email: Set(email(n)),
            full_name: Set(format!("Scale User {n}")),
            role: Set(if n % 20 == 1 {
                Role::FleetManager
            } else {
                Role::Technician
            }
            .key()
            .to_owned()),
            active: Set(true),
            password_hash: Set(password_hash.to_owned()),
            created_at: Set(now),
            ..Default::default()
        });
        user::Entity::insert_many(rows).exec(&txn).await?;
        let batch = ids_by_email(&txn, start, end).await?;
        let memberships = batch.iter().zip(start..=end).flat_map(|(id, n)| {
            let home = team_of_user(n, teams);
            // Every 25th person also works in a second team.
            let second = (n.is_multiple_of(25)).then(|| teams[(n as usize * 7) % teams.len()]);
            std::iter::once(home)
                .chain(second.filter(|s| *s != home))
                .map(move |team| membership::ActiveModel {
                    user_id: Set(*id),
                    team_id: Set(team),
                    created_at: Set(now),
                })
        });
        membership::Entity::insert_many(memberships)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        ids.extend(batch);
        progress.advance(u64::from(end - start + 1));
    }
    Ok(ids)
}

/// The ids of users `start..=end`, in that order.
async fn ids_by_email(
    db: &impl sea_orm::ConnectionTrait,
    start: u32,
    end: u32,
) -> Result<Vec<i32>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let emails: Vec<String> = (start..=end).map(email).collect();
    let found: std::collections::HashMap<String, i32> = user::Entity::find()
        .filter(user::Column::Email.is_in(emails.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.email, u.id))
        .collect();
    emails
        .iter()
        .map(|e| {
            found
                .get(e)
                .copied()
                .ok_or_else(|| DbErr::RecordNotFound(e.clone()))
        })
        .collect()
}

/// A VIN no other generated vehicle has: "5SC" and the number, 17 characters.
fn vin(n: u32) -> String {
    format!("5SC{n:014}")
}

/// Vehicles spread over the leaf-most teams; returns (id, team) in creation order.
async fn vehicles(
    db: &DatabaseConnection,
    org: i32,
    count: u32,
    teams: &[i32],
    progress: &impl Progress,
) -> Result<Vec<(i32, i32)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    progress.stage("vehicles", u64::from(count));
    let now = chrono::Utc::now();
    const MAKES: [(&str, &str); 4] = [
        ("Ford", "Transit"),
        ("Mercedes-Benz", "Sprinter"),
        ("Ram", "ProMaster"),
        ("Freightliner", "Cascadia"),
    ];
    for start in (1..=count).step_by(BATCH as usize) {
        let end = (start + BATCH - 1).min(count);
        let rows = (start..=end).map(|n| {
            let (make, model) = MAKES[n as usize % MAKES.len()];
            vehicle::ActiveModel {
                organisation_id: Set(org),
                team_id: Set(teams[n as usize % teams.len()]),
                vin: Set(vin(n)),
                name: Set(format!("{model} {n:06}")),
                make: Set(make.to_owned()),
                model: Set(model.to_owned()),
                year: Set(2015 + (n % 10) as i32),
                plate: Set(format!("SC {n:06}")),
                status: Set(if n.is_multiple_of(50) {
                    "in_shop"
                } else {
                    "active"
                }
                .to_owned()),
                odometer: Set((n % 300_000) as i32),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        vehicle::Entity::insert_many(rows).exec(db).await?;
        progress.advance(u64::from(end - start + 1));
    }
    vehicle::Entity::find()
        .select_only()
        .column(vehicle::Column::Id)
        .column(vehicle::Column::TeamId)
        .filter(vehicle::Column::OrganisationId.eq(org))
        .order_by_asc(vehicle::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

async fn work_orders(
    db: &DatabaseConnection,
    org: i32,
    count: u32,
    vehicles: &[(i32, i32)],
    users: &[i32],
    progress: &impl Progress,
) -> Result<(), DbErr> {
    progress.stage("work orders", u64::from(count));
    let now = chrono::Utc::now();
    let today = now.date_naive();
    // Stored by their keys: a value no status has would be corrupt data (and refused on read).
    const STATUSES: [WorkOrderStatus; 4] = [
        WorkOrderStatus::Open,
        WorkOrderStatus::InProgress,
        WorkOrderStatus::OnHold,
        WorkOrderStatus::Completed,
    ];
    const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
    for start in (1..=count).step_by(BATCH as usize) {
        let end = (start + BATCH - 1).min(count);
        let rows = (start..=end).map(|n| {
            let (vehicle, team) = vehicles[n as usize % vehicles.len()];
            let status = STATUSES[n as usize % STATUSES.len()];
            work_order::ActiveModel {
                organisation_id: Set(org),
                team_id: Set(team),
                vehicle_id: Set(vehicle),
                title: Set(format!("Service job {n}")),
                description: Set(String::new()),
                status: Set(status.key().to_owned()),
                priority: Set(PRIORITIES[(n / 4) as usize % PRIORITIES.len()].to_owned()),
                assignee_id: Set((!n.is_multiple_of(3) && !users.is_empty())
                    .then(|| users[n as usize % users.len()])),
                // One in seven has no due date; the rest fall within a year either side.
                due_on: Set((!n.is_multiple_of(7))
                    .then(|| today + chrono::Duration::days(i64::from(n % 730) - 365))),
                created_by: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                completed_at: Set(status.is_closed().then_some(now)),
                ..Default::default()
            }
        });
        work_order::Entity::insert_many(rows).exec(db).await?;
        progress.advance(u64::from(end - start + 1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_vins_are_valid_and_distinct() {
        for n in [1, 99_999, 100_000, 4_000_000] {
            assert_eq!(domain::validate::vin(&vin(n)).map(String::from), Ok(vin(n)));
        }
        assert_ne!(vin(1), vin(10));
    }

    #[test]
    fn the_tree_is_complete_and_parents_come_first() {
        // Team i's parent index is always smaller than i.
        assert!((1..1_000u32).all(|i| (i - 1) / FAN_OUT < i));
        assert_eq!(grants_of(0), templates::fleet_manager());
        assert!(grants_of(9).contains(Permission::WorkOrdersComplete));
        assert!(!grants_of(10).contains(Permission::WorkOrdersComplete));
    }
}
