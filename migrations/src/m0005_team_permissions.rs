use crate::{Teams, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TeamPermissions {
    Table,
    TeamId,
    /// The stable key of `app::authz::Permission` (`work_orders.complete`); never a bit index,
    /// so the catalogue can grow without a data migration.
    Permission,
    GrantedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TeamPermissions::Table)
                .col(integer(TeamPermissions::TeamId))
                .col(string_len(TeamPermissions::Permission, 64))
                .col(integer_null(TeamPermissions::GrantedBy))
                .col(timestamp_with_time_zone(TeamPermissions::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(TeamPermissions::TeamId)
                        .col(TeamPermissions::Permission),
                )
                .foreign_key(&mut fk(
                    TeamPermissions::Table,
                    TeamPermissions::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TeamPermissions::Table).to_owned())
            .await
    }
}
