use crate::{Vehicles, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkOrders {
    Table,
}

/// Lists are read a page at a time in their display order (keyset pagination): vehicles by
/// (name, id), work orders by (due date, id). Each order gets an index that ends in the id, so
/// "the page after this row" is one index range scan however deep the page.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(Vehicles::Table, &["organisation_id", "name", "id"]))
            .await?;
        m.create_index(index(
            WorkOrders::Table,
            &["organisation_id", "due_on", "id"],
        ))
        .await?;
        // The assignee filter's choices: who is assigned work in the visible teams.
        m.create_index(index(WorkOrders::Table, &["team_id", "assignee_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            (
                Vehicles::Table.into_iden(),
                "idx_vehicles_organisation_id_name_id",
            ),
            (
                WorkOrders::Table.into_iden(),
                "idx_work_orders_organisation_id_due_on_id",
            ),
            (
                WorkOrders::Table.into_iden(),
                "idx_work_orders_team_id_assignee_id",
            ),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
