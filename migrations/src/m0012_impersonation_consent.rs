use crate::Organisations;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A customer organisation's consent to impersonation: `allowed`, `read_only` or `never`,
/// owned by its fleet managers and enforced by the server on every request.
#[derive(DeriveIden)]
enum Col {
    ImpersonationConsent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(string_len(Col::ImpersonationConsent, 16).default("allowed"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Col::ImpersonationConsent)
                .to_owned(),
        )
        .await
    }
}
