//! `/vehicles` (list, add) and `/vehicles/:id` (details, edit, retire, new work order,
//! inspections).

use crate::api::inspections::SubmitInspection;
use crate::api::vehicles::{
    CreateVehicle, EditVehicle, RetireVehicle, get_vehicle, list_vehicles, parse_vehicle,
};
use crate::api::work_orders::CreateWorkOrder;
use crate::components::{
    ActionButton, ActionError, ActionReads, ColumnHeads, Field, FormAlert, Pager, ValidatedForm,
    form_error, or_alert,
};
use crate::error::AppError;
use crate::model::{VehicleDetail, VehicleList, VehicleRow};
use crate::pages::inspections::{InspectionForm, InspectionList};
use crate::pages::work_orders::{NewWorkOrder, WorkOrderTable};
use domain::authz::Permission;
use domain::ids::VehicleId;
use leptos::prelude::*;

#[component]
pub fn VehiclesPage() -> impl IntoView {
    let create = ServerAction::<CreateVehicle>::new();
    let reads = ActionReads::of(create);
    let query = leptos_router::hooks::use_query_map();
    let after = move || query.read().get("after").filter(|a| !a.is_empty());
    let vehicles = Resource::new(
        move || (reads.version(), after()),
        |(_, a)| list_vehicles(a),
    );
    view! {
        <h1>"Vehicles"</h1>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading vehicles…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(vehicles.await, |list| view! { <VehicleListView list create /> })
            })}
        </Suspense>
    }
}

#[component]
fn VehicleListView(list: VehicleList, create: ServerAction<CreateVehicle>) -> impl IntoView {
    view! {
        <VehicleTable rows=list.rows />
        <Pager path="/vehicles" next=list.next />
        <AddVehicle teams=list.create_teams decision=list.create create />
    }
}

fn check_vehicle(i: &CreateVehicle) -> Result<(), AppError> {
    parse_vehicle(
        &i.name,
        &i.vin,
        &i.make,
        &i.model,
        &i.year,
        &i.plate,
        &i.odometer,
    )
    .map(drop)
}

#[component]
fn AddVehicle(
    teams: Vec<domain::authz::TeamRef>,
    decision: domain::authz::Decision,
    create: ServerAction<CreateVehicle>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let teams = StoredValue::new(teams);
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(create, invalid);
    let reads = ActionReads::of(create);
    let added = move || reads.ok();
    view! {
        <section class="panel" aria-label="Add a vehicle">
            <ActionButton
                label="Add vehicle"
                decision=Some(decision)
                on_click=move |_| open.update(|o| *o = !*o)
            />
            {move || {
                added()
                    .map(|id| {
                        view! {
                            <p role="status" class="ok">
                                "Vehicle added. "
                                <a href=format!("/vehicles/{id}")>"Open it"</a>
                            </p>
                        }
                    })
            }}
            <Show when=move || open.try_get().unwrap_or_default()>
                <ValidatedForm action=create check=check_vehicle invalid>
                    <div class="field">
                        <label for="f-team">"Team"</label>
                        <select id="f-team" name="team">
                            {teams.with_value(|ts| team_options(ts))}
                        </select>
                    </div>
                    <VehicleFields error values=None />
                    <input type="hidden" name="odometer" value="0" />
                    <button type="submit" class="primary">
                        "Save vehicle"
                    </button>
                </ValidatedForm>
            </Show>
            <FormAlert error />
        </section>
    }
}

/// The vehicle form's fields (shared by add and edit).
#[component]
fn VehicleFields(error: Signal<Option<AppError>>, values: Option<VehicleRow>) -> impl IntoView {
    let v = |f: fn(&VehicleRow) -> String| values.as_ref().map(f).unwrap_or_default();
    view! {
        <div class="form-grid">
            <Field label="Name" name="name" value=v(|r| r.name.clone()) error />
            <Field label="VIN" name="vin" value=v(|r| r.vin.to_string()) error />
            <Field label="Make" name="make" value=v(|r| r.make.clone()) error />
            <Field label="Model" name="model" value=v(|r| r.model.clone()) error />
            <Field label="Year" name="year" kind="number" value=v(|r| r.year.to_string()) error />
            <Field label="Plate" name="plate" value=v(|r| r.plate.clone()) error />
        </div>
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
                <ColumnHeads names=&[
                    "Name",
                    "Make and model",
                    "Year",
                    "Plate",
                    "VIN",
                    "Team",
                    "Status",
                ] />
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
                                    <td class="mono">{v.vin.to_string()}</td>
                                    <td>{v.team}</td>
                                    <td>
                                        <span class=format!(
                                            "status status-{}",
                                            v.status.key(),
                                        )>{v.status.label()}</span>
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

/// `/vehicles/:id`: one vehicle and what can be done with it.
#[component]
pub fn VehiclePage() -> impl IntoView {
    let id = crate::routes::use_id_param();
    let edit = ServerAction::<EditVehicle>::new();
    let retire = ServerAction::<RetireVehicle>::new();
    let new_order = ServerAction::<CreateWorkOrder>::new();
    let inspect = ServerAction::<SubmitInspection>::new();
    let reads = (
        ActionReads::of(edit),
        ActionReads::of(retire),
        ActionReads::of(new_order),
        ActionReads::of(inspect),
    );
    let vehicle = Resource::new(
        move || {
            (
                id(),
                reads.0.version(),
                reads.1.version(),
                reads.2.version(),
                reads.3.version(),
            )
        },
        |(id, ..)| get_vehicle(VehicleId(id)),
    );
    let retire_error = Signal::derive(move || reads.1.error());
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the vehicle…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(
                    vehicle.await,
                    |d| view! { <VehicleView d edit retire new_order inspect /> },
                )
            })}
        </Suspense>
        <ActionError error=retire_error />
    }
}

#[component]
fn VehicleView(
    d: VehicleDetail,
    edit: ServerAction<EditVehicle>,
    retire: ServerAction<RetireVehicle>,
    new_order: ServerAction<CreateWorkOrder>,
    inspect: ServerAction<SubmitInspection>,
) -> impl IntoView {
    let (id, version) = (d.vehicle.id, d.version);
    let decide = |p| d.actions.get(p).cloned();
    let retired = d.vehicle.status == domain::fleet::VehicleStatus::Retired;
    let editing = RwSignal::new(false);
    let retire_reads = ActionReads::of(retire);
    let v = d.vehicle.clone();
    provide_context(crate::components::WhyAbout {
        param: "vehicle",
        id: id.0,
        team: d.team_id,
    });
    view! {
        <p class="breadcrumb">
            <a href="/vehicles">"Vehicles"</a>
        </p>
        <h1>{v.name.clone()}</h1>
        <dl class="facts">
            <dt>"Make and model"</dt>
            <dd>{format!("{} {} ({})", v.make, v.model, v.year)}</dd>
            <dt>"Plate"</dt>
            <dd>{v.plate.clone()}</dd>
            <dt>"VIN"</dt>
            <dd class="mono">{v.vin.to_string()}</dd>
            <dt>"Team"</dt>
            <dd>{v.team.clone()}</dd>
            <dt>"Status"</dt>
            <dd>
                <span class=format!("status status-{}", v.status.key())>{v.status.label()}</span>
            </dd>
            <dt>"Odometer"</dt>
            <dd>{format!("{} mi", d.odometer)}</dd>
        </dl>
        {(!retired)
            .then(|| {
                view! {
                    <section class="actions" aria-label="Actions">
                        <ActionButton
                            label="Edit vehicle"
                            decision=decide(Permission::VehiclesEdit)
                            on_click=move |_| editing.update(|e| *e = !*e)
                        />
                        <ActionButton
                            label="Retire vehicle"
                            decision=decide(Permission::VehiclesRetire)
                            busy=Signal::derive(move || retire_reads.pending())
                            on_click=move |_| {
                                retire.dispatch(RetireVehicle { id, version });
                            }
                        />
                    </section>
                }
            })}
        <Show when=move || editing.try_get().unwrap_or_default()>
            <EditForm edit id version odometer=d.odometer values=v.clone() />
        </Show>
        <h2>"Work orders"</h2>
        <WorkOrderTable rows=d.work_orders.clone() />
        <NewWorkOrder vehicle=id decision=decide(Permission::WorkOrdersCreate) new_order />
        <h2>"Inspections"</h2>
        <InspectionList rows=d.inspections.clone() />
        <InspectionForm
            vehicle=id
            decision=decide(Permission::InspectionsSubmit)
            can_open=decide(Permission::WorkOrdersCreate).is_some_and(|d| d.is_allowed())
            inspect
        />
    }
}

fn check_edit(i: &EditVehicle) -> Result<(), AppError> {
    parse_vehicle(
        &i.name,
        &i.vin,
        &i.make,
        &i.model,
        &i.year,
        &i.plate,
        &i.odometer,
    )
    .map(drop)
}

#[component]
fn EditForm(
    edit: ServerAction<EditVehicle>,
    id: VehicleId,
    version: i32,
    odometer: i32,
    values: VehicleRow,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(edit, invalid);
    view! {
        <section class="panel" aria-label="Edit the vehicle">
            <ValidatedForm action=edit check=check_edit invalid>
                <input type="hidden" name="id" value=id.to_string() />
                <input type="hidden" name="version" value=version.to_string() />
                <VehicleFields error values=Some(values) />
                <Field
                    label="Odometer"
                    name="odometer"
                    kind="number"
                    value=odometer.to_string()
                    error
                />
                <button type="submit" class="primary">
                    "Save changes"
                </button>
            </ValidatedForm>
            <FormAlert error />
        </section>
    }
}

/// The `<option>`s of a team picker.
fn team_options(teams: &[domain::authz::TeamRef]) -> impl IntoView + use<> {
    teams
        .iter()
        .map(|t| view! { <option value=t.id.to_string()>{t.name.clone()}</option> })
        .collect_view()
}
