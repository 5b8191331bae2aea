//! `/vehicles`: the organisation's vehicles.

use crate::api::vehicles::list_vehicles;
use crate::model::VehicleRow;
use leptos::prelude::*;

#[component]
pub fn VehiclesPage() -> impl IntoView {
    let vehicles = Resource::new(|| (), |_| list_vehicles());
    view! {
        <h1>"Vehicles"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading vehicles…"</p> }>
            {move || Suspend::new(async move {
                match vehicles.await {
                    Ok(rows) => view! { <VehicleTable rows /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="alert">{e.to_string()}</p> }.into_any(),
                }
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
                                    <th scope="row">{v.name}</th>
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
