//! `/teams`: the permission matrix (teams × permissions). A cell the viewer may not change is a
//! disabled checkbox whose description says why.

use crate::api::team_tree::{CreateTeam, parse_team_name};
use crate::api::teams::{GrantPermission, RevokePermission, permission_matrix};
use crate::components::{ActionError, ActionReads, Field, FormBehind, form_error, or_alert};
use crate::error::AppError;
use crate::model::{Matrix, MatrixCell};
use domain::authz::TeamRef;
use leptos::prelude::*;

#[component]
pub fn TeamsPage() -> impl IntoView {
    let grant = ServerAction::<GrantPermission>::new();
    let revoke = ServerAction::<RevokePermission>::new();
    let create = ServerAction::<CreateTeam>::new();
    let reads = (ActionReads::of(grant), ActionReads::of(revoke));
    let created = ActionReads::of(create);
    let matrix = Resource::new(
        move || (reads.0.version(), reads.1.version(), created.version()),
        |_| permission_matrix(),
    );
    let error = Signal::derive(move || reads.0.error().or_else(|| reads.1.error()));
    // The change last asked for (a grant?, in words), confirmed in words once its action has
    // succeeded: a ticked box alone does not say whether the server took it.
    let asked = RwSignal::new(None::<(bool, String)>);
    let saved = move || {
        let (granting, what) = asked.try_get().flatten()?;
        let done = if granting { reads.0 } else { reads.1 };
        (!done.pending() && done.ok().is_some()).then_some(what)
    };
    view! {
        <h1>"Teams"</h1>
        <p class="muted">
            "A permission granted to a team applies to its members on that team and every team below it."
        </p>
        <ActionError error />
        {move || {
            saved()
                .map(|what| {
                    view! {
                        <p role="status" class="ok">
                            {what}
                        </p>
                    }
                })
        }}
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading teams…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(
                    matrix.await,
                    |m| {
                        view! {
                            <NewTeam
                                create
                                parents=m.new_team_parents.clone()
                                locked=m.new_team_locked.as_ref().map(|d| d.describe())
                                why_link=m.new_team_locked.as_ref().map(crate::components::why_of)
                            />
                            <MatrixTable m grant revoke asked />
                        }
                    },
                )
            })}
        </Suspense>
    }
}

fn check_new_team(i: &CreateTeam) -> Result<(), AppError> {
    parse_team_name(&i.name).map(drop)
}

/// **New team**: a name and a parent among the teams where the viewer may create one.
#[component]
fn NewTeam(
    create: ServerAction<CreateTeam>,
    parents: Vec<TeamRef>,
    locked: Option<String>,
    why_link: Option<(domain::authz::Permission, i32)>,
) -> impl IntoView {
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(create, invalid);
    let reads = ActionReads::of(create);
    let parents = StoredValue::new(parents);
    view! {
        <section class="panel" aria-label="New team">
            <FormBehind
                label="New team"
                why=locked
                why_link
                action=create
                check=check_new_team
                invalid
            >
                <Field label="Team name" name="name" error />
                <div class="field">
                    <label for="f-parent">"Parent team"</label>
                    <select id="f-parent" name="parent">
                        {parents
                            .get_value()
                            .into_iter()
                            .map(|t| view! { <option value=t.id.to_string()>{t.name}</option> })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || reads.pending()>
                    "Create team"
                </button>
            </FormBehind>
        </section>
    }
}

#[component]
fn MatrixTable(
    m: Matrix,
    grant: ServerAction<GrantPermission>,
    revoke: ServerAction<RevokePermission>,
    asked: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let header = m
        .permissions
        .iter()
        .map(|p| {
            view! {
                <th scope="col" class="perm" title=p.label()>
                    <span>{p.key()}</span>
                </th>
            }
        })
        .collect_view();
    let rows = m
        .rows
        .into_iter()
        .map(|row| {
            let team = row.team.clone();
            let cells = row
                .cells
                .into_iter()
                .map(|cell| {
                    view! {
                        <td class="cell">
                            <Cell cell team=team.clone() grant revoke asked />
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row" class=crate::components::depth_class("team-row", row.depth)>
                        <a href=format!("/teams/{}", row.team.id)>{row.team.name}</a>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap matrix">
            <table>
                <caption class="sr-only">"Permissions granted to each team"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Team"</th>
                        {header}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Cell(
    cell: MatrixCell,
    team: domain::authz::TeamRef,
    grant: ServerAction<GrantPermission>,
    revoke: ServerAction<RevokePermission>,
    asked: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let key = cell.permission.key();
    let name = format!("{key} on {}", team.name);
    let why = cell.locked.as_ref().map(|r| r.to_string());
    let why_id = format!("why-{}-{}", team.id, key.replace('.', "-"));
    let team_id = team.id;
    let team_name = team.name.clone();
    view! {
        <input
            type="checkbox"
            aria-label=name
            checked=cell.granted
            disabled=cell.locked.is_some()
            title=why.clone()
            aria-describedby=why.as_ref().map(|_| why_id.clone())
            on:change=move |ev| {
                let permission = key.to_owned();
                let granting = event_target_checked(&ev);
                let what = if granting {
                    format!("Granted {key} to {team_name}.")
                } else {
                    format!("Revoked {key} from {team_name}.")
                };
                asked.set(Some((granting, what)));
                if granting {
                    grant
                        .dispatch(GrantPermission {
                            team: team_id,
                            permission,
                        });
                } else {
                    revoke
                        .dispatch(RevokePermission {
                            team: team_id,
                            permission,
                        });
                }
            }
        />
        {why
            .map(|w| {
                view! {
                    <span id=why_id class="sr-only">
                        {w}
                    </span>
                }
            })}
    }
}
