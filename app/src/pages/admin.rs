//! `/admin/users` and `/admin/orgs`: the operator's console. **View as** is disabled, with the
//! reason, wherever the rules say no.

use crate::api::admin::{admin_orgs, admin_users};
use crate::api::impersonation::StartImpersonation;
use crate::components::{
    ActionReads, ColumnHeads, FieldMessage, FormAlert, ReasonButton, or_alert,
};
use crate::model::{AdminUserRow, OrgRow};
use domain::impersonation::{DEFAULT_MINUTES, MAX_MINUTES, Mode};
use domain::people::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let users = Resource::new(
        move || {
            (
                param("q"),
                param("organisation"),
                param("role"),
                param("active"),
            )
        },
        |(q, org, role, active)| admin_users(q, org.and_then(|o| o.parse().ok()), role, active),
    );
    let orgs = Resource::new(|| (), |_| admin_orgs());
    let notice = move || param("notice").is_some();
    view! {
        <h1>"Admin › Users"</h1>
        <AdminTabs />
        {move || {
            notice()
                .then(|| {
                    view! {
                        <p role="status" class="ok">
                            "The impersonation has ended. You are back in your own session."
                        </p>
                    }
                })
        }}
        <form method="get" class="filters">
            <label for="q">"Search"</label>
            <input id="q" name="q" type="search" value=param("q").unwrap_or_default() />
            <label for="organisation">"Organisation"</label>
            <select id="organisation" name="organisation">
                <option value="">"Any"</option>
                <Suspense>
                    {move || Suspend::new(async move {
                        orgs.await
                            .unwrap_or_default()
                            .into_iter()
                            .map(|o| {
                                let selected = param("organisation") == Some(o.id.to_string());
                                view! {
                                    <option value=o.id.to_string() selected=selected>
                                        {o.name}
                                    </option>
                                }
                            })
                            .collect_view()
                    })}
                </Suspense>
            </select>
            <label for="role">"Role"</label>
            <select id="role" name="role">
                <option value="">"Any"</option>
                {Role::ALL
                    .into_iter()
                    .map(|r| {
                        view! {
                            <option
                                value=r.key()
                                selected=move || param("role").as_deref() == Some(r.key())
                            >
                                {r.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label for="active">"Active"</label>
            <select id="active" name="active">
                <option value="">"Any"</option>
                <option value="yes" selected=move || param("active").as_deref() == Some("yes")>
                    "Active"
                </option>
                <option value="no" selected=move || param("active").as_deref() == Some("no")>
                    "Deactivated"
                </option>
            </select>
            <button type="submit" class="secondary">
                "Filter"
            </button>
        </form>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading users…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(users.await, |rows| view! { <UserTable rows /> })
            })}
        </Suspense>
    }
}

#[component]
fn AdminTabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Admin">
            <a href="/admin/users">"Users"</a>
            <a href="/admin/orgs">"Organisations"</a>
            <a href="/admin/audit">"Audit log"</a>
        </nav>
    }
}

#[component]
fn UserTable(rows: Vec<AdminUserRow>) -> impl IntoView {
    let chosen = RwSignal::new(None::<(i32, String)>);
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"E-mail"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Impersonation"</th>
                        <th scope="col">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|u| {
                            let (id, name) = (u.id, u.name.clone());
                            let why = u.view_as.err().map(|r| r.to_string());
                            view! {
                                <tr>
                                    <th scope="row">{u.name.clone()}</th>
                                    <td>{u.email.clone()}</td>
                                    <td>{u.role.label()}</td>
                                    <td>{u.organisation.clone()}</td>
                                    <td>{if u.active { "Active" } else { "Deactivated" }}</td>
                                    <td>{u.consent.map(|c| c.label()).unwrap_or("—")}</td>
                                    <td class="view-as">
                                        <ReasonButton
                                            label="View as"
                                            why
                                            key=format!("-{id}")
                                            on_click=move |_| chosen.set(Some((id, name.clone())))
                                        />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {move || {
            chosen
                .try_get()
                .unwrap_or_default()
                .map(|(id, name)| {
                    view! { <StartDialog user=id name on_cancel=move || chosen.set(None) /> }
                })
        }}
    }
}

/// Asks for the reason and the mode, then starts viewing.
#[component]
fn StartDialog(
    user: i32,
    name: String,
    on_cancel: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let start = ServerAction::<StartImpersonation>::new();
    let reads = ActionReads::of(start);
    let error = Signal::derive(move || reads.error());
    let field = move |f: &'static str| {
        Signal::derive(move || {
            error
                .try_get()
                .flatten()
                .and_then(|e| e.field_message(f).map(str::to_owned))
        })
    };
    Effect::new(move |_| {
        if reads.ok().is_some() {
            crate::pages::banner::reload_to("/");
        }
    });
    view! {
        <section class="dialog" role="dialog" aria-modal="false" aria-labelledby="start-title">
            <h2 id="start-title">{format!("View as {name}")}</h2>
            <p class="muted">
                "You will see the app exactly as this user does. Everything you do is on the audit log, which their organisation can read."
            </p>
            <ActionForm action=start>
                <input type="hidden" name="user" value=user.to_string() />
                <div class="field">
                    <label for="reason">"Reason"</label>
                    <textarea
                        id="reason"
                        name="reason"
                        rows="3"
                        required
                        minlength="10"
                        maxlength="500"
                    ></textarea>
                    <FieldMessage message=field("reason") />
                </div>
                <div class="field">
                    <label for="ticket">"Ticket reference (optional)"</label>
                    <input id="ticket" name="ticket" maxlength="100" />
                </div>
                <fieldset class="modes">
                    <legend>"Mode"</legend>
                    <label class="inline">
                        <input type="radio" name="mode" value=Mode::View.key() checked=true />
                        {Mode::View.label()}
                    </label>
                    <label class="inline">
                        <input type="radio" name="mode" value=Mode::Act.key() />
                        {Mode::Act.label()}
                    </label>
                </fieldset>
                <div class="field">
                    <label for="minutes">"Minutes"</label>
                    <input
                        id="minutes"
                        name="minutes"
                        type="number"
                        min="1"
                        max=MAX_MINUTES.to_string()
                        value=DEFAULT_MINUTES.to_string()
                    />
                    <FieldMessage message=field("minutes") />
                </div>
                <div class="dialog-buttons">
                    <button type="submit" class="primary">
                        "Start viewing"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| on_cancel()>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
            <FormAlert error />
        </section>
    }
}

#[component]
pub fn AdminOrgsPage() -> impl IntoView {
    let orgs = Resource::new(|| (), |_| admin_orgs());
    view! {
        <h1>"Admin › Organisations"</h1>
        <AdminTabs />
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(orgs.await, |rows| view! { <OrgTable rows /> })
            })}
        </Suspense>
    }
}

#[component]
fn OrgTable(rows: Vec<OrgRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <ColumnHeads names=&["Organisation", "Kind", "Users", "Impersonation consent"] />
                <tbody>
                    {rows
                        .into_iter()
                        .map(|o| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!(
                                            "/admin/users?organisation={}",
                                            o.id,
                                        )>{o.name}</a>
                                    </th>
                                    <td>{format!("{:?}", o.kind)}</td>
                                    <td>{o.users}</td>
                                    <td>
                                        {if o.kind == domain::people::OrgKind::Operator {
                                            "—"
                                        } else {
                                            o.consent.label()
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
