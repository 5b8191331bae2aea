//! `/my-access`: what the effective user may do, per team, and where each permission comes from.

use crate::api::teams::get_my_access;
use crate::components::or_alert;
use crate::model::MyAccess;
use leptos::prelude::*;

#[component]
pub fn MyAccessPage() -> impl IntoView {
    let access = Resource::new(|| (), |_| get_my_access());
    view! {
        <h1>"My access"</h1>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(access.await, |a| view! { <AccessView a /> })
            })}
        </Suspense>
    }
}

#[component]
fn AccessView(a: MyAccess) -> impl IntoView {
    let member_of = a
        .memberships
        .iter()
        .map(|t| t.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <p>
            "You are a member of: "
            <strong>{if member_of.is_empty() { "no team".to_owned() } else { member_of }}</strong>
        </p>
        {a.teams.is_empty().then(|| view! { <p class="muted">"You hold no permission yet."</p> })}
        {a
            .teams
            .into_iter()
            .map(|t| {
                view! {
                    <section class="access-team" aria-label=t.team.name.clone()>
                        <h2 class=crate::components::depth_class(
                            "team-heading",
                            t.depth,
                        )>{t.team.name.clone()}</h2>
                        <ul>
                            {t
                                .permissions
                                .into_iter()
                                .map(|(p, sources)| {
                                    let from = sources
                                        .iter()
                                        .map(|s| s.name.clone())
                                        .collect::<Vec<_>>()
                                        .join(", ");
                                    view! {
                                        <li>
                                            <span class="perm-label">{p.label()}</span>
                                            " "
                                            <code>{p.key()}</code>
                                            <span class="muted">{format!(" — from {from}")}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })
            .collect_view()}
    }
}
