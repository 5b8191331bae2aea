//! `/vehicles`: the organisation's vehicles.

use crate::api::vehicles::{get_vehicle, list_vehicles};
use crate::components::or_alert;
use crate::model::{VehicleDetail, VehicleRow};
use crate::pages::work_orders::WorkOrderTable;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn VehiclesPage() -> impl IntoView {
    let vehicles = Resource::new(|| (), |_| list_vehicles());
    view! {
        <h1>"Vehicles"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading vehicles…"</p> }>
            {move || Suspend::new(async move {
                or_alert(vehicles.await, |rows| view! { <VehicleTable rows /> })
            })}
        </Suspense>
    }
}

#[component]
fn VehicleTable(rows: Vec<VehicleRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No vehicles yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"Vehicles of your organisation"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Make and model"</th>
                        <th scope="col">"Year"</th>
                        <th scope="col">"Plate"</th>
                        <th scope="col">"VIN"</th>
                        <th scope="col">"Team"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|v| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!("/vehicles/{}", v.id)>{v.name}</a>
                                    </th>
                                    <td>{format!("{} {}", v.make, v.model)}</td>
                                    <td>{v.year}</td>
                                    <td>{v.plate}</td>
                                    <td class="mono">{v.vin}</td>
                                    <td>{v.team}</td>
                                    <td>
                                        <span class=format!("status status-{}", v.status.key())>
                                            {v.status.label()}
                                        </span>
                                    </td>
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

/// `/vehicles/:id`: one vehicle and its work orders.
#[component]
pub fn VehiclePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let vehicle = Resource::new(id, get_vehicle);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the vehicle…"</p> }>
            {move || Suspend::new(async move { or_alert(vehicle.await, |d| view! { <VehicleView d /> }) })}
        </Suspense>
    }
}

#[component]
fn VehicleView(d: VehicleDetail) -> impl IntoView {
    let v = d.vehicle;
    view! {
        <p class="breadcrumb"><a href="/vehicles">"Vehicles"</a></p>
        <h1>{v.name}</h1>
        <dl class="facts">
            <dt>"Make and model"</dt>
            <dd>{format!("{} {} ({})", v.make, v.model, v.year)}</dd>
            <dt>"Plate"</dt>
            <dd>{v.plate}</dd>
            <dt>"VIN"</dt>
            <dd class="mono">{v.vin}</dd>
            <dt>"Team"</dt>
            <dd>{v.team}</dd>
            <dt>"Status"</dt>
            <dd><span class=format!("status status-{}", v.status.key())>{v.status.label()}</span></dd>
            <dt>"Odometer"</dt>
            <dd>{format!("{} mi", d.odometer)}</dd>
        </dl>
        <h2>"Work orders"</h2>
        <WorkOrderTable rows=d.work_orders />
    }
}
