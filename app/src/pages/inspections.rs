//! Inspections, as a vehicle's page shows them: the list and the checklist form.

use crate::api::inspections::SubmitInspection;
use crate::components::{ActionButton, ActionReads, FieldMessage, FormAlert};
use crate::error::AppError;
use crate::model::{CHECKLIST, ChecklistItem, InspectionRow};
use domain::ids::VehicleId;
use leptos::prelude::*;

/// A vehicle's inspections, newest first.
#[component]
pub fn InspectionList(rows: Vec<InspectionRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No inspections yet."</p> }.into_any();
    }
    view! {
        <ul class="inspections">
            {rows
                .into_iter()
                .map(|r| {
                    let failed: Vec<String> = r
                        .items
                        .iter()
                        .filter(|i| !i.ok)
                        .map(|i| format!("{}: {}", i.item, i.note))
                        .collect();
                    let (passed_class, passed_label) = if r.passed {
                        ("status status-completed", "Passed")
                    } else {
                        ("status status-cancelled", "Failed")
                    };
                    view! {
                        <li>
                            <span class=passed_class>{passed_label}</span>
                            {format!(
                                " {} by {}",
                                r.submitted_at,
                                r.inspector.unwrap_or_else(|| "someone".into()),
                            )}
                            {(!failed.is_empty())
                                .then(|| {
                                    view! {
                                        <span class="muted">
                                            {format!(" — {}", failed.join("; "))}
                                        </span>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The vehicle page's inspection checklist.
#[component]
pub fn InspectionForm(
    vehicle: VehicleId,
    decision: Option<domain::authz::Decision>,
    /// Whether failures may open a work order (`work_orders.create`); offered only then.
    can_open: bool,
    inspect: ServerAction<SubmitInspection>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let items: Vec<(RwSignal<bool>, RwSignal<String>)> = CHECKLIST
        .iter()
        .map(|_| (RwSignal::new(true), RwSignal::new(String::new())))
        .collect();
    let open_work_order = RwSignal::new(can_open);
    let invalid = RwSignal::new(None::<AppError>);
    let inspect_reads = ActionReads::of(inspect);
    let error = Signal::derive(move || {
        invalid
            .try_get()
            .flatten()
            .or_else(|| inspect_reads.error())
    });
    let submitted = move || inspect_reads.ok();
    let collect = {
        let items = items.clone();
        move || -> Vec<ChecklistItem> {
            CHECKLIST
                .iter()
                .zip(&items)
                .map(|(name, (ok, note))| ChecklistItem {
                    item: (*name).into(),
                    ok: ok.get_untracked(),
                    note: note.get_untracked(),
                })
                .collect()
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let items = collect();
        match crate::api::inspections::validate_checklist(&items) {
            Ok(items) => {
                invalid.set(None);
                inspect.dispatch(SubmitInspection {
                    vehicle,
                    items,
                    open_work_order: open_work_order.get_untracked(),
                });
            }
            Err(e) => invalid.set(Some(e)),
        }
    };
    view! {
        <section class="panel" aria-label="Inspection">
            <ActionButton
                label="Inspect vehicle"
                decision
                on_click=move |_| open.update(|o| *o = !*o)
            />
            {move || {
                submitted()
                    .map(|wo| {
                        view! {
                            <p role="status" class="ok">
                                "Inspection recorded."
                                {wo
                                    .map(|id| {
                                        view! {
                                            " "
                                            <a href=format!(
                                                "/work-orders/{id}",
                                            )>"Work order opened for the failures"</a>
                                        }
                                    })}
                            </p>
                        }
                    })
            }}
            <Show when=move || open.try_get().unwrap_or_default()>
                <form on:submit=on_submit.clone() class="checklist">
                    {CHECKLIST
                        .iter()
                        .zip(items.clone())
                        .map(|(name, (ok, note))| {
                            let field = format!("note-{name}");
                            let message = Signal::derive({
                                let field = field.clone();
                                move || {
                                    error
                                        .try_get()
                                        .unwrap_or_default()
                                        .and_then(|e| e.field_message(&field).map(str::to_owned))
                                }
                            });
                            view! {
                                <fieldset class="check-item">
                                    <legend>{*name}</legend>
                                    <label>
                                        <input
                                            type="checkbox"
                                            prop:checked=move || ok.try_get().unwrap_or_default()
                                            on:change=move |ev| ok.set(event_target_checked(&ev))
                                        />
                                        " OK"
                                    </label>
                                    <input
                                        type="text"
                                        aria-label=format!("{name} note")
                                        placeholder="Note (required when not OK)"
                                        prop:value=move || note.try_get().unwrap_or_default()
                                        on:input=move |ev| note.set(event_target_value(&ev))
                                    />
                                    <FieldMessage message />
                                </fieldset>
                            }
                        })
                        .collect_view()}
                    {can_open
                        .then(|| {
                            view! {
                                <label class="inline">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || {
                                            open_work_order.try_get().unwrap_or_default()
                                        }
                                        on:change=move |ev| {
                                            open_work_order.set(event_target_checked(&ev))
                                        }
                                    />
                                    " Open a work order for failed items"
                                </label>
                            }
                        })}
                    <button type="submit" class="primary">
                        "Submit inspection"
                    </button>
                </form>
            </Show>
            <FormAlert error />
        </section>
    }
}
