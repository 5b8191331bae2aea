//! `webhooks` table: where an organisation's audit events are sent, and how far they got.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub all_organisations: bool,
    pub url: String,
    pub secret: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i32>,
    /// The id of the last audit event delivered (0: none yet).
    pub delivered_up_to: i32,
    /// Failed attempts since the last success.
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub leased_until: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
