use crate::{Organisations, Teams, Users, Vehicles, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Inspections {
    Table,
    Id,
    OrganisationId,
    TeamId,
    VehicleId,
    InspectorId,
    /// `pass` or `fail`: fail when any checklist item failed.
    Result,
    /// The checklist as JSON text: `[{"item": "...", "ok": true, "note": "..."}]`.
    Items,
    SubmittedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Inspections::Table)
                .col(pk_auto(Inspections::Id))
                .col(integer(Inspections::OrganisationId))
                .col(integer(Inspections::TeamId))
                .col(integer(Inspections::VehicleId))
                .col(integer_null(Inspections::InspectorId))
                .col(string_len(Inspections::Result, 8))
                .col(text(Inspections::Items))
                .col(timestamp_with_time_zone(Inspections::SubmittedAt))
                .foreign_key(&mut fk(
                    Inspections::Table,
                    Inspections::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Inspections::Table,
                    Inspections::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Inspections::Table,
                    Inspections::VehicleId,
                    Vehicles::Table,
                    Vehicles::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Inspections::Table,
                    Inspections::InspectorId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Inspections::Table, &["vehicle_id"]))
            .await?;
        m.create_index(index(Inspections::Table, &["team_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Inspections::Table).to_owned())
            .await
    }
}
