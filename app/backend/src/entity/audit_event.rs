//! `audit_events` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub occurred_at: DateTimeUtc,
    pub organisation_id: Option<i32>,
    pub actor_user_id: Option<i32>,
    pub subject_user_id: Option<i32>,
    pub impersonation_id: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: String,
    /// Free-text detail of rows written before structured fields; never written now.
    pub detail: Option<String>,
    /// Structured details: a JSON array of `[key, value]` pairs (see `audit::Details`).
    pub fields: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
