use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Structured audit details: each field (reason, ticket, mode, permission, …) stored and hashed
/// on its own, so text a user typed can never read like another field. Older rows keep their
/// free-text `detail` and verify unchanged.
#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Fields,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .add_column(text_null(AuditEvents::Fields))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .drop_column(AuditEvents::Fields)
                .to_owned(),
        )
        .await
    }
}
