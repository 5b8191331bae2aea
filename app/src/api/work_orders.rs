//! Work orders: list with filters, one work order with the decisions for its actions, and the
//! state changes (status, completion, assignment) under optimistic concurrency.

use crate::error::AppError;
use crate::model::{WorkOrderDetail, WorkOrderList};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::guard::Guard;
    use crate::api::paging::next_page;
    use crate::error::AppError;
    use crate::model::{Actions, Cursor, PAGE_SIZE, UserRef, WorkOrderDetail, WorkOrderRow};
    use backend::entity::{membership, user, vehicle, work_order};
    use chrono::Utc;
    use domain::authz::{Permission, TeamRef};
    use domain::fleet::WorkOrderStatus;
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
            .one(&g.state().db)
            .await?
            .filter(|w| w.organisation_id == g.principal().organisation_id)
            .ok_or(AppError::NotFound {
                what: "Work order".into(),
            })
    }

    async fn user_names(g: &Guard, ids: Vec<i32>) -> Result<HashMap<i32, String>, AppError> {
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::OrganisationId.eq(g.principal().organisation_id))
            .all(&g.state().db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.full_name))
            .collect())
    }

    async fn vehicle_names(g: &Guard, ids: Vec<i32>) -> Result<HashMap<i32, String>, AppError> {
        Ok(vehicle::Entity::find()
            .filter(vehicle::Column::Id.is_in(ids))
            .all(&g.state().db)
            .await?
            .into_iter()
            .map(|v| (v.id, v.name))
            .collect())
    }

    /// Work orders by due date (none last, the same on both engines), then id.
    fn in_list_order(query: Select<work_order::Entity>) -> Select<work_order::Entity> {
        use sea_orm::{Order, sea_query::NullOrdering};
        query
            .order_by_with_nulls(work_order::Column::DueOn, Order::Asc, NullOrdering::Last)
            .order_by_asc(work_order::Column::Id)
    }

    /// One page of `query` (after `cursor`) as rows, and the cursor of the next page.
    ///
    /// Rows with a due date come first, then those without. Each part is read with a condition
    /// that is one index range — `(due_on, id) > (d, i)`, then `due_on IS NULL AND id > i` —
    /// because a single OR of both made PostgreSQL scan half a million rows for a deep page.
    pub async fn page(
        g: &Guard,
        query: Select<work_order::Entity>,
        cursor: Option<Cursor>,
        teams: &HashMap<i32, String>,
    ) -> Result<(Vec<WorkOrderRow>, Option<String>), AppError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::{Expr, ExprTrait};
        use work_order::Column::{DueOn, Id, OrganisationId};
        let query = query.filter(OrganisationId.eq(g.principal().organisation_id));
        let (dated_after, undated_after) = match cursor {
            None => (Some(None), 0),
            Some(Cursor { id, key: None }) => (None, id),
            Some(Cursor { id, key: Some(due) }) => {
                let due: chrono::NaiveDate = due
                    .parse()
                    .map_err(|_| AppError::invalid("after", Cursor::BROKEN))?;
                (Some(Some((due, id))), 0)
            }
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
            orders = in_list_order(dated)
                .limit(PAGE_SIZE + 1)
                .all(&g.state().db)
                .await?;
        }
        let wanted = (PAGE_SIZE + 1).saturating_sub(orders.len() as u64);
        if wanted > 0 {
            let undated = query.filter(DueOn.is_null()).filter(Id.gt(undated_after));
            orders.extend(
                undated
                    .order_by_asc(Id)
                    .limit(wanted)
                    .all(&g.state().db)
                    .await?,
            );
        }
        let next = next_page(&mut orders, |w| Cursor {
            id: w.id,
            key: w.due_on.map(|d| d.to_string()),
        });
        Ok((to_rows(g, orders, teams).await?, next))
    }

    /// Most people the assignee filter lists; beyond this it asks for a team filter first.
    pub const MAX_ASSIGNEE_CHOICES: u64 = 200;

    /// Active members of `teams`, by name; `None` when they are more than
    /// [`MAX_ASSIGNEE_CHOICES`] (the query stops counting there).
    pub async fn assignee_choices(
        g: &Guard,
        teams: &[i32],
    ) -> Result<Option<Vec<UserRef>>, AppError> {
        use sea_orm::QuerySelect;
        let ids: Vec<i32> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .distinct()
            .filter(membership::Column::TeamId.is_in(teams.to_vec()))
            .limit(MAX_ASSIGNEE_CHOICES + 1)
            .into_tuple()
            .all(&g.state().db)
            .await?;
        if ids.len() as u64 > MAX_ASSIGNEE_CHOICES {
            return Ok(None);
        }
        Ok(Some(
            user::Entity::find()
                .filter(user::Column::Id.is_in(ids))
                .filter(user::Column::OrganisationId.eq(g.principal().organisation_id))
                .order_by_asc(user::Column::FullName)
                .all(&g.state().db)
                .await?
                .into_iter()
                .map(UserRef::from)
                .collect(),
        ))
    }

    pub async fn rows(
        g: &Guard,
        query: Select<work_order::Entity>,
        teams: &HashMap<i32, String>,
    ) -> Result<Vec<WorkOrderRow>, AppError> {
        let orders = in_list_order(query)
            .filter(work_order::Column::OrganisationId.eq(g.principal().organisation_id))
            .all(&g.state().db)
            .await?;
        to_rows(g, orders, teams).await
    }

    async fn to_rows(
        g: &Guard,
        orders: Vec<work_order::Model>,
        teams: &HashMap<i32, String>,
    ) -> Result<Vec<WorkOrderRow>, AppError> {
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
        let teams: Vec<i32> = g.tree().ancestors(team).collect();
        let members: Vec<i32> = membership::Entity::find()
            .filter(membership::Column::TeamId.is_in(teams))
            .all(&g.state().db)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let mut people: Vec<UserRef> = user::Entity::find()
            .filter(user::Column::Id.is_in(members))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::OrganisationId.eq(g.principal().organisation_id))
            .all(&g.state().db)
            .await?
            .into_iter()
            .map(UserRef::from)
            .collect();
        people.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(people)
    }

    pub async fn detail(g: &Guard, w: work_order::Model) -> Result<WorkOrderDetail, AppError> {
        let team = g.tree().team_ref(w.team_id).unwrap_or(TeamRef {
            id: w.team_id,
            name: String::new(),
        });
        let actions = Actions(
            ACTIONS
                .iter()
                .map(|p| (*p, g.decide(*p, w.team_id)))
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

    pub const VERSIONED: crate::api::versioned::Versioned<work_order::Entity> =
        crate::api::versioned::Versioned {
            id: work_order::Column::Id,
            version: work_order::Column::Version,
            updated_at: work_order::Column::UpdatedAt,
            what: "work order",
            unique: None,
        };

    /// A validated new work order.
    pub struct NewWorkOrder {
        pub title: String,
        pub description: String,
        pub priority: String,
        pub due_on: Option<(i32, u32, u32)>,
    }

    /// Inserts a work order for `veh` (inside the caller's transaction when given one).
    pub async fn insert(
        db: &impl sea_orm::ConnectionTrait,
        g: &Guard,
        veh: &vehicle::Model,
        new: NewWorkOrder,
    ) -> Result<i32, AppError> {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let now = Utc::now();
        let due_on = new
            .due_on
            .and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d));
        let w = work_order::ActiveModel {
            organisation_id: Set(veh.organisation_id),
            team_id: Set(veh.team_id),
            vehicle_id: Set(veh.id),
            title: Set(new.title),
            description: Set(new.description),
            status: Set(WorkOrderStatus::Open.key().to_owned()),
            priority: Set(new.priority),
            assignee_id: Set(None),
            due_on: Set(due_on),
            created_by: Set(Some(g.principal().user_id)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            completed_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(w.id)
    }

    /// The start of every change to a work order: the guard for `path`, the row (404 outside the
    /// organisation), the declared permission on its team, and no change to a closed one.
    pub async fn open_for_change<F: leptos::server_fn::ServerFn>(
        id: i32,
    ) -> Result<(Guard, work_order::Model), AppError> {
        let g = Guard::enter::<F>().await?;
        let w = load(&g, id).await?;
        g.authorize(w.team_id, &format!("work_order:{id}")).await?;
        refuse_closed(&w)?;
        Ok((g, w))
    }

    pub fn refuse_closed(w: &work_order::Model) -> Result<(), AppError> {
        match WorkOrderStatus::from_key(&w.status) {
            Some(s) if s.is_closed() => Err(AppError::Conflict {
                message: format!("This work order is already {}.", s.label().to_lowercase()),
            }),
            _ => Ok(()),
        }
    }

    /// Commits a write with its audit row and returns the fresh page data.
    pub async fn done(
        g: &Guard,
        txn: backend::audit::AuditedTxn,
        id: i32,
        details: backend::audit::Details,
    ) -> Result<WorkOrderDetail, AppError> {
        g.commit_write(txn, &format!("work_order:{id}"), details)
            .await?;
        let w = load(g, id).await?;
        self::detail(g, w).await
    }
}

/// Work orders the caller may view, optionally filtered by status, team and assignee, a page at
/// a time (`after`: the cursor of the previous page).
#[server(endpoint = "work_orders/list")]
pub async fn list_work_orders(
    status: Option<String>,
    team: Option<i32>,
    assignee: Option<i32>,
    after: Option<String>,
) -> Result<WorkOrderList, AppError> {
    use crate::api::guard::Guard;
    use backend::entity::work_order;
    use domain::fleet::WorkOrderStatus;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let after = crate::api::paging::parse_cursor(after.as_deref())?;
    let g = Guard::enter::<ListWorkOrders>().await?;
    let visible = g.visible_teams().await?;
    let mut teams = visible.clone();
    let mut q = work_order::Entity::find();
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        let s = WorkOrderStatus::from_key(&s)
            .ok_or_else(|| AppError::invalid("status", "Choose a status from the list."))?;
        q = q.filter(work_order::Column::Status.eq(s.key()));
    }
    if let Some(t) = team {
        // Filtering by a team covers its subtree, and only where the caller may look.
        let tree = &g.tree();
        teams.retain(|x| tree.is_within(*x, t));
    }
    if let Some(a) = assignee {
        q = q.filter(work_order::Column::AssigneeId.eq(a));
    }
    q = q.filter(work_order::Column::TeamId.is_in(teams.clone()));
    let names = crate::api::vehicles::server::team_names(&g).await?;
    let (rows, next) = server::page(&g, q, after, &names).await?;
    // The filters' choices: the visible teams, and the people of the teams filtered on — unless
    // there are too many to choose from in a list (then the page asks for a team first).
    let assignees = server::assignee_choices(&g, &teams).await?;
    let tree = &g.tree();
    let teams = tree
        .teams()
        .filter(|t| visible.contains(t))
        .filter_map(|t| tree.team_ref(t))
        .collect();
    Ok(WorkOrderList {
        rows,
        next,
        teams,
        assignees_too_many: assignees.is_none(),
        assignees: assignees.unwrap_or_default(),
    })
}

/// One work order, with the decisions for its actions.
#[server(endpoint = "work_orders/get")]
pub async fn get_work_order(id: i32) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    let g = Guard::enter::<GetWorkOrder>().await?;
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
    use backend::entity::work_order;
    use domain::fleet::WorkOrderStatus;
    use sea_orm::sea_query::Expr;

    let new = WorkOrderStatus::from_key(&status)
        .filter(|s| s.settable())
        .ok_or_else(|| {
            AppError::invalid("status", "Choose open, in progress, on hold or cancelled.")
        })?;
    let (g, w) = server::open_for_change::<SetWorkOrderStatus>(id).await?;
    let txn = g.begin_write().await?;
    server::VERSIONED
        .update(
            &*txn,
            w.id,
            version,
            vec![(work_order::Column::Status, Expr::value(new.key()))],
        )
        .await?;
    let details = backend::audit::Details::new().with(backend::audit::Field::Status, new.key());
    server::done(&g, txn, id, details).await
}

/// Completes a work order.
#[server(endpoint = "work_orders/complete")]
pub async fn complete_work_order(id: i32, version: i32) -> Result<WorkOrderDetail, AppError> {
    use backend::entity::work_order;
    use domain::fleet::WorkOrderStatus;
    use sea_orm::sea_query::Expr;

    let (g, w) = server::open_for_change::<CompleteWorkOrder>(id).await?;
    let txn = g.begin_write().await?;
    server::VERSIONED
        .update(
            &*txn,
            w.id,
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
    let details = backend::audit::Details::new().with(backend::audit::Field::Status, "completed");
    server::done(&g, txn, id, details).await
}

/// Assigns a work order to someone who can be assigned to its team (or to nobody).
#[server(endpoint = "work_orders/assign")]
pub async fn assign_work_order(
    id: i32,
    assignee: Option<i32>,
    version: i32,
) -> Result<WorkOrderDetail, AppError> {
    use backend::entity::work_order;
    use sea_orm::sea_query::Expr;

    let (g, w) = server::open_for_change::<AssignWorkOrder>(id).await?;
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
    let txn = g.begin_write().await?;
    server::VERSIONED
        .update(
            &*txn,
            w.id,
            version,
            vec![(work_order::Column::AssigneeId, Expr::value(assignee))],
        )
        .await?;
    let details = backend::audit::Details::new().with(
        backend::audit::Field::Assignee,
        assignee.map(|a| format!("user:{a}")).unwrap_or_default(),
    );
    server::done(&g, txn, id, details).await
}

/// Opens a work order on a vehicle (needs `work_orders.create` on the vehicle's team).
#[server(endpoint = "work_orders/create")]
pub async fn create_work_order(
    vehicle: i32,
    title: String,
    description: String,
    priority: String,
    due_on: String,
) -> Result<i32, AppError> {
    use crate::api::guard::Guard;

    let (title, description, priority, due_on) =
        parse_new(&title, &description, &priority, &due_on)?;
    let g = Guard::enter::<CreateWorkOrder>().await?;
    let veh = crate::api::vehicles::server::load(&g, vehicle).await?;
    g.authorize(veh.team_id, &format!("vehicle:{vehicle}"))
        .await?;
    let new = server::NewWorkOrder {
        title,
        description,
        priority,
        due_on,
    };
    let txn = g.begin_write().await?;
    let id = server::insert(&*txn, &g, &veh, new).await?;
    g.commit_write(
        txn,
        &format!("work_order:{id}"),
        backend::audit::Details::new()
            .with(backend::audit::Field::Vehicle, format!("vehicle:{vehicle}")),
    )
    .await?;
    Ok(id)
}

/// The new-work-order form's fields, checked the same way in the browser and on the server.
pub type NewFields = (String, String, String, Option<(i32, u32, u32)>);

pub fn parse_new(
    title: &str,
    description: &str,
    priority: &str,
    due_on: &str,
) -> Result<NewFields, AppError> {
    use domain::validate::{self as v, Problems};
    let mut p = Problems::default();
    let fields = (
        p.check("title", v::required(title, "a title", 200)),
        p.check("description", v::optional(description, 4000)),
        p.check("priority", v::priority(priority)),
        p.check("due_on", v::date(due_on)),
    );
    p.finish()?;
    match fields {
        (Some(t), Some(d), Some(p), Some(due)) => Ok((t, d, p, due)),
        _ => Err(AppError::Internal),
    }
}
