//! Work orders: load one, keyset pages in list order, insert.

use super::RepoError;
use crate::entity::work_order;
use chrono::{NaiveDate, Utc};
use domain::ids::{VehicleId, WorkOrderId};
use sea_orm::sea_query::{Expr, ExprTrait, NullOrdering};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

/// A work order of the organisation; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: WorkOrderId,
) -> Result<work_order::Model, RepoError> {
    work_order::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .filter(|w| w.organisation_id == org)
        .ok_or(RepoError::NotFound("Work order"))
}

/// Work orders by due date (none last, the same on both engines), then id.
fn in_list_order(query: Select<work_order::Entity>) -> Select<work_order::Entity> {
    query
        .order_by_with_nulls(work_order::Column::DueOn, Order::Asc, NullOrdering::Last)
        .order_by_asc(work_order::Column::Id)
}

/// Where a page starts: after a row with a due date, or after one without (those come last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Dated(NaiveDate, i32),
    Undated(i32),
}

/// Up to `limit` of the organisation's work orders matching `query`, in list order, after
/// `after`.
///
/// Rows with a due date come first, then those without. Each part is read with a condition that
/// is one index range — `(due_on, id) > (d, i)`, then `due_on IS NULL AND id > i` — because a
/// single OR of both made PostgreSQL scan half a million rows for a deep page.
pub async fn page(
    db: &impl ConnectionTrait,
    org: i32,
    query: Select<work_order::Entity>,
    after: Option<After>,
    limit: u64,
) -> Result<Vec<work_order::Model>, DbErr> {
    use work_order::Column::{DueOn, Id, OrganisationId};
    let query = query.filter(OrganisationId.eq(org));
    let (dated_after, undated_after) = match after {
        None => (Some(None), 0),
        Some(After::Undated(id)) => (None, id),
        Some(After::Dated(due, id)) => (Some(Some((due, id))), 0),
    };
    let mut orders = Vec::new();
    if let Some(after) = dated_after {
        let dated = match after {
            Some((due, id)) => query.clone().filter(
                Expr::tuple([Expr::col(DueOn), Expr::col(Id)])
                    .gt(Expr::tuple([Expr::val(due), Expr::val(id)])),
            ),
            None => query.clone().filter(DueOn.is_not_null()),
        };
        orders = in_list_order(dated).limit(limit).all(db).await?;
    }
    let wanted = limit.saturating_sub(orders.len() as u64);
    if wanted > 0 {
        let undated = query.filter(DueOn.is_null()).filter(Id.gt(undated_after));
        orders.extend(undated.order_by_asc(Id).limit(wanted).all(db).await?);
    }
    Ok(orders)
}

/// The organisation's work orders on one vehicle, in list order.
pub async fn of_vehicle(
    db: &impl ConnectionTrait,
    org: i32,
    vehicle: VehicleId,
) -> Result<Vec<work_order::Model>, DbErr> {
    let query = work_order::Entity::find()
        .filter(work_order::Column::VehicleId.eq(vehicle.0))
        .filter(work_order::Column::OrganisationId.eq(org));
    in_list_order(query).all(db).await
}

/// A new work order, its fields already parsed.
#[derive(Clone, Debug)]
pub struct NewWorkOrder {
    pub organisation_id: i32,
    pub team_id: i32,
    pub vehicle_id: i32,
    pub title: String,
    pub description: String,
    pub priority: String,
    pub due_on: Option<NaiveDate>,
    pub created_by: i32,
    /// The stored key of the status it starts in.
    status: &'static str,
}

impl NewWorkOrder {
    /// A new, open work order on `vehicle`, owned by the vehicle's team.
    pub fn open_on(
        vehicle: &crate::entity::vehicle::Model,
        created_by: i32,
        title: String,
        description: String,
        priority: String,
        due_on: Option<NaiveDate>,
    ) -> NewWorkOrder {
        NewWorkOrder {
            organisation_id: vehicle.organisation_id,
            team_id: vehicle.team_id,
            vehicle_id: vehicle.id,
            title,
            description,
            priority,
            due_on,
            created_by,
            status: domain::fleet::WorkOrderStatus::Open.key(),
        }
    }
}

/// Inserts a work order (inside the caller's transaction); returns its id.
pub async fn insert(db: &impl ConnectionTrait, new: NewWorkOrder) -> Result<WorkOrderId, DbErr> {
    let now = Utc::now();
    let w = work_order::ActiveModel {
        organisation_id: Set(new.organisation_id),
        team_id: Set(new.team_id),
        vehicle_id: Set(new.vehicle_id),
        title: Set(new.title),
        description: Set(new.description),
        status: Set(new.status.to_owned()),
        priority: Set(new.priority),
        assignee_id: Set(None),
        due_on: Set(new.due_on),
        created_by: Set(Some(new.created_by)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(WorkOrderId(w.id))
}

/// How many of the organisation's work orders in `teams` have one of `statuses` (their keys),
/// and, with `due_before`, are due before that day.
pub async fn count_with_status(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Vec<i32>,
    statuses: Vec<&str>,
    due_before: Option<NaiveDate>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    let mut q = work_order::Entity::find()
        .filter(work_order::Column::OrganisationId.eq(org))
        .filter(work_order::Column::TeamId.is_in(teams))
        .filter(work_order::Column::Status.is_in(statuses));
    if let Some(day) = due_before {
        q = q.filter(work_order::Column::DueOn.lt(day));
    }
    q.count(db).await
}
