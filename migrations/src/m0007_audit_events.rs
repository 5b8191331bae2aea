use crate::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Append-only and hash-chained: each row's `hash` covers its content and the previous row's
/// hash. No foreign keys on identities, so the log outlives anything it refers to.
#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    OrganisationId,
    ActorUserId,
    SubjectUserId,
    ImpersonationId,
    Action,
    Resource,
    Outcome,
    Detail,
    PrevHash,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(pk_auto(AuditEvents::Id))
                .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                .col(integer_null(AuditEvents::OrganisationId))
                .col(integer_null(AuditEvents::ActorUserId))
                .col(integer_null(AuditEvents::SubjectUserId))
                .col(string_len_null(AuditEvents::ImpersonationId, 64))
                .col(string_len(AuditEvents::Action, 64))
                .col(string_len_null(AuditEvents::Resource, 200))
                .col(string_len(AuditEvents::Outcome, 16))
                .col(text_null(AuditEvents::Detail))
                .col(string_len(AuditEvents::PrevHash, 64))
                .col(string_len_uniq(AuditEvents::Hash, 64))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["organisation_id"][..],
            &["actor_user_id"],
            &["subject_user_id"],
            &["impersonation_id"],
        ] {
            m.create_index(index(AuditEvents::Table, cols)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
