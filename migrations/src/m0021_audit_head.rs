use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit chain's head as one row: its hash, kept by a trigger on every audit insert (so it
/// is always the last row's, whoever inserted it). An append inserts only while the head is the
/// hash it chains from, locking the row in the same statement (`FOR UPDATE` on PostgreSQL): the
/// lock lasts until the append commits, so appends from every instance follow each other and
/// commit in id order, without an advisory lock's extra round trip.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), \
             hash VARCHAR(64) NOT NULL)",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO audit_head (id, hash) SELECT 1, COALESCE(\
             (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), \
             '0000000000000000000000000000000000000000000000000000000000000000')",
        )
        .await?;
        match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_head_follows() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN UPDATE audit_head SET hash = NEW.hash WHERE id = 1; RETURN NULL; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_events \
                     FOR EACH ROW EXECUTE FUNCTION audit_head_follows()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_events \
                     BEGIN UPDATE audit_head SET hash = NEW.hash WHERE id = 1; END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER audit_head_follows ON audit_events")
                    .await?;
                db.execute_unprepared("DROP FUNCTION audit_head_follows()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER audit_head_follows")
                    .await?;
            }
        }
        db.execute_unprepared("DROP TABLE audit_head")
            .await
            .map(drop)
    }
}
