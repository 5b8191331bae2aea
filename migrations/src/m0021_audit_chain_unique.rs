use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// No two audit rows may follow the same row: the chain cannot fork, whoever appends — held by
/// the database itself, not only by the appenders' locks. An append that meets another's row
/// on the same predecessor waits for that row's transaction and then follows it
/// (`backend::audit`). A database whose chain already forks (`server audit verify` names the
/// row) refuses this migration.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(AuditEvents::Table)
                .col(AuditEvents::PrevHash)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(INDEX)
                .table(AuditEvents::Table)
                .to_owned(),
        )
        .await
    }
}

const INDEX: &str = "audit_events_one_follower";

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    PrevHash,
}
