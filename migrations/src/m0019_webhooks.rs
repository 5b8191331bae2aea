use crate::{Organisations, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Webhooks: one per organisation (the operator's may take every organisation's events). The
/// audit log itself is the transactional outbox — an event exists exactly when its change
/// committed — so a webhook only keeps a cursor (the last event delivered) and the state of its
/// retries; nothing is written per event.
#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    OrganisationId,
    AllOrganisations,
    Url,
    Secret,
    CreatedAt,
    CreatedBy,
    DeliveredUpTo,
    Attempts,
    NextAttemptAt,
    LeasedUntil,
    LastStatus,
    LastError,
    LastDeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .col(pk_auto(Webhooks::Id))
                .col(integer(Webhooks::OrganisationId).unique_key())
                .col(boolean(Webhooks::AllOrganisations).default(false))
                .col(string_len(Webhooks::Url, 2000))
                .col(string_len(Webhooks::Secret, 100))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .col(integer_null(Webhooks::CreatedBy))
                .col(integer(Webhooks::DeliveredUpTo).default(0))
                .col(integer(Webhooks::Attempts).default(0))
                .col(timestamp_with_time_zone(Webhooks::NextAttemptAt))
                .col(timestamp_with_time_zone_null(Webhooks::LeasedUntil))
                .col(integer_null(Webhooks::LastStatus))
                .col(string_len_null(Webhooks::LastError, 500))
                .col(timestamp_with_time_zone_null(Webhooks::LastDeliveredAt))
                .foreign_key(&mut fk(
                    Webhooks::Table,
                    Webhooks::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await
    }
}
