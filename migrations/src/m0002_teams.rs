use crate::{Organisations, Teams, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Col {
    OrganisationId,
    ParentId,
    Name,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(pk_auto(Teams::Id))
                .col(integer(Col::OrganisationId))
                .col(integer_null(Col::ParentId))
                .col(string_len(Col::Name, 200))
                .col(timestamp_with_time_zone(Col::CreatedAt))
                .foreign_key(&mut fk(
                    Teams::Table,
                    Col::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Teams::Table,
                    Col::ParentId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Teams::Table, &["organisation_id"]))
            .await?;
        m.create_index(index(Teams::Table, &["parent_id"])).await?;
        // One root team per organisation.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_teams_one_root ON teams (organisation_id) \
                 WHERE parent_id IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Teams::Table).to_owned())
            .await
    }
}
