//! Work orders: list with filters, one work order with the decisions for its actions, and the
//! state changes (status, completion, assignment) under optimistic concurrency.

use crate::error::AppError;
use crate::model::{WorkOrderDetail, WorkOrderRow};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::guard::Guard;
    use crate::audit::Outcome;
    use crate::authz::{Permission, TeamRef};
    use crate::entity::{membership, user, vehicle, work_order};
    use crate::error::AppError;
    use crate::model::{Actions, UserRef, WorkOrderDetail, WorkOrderRow, WorkOrderStatus};
    use chrono::Utc;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};
    use std::collections::HashMap;

    /// The actions the work-order page offers.
    pub const ACTIONS: [Permission; 3] = [
        Permission::WorkOrdersUpdate,
        Permission::WorkOrdersAssign,
        Permission::WorkOrdersComplete,
    ];

    pub async fn load(g: &Guard, id: i32) -> Result<work_order::Model, AppError> {
        work_order::Entity::find_by_id(id)
            .one(&g.state.db)
            .await?
            .filter(|w| w.organisation_id == g.principal.organisation_id)
            .ok_or(AppError::NotFound {
                what: "Work order".into(),
            })
    }

    async fn user_names(g: &Guard, ids: Vec<i32>) -> Result<HashMap<i32, String>, AppError> {
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::OrganisationId.eq(g.principal.organisation_id))
            .all(&g.state.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.full_name))
            .collect())
    }

    async fn vehicle_names(g: &Guard, ids: Vec<i32>) -> Result<HashMap<i32, String>, AppError> {
        Ok(vehicle::Entity::find()
            .filter(vehicle::Column::Id.is_in(ids))
            .all(&g.state.db)
            .await?
            .into_iter()
            .map(|v| (v.id, v.name))
            .collect())
    }

    pub async fn rows(
        g: &Guard,
        query: Select<work_order::Entity>,
        teams: &HashMap<i32, String>,
    ) -> Result<Vec<WorkOrderRow>, AppError> {
        let orders = query
            .filter(work_order::Column::OrganisationId.eq(g.principal.organisation_id))
            .order_by_asc(work_order::Column::DueOn)
            .order_by_asc(work_order::Column::Id)
            .all(&g.state.db)
            .await?;
        let users = user_names(g, orders.iter().filter_map(|w| w.assignee_id).collect()).await?;
        let vehicles = vehicle_names(g, orders.iter().map(|w| w.vehicle_id).collect()).await?;
        Ok(orders
            .into_iter()
            .map(|w| WorkOrderRow {
                id: w.id,
                vehicle: vehicles.get(&w.vehicle_id).cloned().unwrap_or_default(),
                team: teams.get(&w.team_id).cloned().unwrap_or_default(),
                status: WorkOrderStatus::from_key(&w.status).unwrap_or(WorkOrderStatus::Open),
                priority: w.priority,
                assignee: w.assignee_id.and_then(|a| users.get(&a).cloned()),
                due_on: w.due_on.map(|d| d.to_string()),
                title: w.title,
            })
            .collect())
    }

    pub async fn rows_for_vehicle(
        g: &Guard,
        vehicle_id: i32,
        teams: &HashMap<i32, String>,
    ) -> Result<Vec<WorkOrderRow>, AppError> {
        let q = work_order::Entity::find().filter(work_order::Column::VehicleId.eq(vehicle_id));
        rows(g, q, teams).await
    }

    /// People a work order of `team` can be assigned to: active members of the team or of a team
    /// above it (whose grants reach it).
    pub async fn assignable(g: &Guard, team: i32) -> Result<Vec<UserRef>, AppError> {
        let teams: Vec<i32> = g.access.policy.tree.ancestors(team).collect();
        let members: Vec<i32> = membership::Entity::find()
            .filter(membership::Column::TeamId.is_in(teams))
            .all(&g.state.db)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let mut people: Vec<UserRef> = user::Entity::find()
            .filter(user::Column::Id.is_in(members))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::OrganisationId.eq(g.principal.organisation_id))
            .all(&g.state.db)
            .await?
            .into_iter()
            .map(|u| UserRef {
                id: u.id,
                name: u.full_name,
            })
            .collect();
        people.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(people)
    }

    pub async fn detail(g: &Guard, w: work_order::Model) -> Result<WorkOrderDetail, AppError> {
        let team = g.access.policy.tree.team_ref(w.team_id).unwrap_or(TeamRef {
            id: w.team_id,
            name: String::new(),
        });
        let actions = Actions(
            ACTIONS
                .iter()
                .map(|p| (*p, g.access.check(*p, w.team_id)))
                .collect(),
        );
        let assignee = match w.assignee_id {
            Some(a) => user_names(g, vec![a])
                .await?
                .remove(&a)
                .map(|name| UserRef { id: a, name }),
            None => None,
        };
        let vehicle = vehicle_names(g, vec![w.vehicle_id])
            .await?
            .remove(&w.vehicle_id)
            .unwrap_or_default();
        Ok(WorkOrderDetail {
            id: w.id,
            title: w.title,
            description: w.description,
            vehicle,
            vehicle_id: w.vehicle_id,
            status: WorkOrderStatus::from_key(&w.status).unwrap_or(WorkOrderStatus::Open),
            priority: w.priority,
            assignee,
            due_on: w.due_on.map(|d| d.to_string()),
            version: w.version,
            actions,
            assignable: assignable(g, w.team_id).await?,
            team,
        })
    }

    /// Applies a change only if the row is still at `version`, bumping it; anything else is a
    /// conflict, never a silent overwrite.
    pub async fn update_versioned(
        g: &Guard,
        w: &work_order::Model,
        version: i32,
        changes: Vec<(work_order::Column, Expr)>,
    ) -> Result<(), AppError> {
        let mut update = work_order::Entity::update_many()
            .col_expr(work_order::Column::Version, Expr::value(version + 1))
            .col_expr(work_order::Column::UpdatedAt, Expr::value(Utc::now()));
        for (col, expr) in changes {
            update = update.col_expr(col, expr);
        }
        let res = update
            .filter(work_order::Column::Id.eq(w.id))
            .filter(work_order::Column::Version.eq(version))
            .exec(&g.state.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(AppError::Conflict {
                message: "Someone else changed this work order since you opened it. Reload it to \
                          see the latest version, then try again."
                    .into(),
            });
        }
        Ok(())
    }

    pub fn refuse_closed(w: &work_order::Model) -> Result<(), AppError> {
        match WorkOrderStatus::from_key(&w.status) {
            Some(s) if s.is_closed() => Err(AppError::Conflict {
                message: format!("This work order is already {}.", s.label().to_lowercase()),
            }),
            _ => Ok(()),
        }
    }

    /// Audits a successful write and returns the fresh page data.
    pub async fn done(g: &Guard, id: i32, detail: String) -> Result<WorkOrderDetail, AppError> {
        g.audit(&format!("work_order:{id}"), Outcome::Success, Some(detail))
            .await;
        let w = load(g, id).await?;
        self::detail(g, w).await
    }
}

/// Work orders the caller may view, optionally filtered by status, team and assignee.
#[server(endpoint = "work_orders/list")]
pub async fn list_work_orders(
    status: Option<String>,
    team: Option<i32>,
    assignee: Option<i32>,
) -> Result<Vec<WorkOrderRow>, AppError> {
    use crate::api::guard::Guard;
    use crate::entity::work_order;
    use crate::model::WorkOrderStatus;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let g = Guard::enter("/api/work_orders/list").await?;
    let mut teams = g.visible_teams().await?;
    let mut q = work_order::Entity::find();
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        let s = WorkOrderStatus::from_key(&s)
            .ok_or_else(|| AppError::invalid("status", "Choose a status from the list."))?;
        q = q.filter(work_order::Column::Status.eq(s.key()));
    }
    if let Some(t) = team {
        // Filtering by a team covers its subtree, and only where the caller may look.
        let tree = &g.access.policy.tree;
        teams.retain(|x| tree.is_within(*x, t));
    }
    if let Some(a) = assignee {
        q = q.filter(work_order::Column::AssigneeId.eq(a));
    }
    q = q.filter(work_order::Column::TeamId.is_in(teams));
    let names = crate::api::vehicles::server::team_names(&g).await?;
    server::rows(&g, q, &names).await
}

/// One work order, with the decisions for its actions.
#[server(endpoint = "work_orders/get")]
pub async fn get_work_order(id: i32) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    let g = Guard::enter("/api/work_orders/get").await?;
    let w = server::load(&g, id).await?;
    g.authorize(w.team_id, &format!("work_order:{id}")).await?;
    server::detail(&g, w).await
}

/// Sets the status (open, in progress, on hold, cancelled); completing is its own action.
#[server(endpoint = "work_orders/status")]
pub async fn set_work_order_status(
    id: i32,
    status: String,
    version: i32,
) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    use crate::entity::work_order;
    use crate::model::WorkOrderStatus;
    use sea_orm::sea_query::Expr;

    let new = WorkOrderStatus::from_key(&status)
        .filter(|s| s.settable())
        .ok_or_else(|| {
            AppError::invalid("status", "Choose open, in progress, on hold or cancelled.")
        })?;
    let g = Guard::enter("/api/work_orders/status").await?;
    let w = server::load(&g, id).await?;
    g.authorize(w.team_id, &format!("work_order:{id}")).await?;
    server::refuse_closed(&w)?;
    server::update_versioned(
        &g,
        &w,
        version,
        vec![(work_order::Column::Status, Expr::value(new.key()))],
    )
    .await?;
    server::done(&g, id, format!("status={}", new.key())).await
}

/// Completes a work order.
#[server(endpoint = "work_orders/complete")]
pub async fn complete_work_order(id: i32, version: i32) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    use crate::entity::work_order;
    use crate::model::WorkOrderStatus;
    use sea_orm::sea_query::Expr;

    let g = Guard::enter("/api/work_orders/complete").await?;
    let w = server::load(&g, id).await?;
    g.authorize(w.team_id, &format!("work_order:{id}")).await?;
    server::refuse_closed(&w)?;
    server::update_versioned(
        &g,
        &w,
        version,
        vec![
            (
                work_order::Column::Status,
                Expr::value(WorkOrderStatus::Completed.key()),
            ),
            (
                work_order::Column::CompletedAt,
                Expr::value(chrono::Utc::now()),
            ),
        ],
    )
    .await?;
    server::done(&g, id, "status=completed".into()).await
}

/// Assigns a work order to someone who can be assigned to its team (or to nobody).
#[server(endpoint = "work_orders/assign")]
pub async fn assign_work_order(
    id: i32,
    assignee: Option<i32>,
    version: i32,
) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    use crate::entity::work_order;
    use sea_orm::sea_query::Expr;

    let g = Guard::enter("/api/work_orders/assign").await?;
    let w = server::load(&g, id).await?;
    g.authorize(w.team_id, &format!("work_order:{id}")).await?;
    server::refuse_closed(&w)?;
    if let Some(a) = assignee
        && !server::assignable(&g, w.team_id)
            .await?
            .iter()
            .any(|u| u.id == a)
    {
        return Err(AppError::invalid(
            "assignee",
            "Choose someone from this work order's teams.",
        ));
    }
    server::update_versioned(
        &g,
        &w,
        version,
        vec![(work_order::Column::AssigneeId, Expr::value(assignee))],
    )
    .await?;
    server::done(
        &g,
        id,
        format!(
            "assignee={}",
            assignee.map(|a| a.to_string()).unwrap_or_default()
        ),
    )
    .await
}
