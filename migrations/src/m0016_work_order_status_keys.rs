use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `server seed-scale` used to store finished work orders as `done`, a key no status has (the
/// application read it as "open"). Reading a stored status is now strict, so those rows are
/// given the status they meant: `completed`.
#[derive(DeriveIden)]
enum WorkOrders {
    Table,
    Status,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let fix = Query::update()
            .table(WorkOrders::Table)
            .value(WorkOrders::Status, "completed")
            .and_where(Expr::col(WorkOrders::Status).eq("done"))
            .to_owned();
        m.exec_stmt(fix).await
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // Nothing to undo: `completed` is a valid status either way.
        Ok(())
    }
}
