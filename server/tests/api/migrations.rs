//! Upgrading an installation that holds data, on SQLite and PostgreSQL: a data migration gives
//! what is new to the teams that should have it, and nothing to the others, once.

use crate::common::db::TestDb;
use crate::support::Backend;
use backend::entity::{organisation, team, team_permission};
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

on_both_databases!(an_upgrade_gives_troubleshooting_to_the_teams_that_view_as_customers);

/// The migrations before the access troubleshooter (m0020).
const BEFORE_THE_TROUBLESHOOTER: u32 = 19;

async fn team_with(
    db: &DatabaseConnection,
    org: i32,
    parent: Option<i32>,
    name: &str,
    grants: &[&str],
) -> i32 {
    let t = team::ActiveModel {
        organisation_id: Set(org),
        parent_id: Set(parent),
        name: Set(name.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("a team");
    for key in grants {
        team_permission::ActiveModel {
            team_id: Set(t.id),
            permission: Set((*key).into()),
            granted_by: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await
        .expect("a grant");
    }
    t.id
}

async fn grants_of(db: &DatabaseConnection, team: i32) -> Vec<String> {
    let mut keys: Vec<String> = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.eq(team))
        .all(db)
        .await
        .expect("grants")
        .into_iter()
        .map(|g| g.permission)
        .collect();
    keys.sort();
    keys
}

async fn an_upgrade_gives_troubleshooting_to_the_teams_that_view_as_customers(backend: Backend) {
    let test_db = TestDb::create(backend).await;
    let db = sea_orm::Database::connect(&test_db.url)
        .await
        .expect("connect");
    Migrator::up(&db, Some(BEFORE_THE_TROUBLESHOOTER))
        .await
        .expect("the schema before the troubleshooter");
    let org = organisation::ActiveModel {
        name: Set("Fleetgate".into()),
        kind: Set("operator".into()),
        created_at: Set(Utc::now()),
        authz_version: Set(1),
        impersonation_consent: Set("allowed".into()),
        suspended_at: Set(None),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("an operator organisation");
    let root = team_with(&db, org.id, None, "Fleetgate", &["users.view"]).await;
    let support = team_with(
        &db,
        org.id,
        Some(root),
        "Support",
        &["users.impersonate", "users.view"],
    )
    .await;

    Migrator::up(&db, None).await.expect("the upgrade");
    assert_eq!(
        grants_of(&db, support).await,
        ["access.troubleshoot", "users.impersonate", "users.view"],
        "a team that may view as customers may now troubleshoot them"
    );
    assert_eq!(
        grants_of(&db, root).await,
        ["users.view"],
        "nothing for a team that may not view as customers"
    );
    // Applied once: running the migrations again changes nothing.
    Migrator::up(&db, None).await.expect("again");
    assert_eq!(grants_of(&db, support).await.len(), 3);
    // And down to the schema before takes back exactly what it gave.
    let newer = Migrator::migrations().len() as u32 - BEFORE_THE_TROUBLESHOOTER;
    Migrator::down(&db, Some(newer))
        .await
        .expect("down to m0019");
    assert_eq!(
        grants_of(&db, support).await,
        ["users.impersonate", "users.view"]
    );
}
