//! `/teams/:id`: a team's members; removing needs `members.manage` on it, adding also every
//! permission the team grants (no escalation).

use crate::api::teams::{AddMember, RemoveMember, team_members};
use crate::components::{ActionButton, ActionError, ActionReads, ReasonButton, or_alert};
use crate::model::TeamMembers;
use leptos::prelude::*;

#[component]
pub fn TeamPage() -> impl IntoView {
    let id = crate::routes::use_id_param();
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let reads = (ActionReads::of(add), ActionReads::of(remove));
    let data = Resource::new(
        move || (id(), reads.0.version(), reads.1.version()),
        |(id, ..)| team_members(id),
    );
    let error = Signal::derive(move || reads.0.error().or_else(|| reads.1.error()));
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the team…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(data.await, |t| view! { <TeamView t add remove /> })
            })}
        </Suspense>
        <ActionError error />
    }
}

#[component]
fn TeamView(
    t: TeamMembers,
    add: ServerAction<AddMember>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let team = t.team.id;
    let chosen = RwSignal::new(t.candidates.first().map(|c| c.id));
    let manage = t.manage.clone();
    view! {
        <p class="breadcrumb">
            <a href="/teams">"Teams"</a>
        </p>
        <h1>{t.team.name.clone()}</h1>
        {t
            .parent
            .map(|p| {
                view! {
                    <p class="muted">"Part of " <a href=format!("/teams/{}", p.id)>{p.name}</a></p>
                }
            })}
        <h2>"Members"</h2>
        {t
            .members
            .is_empty()
            .then(|| view! { <p class="muted">"Nobody is a member of this team yet."</p> })}
        <ul class="members">
            {t
                .members
                .into_iter()
                .map(|m| {
                    let user = m.id;
                    let decision = Some(manage.clone());
                    view! {
                        <li>
                            <span>
                                <strong>{m.name.clone()}</strong>
                                {format!(" · {} · {}", m.role.label(), m.email)}
                            </span>
                            <ActionButton
                                label="Remove"
                                decision
                                on_click=move |_| {
                                    remove.dispatch(RemoveMember { team, user });
                                }
                            />
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {match t.add_locked {
            Some(refusal) => {
                Some(
                    // Adding here would need what the viewer lacks (members.manage, or a permission
                    // the team grants): the control stays visible, greyed, with the reason.
                    view! {
                        <section class="assign" aria-label="Add a member">
                            <ReasonButton
                                label="Add"
                                why=Some(refusal.to_string())
                                on_click=|_| {}
                            />
                        </section>
                    }
                        .into_any(),
                )
            }
            None => {
                (!t.candidates.is_empty())
                    .then(|| {
                        view! {
                            <section class="assign" aria-label="Add a member">
                                <label for="new-member">"Add member"</label>
                                <select
                                    id="new-member"
                                    on:change=move |ev| {
                                        chosen.set(event_target_value(&ev).parse().ok())
                                    }
                                >
                                    {t
                                        .candidates
                                        .iter()
                                        .map(|c| {
                                            view! {
                                                <option value=c.id.to_string()>{c.name.clone()}</option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                                <button
                                    type="button"
                                    class="secondary"
                                    on:click=move |_| {
                                        if let Some(user) = chosen.get_untracked() {
                                            add.dispatch(AddMember { team, user });
                                        }
                                    }
                                >
                                    "Add"
                                </button>
                            </section>
                        }
                            .into_any()
                    })
            }
        }}
    }
}
