//! `/people`: the organisation's people the viewer can see, searchable and paged. Deactivating
//! (confirmed with **Confirm deactivation**), reactivating and changing a role are greyed out,
//! with the reason, where the viewer lacks the permission on one of the person's teams.

use crate::api::people::{ChangeRole, DeactivateUser, ReactivateUser, list_people};
use crate::components::{ActionError, ActionReads, ColumnHeads, Pager, ReasonButton, or_alert};
use crate::model::{PeoplePage, PersonRow};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[derive(Clone, Copy)]
struct Actions {
    deactivate: ServerAction<DeactivateUser>,
    reactivate: ServerAction<ReactivateUser>,
    role: ServerAction<ChangeRole>,
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let actions = Actions {
        deactivate: ServerAction::new(),
        reactivate: ServerAction::new(),
        role: ServerAction::new(),
    };
    let reads = (
        ActionReads::of(actions.deactivate),
        ActionReads::of(actions.reactivate),
        ActionReads::of(actions.role),
    );
    let people = Resource::new(
        move || {
            (
                param("q"),
                param("after"),
                reads.0.version(),
                reads.1.version(),
                reads.2.version(),
            )
        },
        |(q, after, ..)| list_people(q, after),
    );
    let error = Signal::derive(move || {
        reads
            .0
            .error()
            .or_else(|| reads.1.error())
            .or_else(|| reads.2.error())
    });
    view! {
        <h1>"People"</h1>
        <form method="get" class="filters">
            <label for="people-q">"Search people"</label>
            <input id="people-q" name="q" type="search" value=param("q").unwrap_or_default() />
            <button type="submit" class="secondary">
                "Search"
            </button>
        </form>
        <ActionError error />
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading people…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(people.await, |page| view! { <PeopleTable page actions /> })
            })}
        </Suspense>
    }
}

#[component]
fn PeopleTable(page: PeoplePage, actions: Actions) -> impl IntoView {
    let empty = page.rows.is_empty();
    view! {
        <div class="table-wrap">
            <table>
                <ColumnHeads names=&[
                    "Name",
                    "E-mail",
                    "Role",
                    "Teams",
                    "Status",
                    "Last sign-in",
                    "Actions",
                ] />
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|p| view! { <PersonLine p actions /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {empty.then(|| view! { <p class="muted">"Nobody matches."</p> })}
        <Pager path="/people" next=page.next />
    }
}

#[component]
fn PersonLine(p: PersonRow, actions: Actions) -> impl IntoView {
    let id = p.id;
    let key = format!("-{id}");
    let confirming = RwSignal::new(false);
    let deactivate_why = p.deactivate.clone().err().map(|r| r.to_string());
    let role_why = p.change_role.clone().err().map(|r| r.to_string());
    let teams = p
        .teams
        .iter()
        .map(|t| t.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let role_label = format!("Role of {}", p.name);
    let current_role = p.role;
    let active = p.active;
    view! {
        <tr>
            <th scope="row">{p.name.clone()}</th>
            <td>{p.email.clone()}</td>
            <td>
                <select
                    aria-label=role_label
                    disabled=role_why.is_some()
                    title=role_why.clone()
                    on:change=move |ev| {
                        actions
                            .role
                            .dispatch(ChangeRole {
                                user: id,
                                role: event_target_value(&ev),
                            });
                    }
                >
                    {crate::api::invitations::INVITABLE
                        .into_iter()
                        .chain(
                            (!crate::api::invitations::INVITABLE.contains(&current_role))
                                .then_some(current_role),
                        )
                        .map(|r| {
                            view! {
                                <option value=r.key() selected=r == current_role>
                                    {r.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </td>
            <td>{if teams.is_empty() { "—".to_owned() } else { teams }}</td>
            <td>{if active { "Active" } else { "Deactivated" }}</td>
            <td>{p.last_sign_in.clone().unwrap_or_else(|| "never".to_owned())}</td>
            <td class="actions">
                {if active {
                    view! {
                        <Show
                            when=move || confirming.get()
                            fallback={
                                let why = deactivate_why.clone();
                                let key = key.clone();
                                move || {
                                    view! {
                                        <ReasonButton
                                            label="Deactivate"
                                            why=why.clone()
                                            key=key.clone()
                                            on_click=move |_| confirming.set(true)
                                        />
                                    }
                                }
                            }
                        >
                            <span class="confirm">
                                <span class="muted">"Their sessions end at once."</span>
                                <button
                                    type="button"
                                    class="danger"
                                    on:click=move |_| {
                                        confirming.set(false);
                                        actions.deactivate.dispatch(DeactivateUser { user: id });
                                    }
                                >
                                    "Confirm deactivation"
                                </button>
                                <button
                                    type="button"
                                    class="secondary"
                                    on:click=move |_| confirming.set(false)
                                >
                                    "Cancel"
                                </button>
                            </span>
                        </Show>
                    }
                        .into_any()
                } else {
                    view! {
                        <ReasonButton
                            label="Reactivate"
                            why=deactivate_why.clone()
                            key=key.clone()
                            on_click=move |_| {
                                actions.reactivate.dispatch(ReactivateUser { user: id });
                            }
                        />
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}
