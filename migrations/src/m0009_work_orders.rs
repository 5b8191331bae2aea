use crate::{Organisations, Teams, Users, Vehicles, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkOrders {
    Table,
    Id,
    OrganisationId,
    TeamId,
    VehicleId,
    Title,
    Description,
    /// `open`, `in_progress`, `on_hold`, `completed`, `cancelled`.
    Status,
    Priority,
    AssigneeId,
    DueOn,
    CreatedBy,
    Version,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WorkOrders::Table)
                .col(pk_auto(WorkOrders::Id))
                .col(integer(WorkOrders::OrganisationId))
                .col(integer(WorkOrders::TeamId))
                .col(integer(WorkOrders::VehicleId))
                .col(string_len(WorkOrders::Title, 200))
                .col(text(WorkOrders::Description))
                .col(string_len(WorkOrders::Status, 16))
                .col(string_len(WorkOrders::Priority, 16))
                .col(integer_null(WorkOrders::AssigneeId))
                .col(date_null(WorkOrders::DueOn))
                .col(integer_null(WorkOrders::CreatedBy))
                .col(integer(WorkOrders::Version).default(1))
                .col(timestamp_with_time_zone(WorkOrders::CreatedAt))
                .col(timestamp_with_time_zone(WorkOrders::UpdatedAt))
                .col(timestamp_with_time_zone_null(WorkOrders::CompletedAt))
                .foreign_key(&mut fk(
                    WorkOrders::Table,
                    WorkOrders::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    WorkOrders::Table,
                    WorkOrders::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    WorkOrders::Table,
                    WorkOrders::VehicleId,
                    Vehicles::Table,
                    Vehicles::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    WorkOrders::Table,
                    WorkOrders::AssigneeId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["organisation_id", "status"][..],
            &["team_id", "status"],
            &["assignee_id"],
            &["vehicle_id"],
        ] {
            m.create_index(index(WorkOrders::Table, cols)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WorkOrders::Table).to_owned())
            .await
    }
}
