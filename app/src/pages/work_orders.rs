//! `/work-orders` and `/work-orders/:id`, and the form that opens a work order (on a vehicle's
//! page).

use crate::api::work_orders::{
    AssignWorkOrder, CompleteWorkOrder, CreateWorkOrder, SetWorkOrderStatus, get_work_order,
    list_work_orders, parse_new,
};
use crate::components::{
    ActionButton, ActionError, ActionReads, ColumnHeads, Field, FieldMessage, FormAlert, Pager,
    ValidatedForm, form_error, or_alert,
};
use crate::error::AppError;
use crate::model::{WorkOrderDetail, WorkOrderList, WorkOrderRow};
use domain::authz::Permission;
use domain::fleet::Priority;
use domain::fleet::WorkOrderStatus;
use domain::ids::{VehicleId, WorkOrderId};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn WorkOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let orders = Resource::new(
        move || {
            (
                param("status"),
                param("team"),
                param("assignee"),
                param("after"),
            )
        },
        |(s, t, a, after)| {
            list_work_orders(
                s,
                t.and_then(|t| t.parse().ok()),
                a.and_then(|a| a.parse().ok()),
                after,
            )
        },
    );
    view! {
        <h1>"Work orders"</h1>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading work orders…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(
                    orders.await,
                    move |list| {
                        view! {
                            <Filters list=list.clone() />
                            <WorkOrderTable rows=list.rows />
                            <Pager path="/work-orders" next=list.next />
                        }
                    },
                )
            })}
        </Suspense>
    }
}

/// Status, team and assignee filters, as a plain GET form (works before the wasm loads).
#[component]
fn Filters(list: WorkOrderList) -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let (status, team, assignee) = (param("status"), param("team"), param("assignee"));
    view! {
        <form method="get" class="filters">
            <label for="status-filter">"Status"</label>
            <select id="status-filter" name="status">
                <option value="">"Any"</option>
                {WorkOrderStatus::ALL
                    .into_iter()
                    .map(|s| {
                        view! {
                            <option value=s.key() selected=status == s.key()>
                                {s.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label for="team-filter">"Team"</label>
            <select id="team-filter" name="team">
                <option value="">"Any"</option>
                {list
                    .teams
                    .into_iter()
                    .map(|t| {
                        let v = t.id.to_string();
                        view! {
                            <option value=v.clone() selected=team == v>
                                {t.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label for="assignee-filter">"Assignee"</label>
            <select
                id="assignee-filter"
                name="assignee"
                disabled=list.assignees_too_many
                aria-describedby="assignee-hint"
            >
                <option value="">"Anyone"</option>
                {list
                    .assignees
                    .into_iter()
                    .map(|u| {
                        let v = u.id.to_string();
                        view! {
                            <option value=v.clone() selected=assignee == v>
                                {u.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {list
                .assignees_too_many
                .then(|| {
                    view! {
                        <span id="assignee-hint" class="muted">
                            "Choose a team first to filter by assignee."
                        </span>
                    }
                })}
            <button type="submit" class="secondary">
                "Filter"
            </button>
        </form>
    }
}

#[component]
pub fn WorkOrderTable(rows: Vec<WorkOrderRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No work orders."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <ColumnHeads names=&[
                    "Work order",
                    "Vehicle",
                    "Team",
                    "Status",
                    "Priority",
                    "Assignee",
                    "Due",
                ] />
                <tbody>
                    {rows
                        .into_iter()
                        .map(|w| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!("/work-orders/{}", w.id)>{w.title}</a>
                                    </th>
                                    <td>{w.vehicle}</td>
                                    <td>{w.team}</td>
                                    <td>
                                        <span class=format!(
                                            "status status-{}",
                                            w.status.key(),
                                        )>{w.status.label()}</span>
                                    </td>
                                    <td>{w.priority.key()}</td>
                                    <td>{w.assignee.unwrap_or_else(|| "—".into())}</td>
                                    <td>{w.due_on.map(|d| d.to_string()).unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn WorkOrderPage() -> impl IntoView {
    let id = crate::routes::use_id_param();
    let complete = ServerAction::<CompleteWorkOrder>::new();
    let status = ServerAction::<SetWorkOrderStatus>::new();
    let assign = ServerAction::<AssignWorkOrder>::new();
    let reads = (
        ActionReads::of(complete),
        ActionReads::of(status),
        ActionReads::of(assign),
    );
    // Refetch after every action, so the page always shows the stored state and fresh decisions.
    let order = Resource::new(
        move || {
            (
                id(),
                reads.0.version(),
                reads.1.version(),
                reads.2.version(),
            )
        },
        |(id, ..)| get_work_order(WorkOrderId(id)),
    );
    let error = Signal::derive(move || {
        reads
            .0
            .error()
            .or_else(|| reads.1.error())
            .or_else(|| reads.2.error())
    });
    let busy = Signal::derive(move || reads.0.pending() || reads.1.pending() || reads.2.pending());
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the work order…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(order.await, |w| view! { <WorkOrderView w complete status assign busy /> })
            })}
        </Suspense>
        <ActionError error />
    }
}

#[component]
fn WorkOrderView(
    w: WorkOrderDetail,
    complete: ServerAction<CompleteWorkOrder>,
    status: ServerAction<SetWorkOrderStatus>,
    assign: ServerAction<AssignWorkOrder>,
    busy: Signal<bool>,
) -> impl IntoView {
    let (id, version) = (w.id, w.version);
    let closed = w.status.is_closed();
    let decide = |p| w.actions.get(p).cloned();
    let set_status = move |s: WorkOrderStatus| {
        status.dispatch(SetWorkOrderStatus {
            id,
            status: s.key().to_owned(),
            version,
        });
    };
    let assign_decision = decide(Permission::WorkOrdersAssign);
    let can_assign = assign_decision.as_ref().is_some_and(|d| d.is_allowed()) && !closed;
    let assign_why = assign_decision
        .as_ref()
        .and_then(|d| d.denial())
        .map(|d| d.describe());
    let current_assignee = w.assignee.as_ref().map(|a| a.id);
    provide_context(crate::components::WhyAbout {
        param: "work_order",
        id: id.0,
        team: w.team.id,
    });
    view! {
        <p class="breadcrumb">
            <a href="/work-orders">"Work orders"</a>
        </p>
        <h1>{w.title.clone()}</h1>
        <dl class="facts">
            <dt>"Status"</dt>
            <dd>
                <span class=format!("status status-{}", w.status.key())>{w.status.label()}</span>
            </dd>
            <dt>"Vehicle"</dt>
            <dd>
                <a href=format!("/vehicles/{}", w.vehicle_id)>{w.vehicle.clone()}</a>
            </dd>
            <dt>"Team"</dt>
            <dd>{w.team.name.clone()}</dd>
            <dt>"Priority"</dt>
            <dd>{w.priority.key()}</dd>
            <dt>"Assignee"</dt>
            <dd>
                {w.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| "Unassigned".into())}
            </dd>
            <dt>"Due"</dt>
            <dd>{w.due_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}</dd>
        </dl>
        <p class="description">{w.description.clone()}</p>
        {(!closed)
            .then(|| {
                view! {
                    <section class="actions" aria-label="Actions">
                        <ActionButton
                            label="Start work"
                            decision=decide(Permission::WorkOrdersUpdate)
                            busy=Signal::derive(move || {
                                busy.try_get().unwrap_or(false)
                                    || w.status == WorkOrderStatus::InProgress
                            })
                            on_click=move |_| set_status(WorkOrderStatus::InProgress)
                        />
                        <ActionButton
                            label="Put on hold"
                            decision=decide(Permission::WorkOrdersUpdate)
                            busy=Signal::derive(move || {
                                busy.try_get().unwrap_or(false)
                                    || w.status == WorkOrderStatus::OnHold
                            })
                            on_click=move |_| set_status(WorkOrderStatus::OnHold)
                        />
                        <ActionButton
                            label="Complete"
                            decision=decide(Permission::WorkOrdersComplete)
                            busy=busy
                            on_click=move |_| {
                                complete.dispatch(CompleteWorkOrder { id, version });
                            }
                        />
                    </section>
                    <section class="assign" aria-label="Assignment">
                        <label for="assignee">"Assign to"</label>
                        <select
                            id="assignee"
                            disabled=!can_assign
                            aria-describedby=assign_why.as_ref().map(|_| "why-assign")
                            title=assign_why.clone()
                            on:change=move |ev| {
                                let assignee = event_target_value(&ev).parse::<i32>().ok();
                                assign
                                    .dispatch(AssignWorkOrder {
                                        id,
                                        assignee,
                                        version,
                                    });
                            }
                        >
                            <option value="" selected=current_assignee.is_none()>
                                "Unassigned"
                            </option>
                            {w
                                .assignable
                                .iter()
                                .map(|u| {
                                    let selected = current_assignee == Some(u.id);
                                    view! {
                                        <option value=u.id.to_string() selected=selected>
                                            {u.name.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        {assign_why
                            .map(|w| {
                                view! {
                                    <span id="why-assign" class="why">
                                        {w}
                                    </span>
                                }
                            })}
                    </section>
                }
            })}
    }
}

fn check_order(i: &CreateWorkOrder) -> Result<(), AppError> {
    parse_new(&i.title, &i.description, &i.priority, &i.due_on).map(drop)
}

/// The vehicle page's "New work order" form.
#[component]
pub fn NewWorkOrder(
    vehicle: VehicleId,
    decision: Option<domain::authz::Decision>,
    new_order: ServerAction<CreateWorkOrder>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(new_order, invalid);
    let reads = ActionReads::of(new_order);
    let created = move || reads.ok();
    view! {
        <section class="panel" aria-label="New work order">
            <ActionButton
                label="New work order"
                decision
                on_click=move |_| open.update(|o| *o = !*o)
            />
            {move || {
                created()
                    .map(|id| {
                        view! {
                            <p role="status" class="ok">
                                "Work order opened. "
                                <a href=format!("/work-orders/{id}")>"Open it"</a>
                            </p>
                        }
                    })
            }}
            <Show when=move || open.try_get().unwrap_or_default()>
                <ValidatedForm action=new_order check=check_order invalid>
                    <input type="hidden" name="vehicle" value=vehicle.to_string() />
                    <div class="form-grid">
                        <Field label="Title" name="title" error />
                        <div class="field">
                            <label for="f-priority">"Priority"</label>
                            <select id="f-priority" name="priority">
                                {Priority::ALL
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <option value=p.key() selected=p == Priority::Normal>
                                                {p.key()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                        <Field label="Due" name="due_on" kind="date" error />
                    </div>
                    <div class="field">
                        <label for="f-description">"Description"</label>
                        <textarea id="f-description" name="description" rows="3"></textarea>
                        <FieldMessage message=Signal::derive(move || {
                            error
                                .try_get()
                                .unwrap_or_default()
                                .and_then(|e| e.field_message("description").map(str::to_owned))
                        }) />
                    </div>
                    <button type="submit" class="primary">
                        "Open work order"
                    </button>
                </ValidatedForm>
            </Show>
            <FormAlert error />
        </section>
    }
}
