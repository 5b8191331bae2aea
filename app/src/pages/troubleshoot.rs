//! `/troubleshoot`: "why can(not) this person do this here?" answered from the permission graph,
//! without viewing as anyone. The query string is the question (`user`, `permission`, and `team`,
//! `vehicle` or `work_order`)
//! and the URL the shareable answer: a region **Decision** (starting "Allowed" or "Denied", the
//! path, the greyed button's own sentence), for a denial a list **Fixes** (each change, its blast
//! radius, who may apply it, and **Apply** for a caller who may), and who holds it there.
//! Without a permission, what the person may do, per team. `/troubleshoot/compare` compares two
//! people, on one team or everywhere.

use crate::api::troubleshoot::{ApplyFix, compare, troubleshoot, what_can};
use crate::components::{ActionError, ActionReads, or_alert};
use crate::model::{
    AboutView, CompareAnswer, DifferenceView, FixView, TroubleshootAnswer, WhatCanAnswer,
};
use domain::authz::{Decision, Explanation, TeamRef};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A query parameter, empty counted as missing.
fn use_param() -> impl Fn(&str) -> Option<String> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move |k: &str| {
        query
            .read()
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// An id from the query string; anything else asks about something that is not found.
fn id_param(raw: Option<String>) -> Option<i32> {
    raw.map(|t| t.parse::<i32>().unwrap_or(0))
}

/// The scope a question names: `team`, `vehicle` and `work_order` ids (a vehicle or a work order
/// means its owning team).
type Scope = (Option<i32>, Option<i32>, Option<i32>);

fn scope_of(param: impl Fn(&str) -> Option<String>) -> Scope {
    (
        id_param(param("team")),
        id_param(param("vehicle")),
        id_param(param("work_order")),
    )
}

/// The scope fields of a question's form: a team id, or a vehicle's or a work order's (kept
/// when the question came with one, so asking again asks the same).
#[component]
fn ScopeInputs(
    /// Prefixes the fields' ids.
    prefix: &'static str,
    /// What an empty team means.
    empty_team: &'static str,
) -> impl IntoView {
    let param = use_param();
    let field = move |name: &'static str, label: &'static str, placeholder: &'static str| {
        let id = format!("{prefix}-{name}");
        view! {
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type="text"
                inputmode="numeric"
                placeholder=placeholder
                value=param(name).unwrap_or_default()
            />
        }
    };
    view! {
        {field("team", "Team", empty_team)}
        {field("vehicle", "Vehicle", "vehicle id (optional)")}
        {field("work_order", "Work order", "work order id (optional)")}
    }
}

/// "Boston Depot", or "work order #12 “Replace brakes” (Boston Depot)".
fn scope_words(team: &TeamRef, about: Option<&AboutView>) -> String {
    match about {
        Some(a) => format!("{} ({})", a.label, team.name),
        None => team.name.clone(),
    }
}

fn names(teams: &[TeamRef]) -> String {
    teams
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn TroubleshootPage() -> impl IntoView {
    let param = use_param();
    let apply = ServerAction::<ApplyFix>::new();
    let reads = ActionReads::of(apply);
    let question = move || (param("user"), param("permission"), scope_of(param));
    let answer = Resource::new(
        move || (question(), reads.version()),
        |((user, permission, (team, vehicle, work_order)), _)| async move {
            // Without a user, the question is about the caller (a Why? link's).
            match permission {
                Some(permission) => Some(
                    troubleshoot(
                        user.unwrap_or_default(),
                        permission,
                        team,
                        vehicle,
                        work_order,
                    )
                    .await,
                ),
                None => None,
            }
        },
    );
    let can_do = Resource::new(
        move || (param("user"), param("permission")),
        |(user, permission)| async move {
            match (user, permission) {
                (Some(user), None) => Some(what_can(user).await),
                _ => None,
            }
        },
    );
    view! {
        <h1>"Troubleshoot access"</h1>
        <p class="muted">
            "Why someone can or cannot do something on a team, and the smallest fix. "
            <a href="/troubleshoot/compare">"Compare two people"</a>
        </p>
        <form method="get" action="/troubleshoot" class="filters">
            <label for="ts-user">"User"</label>
            <input
                id="ts-user"
                name="user"
                type="email"
                placeholder="e-mail (empty: yourself)"
                value=param("user").unwrap_or_default()
            />
            <label for="ts-permission">"Permission"</label>
            <select id="ts-permission" name="permission">
                <option value="">"(everything, per team)"</option>
                {domain::authz::Permission::ALL
                    .iter()
                    .map(|p| {
                        let selected = param("permission").as_deref() == Some(p.key());
                        view! {
                            <option value=p.key() selected=selected>
                                {p.key()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <ScopeInputs prefix="ts" empty_team="team id (empty: the root)" />
            <button type="submit" class="secondary">
                "Ask"
            </button>
        </form>
        <ActionError error=Signal::derive(move || reads.error()) />
        <Suspense fallback=|| {
            view! { <p class="muted">"Working it out…"</p> }
        }>
            {move || Suspend::new(async move {
                match answer.await {
                    Some(result) => {
                        or_alert(result, move |a| view! { <Answer a apply /> }).into_any()
                    }
                    None => ().into_any(),
                }
            })}
            {move || Suspend::new(async move {
                match can_do.await {
                    Some(result) => or_alert(result, |a| view! { <CanDo a /> }).into_any(),
                    None => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Answer(a: TroubleshootAnswer, apply: ServerAction<ApplyFix>) -> impl IntoView {
    let denied = !a.explanation.decision.is_allowed();
    let subject = a.subject.clone();
    let team = a.explanation.scope.id;
    let permission = a.explanation.permission;
    view! {
        <h2>
            {format!(
                "{} · {} · {}",
                a.subject.name,
                a.explanation.permission.key(),
                scope_words(&a.explanation.scope, a.about.as_ref()),
            )}
        </h2>
        <Verdict e=a.explanation subject=a.subject.name.clone() />
        <p class="muted">"Link to this answer: " <a href=a.link.clone()>{a.link.clone()}</a></p>
        {denied
            .then(|| {
                view! {
                    <h3>"Fixes"</h3>
                    {a
                        .fixes
                        .is_empty()
                        .then(|| {
                            view! {
                                <p class="muted">
                                    "No single change inside the organisation allows it."
                                </p>
                            }
                        })}
                    <ul aria-label="Fixes" class="fixes">
                        {a
                            .fixes
                            .into_iter()
                            .map(|f| {
                                let on_apply = {
                                    let (user, kind, fix_team) = (
                                        subject.email.clone(),
                                        f.kind.clone(),
                                        f.team.id,
                                    );
                                    Callback::new(move |_| {
                                        apply
                                            .dispatch(ApplyFix {
                                                user: user.clone(),
                                                permission: permission.key().to_owned(),
                                                team,
                                                change: kind.clone(),
                                                fix_team,
                                            });
                                    })
                                };
                                view! { <FixItem f on_apply=Some(on_apply) /> }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        <h3>"Who can"</h3>
        {a.who_can.is_empty().then(|| view! { <p class="muted">"Nobody holds it there."</p> })}
        <ul aria-label="Who can">
            {a
                .who_can
                .into_iter()
                .map(|h| {
                    view! {
                        <li>
                            {format!("{} ({}), through {}", h.name, h.email, names(&h.through))}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <p>
            <a href=crate::routes::with_query(
                "/troubleshoot",
                [("user", subject.email.as_str())],
            )>{format!("Everything {} can do", subject.name)}</a>
        </p>
    }
}

/// The decision, its path up the tree, and the sentence of the greyed button.
#[component]
fn Verdict(e: Explanation, subject: String) -> impl IntoView {
    let verdict = match &e.decision {
        Decision::Allow => e.sentence.clone(),
        Decision::Deny(_) => format!("Denied: {}", e.sentence),
    };
    view! {
        <section aria-label="Decision" class="decision">
            <p class="verdict">{verdict}</p>
            <ol aria-label="Path" class="path">
                {e
                    .path
                    .into_iter()
                    .map(|s| {
                        let member = if s.member {
                            format!("{subject} is a direct member")
                        } else {
                            format!("{subject} is not a member")
                        };
                        let grant = if s.grants {
                            format!("grants {}", e.permission.key())
                        } else {
                            format!("does not grant {}", e.permission.key())
                        };
                        let all: Vec<&str> = s.grant.iter().map(|p| p.key()).collect();
                        let all = if all.is_empty() {
                            "nothing".to_owned()
                        } else {
                            all.join(", ")
                        };
                        view! {
                            <li>
                                <strong>{s.team.name.clone()}</strong>
                                {format!(": {member}; {grant} (grants {all}).")}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

/// One fix: the change, its blast radius, who may apply it, and **Apply** for a caller who may.
#[component]
fn FixItem(f: FixView, on_apply: Option<Callback<()>>) -> impl IntoView {
    let appliers = if f.appliers.is_empty() {
        "Nobody in the organisation may apply it.".to_owned()
    } else {
        format!("Can be applied by: {}.", f.appliers.join(", "))
    };
    let button = on_apply.filter(|_| f.can_apply).map(|cb| {
        view! {
            <button type="button" class="primary" on:click=move |_| cb.run(())>
                "Apply"
            </button>
        }
    });
    view! {
        <li class="fix">
            <strong>{f.title}</strong>
            <ul class="radius">
                {f.radius.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
            </ul>
            <p>{appliers}</p>
            {button}
        </li>
    }
}

#[component]
fn CanDo(a: WhatCanAnswer) -> impl IntoView {
    view! {
        <h2>{format!("What {} can do", a.subject.name)}</h2>
        {a.teams.is_empty().then(|| view! { <p class="muted">"Nothing yet."</p> })}
        <ul aria-label="What can">
            {a
                .teams
                .into_iter()
                .map(|t| {
                    let keys: Vec<&str> = t.permissions.iter().map(|p| p.key()).collect();
                    view! {
                        <li class=crate::components::depth_class("team-heading", t.depth)>
                            <strong>{t.team.name.clone()}</strong>
                            {format!(": {}", keys.join(", "))}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `/troubleshoot/compare?user=<e-mail>&with=<e-mail>[&team=<id>]`.
#[component]
pub fn ComparePage() -> impl IntoView {
    let param = use_param();
    let answer = Resource::new(
        move || (param("user"), param("with"), scope_of(param)),
        |(user, with, (team, vehicle, work_order))| async move {
            match (user, with) {
                (Some(user), Some(with)) => {
                    Some(compare(user, with, team, vehicle, work_order).await)
                }
                _ => None,
            }
        },
    );
    view! {
        <h1>"Compare access"</h1>
        <form method="get" action="/troubleshoot/compare" class="filters">
            <label for="cmp-user">"User"</label>
            <input id="cmp-user" name="user" type="email" value=param("user").unwrap_or_default() />
            <label for="cmp-with">"With"</label>
            <input id="cmp-with" name="with" type="email" value=param("with").unwrap_or_default() />
            <ScopeInputs prefix="cmp" empty_team="team id (empty: everywhere)" />
            <button type="submit" class="secondary">
                "Compare"
            </button>
        </form>
        <Suspense fallback=|| {
            view! { <p class="muted">"Working it out…"</p> }
        }>
            {move || Suspend::new(async move {
                match answer.await {
                    Some(result) => or_alert(result, |a| view! { <Comparison a /> }).into_any(),
                    None => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Comparison(a: CompareAnswer) -> impl IntoView {
    let where_ = a
        .scope
        .as_ref()
        .map(|s| format!(" on {}", scope_words(s, a.about.as_ref())))
        .unwrap_or_else(|| " anywhere in the organisation".to_owned());
    view! {
        <h2>{format!("{} and {}{where_}", a.a.name, a.b.name)}</h2>
        {a
            .differences
            .is_empty()
            .then(|| view! { <p class="muted">"They may do exactly the same."</p> })}
        <ul aria-label="Differences" class="differences">
            {a.differences.into_iter().map(|d| view! { <DifferenceItem d /> }).collect_view()}
        </ul>
    }
}

#[component]
fn DifferenceItem(d: DifferenceView) -> impl IntoView {
    let teams = if d.teams == 1 {
        "1 team".to_owned()
    } else {
        format!("{} teams", d.teams)
    };
    let lacker_in = if d.lacker_member_of.is_empty() {
        format!("{} is a member of no team there", d.lacker)
    } else {
        format!(
            "{} is a member of {}, which does not grant it",
            d.lacker,
            names(&d.lacker_member_of),
        )
    };
    view! {
        <li class="difference">
            <strong>
                {format!(
                    "{} has {} on {} and {} lacks it",
                    d.holder,
                    d.permission.key(),
                    d.team.name,
                    d.lacker,
                )}
            </strong>
            <p>
                {format!(
                    "{} holds it through {}; {lacker_in} (on {teams}).",
                    d.holder,
                    names(&d.holder_through),
                )}
            </p>
            {(!d.fixes.is_empty())
                .then(|| {
                    view! {
                        <p>{format!("To give {} what {} has here:", d.lacker, d.holder)}</p>
                        <ul aria-label="Fixes" class="fixes">
                            {d
                                .fixes
                                .into_iter()
                                .map(|f| view! { <FixItem f on_apply=None /> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </li>
    }
}
