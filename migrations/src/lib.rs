//! Schema of Fleetgate, one migration per concern. Every migration runs unchanged on SQLite and
//! PostgreSQL; the tests apply them to both.
pub use sea_orm_migration::prelude::*;

mod m0001_organisations;
mod m0002_teams;
mod m0003_users;
mod m0004_memberships;
mod m0005_team_permissions;
mod m0006_sessions;
mod m0007_audit_events;
mod m0008_vehicles;
mod m0009_work_orders;
mod m0010_inspections;
mod m0011_authz_version;
mod m0012_impersonation_consent;
mod m0013_list_pages;
mod m0014_sign_in_throttle;
mod m0015_audit_fields;
mod m0016_work_order_status_keys;
mod m0017_customer_lifecycle;
mod m0018_support_access;
mod m0019_webhooks;
mod m0020_access_troubleshoot;
mod m0021_audit_chain_unique;
mod m0022_covered_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_organisations::Migration),
            Box::new(m0002_teams::Migration),
            Box::new(m0003_users::Migration),
            Box::new(m0004_memberships::Migration),
            Box::new(m0005_team_permissions::Migration),
            Box::new(m0006_sessions::Migration),
            Box::new(m0007_audit_events::Migration),
            Box::new(m0008_vehicles::Migration),
            Box::new(m0009_work_orders::Migration),
            Box::new(m0010_inspections::Migration),
            Box::new(m0011_authz_version::Migration),
            Box::new(m0012_impersonation_consent::Migration),
            Box::new(m0013_list_pages::Migration),
            Box::new(m0014_sign_in_throttle::Migration),
            Box::new(m0015_audit_fields::Migration),
            Box::new(m0016_work_order_status_keys::Migration),
            Box::new(m0017_customer_lifecycle::Migration),
            Box::new(m0018_support_access::Migration),
            Box::new(m0019_webhooks::Migration),
            Box::new(m0020_access_troubleshoot::Migration),
            Box::new(m0021_audit_chain_unique::Migration),
            Box::new(m0022_covered_indexes::Migration),
        ]
    }
}

/// Identifiers shared by several migrations (a table is named once, where it is created, and
/// referred to through these).
#[derive(DeriveIden)]
pub(crate) enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
pub(crate) enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
pub(crate) enum Vehicles {
    Table,
    Id,
}

/// A foreign key from `table.column` to `to.to_id`, named after its two ends.
pub(crate) fn fk(
    table: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_id: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    let (table, column) = (table.into_iden(), column.into_iden());
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(to, to_id)
        .on_delete(on_delete)
        .to_owned()
}

/// The name [`index`] gives an index of `table` on `columns`.
pub(crate) fn index_name(table: &DynIden, columns: &[&str]) -> String {
    format!("idx_{table}_{}", columns.join("_"))
}

/// A plain (non-unique) index `idx_<table>_<col…>` for a lookup a request makes.
pub(crate) fn index(table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let table = table.into_iden();
    let mut idx = Index::create();
    idx.name(index_name(&table, columns)).table(table);
    for c in columns {
        idx.col(Alias::new(*c));
    }
    idx.to_owned()
}
