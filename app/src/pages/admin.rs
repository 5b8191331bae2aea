//! `/admin/users` and `/admin/orgs`: the operator's console. **View as** is disabled, with the
//! reason, wherever the rules say no.

use crate::api::admin::{admin_orgs, admin_users};
use crate::api::impersonation::StartImpersonation;
use crate::api::organisations::{
    CreateOrganisation, ReactivateOrganisation, SuspendOrganisation, parse_new_organisation,
};
use crate::components::{
    ActionError, ActionReads, ColumnHeads, Field, FieldMessage, FormAlert, FormBehind,
    ReasonButton, form_error, or_alert,
};
use crate::error::AppError;
use crate::model::{AdminUserRow, OrgList};
use domain::impersonation::{DEFAULT_MINUTES, MAX_MINUTES, Mode, Refusal};
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
                param("after"),
            )
        },
        |(q, org, role, active, after)| {
            admin_users(q, org.and_then(|o| o.parse().ok()), role, active, after)
        },
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
                            .map(|l| l.rows)
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
                or_alert(
                    users.await,
                    |page| {
                        view! {
                            <UserTable rows=page.rows />
                            <crate::components::Pager path="/admin/users" next=page.next />
                        }
                    },
                )
            })}
        </Suspense>
        <crate::pages::support_access::SupportRequestsPanel />
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
    let chosen = RwSignal::new(None::<i32>);
    let asking = RwSignal::new(None::<i32>);
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
                            let id = u.id;
                            let askable = matches!(
                                u.view_as,
                                Err(Refusal::NoGrant | Refusal::GrantReadOnly)
                            );
                            let why = u.view_as.err().map(|r| r.to_string());
                            let dialog_name = u.name.clone();
                            let ask_name = u.name.clone();
                            // Support may ask the customer where only a grant is missing.
                            view! {
                                <tr>
                                    <th scope="row">{u.name.clone()}</th>
                                    <td>{u.email.clone()}</td>
                                    <td>{u.role.label()}</td>
                                    <td>{u.organisation.clone()}</td>
                                    <td>{if u.active { "Active" } else { "Deactivated" }}</td>
                                    <td>
                                        {u.consent.map(|c| c.label()).unwrap_or("—")}
                                        {u
                                            .granted_until
                                            .clone()
                                            .map(|t| {
                                                view! {
                                                    <br />
                                                    <span class="muted">{format!("Granted until {t}")}</span>
                                                }
                                            })}
                                    </td>
                                    <td class="view-as">
                                        <ReasonButton
                                            label="View as"
                                            why
                                            key=format!("-{id}")
                                            on_click=move |_| chosen.set(Some(id))
                                        />
                                        {askable
                                            .then(|| {
                                                view! {
                                                    <ReasonButton
                                                        label="Ask for access"
                                                        why=None
                                                        key=format!("-{id}")
                                                        on_click=move |_| asking.set(Some(id))
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                                {move || {
                                    (asking.try_get().flatten() == Some(id))
                                        .then(|| {
                                            view! {
                                                <tr class="dialog-row">
                                                    <td colspan="7">
                                                        <crate::pages::support_access::AskDialog
                                                            user=id
                                                            name=ask_name.clone()
                                                            on_done=move || asking.set(None)
                                                        />
                                                    </td>
                                                </tr>
                                            }
                                        })
                                }}
                                // The form opens right under the row it is about.
                                {move || {
                                    (chosen.try_get().flatten() == Some(id))
                                        .then(|| {
                                            view! {
                                                <tr class="dialog-row">
                                                    <td colspan="7">
                                                        <StartDialog
                                                            user=id
                                                            name=dialog_name.clone()
                                                            on_cancel=move || chosen.set(None)
                                                        />
                                                    </td>
                                                </tr>
                                            }
                                        })
                                }}
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
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
    let create = ServerAction::<CreateOrganisation>::new();
    let suspend = ServerAction::<SuspendOrganisation>::new();
    let reactivate = ServerAction::<ReactivateOrganisation>::new();
    let reads = (
        ActionReads::of(create),
        ActionReads::of(suspend),
        ActionReads::of(reactivate),
    );
    let orgs = Resource::new(
        move || (reads.0.version(), reads.1.version(), reads.2.version()),
        |_| admin_orgs(),
    );
    let error = Signal::derive(move || reads.1.error().or_else(|| reads.2.error()));
    view! {
        <h1>"Admin › Organisations"</h1>
        <AdminTabs />
        <ActionError error />
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(
                    orgs.await,
                    |list| {
                        view! {
                            <NewOrganisation create locked=list.manage_locked.clone() />
                            <OrgTable list suspend reactivate />
                        }
                    },
                )
            })}
        </Suspense>
        <crate::pages::webhook::WebhookPanel />
    }
}

/// **New organisation**: the organisation's name and its first Fleet Manager, who is invited.
#[component]
fn NewOrganisation(
    create: ServerAction<CreateOrganisation>,
    locked: Option<String>,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(create, invalid);
    let reads = ActionReads::of(create);
    view! {
        <section class="panel" aria-label="New organisation">
            {move || {
                reads
                    .ok()
                    .map(|created| {
                        let to = created.invited;
                        view! {
                            <p role="status" class="ok">
                                {format!(
                                    "Organisation created. The invitation for its first Fleet Manager is on its way to {to}.",
                                )}
                            </p>
                        }
                    })
            }}
            <FormBehind
                label="New organisation"
                why=locked
                action=create
                check=check_new_org
                invalid
            >
                <Field label="Organisation name" name="name" error />
                <Field label="Manager name" name="manager_name" error />
                <Field label="Manager email" name="manager_email" kind="email" error />
                <button type="submit" class="primary" disabled=move || reads.pending()>
                    "Create organisation"
                </button>
            </FormBehind>
        </section>
    }
}

fn check_new_org(i: &CreateOrganisation) -> Result<(), AppError> {
    parse_new_organisation(&i.name, &i.manager_name, &i.manager_email).map(drop)
}

#[component]
fn OrgTable(
    list: OrgList,
    suspend: ServerAction<SuspendOrganisation>,
    reactivate: ServerAction<ReactivateOrganisation>,
) -> impl IntoView {
    let locked = list.manage_locked.clone();
    view! {
        <div class="table-wrap">
            <table>
                <ColumnHeads names=&[
                    "Organisation",
                    "Kind",
                    "Users",
                    "Impersonation consent",
                    "Status",
                    "Actions",
                ] />
                <tbody>
                    {list
                        .rows
                        .into_iter()
                        .map(|o| {
                            let customer = o.kind == domain::people::OrgKind::Customer;
                            let id = o.id;
                            let why = locked.clone();
                            let key = format!("-{id}");
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!(
                                            "/admin/users?organisation={}",
                                            o.id,
                                        )>{o.name}</a>
                                    </th>
                                    <td>{o.kind.label()}</td>
                                    <td>{o.users}</td>
                                    <td>{if customer { o.consent.label() } else { "—" }}</td>
                                    <td>{if o.suspended { "Suspended" } else { "Active" }}</td>
                                    <td>
                                        {customer
                                            .then(|| {
                                                if o.suspended {
                                                    view! {
                                                        <ReasonButton
                                                            label="Reactivate"
                                                            why
                                                            key
                                                            on_click=move |_| {
                                                                reactivate
                                                                    .dispatch(ReactivateOrganisation {
                                                                        organisation: id,
                                                                    });
                                                            }
                                                        />
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <ReasonButton
                                                            label="Suspend"
                                                            why
                                                            key
                                                            on_click=move |_| {
                                                                suspend
                                                                    .dispatch(SuspendOrganisation {
                                                                        organisation: id,
                                                                    });
                                                            }
                                                        />
                                                    }
                                                        .into_any()
                                                }
                                            })}
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
