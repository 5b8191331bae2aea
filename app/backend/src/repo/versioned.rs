//! Optimistic concurrency for every editable row: a change names the version it was made
//! against and applies only if the row is still there; otherwise it is a conflict, never a
//! silent overwrite.

use super::is_duplicate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Why a versioned change did not apply.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// Someone else changed the row since the version named (409).
    #[error("this {what} changed since it was read")]
    Stale { what: &'static str },
    /// The change hit the table's unique index (the form field's message, 422).
    #[error("{field}: {message}")]
    Duplicate {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The columns every versioned table has.
pub struct Versioned<E: EntityTrait> {
    pub id: E::Column,
    pub version: E::Column,
    pub updated_at: E::Column,
    /// "work order", "vehicle": for the conflict message.
    pub what: &'static str,
    /// The form field and message for the table's unique index, if a change can hit one (a
    /// vehicle's VIN): a duplicate is that field's message, never a 500.
    pub unique: Option<(&'static str, &'static str)>,
}

impl<E: EntityTrait> Versioned<E> {
    pub async fn update(
        &self,
        db: &impl ConnectionTrait,
        id: impl Into<i32>,
        version: i32,
        changes: Vec<(E::Column, Expr)>,
    ) -> Result<(), VersionError> {
        let mut update = E::update_many()
            .col_expr(self.version, Expr::value(version.saturating_add(1)))
            .col_expr(self.updated_at, Expr::value(chrono::Utc::now()));
        for (col, expr) in changes {
            update = update.col_expr(col, expr);
        }
        let res = update
            .filter(self.id.eq(id.into()))
            .filter(self.version.eq(version))
            .exec(db)
            .await;
        let res = match (res, self.unique) {
            (Err(e), Some((field, message))) if is_duplicate(&e) => {
                tracing::info!(field, "unique constraint refused a duplicate");
                return Err(VersionError::Duplicate { field, message });
            }
            (res, _) => res?,
        };
        if res.rows_affected == 0 {
            return Err(VersionError::Stale { what: self.what });
        }
        Ok(())
    }
}
