use crate::{Organisations, Users, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Col {
    OrganisationId,
    /// Stored normalised (trimmed, lower-case), so the unique index is case-insensitive on every
    /// engine without a functional index.
    Email,
    FullName,
    Role,
    Active,
    PasswordHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_auto(Users::Id))
                .col(integer(Col::OrganisationId))
                .col(string_len_uniq(Col::Email, 254))
                .col(string_len(Col::FullName, 200))
                .col(string_len(Col::Role, 32))
                .col(boolean(Col::Active).default(true))
                .col(string_len(Col::PasswordHash, 255))
                .col(timestamp_with_time_zone(Col::CreatedAt))
                .foreign_key(&mut fk(
                    Users::Table,
                    Col::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Users::Table, &["organisation_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
