//! Support access, as the customer sees it: the notice after support viewed as you (on every
//! page until dismissed), **Grant support access** with the live grants and every viewing on
//! `/account`, and the protected people and teams on `/settings`.

use crate::api::support_access::{
    AnswerSupportRequest, DismissNotice, GrantSupportAccess, RequestSupportAccess,
    RevokeSupportGrant, SetProtection, check_grant, get_protections, get_support_access,
    support_notices, support_requests,
};
use crate::components::{ActionError, ActionReads, Field, FormBehind, ReasonButton, or_alert};
use crate::error::AppError;
use crate::model::{GrantRow, ProtectableRow, RequestRow, SupportAccessView, ViewingRow};
use domain::support_access::GrantLength;
use leptos::prelude::*;

fn ticket_text(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "none".into())
}

/// After support viewed as the signed-in user: who, when, how long, mode, reason and ticket,
/// until dismissed. Nothing can switch it off.
#[component]
pub fn SupportNotice() -> impl IntoView {
    let dismiss = ServerAction::<DismissNotice>::new();
    let reads = ActionReads::of(dismiss);
    let notices = Resource::new(move || reads.version(), |_| support_notices());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = notices.await.unwrap_or_default();
                (!list.is_empty())
                    .then(|| {
                        view! {
                            <section class="notice" aria-label="Support access notice">
                                <h2>"Fleetgate support viewed the app as you"</h2>
                                <ul>
                                    {list
                                        .into_iter()
                                        .map(|n| view! { <NoticeItem n dismiss /> })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
            })}
        </Transition>
    }
}

#[component]
fn NoticeItem(n: ViewingRow, dismiss: ServerAction<DismissNotice>) -> impl IntoView {
    let id = n.id.clone();
    view! {
        <li>
            <p>
                <strong>{n.actor.clone()}</strong>
                {format!(
                    " viewed as you on {} for {} min ({}). Reason: {}. Ticket: {}.",
                    n.started,
                    n.minutes,
                    n.mode,
                    n.reason,
                    ticket_text(&n.ticket),
                )}
            </p>
            <button
                type="button"
                class="secondary"
                on:click=move |_| {
                    dismiss.dispatch(DismissNotice { id: id.clone() });
                }
            >
                "Dismiss"
            </button>
        </li>
    }
}

/// `/account`'s support access: open a grant, the live grants with **Revoke**, and every
/// impersonation of this user.
#[component]
pub fn AccountSupportAccess() -> impl IntoView {
    let grant = ServerAction::<GrantSupportAccess>::new();
    let revoke = ServerAction::<RevokeSupportGrant>::new();
    let granted = ActionReads::of(grant);
    let revoked = ActionReads::of(revoke);
    let data = Resource::new(
        move || (granted.version(), revoked.version()),
        |_| get_support_access(),
    );
    let error = Signal::derive(move || revoked.error());
    view! {
        <section class="panel" aria-label="Support access">
            <h2>"Support access"</h2>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    or_alert(data.await, |s| view! { <SupportAccessBody s grant revoke /> })
                })}
            </Suspense>
            <ActionError error />
        </section>
    }
}

#[component]
fn SupportAccessBody(
    s: SupportAccessView,
    grant: ServerAction<GrantSupportAccess>,
    revoke: ServerAction<RevokeSupportGrant>,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = crate::components::form_error(grant, invalid);
    let modes = s.modes.clone();
    view! {
        <p class="muted">
            {format!(
                "{}'s setting: {}. A grant lets Fleetgate support view the app as you for a while; you can revoke it at any time, and you are told each time they did.",
                s.organisation,
                s.consent.label(),
            )}
        </p>
        <FormBehind
            label="Grant support access"
            why=s.grant_locked.clone()
            action=grant
            check=check_grant
            invalid
        >
            <DurationSelect id="f-length".to_owned() />
            <div class="field">
                <label for="f-grant-mode">"Mode"</label>
                <select id="f-grant-mode" name="mode">
                    {modes
                        .iter()
                        .map(|m| view! { <option value=m.key()>{m.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <Field label="Ticket (optional)" name="ticket" error form="grant-" />
            <Field label="Note (optional)" name="note" error form="grant-" />
            <button type="submit" class="primary">
                "Grant access"
            </button>
        </FormBehind>
        <h3>"Live grants"</h3>
        {if s.grants.is_empty() {
            view! {
                <p class="muted">
                    "No live grant: support cannot view as you without one if your organisation asks for grants."
                </p>
            }
                .into_any()
        } else {
            view! {
                <ul class="grants" aria-label="Live grants">
                    {s.grants.into_iter().map(|g| view! { <GrantItem g revoke /> }).collect_view()}
                </ul>
            }
                .into_any()
        }}
        <h3>"When support viewed as you"</h3>
        <Viewings rows=s.viewings />
        <p class="muted">{move || error.get().map(|e| e.to_string())}</p>
    }
}

#[component]
fn GrantItem(g: GrantRow, revoke: ServerAction<RevokeSupportGrant>) -> impl IntoView {
    let id = g.id;
    view! {
        <li>
            {format!(
                "{}: {} until {}{}{}",
                g.person,
                g.mode.label(),
                g.until,
                g.ticket.as_ref().map(|t| format!(", ticket {t}")).unwrap_or_default(),
                g.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default(),
            )} " "
            <ReasonButton
                label="Revoke"
                why=g.revoke.err()
                key=id.to_string()
                on_click=move |_| {
                    revoke.dispatch(RevokeSupportGrant { grant: id });
                }
            />
        </li>
    }
}

/// Every impersonation of the user, newest first.
#[component]
fn Viewings(rows: Vec<ViewingRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"Support has never viewed as you."</p> }.into_any();
    }
    view! {
        <table aria-label="Impersonations of you">
            <thead>
                <tr>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Minutes"</th>
                    <th scope="col">"Mode"</th>
                    <th scope="col">"Reason"</th>
                    <th scope="col">"Ticket"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|v| {
                        view! {
                            <tr>
                                <td>{v.actor}</td>
                                <td>{v.started} {v.ended.is_none().then_some(" (now)")}</td>
                                <td>{v.minutes}</td>
                                <td>{v.mode}</td>
                                <td>{v.reason}</td>
                                <td>{ticket_text(&v.ticket)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/settings`' protected people and teams, each with **Protect** or **Unprotect**. Shown only to
/// those who may change them (`org.settings`).
#[component]
pub fn Protections() -> impl IntoView {
    let set = ServerAction::<SetProtection>::new();
    let reads = ActionReads::of(set);
    let data = Resource::new(move || reads.version(), |_| get_protections());
    let error = Signal::derive(move || reads.error());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                data.await
                    .ok()
                    .map(|p| {
                        view! {
                            <section class="panel" aria-label="Protected people and teams">
                                <h2>"Protected people and teams"</h2>
                                <p class="muted">
                                    "Support can never view as a protected person, nor as anyone in a protected team or below it, whatever the setting above and the grants say."
                                </p>
                                <h3>"Teams"</h3>
                                <ProtectList kind="team" rows=p.teams set />
                                <h3>"People"</h3>
                                <ProtectList kind="user" rows=p.people set />
                            </section>
                        }
                    })
            })}
        </Suspense>
        <ActionError error />
    }
}

#[component]
fn ProtectList(
    kind: &'static str,
    rows: Vec<ProtectableRow>,
    set: ServerAction<SetProtection>,
) -> impl IntoView {
    view! {
        <ul class="protections" aria-label=if kind == "team" { "Teams" } else { "People" }>
            {rows
                .into_iter()
                .map(|r| {
                    let (id, protect) = (r.id, !r.protected);
                    view! {
                        <li>
                            <span>{r.name}</span>
                            " "
                            {(kind == "user")
                                .then(|| view! { <span class="muted">{r.detail}</span> })}
                            {r.protected.then(|| view! { <strong>" Protected "</strong> })}
                            <ReasonButton
                                label=if protect { "Protect" } else { "Unprotect" }
                                why=None
                                key=format!("{kind}-{id}")
                                on_click=move |_| {
                                    set.dispatch(SetProtection {
                                        kind: kind.into(),
                                        id,
                                        protect,
                                    });
                                }
                            />
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// Operator staff asking the customer for support access to `user`, with a reason.
#[component]
pub fn AskDialog(
    user: i32,
    name: String,
    on_done: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let ask = ServerAction::<RequestSupportAccess>::new();
    let reads = ActionReads::of(ask);
    let error = Signal::derive(move || reads.error());
    Effect::new(move |_| {
        if reads.ok().is_some() {
            on_done();
        }
    });
    view! {
        <section class="dialog" role="dialog" aria-modal="false" aria-labelledby="ask-title">
            <h2 id="ask-title">{format!("Ask for access to {name}")}</h2>
            <p class="muted">
                "The person and their organisation's managers are asked in the app and by mail; you see their answer below."
            </p>
            <ActionForm action=ask>
                <input type="hidden" name="user" value=user.to_string() />
                <div class="field">
                    <label for="ask-reason">"Reason"</label>
                    <textarea
                        id="ask-reason"
                        name="reason"
                        rows="3"
                        required
                        minlength="10"
                        maxlength="500"
                    ></textarea>
                </div>
                <div class="field">
                    <label for="ask-ticket">"Ticket reference (optional)"</label>
                    <input id="ask-ticket" name="ticket" maxlength="100" />
                </div>
                <button type="submit" class="primary">
                    "Send request"
                </button>
                <button type="button" class="secondary" on:click=move |_| on_done()>
                    "Cancel"
                </button>
            </ActionForm>
            <ActionError error />
        </section>
    }
}

/// Requests for support access: operator staff see theirs with the answers; a customer sees
/// those about them (and, holding `org.settings`, their organisation's) with **Approve** and
/// **Decline**.
#[component]
pub fn SupportRequestsPanel() -> impl IntoView {
    let answer = ServerAction::<AnswerSupportRequest>::new();
    let reads = ActionReads::of(answer);
    let data = Resource::new(move || reads.version(), |_| support_requests());
    let error = Signal::derive(move || reads.error());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                data.await
                    .ok()
                    .filter(|rows| !rows.is_empty())
                    .map(|rows| {
                        view! {
                            <section class="panel" aria-label="Support access requests">
                                <h2>"Support access requests"</h2>
                                <ul class="requests">
                                    {rows
                                        .into_iter()
                                        .map(|r| view! { <RequestItem r answer /> })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
            })}
        </Suspense>
        <ActionError error />
    }
}

#[component]
fn RequestItem(r: RequestRow, answer: ServerAction<AnswerSupportRequest>) -> impl IntoView {
    let id = r.id;
    let status = match (r.approved, &r.answer) {
        (None, _) => "Waiting for an answer".to_owned(),
        (Some(true), a) => format!("Approved by {}", a.clone().unwrap_or_default()),
        (Some(false), a) => format!("Declined by {}", a.clone().unwrap_or_default()),
    };
    let open = r.answerable.is_ok();
    view! {
        <li>
            <p>
                {format!(
                    "{} asked on {} to view as {} ({}, {}). Reason: {}. Ticket: {}.",
                    r.asked_by,
                    r.asked,
                    r.person,
                    r.organisation,
                    r.mode.label(),
                    r.reason,
                    ticket_text(&r.ticket),
                )}
            </p>
            <p class="muted">{status}</p>
            {open
                .then(|| {
                    view! {
                        <ActionForm action=answer>
                            <input type="hidden" name="request" value=id.to_string() />
                            <input type="hidden" name="approve" value="true" />
                            <input type="hidden" name="why" value="" />
                            <DurationSelect id=format!("f-answer-length-{id}") />
                            <button type="submit" class="primary">
                                "Approve"
                            </button>
                        </ActionForm>
                        <ActionForm action=answer>
                            <input type="hidden" name="request" value=id.to_string() />
                            <input type="hidden" name="approve" value="false" />
                            <div class="field">
                                <label for=format!("f-answer-why-{id}")>"Why you decline"</label>
                                <input id=format!("f-answer-why-{id}") name="why" maxlength="500" />
                            </div>
                            <button type="submit" class="secondary">
                                "Decline"
                            </button>
                        </ActionForm>
                    }
                })}
        </li>
    }
}

/// **Duration** of a support access grant (1 hour, 1 day, 7 days; an hour unless chosen).
#[component]
fn DurationSelect(id: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>"Duration"</label>
            <select id=id name="length">
                {GrantLength::ALL
                    .into_iter()
                    .map(|l| view! { <option value=l.key()>{l.label()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}
