use crate::{Organisations, Teams, Users, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Support access the customer controls: time-boxed grants that let operator staff view as a
/// person (needed under the consent "only with a grant"), operator staff's requests for one,
/// people and teams protected from ever being viewed as, and the notice each person gets after
/// an impersonation of them ended (one per impersonation, kept until dismissed).
#[derive(DeriveIden)]
enum SupportGrants {
    Table,
    Id,
    OrganisationId,
    UserId,
    GrantedBy,
    Mode,
    Ticket,
    Note,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum Protections {
    Table,
    Id,
    OrganisationId,
    UserId,
    TeamId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SupportNotices {
    Table,
    SessionId,
    UserId,
    CreatedAt,
    DismissedAt,
}

#[derive(DeriveIden)]
enum SupportRequests {
    Table,
    Id,
    OrganisationId,
    UserId,
    RequestedBy,
    Reason,
    Ticket,
    Mode,
    CreatedAt,
    AnsweredAt,
    AnsweredBy,
    Approved,
    Answer,
    GrantId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SupportGrants::Table)
                .col(pk_auto(SupportGrants::Id))
                .col(integer(SupportGrants::OrganisationId))
                .col(integer(SupportGrants::UserId))
                .col(integer_null(SupportGrants::GrantedBy))
                .col(string_len(SupportGrants::Mode, 8))
                .col(string_len_null(SupportGrants::Ticket, 100))
                .col(string_len_null(SupportGrants::Note, 500))
                .col(timestamp_with_time_zone(SupportGrants::CreatedAt))
                .col(timestamp_with_time_zone(SupportGrants::ExpiresAt))
                .col(timestamp_with_time_zone_null(SupportGrants::RevokedAt))
                .col(integer_null(SupportGrants::RevokedBy))
                .foreign_key(&mut fk(
                    SupportGrants::Table,
                    SupportGrants::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    SupportGrants::Table,
                    SupportGrants::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(SupportGrants::Table, &["user_id"]))
            .await?;
        m.create_index(index(SupportGrants::Table, &["organisation_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(Protections::Table)
                .col(pk_auto(Protections::Id))
                .col(integer(Protections::OrganisationId))
                .col(integer_null(Protections::UserId).unique_key())
                .col(integer_null(Protections::TeamId).unique_key())
                .col(integer_null(Protections::CreatedBy))
                .col(timestamp_with_time_zone(Protections::CreatedAt))
                .foreign_key(&mut fk(
                    Protections::Table,
                    Protections::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Protections::Table,
                    Protections::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Protections::Table,
                    Protections::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Protections::Table, &["organisation_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(SupportNotices::Table)
                .col(string_len(SupportNotices::SessionId, 64).primary_key())
                .col(integer(SupportNotices::UserId))
                .col(timestamp_with_time_zone(SupportNotices::CreatedAt))
                .col(timestamp_with_time_zone_null(SupportNotices::DismissedAt))
                .foreign_key(&mut fk(
                    SupportNotices::Table,
                    SupportNotices::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(SupportNotices::Table, &["user_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(SupportRequests::Table)
                .col(pk_auto(SupportRequests::Id))
                .col(integer(SupportRequests::OrganisationId))
                .col(integer(SupportRequests::UserId))
                .col(integer_null(SupportRequests::RequestedBy))
                .col(string_len(SupportRequests::Reason, 500))
                .col(string_len_null(SupportRequests::Ticket, 100))
                .col(string_len(SupportRequests::Mode, 8))
                .col(timestamp_with_time_zone(SupportRequests::CreatedAt))
                .col(timestamp_with_time_zone_null(SupportRequests::AnsweredAt))
                .col(integer_null(SupportRequests::AnsweredBy))
                .col(boolean_null(SupportRequests::Approved))
                .col(string_len_null(SupportRequests::Answer, 500))
                .col(integer_null(SupportRequests::GrantId))
                .foreign_key(&mut fk(
                    SupportRequests::Table,
                    SupportRequests::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    SupportRequests::Table,
                    SupportRequests::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(SupportRequests::Table, &["organisation_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SupportRequests::Table.into_iden(),
            SupportNotices::Table.into_iden(),
            Protections::Table.into_iden(),
            SupportGrants::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
