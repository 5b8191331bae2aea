//! One repository per resource. Every read is scoped to an organisation: a row of another
//! organisation is "not found", so its existence does not leak; name look-ups are filtered by
//! organisation too; lists are keyset pages. Authorisation is not done here: the caller (a
//! server function, through its guard) decides; a repository only never crosses organisations.

pub mod inspections;
pub mod teams;
pub mod users;
pub mod vehicles;
pub mod versioned;
pub mod work_orders;

use sea_orm::DbErr;

/// A repository's failure: the row is not there for this organisation, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// What was not found, as a person calls it ("Vehicle", "Work order").
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether a foreign key refused a write, on either engine: what it refers to may have been
/// removed meanwhile (a team deleted while a vehicle was being added to it).
pub fn is_missing_reference(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// Whether the database refused a write because of a unique index or primary key, on either
/// engine: the race between a write's check for a duplicate and its insert.
pub fn is_duplicate(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
