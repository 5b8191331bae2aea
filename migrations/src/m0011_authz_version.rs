use crate::Organisations;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A counter per organisation that every grant, membership or team-tree change bumps in the same
/// transaction; cached effective permissions are valid only for the version they were built at.
#[derive(DeriveIden)]
enum Col {
    AuthzVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(integer(Col::AuthzVersion).default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Col::AuthzVersion)
                .to_owned(),
        )
        .await
    }
}
