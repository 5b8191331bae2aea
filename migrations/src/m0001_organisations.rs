use crate::Organisations;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Org {
    Name,
    /// `operator` (the vendor; exactly one) or `customer`.
    Kind,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisations::Table)
                .col(pk_auto(Organisations::Id))
                .col(string_len_uniq(Org::Name, 200))
                .col(string_len(Org::Kind, 16))
                .col(timestamp_with_time_zone(Org::CreatedAt))
                .to_owned(),
        )
        .await?;
        // Exactly one operator organisation: a partial unique index, same syntax on both engines.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_organisations_one_operator ON organisations (kind) \
                 WHERE kind = 'operator'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Organisations::Table).to_owned())
            .await
    }
}
