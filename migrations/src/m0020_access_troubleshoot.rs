use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `access.troubleshoot` is new: the operator teams whose members may view as customers (Admin
/// and Support) get it, as a fresh install's Admin and Support templates do. No schema change.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO team_permissions (team_id, permission, granted_by, created_at) \
                 SELECT team_id, 'access.troubleshoot', NULL, created_at FROM team_permissions \
                 WHERE permission = 'users.impersonate' \
                 AND team_id NOT IN (SELECT team_id FROM team_permissions \
                 WHERE permission = 'access.troubleshoot')",
            )
            .await
            .map(drop)
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM team_permissions WHERE permission = 'access.troubleshoot'",
            )
            .await
            .map(drop)
    }
}
