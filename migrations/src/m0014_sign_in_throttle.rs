use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The sign-in throttle's counters, one row per key (`account:<e-mail>`, `address:<ip>`), in the
/// shared database so that every instance behind a load balancer counts against the same limit.
/// Times are milliseconds since the Unix epoch (the throttle's clock on every instance).
#[derive(DeriveIden)]
enum SignInThrottle {
    Table,
    Key,
    Failures,
    LastAt,
    LockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SignInThrottle::Table)
                .col(string_len(SignInThrottle::Key, 300).primary_key())
                .col(integer(SignInThrottle::Failures).default(0))
                .col(big_integer_null(SignInThrottle::LastAt))
                .col(big_integer_null(SignInThrottle::LockedUntil))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SignInThrottle::Table).to_owned())
            .await
    }
}
