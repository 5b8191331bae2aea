use crate::{Users, Vehicles, index, index_name};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Two indexes that a longer one covers: vehicles by (organisation, name) (m0008) and users by
/// organisation (m0003), each the start of a list's index added since — (organisation, name,
/// id) in m0013 and (organisation, full name, id) in m0017 — which answers every lookup the
/// shorter one did, foreign-key checks included. Each index is one more entry every write of
/// its table makes; the shorter ones go.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in covered() {
            let name = index_name(&table, columns);
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in covered() {
            m.create_index(index(table, columns)).await?;
        }
        Ok(())
    }
}

fn covered() -> [(DynIden, &'static [&'static str]); 2] {
    [
        (Vehicles::Table.into_iden(), &["organisation_id", "name"]),
        (Users::Table.into_iden(), &["organisation_id"]),
    ]
}
