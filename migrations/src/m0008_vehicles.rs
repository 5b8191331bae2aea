use crate::{Organisations, Teams, Vehicles, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Col {
    OrganisationId,
    /// The owning team: the scope of every permission check on this vehicle.
    TeamId,
    Vin,
    Name,
    Make,
    Model,
    Year,
    Plate,
    /// `active`, `in_shop` or `retired`.
    Status,
    Odometer,
    /// Optimistic concurrency: an update names the version it read.
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Vehicles::Table)
                .col(pk_auto(Vehicles::Id))
                .col(integer(Col::OrganisationId))
                .col(integer(Col::TeamId))
                .col(string_len(Col::Vin, 17))
                .col(string_len(Col::Name, 100))
                .col(string_len(Col::Make, 60))
                .col(string_len(Col::Model, 60))
                .col(integer(Col::Year))
                .col(string_len(Col::Plate, 20))
                .col(string_len(Col::Status, 16))
                .col(integer(Col::Odometer).default(0))
                .col(integer(Col::Version).default(1))
                .col(timestamp_with_time_zone(Col::CreatedAt))
                .col(timestamp_with_time_zone(Col::UpdatedAt))
                .foreign_key(&mut fk(
                    Vehicles::Table,
                    Col::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    Vehicles::Table,
                    Col::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        // A VIN is unique within an organisation (two tenants may track the same vehicle).
        m.create_index(
            Index::create()
                .name("idx_vehicles_org_vin")
                .table(Vehicles::Table)
                .col(Col::OrganisationId)
                .col(Col::Vin)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index(Vehicles::Table, &["team_id"])).await?;
        m.create_index(index(Vehicles::Table, &["organisation_id", "name"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Vehicles::Table).to_owned())
            .await
    }
}
