use crate::{Users, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    /// Random, unguessable; the token's `sid`.
    Id,
    /// Whose identity the session carries (the token's `sub`).
    UserId,
    /// Set only for an impersonation session: the operator acting (`act.sub`).
    ActorUserId,
    /// For an impersonation session: the actor's own session, which outlives it.
    ParentSessionId,
    Reason,
    Ticket,
    /// `view` or `act` for impersonation sessions.
    Mode,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    /// Client address at sign-in, for the audit log and the user's session list.
    ClientAddr,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string_len(Sessions::Id, 64).primary_key())
                .col(integer(Sessions::UserId))
                .col(integer_null(Sessions::ActorUserId))
                .col(string_len_null(Sessions::ParentSessionId, 64))
                .col(string_len_null(Sessions::Reason, 500))
                .col(string_len_null(Sessions::Ticket, 100))
                .col(string_len_null(Sessions::Mode, 8))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                .col(string_len_null(Sessions::ClientAddr, 64))
                .foreign_key(&mut fk(
                    Sessions::Table,
                    Sessions::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Sessions::Table,
                    Sessions::ActorUserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Sessions::Table,
                    Sessions::ParentSessionId,
                    Sessions::Table,
                    Sessions::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Sessions::Table, &["user_id"])).await?;
        m.create_index(index(Sessions::Table, &["actor_user_id"]))
            .await?;
        m.create_index(index(Sessions::Table, &["parent_session_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
