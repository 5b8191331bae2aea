//! Work orders: list with filters, one work order with the decisions for its actions, and the
//! state changes (status, completion, assignment) under optimistic concurrency.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Permission as Needs;
use crate::api::policy::{Declared, Policy, read, write};
use crate::error::AppError;
use crate::model::{WorkOrderDetail, WorkOrderList};
use domain::authz::Permission;
use domain::fleet::{Date, Priority};
use domain::ids::{VehicleId, WorkOrderId};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::guard::{Guard, Resource, Written};
    use crate::api::paging::next_page;
    use crate::api::rows;
    use crate::error::AppError;
    use crate::model::{Actions, Cursor, PAGE_SIZE, UserRef, WorkOrderDetail, WorkOrderRow};
    use backend::entity::work_order;
    use backend::repo::{self, work_orders::After};
    use domain::authz::{Permission, TeamRef};
    use domain::fleet::{Priority, WorkOrderStatus};
    use domain::ids::{VehicleId, WorkOrderId};
    use sea_orm::Select;
    use sea_orm::sea_query::Expr;

    /// The actions the work-order page offers.
    pub const ACTIONS: [Permission; 3] = [
        Permission::WorkOrdersUpdate,
        Permission::WorkOrdersAssign,
        Permission::WorkOrdersComplete,
    ];

    pub async fn load(g: &Guard, id: WorkOrderId) -> Result<work_order::Model, AppError> {
        let org = g.principal().organisation_id;
        Ok(repo::work_orders::load(&g.state().db, org, id).await?)
    }

    /// One page of `query` (after `cursor`) as rows, and the cursor of the next page.
    pub async fn page(
        g: &Guard,
        query: Select<work_order::Entity>,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<WorkOrderRow>, Option<String>), AppError> {
        let after = match cursor {
            None => None,
            Some(Cursor { id, key: None }) => Some(After::Undated(id)),
            Some(Cursor { id, key: Some(due) }) => {
                let due: chrono::NaiveDate = due
                    .parse()
                    .map_err(|_| AppError::invalid("after", Cursor::BROKEN))?;
                Some(After::Dated(due, id))
            }
        };
        let org = g.principal().organisation_id;
        let mut orders =
            repo::work_orders::page(&g.state().db, org, query, after, PAGE_SIZE + 1).await?;
        let next = next_page(&mut orders, |w| Cursor {
            id: w.id,
            key: w.due_on.map(|d| d.to_string()),
        });
        Ok((rows::work_orders(g, orders).await?, next))
    }

    /// Most people the assignee filter lists; beyond this it asks for a team filter first.
    pub const MAX_ASSIGNEE_CHOICES: u64 = 200;

    /// Active members of `teams`, by name; `None` when they are more than
    /// [`MAX_ASSIGNEE_CHOICES`] (the query stops counting there).
    pub async fn assignee_choices(
        g: &Guard,
        teams: &[i32],
    ) -> Result<Option<Vec<UserRef>>, AppError> {
        let org = g.principal().organisation_id;
        let people =
            repo::users::members_of(&g.state().db, org, teams, MAX_ASSIGNEE_CHOICES).await?;
        Ok(people.map(|p| p.into_iter().map(UserRef::from).collect()))
    }

    /// People a work order of `team` can be assigned to: active members of the team or of a team
    /// above it (whose grants reach it).
    pub async fn assignable(g: &Guard, team: i32) -> Result<Vec<UserRef>, AppError> {
        let teams: Vec<i32> = g.tree().ancestors(team).collect();
        let org = g.principal().organisation_id;
        let people = repo::users::active_members_of(&g.state().db, org, teams).await?;
        Ok(people.into_iter().map(UserRef::from).collect())
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
        let db = &g.state().db;
        let org = g.principal().organisation_id;
        let assignee = match w.assignee_id {
            Some(a) => repo::users::names(db, org, vec![a])
                .await?
                .remove(&a)
                .map(|name| UserRef { id: a, name }),
            None => None,
        };
        let vehicle = repo::vehicles::names(db, org, vec![w.vehicle_id])
            .await?
            .remove(&w.vehicle_id)
            .unwrap_or_default();
        Ok(WorkOrderDetail {
            id: WorkOrderId(w.id),
            title: w.title,
            description: w.description,
            vehicle,
            vehicle_id: VehicleId(w.vehicle_id),
            status: WorkOrderStatus::stored(&w.status)?,
            priority: Priority::stored(&w.priority)?,
            assignee,
            due_on: w.due_on.map(rows::date).transpose()?,
            version: w.version,
            actions,
            assignable: assignable(g, w.team_id).await?,
            team,
        })
    }

    pub const VERSIONED: backend::repo::versioned::Versioned<work_order::Entity> =
        backend::repo::versioned::Versioned {
            id: work_order::Column::Id,
            version: work_order::Column::Version,
            updated_at: work_order::Column::UpdatedAt,
            what: "work order",
            unique: None,
        };

    /// The start of every change to a work order: the guard for `path`, the row (404 outside the
    /// organisation), the declared permission on its team, and no change to a closed one.
    pub async fn open_for_change<F: crate::api::policy::Declared>(
        id: WorkOrderId,
    ) -> Result<(Guard, work_order::Model), AppError> {
        let g = Guard::enter::<F>().await?;
        let w = load(&g, id).await?;
        g.authorize(w.team_id, Resource::WorkOrder(id)).await?;
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

    /// Applies `changes` to the work order if nobody changed it since `version`, with its audit
    /// row, and returns the fresh page data. `changes` is rebuilt on every run of the write
    /// (`Guard::write_independent`).
    pub async fn change(
        g: &Guard,
        id: WorkOrderId,
        version: i32,
        details: backend::audit::Details,
        changes: impl Fn() -> Vec<(work_order::Column, Expr)> + Send + 'static,
    ) -> Result<WorkOrderDetail, AppError> {
        g.write_independent(move |txn| {
            let (changes, details) = (changes(), details.clone());
            Box::pin(async move {
                VERSIONED.update(txn, id, version, changes).await?;
                Ok(Written::new((), Resource::WorkOrder(id)).with(details))
            })
        })
        .await?;
        let w = load(g, id).await?;
        self::detail(g, w).await
    }
}

impl Declared for ListWorkOrders {
    const POLICY: Policy = read::<Self>(Needs(Permission::WorkOrdersView));
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
    if let Some(teams) = g.team_filter(&teams) {
        q = q.filter(work_order::Column::TeamId.is_in(teams));
    }
    let (rows, next) = server::page(&g, q, after).await?;
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

impl Declared for GetWorkOrder {
    const POLICY: Policy = read::<Self>(Needs(Permission::WorkOrdersView));
}

/// One work order, with the decisions for its actions.
#[server(endpoint = "work_orders/get")]
pub async fn get_work_order(id: WorkOrderId) -> Result<WorkOrderDetail, AppError> {
    use crate::api::guard::Guard;
    let g = Guard::enter::<GetWorkOrder>().await?;
    let w = server::load(&g, id).await?;
    g.authorize(w.team_id, Resource::WorkOrder(id)).await?;
    server::detail(&g, w).await
}

impl Declared for SetWorkOrderStatus {
    const POLICY: Policy = write::<Self>(Needs(Permission::WorkOrdersUpdate));
}

/// Sets the status (open, in progress, on hold, cancelled); completing is its own action.
#[server(endpoint = "work_orders/status")]
pub async fn set_work_order_status(
    id: WorkOrderId,
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
    let (g, _) = server::open_for_change::<SetWorkOrderStatus>(id).await?;
    let details = backend::audit::Details::new().with(backend::audit::Field::Status, new.key());
    server::change(&g, id, version, details, move || {
        vec![(work_order::Column::Status, Expr::value(new.key()))]
    })
    .await
}

impl Declared for CompleteWorkOrder {
    const POLICY: Policy = write::<Self>(Needs(Permission::WorkOrdersComplete));
}

/// Completes a work order.
#[server(endpoint = "work_orders/complete")]
pub async fn complete_work_order(
    id: WorkOrderId,
    version: i32,
) -> Result<WorkOrderDetail, AppError> {
    use backend::entity::work_order;
    use domain::fleet::WorkOrderStatus;
    use sea_orm::sea_query::Expr;

    let (g, _) = server::open_for_change::<CompleteWorkOrder>(id).await?;
    let details = backend::audit::Details::new().with(backend::audit::Field::Status, "completed");
    server::change(&g, id, version, details, || {
        vec![
            (
                work_order::Column::Status,
                Expr::value(WorkOrderStatus::Completed.key()),
            ),
            (
                work_order::Column::CompletedAt,
                Expr::value(chrono::Utc::now()),
            ),
        ]
    })
    .await
}

impl Declared for AssignWorkOrder {
    const POLICY: Policy = write::<Self>(Needs(Permission::WorkOrdersAssign));
}

/// Assigns a work order to someone who can be assigned to its team (or to nobody).
#[server(endpoint = "work_orders/assign")]
pub async fn assign_work_order(
    id: WorkOrderId,
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
    let details = backend::audit::Details::new().with(
        backend::audit::Field::Assignee,
        assignee
            .map(|a| Resource::User(a).to_string())
            .unwrap_or_default(),
    );
    server::change(&g, id, version, details, move || {
        vec![(work_order::Column::AssigneeId, Expr::value(assignee))]
    })
    .await
}

impl Declared for CreateWorkOrder {
    const POLICY: Policy = write::<Self>(Needs(Permission::WorkOrdersCreate));
}

/// Opens a work order on a vehicle (needs `work_orders.create` on the vehicle's team).
#[server(endpoint = "work_orders/create")]
pub async fn create_work_order(
    vehicle: VehicleId,
    title: String,
    description: String,
    priority: String,
    due_on: String,
) -> Result<WorkOrderId, AppError> {
    use crate::api::guard::{Guard, Written};

    let (title, description, priority, due_on) =
        parse_new(&title, &description, &priority, &due_on)?;
    let g = Guard::enter::<CreateWorkOrder>().await?;
    let veh = backend::repo::vehicles::load(&g.state().db, g.principal().organisation_id, vehicle)
        .await?;
    g.authorize(veh.team_id, Resource::Vehicle(vehicle)).await?;
    let due_on = due_on.and_then(|d| {
        let (y, m, d) = d.ymd();
        chrono::NaiveDate::from_ymd_opt(y, m, d)
    });
    let by = g.principal().user_id;
    let new = backend::repo::work_orders::NewWorkOrder::open_on(
        &veh,
        by,
        title,
        description,
        priority.key().to_owned(),
        due_on,
    );
    let details = backend::audit::Details::new().with(
        backend::audit::Field::Vehicle,
        Resource::Vehicle(vehicle).to_string(),
    );
    g.write_independent(move |txn| {
        let (new, details) = (new.clone(), details.clone());
        Box::pin(async move {
            let id = backend::repo::work_orders::insert(txn, new).await?;
            Ok(Written::new(id, Resource::WorkOrder(id)).with(details))
        })
    })
    .await
}

/// The new-work-order form's fields, checked the same way in the browser and on the server.
pub type NewFields = (String, String, Priority, Option<Date>);

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
