//! `/teams/:id`: a team's members; removing needs `members.manage` on it, adding also every
//! permission the team grants (no escalation). Inviting people (**Invite member**), the
//! pending invitations (**Resend**, **Revoke**), and renaming, moving and deleting the team
//! (**Delete team**), each greyed out with the reason when the viewer may not.

use crate::api::invitations::{
    INVITABLE, InviteMember, ResendInvitation, RevokeInvitation, parse_invitation,
};
use crate::api::team_tree::{DeleteTeam, MoveTeam, RenameTeam, parse_team_name};
use crate::api::teams::{AddMember, RemoveMember, team_members};
use crate::components::{
    ActionButton, ActionError, ActionReads, Field, FormAlert, FormBehind, ReasonButton,
    ValidatedForm, form_error, or_alert,
};
use crate::error::AppError;
use crate::model::{PendingInvitation, TeamMembers};
use leptos::prelude::*;

/// The team page's changes; each one refreshes the page's data.
#[derive(Clone, Copy)]
struct TeamActions {
    invite: ServerAction<InviteMember>,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
    rename: ServerAction<RenameTeam>,
    moved: ServerAction<MoveTeam>,
    delete: ServerAction<DeleteTeam>,
}

impl TeamActions {
    fn new() -> Self {
        TeamActions {
            invite: ServerAction::new(),
            resend: ServerAction::new(),
            revoke: ServerAction::new(),
            rename: ServerAction::new(),
            moved: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        ActionReads::of(self.invite).version()
            + ActionReads::of(self.resend).version()
            + ActionReads::of(self.revoke).version()
            + ActionReads::of(self.rename).version()
            + ActionReads::of(self.moved).version()
    }

    /// The error of a change that is not a form's own (those show under their forms).
    fn error(&self) -> Option<AppError> {
        ActionReads::of(self.resend)
            .error()
            .or_else(|| ActionReads::of(self.revoke).error())
            .or_else(|| ActionReads::of(self.delete).error())
            .or_else(|| ActionReads::of(self.moved).error())
    }
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let id = crate::routes::use_id_param();
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let reads = (ActionReads::of(add), ActionReads::of(remove));
    let actions = TeamActions::new();
    let data = Resource::new(
        move || {
            (
                id(),
                reads.0.version(),
                reads.1.version(),
                actions.version(),
            )
        },
        |(id, ..)| team_members(id),
    );
    let error = Signal::derive(move || {
        reads
            .0
            .error()
            .or_else(|| reads.1.error())
            .or_else(|| actions.error())
    });
    let deleted = ActionReads::of(actions.delete);
    Effect::new(move |_| {
        if deleted.ok().is_some() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/teams", Default::default());
        }
    });
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the team…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(data.await, |t| view! { <TeamView t add remove actions /> })
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
    actions: TeamActions,
) -> impl IntoView {
    let team = t.team.id;
    let invite_why = t.invite_locked.as_ref().map(|r| r.to_string());
    let invite_why_link = t
        .invite_locked
        .as_ref()
        .and_then(|r| r.denial())
        .map(crate::components::why_of);
    let manage_why = t.manage_locked.as_ref().map(|r| r.to_string());
    let invitations = t.invitations.clone();
    let move_targets = t.move_targets.clone();
    let current_name = t.team.name.clone();
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
        <InviteMember team why=invite_why.clone() why_link=invite_why_link invite=actions.invite />
        <Invitations invitations why=invite_why actions />
        <TeamSettings team name=current_name why=manage_why move_targets actions />
    }
}

fn check_invite(i: &InviteMember) -> Result<(), AppError> {
    parse_invitation(&i.name, &i.email, &i.role).map(drop)
}

/// **Invite member**: name, e-mail and role; the person gets a link by mail.
#[component]
fn InviteMember(
    team: i32,
    why: Option<String>,
    why_link: Option<(domain::authz::Permission, i32)>,
    invite: ServerAction<InviteMember>,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(invite, invalid);
    let reads = ActionReads::of(invite);
    view! {
        <section class="panel" aria-label="Invite member">
            {move || {
                reads
                    .ok()
                    .map(|()| {
                        view! {
                            <p role="status" class="ok">
                                "Invitation sent."
                            </p>
                        }
                    })
            }}
            <FormBehind label="Invite member" why why_link action=invite check=check_invite invalid>
                <input type="hidden" name="team" value=team.to_string() />
                <Field label="Name" name="name" error />
                <Field label="Email" name="email" kind="email" error />
                <div class="field">
                    <label for="f-role">"Role"</label>
                    <select id="f-role" name="role">
                        {INVITABLE
                            .into_iter()
                            .map(|r| view! { <option value=r.key()>{r.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || reads.pending()>
                    "Send invitation"
                </button>
            </FormBehind>
        </section>
    }
}

/// The invitations not accepted yet, each with **Resend** and **Revoke**.
#[component]
fn Invitations(
    invitations: Vec<PendingInvitation>,
    why: Option<String>,
    actions: TeamActions,
) -> impl IntoView {
    view! {
        <section aria-labelledby="pending-title">
            <h2 id="pending-title">"Pending invitations"</h2>
            {invitations
                .is_empty()
                .then(|| view! { <p class="muted">"No invitation is waiting."</p> })}
            <ul class="members">
                {invitations
                    .into_iter()
                    .map(|i| {
                        let id = i.id;
                        let key = format!("-inv-{id}");
                        let state = if i.expired {
                            format!("expired {}", i.expires)
                        } else {
                            format!("valid until {} UTC", i.expires)
                        };
                        view! {
                            <li>
                                <span>
                                    <strong>{i.name.clone()}</strong>
                                    {format!(" · {} · {} · {state}", i.role.label(), i.email)}
                                </span>
                                <ReasonButton
                                    label="Resend"
                                    why=why.clone()
                                    key=key.clone()
                                    on_click=move |_| {
                                        actions
                                            .resend
                                            .dispatch(ResendInvitation { invitation: id });
                                    }
                                />
                                <ReasonButton
                                    label="Revoke"
                                    why=why.clone()
                                    key
                                    on_click=move |_| {
                                        actions
                                            .revoke
                                            .dispatch(RevokeInvitation { invitation: id });
                                    }
                                />
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

fn check_rename(i: &RenameTeam) -> Result<(), AppError> {
    parse_team_name(&i.name).map(drop)
}

/// Renaming, moving and deleting the team (`teams.manage` on its parent).
#[component]
fn TeamSettings(
    team: i32,
    name: String,
    why: Option<String>,
    move_targets: Vec<domain::authz::TeamRef>,
    actions: TeamActions,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(actions.rename, invalid);
    let allowed = why.is_none();
    let chosen = RwSignal::new(move_targets.first().map(|t| t.id));
    view! {
        <section class="panel" aria-labelledby="settings-title">
            <h2 id="settings-title">"Team settings"</h2>
            {allowed
                .then(|| {
                    view! {
                        <ValidatedForm action=actions.rename check=check_rename invalid>
                            <input type="hidden" name="team" value=team.to_string() />
                            <Field
                                label="New name"
                                name="name"
                                value=name.clone()
                                error
                                form="rename-"
                            />
                            <button type="submit" class="secondary">
                                "Rename team"
                            </button>
                        </ValidatedForm>
                        <FormAlert error />
                    }
                })}
            {(!move_targets.is_empty())
                .then(|| {
                    view! {
                        <div class="field">
                            <label for="f-move">"Move under"</label>
                            <select
                                id="f-move"
                                on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())
                            >
                                {move_targets
                                    .iter()
                                    .map(|t| {
                                        view! {
                                            <option value=t.id.to_string()>{t.name.clone()}</option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| {
                                    if let Some(parent) = chosen.get_untracked() {
                                        actions.moved.dispatch(MoveTeam { team, parent });
                                    }
                                }
                            >
                                "Move team"
                            </button>
                        </div>
                    }
                })}
            <ReasonButton
                label="Delete team"
                why
                on_click=move |_| {
                    actions.delete.dispatch(DeleteTeam { team });
                }
            />
        </section>
    }
}
