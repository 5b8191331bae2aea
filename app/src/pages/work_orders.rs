//! `/work-orders` and `/work-orders/:id`.

use crate::api::work_orders::{
    AssignWorkOrder, CompleteWorkOrder, SetWorkOrderStatus, get_work_order, list_work_orders,
};
use crate::authz::Permission;
use crate::components::{ActionButton, ActionError, or_alert};
use crate::model::{WorkOrderDetail, WorkOrderRow, WorkOrderStatus};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn WorkOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || query.read().get("status");
    let orders = Resource::new(status, |s| list_work_orders(s, None, None));
    view! {
        <h1>"Work orders"</h1>
        <form method="get" class="filters">
            <label for="status-filter">"Status"</label>
            <select id="status-filter" name="status" onchange="this.form.submit()">
                <option value="">"Any"</option>
                {WorkOrderStatus::ALL
                    .into_iter()
                    .map(|s| {
                        view! {
                            <option value=s.key() selected=move || status().as_deref() == Some(s.key())>
                                {s.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <noscript><button type="submit" class="secondary">"Filter"</button></noscript>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Loading work orders…"</p> }>
            {move || Suspend::new(async move { or_alert(orders.await, |rows| view! { <WorkOrderTable rows /> }) })}
        </Suspense>
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
                <thead>
                    <tr>
                        <th scope="col">"Work order"</th>
                        <th scope="col">"Vehicle"</th>
                        <th scope="col">"Team"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Priority"</th>
                        <th scope="col">"Assignee"</th>
                        <th scope="col">"Due"</th>
                    </tr>
                </thead>
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
                                        <span class=format!("status status-{}", w.status.key())>{w.status.label()}</span>
                                    </td>
                                    <td>{w.priority}</td>
                                    <td>{w.assignee.unwrap_or_else(|| "—".into())}</td>
                                    <td>{w.due_on.unwrap_or_default()}</td>
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
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let complete = ServerAction::<CompleteWorkOrder>::new();
    let status = ServerAction::<SetWorkOrderStatus>::new();
    let assign = ServerAction::<AssignWorkOrder>::new();
    // Refetch after every action, so the page always shows the stored state and fresh decisions.
    let order = Resource::new(
        move || {
            (
                id(),
                complete.version().get(),
                status.version().get(),
                assign.version().get(),
            )
        },
        |(id, ..)| get_work_order(id),
    );
    let error = Signal::derive(move || {
        [
            complete.value().get().and_then(Result::err),
            status.value().get().and_then(Result::err),
            assign.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    });
    let busy = Signal::derive(move || {
        complete.pending().get() || status.pending().get() || assign.pending().get()
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the work order…"</p> }>
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
    view! {
        <p class="breadcrumb"><a href="/work-orders">"Work orders"</a></p>
        <h1>{w.title.clone()}</h1>
        <dl class="facts">
            <dt>"Status"</dt>
            <dd><span class=format!("status status-{}", w.status.key())>{w.status.label()}</span></dd>
            <dt>"Vehicle"</dt>
            <dd><a href=format!("/vehicles/{}", w.vehicle_id)>{w.vehicle.clone()}</a></dd>
            <dt>"Team"</dt>
            <dd>{w.team.name.clone()}</dd>
            <dt>"Priority"</dt>
            <dd>{w.priority.clone()}</dd>
            <dt>"Assignee"</dt>
            <dd>{w.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| "Unassigned".into())}</dd>
            <dt>"Due"</dt>
            <dd>{w.due_on.clone().unwrap_or_else(|| "—".into())}</dd>
        </dl>
        <p class="description">{w.description.clone()}</p>
        {(!closed).then(|| view! {
            <section class="actions" aria-label="Actions">
                <ActionButton
                    label="Start work"
                    decision=decide(Permission::WorkOrdersUpdate)
                    busy=Signal::derive(move || busy.get() || w.status == WorkOrderStatus::InProgress)
                    on_click=move |_| set_status(WorkOrderStatus::InProgress)
                />
                <ActionButton
                    label="Put on hold"
                    decision=decide(Permission::WorkOrdersUpdate)
                    busy=Signal::derive(move || busy.get() || w.status == WorkOrderStatus::OnHold)
                    on_click=move |_| set_status(WorkOrderStatus::OnHold)
                />
                <ActionButton
                    label="Complete"
                    decision=decide(Permission::WorkOrdersComplete)
                    busy=busy
                    on_click=move |_| { complete.dispatch(CompleteWorkOrder { id, version }); }
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
                        assign.dispatch(AssignWorkOrder { id, assignee, version });
                    }
                >
                    <option value="" selected=current_assignee.is_none()>"Unassigned"</option>
                    {w.assignable.iter().map(|u| {
                        let selected = current_assignee == Some(u.id);
                        view! { <option value=u.id.to_string() selected=selected>{u.name.clone()}</option> }
                    }).collect_view()}
                </select>
                {assign_why.map(|w| view! { <span id="why-assign" class="why">{w}</span> })}
            </section>
        })}
    }
}
