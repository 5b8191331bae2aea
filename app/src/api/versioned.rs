//! Optimistic concurrency for every editable row (server only): a change names the version it
//! was made against and applies only if the row is still there; otherwise it is a conflict,
//! never a silent overwrite.

use crate::error::{AppError, DuplicateField};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// The columns every versioned table has.
pub struct Versioned<E: EntityTrait> {
    pub id: E::Column,
    pub version: E::Column,
    pub updated_at: E::Column,
    /// "work order", "vehicle": for the conflict message.
    pub what: &'static str,
    /// The form field and message for the table's unique index, if a change can hit one (a
    /// vehicle's VIN): a concurrent duplicate is that field's message, never a 500.
    pub unique: Option<(&'static str, &'static str)>,
}

impl<E: EntityTrait> Versioned<E> {
    pub async fn update(
        &self,
        db: &impl ConnectionTrait,
        id: i32,
        version: i32,
        changes: Vec<(E::Column, Expr)>,
    ) -> Result<(), AppError> {
        let mut update = E::update_many()
            .col_expr(self.version, Expr::value(version.saturating_add(1)))
            .col_expr(self.updated_at, Expr::value(chrono::Utc::now()));
        for (col, expr) in changes {
            update = update.col_expr(col, expr);
        }
        let res = update
            .filter(self.id.eq(id))
            .filter(self.version.eq(version))
            .exec(db)
            .await;
        let res = match self.unique {
            Some((field, message)) => res.or_duplicate(field, message)?,
            None => res?,
        };
        if res.rows_affected == 0 {
            return Err(AppError::Conflict {
                message: format!(
                    "Someone else changed this {} since you opened it. Reload it to see the \
                     latest version, then try again.",
                    self.what
                ),
            });
        }
        Ok(())
    }
}
