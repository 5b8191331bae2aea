//! Shaping the organisation's team tree: create a sub-team (`teams.manage` on the parent),
//! rename, move (never under its own subtree, and no escalation) and delete an empty team
//! (`teams.manage` on the team's parent, and on the new parent for a move). Each change bumps
//! the organisation's authz version and is audited with it.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Permission as Needs;
use crate::api::policy::{Declared, Policy, write};
use crate::error::AppError;
use domain::authz::{Permission, TeamId};
use leptos::prelude::*;

/// A team's name, parsed the same way in the browser and on the server.
pub fn parse_team_name(raw: &str) -> Result<String, AppError> {
    domain::validate::required(raw, "the team's name", 200)
        .map_err(|m| AppError::invalid("name", m))
}

#[cfg(feature = "ssr")]
fn known(g: &crate::api::guard::Guard, team: TeamId) -> Result<(), AppError> {
    if g.tree().contains(team) {
        Ok(())
    } else {
        Err(AppError::NotFound {
            what: "Team".into(),
        })
    }
}

impl Declared for CreateTeam {
    const POLICY: Policy = write::<Self>(Needs(Permission::TeamsManage));
}

/// Creates a sub-team of `parent`; a new team has no grants. Returns its id.
#[server(endpoint = "teams/create")]
pub async fn create_team(parent: TeamId, name: String) -> Result<TeamId, AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};

    let g = Guard::enter::<CreateTeam>().await?;
    let name = parse_team_name(&name)?;
    known(&g, parent)?;
    g.authorize(parent, Resource::Team(parent)).await?;
    let txn = g.begin_write().await?;
    let org = g.principal().organisation_id;
    let team = backend::directory::create_team(&*txn, org, Some(parent), &name).await?;
    g.commit_write(
        txn,
        Resource::Team(team.id),
        Details::new()
            .with(Field::Change, "created")
            .with(Field::Name, name)
            .with(Field::Parent, Resource::Team(parent).to_string()),
    )
    .await?;
    Ok(team.id)
}

impl Declared for RenameTeam {
    const POLICY: Policy = write::<Self>(Needs(Permission::TeamsManage));
}

/// Renames a team (`teams.manage` on its parent).
#[server(endpoint = "teams/rename")]
pub async fn rename_team(team: TeamId, name: String) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use domain::authz::can_manage_team;

    let g = Guard::enter::<RenameTeam>().await?;
    let name = parse_team_name(&name)?;
    known(&g, team)?;
    let resource = Resource::Team(team);
    let (txn, _) = g
        .begin_checked(resource, |a| can_manage_team(a, team))
        .await?;
    let org = g.principal().organisation_id;
    backend::directory::rename_team(&*txn, org, team, &name).await?;
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "renamed")
            .with(Field::Name, name),
    )
    .await
}

impl Declared for MoveTeam {
    const POLICY: Policy = write::<Self>(Needs(Permission::TeamsManage));
}

/// Moves a team (with its subtree) under `parent`: `teams.manage` on its current parent and on
/// `parent`, never under its own subtree, and no escalation (the new ancestors' grants reach
/// the moved teams through their members).
#[server(endpoint = "teams/move")]
pub async fn move_team(team: TeamId, parent: TeamId) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use domain::authz::can_move;

    let g = Guard::enter::<MoveTeam>().await?;
    known(&g, team)?;
    known(&g, parent)?;
    let resource = Resource::Team(team);
    let operator = g.principal().operator;
    let (txn, _) = g
        .begin_checked(resource, |a| can_move(a, operator, team, parent))
        .await?;
    // Checked like a move, so a no-op answers the same as the change would.
    if g.tree().parent(team) == Some(parent) {
        txn.commit_unaudited().await?;
        return Ok(());
    }
    let org = g.principal().organisation_id;
    backend::directory::move_team(&*txn, org, team, parent).await?;
    crate::api::teams::rights_taken(&g, &txn).await?;
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "moved")
            .with(Field::Parent, Resource::Team(parent).to_string()),
    )
    .await
}

impl Declared for DeleteTeam {
    const POLICY: Policy = write::<Self>(Needs(Permission::TeamsManage));
}

/// Deletes an empty team (`teams.manage` on its parent). Refused while it has sub-teams,
/// members, vehicles, work orders or pending invitations; the refusal names what is left.
#[server(endpoint = "teams/delete")]
pub async fn delete_team(team: TeamId) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use domain::authz::can_manage_team;

    let g = Guard::enter::<DeleteTeam>().await?;
    known(&g, team)?;
    let resource = Resource::Team(team);
    let (txn, _) = g
        .begin_checked(resource, |a| can_manage_team(a, team))
        .await?;
    backend::repo::teams::lock(&*txn, team).await?;
    let left = backend::repo::teams::contents(&*txn, team).await?;
    if !left.is_empty() {
        txn.commit_unaudited().await?;
        let name = g.tree().name(team).unwrap_or("This team").to_owned();
        return Err(AppError::Conflict {
            message: format!(
                "{name} cannot be deleted: it still has {left}. Move or remove them first."
            ),
        });
    }
    let org = g.principal().organisation_id;
    backend::directory::delete_team(&*txn, org, team).await?;
    crate::api::teams::rights_taken(&g, &txn).await?;
    g.commit_write(txn, resource, Details::new().with(Field::Change, "deleted"))
        .await
}
