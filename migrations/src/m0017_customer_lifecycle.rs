use crate::{Organisations, Teams, Users, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The customer lifecycle: suspending an organisation, a user's last sign-in, invitations and
/// password resets (each token stored only as its SHA-256), and the mail outbox a worker
/// delivers from, so a message is queued in the transaction of the change that caused it.
#[derive(DeriveIden)]
enum Col {
    SuspendedAt,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    OrganisationId,
    TeamId,
    Email,
    FullName,
    Role,
    TokenHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Subject,
    Body,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    SentAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(timestamp_with_time_zone_null(Col::SuspendedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Col::LastSignInAt))
                .to_owned(),
        )
        .await?;
        // The people page and the admin console page through users by name.
        m.create_index(index(Users::Table, &["organisation_id", "full_name", "id"]))
            .await?;
        m.create_index(index(Users::Table, &["full_name", "id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(pk_auto(Invitations::Id))
                .col(integer(Invitations::OrganisationId))
                .col(integer(Invitations::TeamId))
                .col(string_len(Invitations::Email, 254))
                .col(string_len(Invitations::FullName, 200))
                .col(string_len(Invitations::Role, 32))
                .col(string_len(Invitations::TokenHash, 64).unique_key())
                .col(integer_null(Invitations::InvitedBy))
                .col(timestamp_with_time_zone(Invitations::CreatedAt))
                .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                .foreign_key(&mut fk(
                    Invitations::Table,
                    Invitations::OrganisationId,
                    Organisations::Table,
                    Organisations::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    Invitations::Table,
                    Invitations::TeamId,
                    Teams::Table,
                    Teams::Id,
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(Invitations::Table, &["team_id"]))
            .await?;
        m.create_index(index(Invitations::Table, &["email"]))
            .await?;
        m.create_table(
            Table::create()
                .table(PasswordResets::Table)
                .col(pk_auto(PasswordResets::Id))
                .col(integer(PasswordResets::UserId))
                .col(string_len(PasswordResets::TokenHash, 64).unique_key())
                .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                .foreign_key(&mut fk(
                    PasswordResets::Table,
                    PasswordResets::UserId,
                    Users::Table,
                    Users::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(PasswordResets::Table, &["user_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .col(pk_auto(MailOutbox::Id))
                .col(string_len(MailOutbox::Recipient, 254))
                .col(string_len(MailOutbox::Subject, 300))
                .col(text(MailOutbox::Body))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .col(integer(MailOutbox::Attempts).default(0))
                .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .col(text_null(MailOutbox::LastError))
                .to_owned(),
        )
        .await?;
        m.create_index(index(MailOutbox::Table, &["sent_at", "next_attempt_at"]))
            .await?;
        // `orgs.manage` is new: the operator teams whose members may act as customers (the
        // Admins) get it, as a fresh install's Admin template does.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO team_permissions (team_id, permission, granted_by, created_at) \
                 SELECT team_id, 'orgs.manage', NULL, created_at FROM team_permissions \
                 WHERE permission = 'users.impersonate_act'",
            )
            .await
            .map(drop)
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MailOutbox::Table.into_iden(),
            PasswordResets::Table.into_iden(),
            Invitations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Col::LastSignInAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Col::SuspendedAt)
                .to_owned(),
        )
        .await
    }
}
