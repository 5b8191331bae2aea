//! Upgrading an installation that holds data, on SQLite and PostgreSQL: a data migration gives
//! what is new to the teams that should have it, and nothing to the others, once.

use crate::common::db::TestDb;
use crate::support::Backend;
use backend::entity::{organisation, team, team_permission};
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, Statement,
};

on_both_databases!(
    an_upgrade_gives_troubleshooting_to_the_teams_that_view_as_customers,
    no_write_maintains_an_index_another_already_covers,
);

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

/// Every index of the migrated schema: (table, name, unique, columns in order).
async fn indexes(db: &DatabaseConnection) -> Vec<(String, String, bool, Vec<String>)> {
    let sql = match db.get_database_backend() {
        // Each index's key columns in order (expressions, which this schema has none of, would
        // show as empty names).
        DbBackend::Postgres => {
            "SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS uniq, \
                    array_to_string(array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY \
                      AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = t.oid \
                      AND a.attnum = k.attnum ORDER BY k.n), ',') AS cols \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
             WHERE ns.nspname = 'public'"
        }
        _ => {
            "SELECT m.name AS tbl, il.name AS name, il.\"unique\" AS uniq, \
                    (SELECT group_concat(name, ',') FROM \
                      (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) AS cols \
             FROM sqlite_master m, pragma_index_list(m.name) il WHERE m.type = 'table'"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("the indexes");
    rows.iter()
        .map(|r| {
            let cols: String = r.try_get("", "cols").expect("cols");
            let unique = r
                .try_get::<bool>("", "uniq")
                .or_else(|_| r.try_get::<i32>("", "uniq").map(|u| u != 0))
                .expect("uniq");
            (
                r.try_get("", "tbl").expect("table"),
                r.try_get("", "name").expect("name"),
                unique,
                cols.split(',').map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// Every write maintains every index of its table: none may be a leading part of another
/// (that one answers every lookup the shorter one would), unless it enforces uniqueness.
async fn no_write_maintains_an_index_another_already_covers(backend: Backend) {
    let test_db = TestDb::create(backend).await;
    let db = sea_orm::Database::connect(&test_db.url)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("the schema");
    let all = indexes(&db).await;
    assert!(
        all.iter()
            .any(|(t, _, _, c)| t == "vehicles" && c.len() == 3),
        "the indexes were read: {all:?}"
    );
    let covered: Vec<_> = all
        .iter()
        .filter(|(table, _, unique, cols)| {
            !unique
                && all.iter().any(|(t, _, _, longer)| {
                    t == table && longer.len() > cols.len() && longer.starts_with(cols)
                })
        })
        .map(|(t, name, _, _)| format!("{t}.{name}"))
        .collect();
    assert!(covered.is_empty(), "covered by a longer index: {covered:?}");
    // The twin: one migration back, the indexes it dropped are there again, and found.
    Migrator::down(&db, Some(1)).await.expect("down one");
    let back = indexes(&db).await;
    assert!(
        back.iter()
            .any(|(_, name, _, _)| name == "idx_vehicles_organisation_id_name")
            && back
                .iter()
                .any(|(_, name, _, _)| name == "idx_users_organisation_id"),
        "{back:?}"
    );
}
