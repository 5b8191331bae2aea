//! Teams: the permission matrix, granting and revoking, members (both under the no-escalation
//! rule, `authz::may_confer`), and "My access".

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::{Permission as Needs, SignedIn};
use crate::api::policy::{Declared, Policy, read, write};
use crate::error::AppError;
use crate::model::{Matrix, MyAccess};
use domain::authz::{Permission, TeamId};
use leptos::prelude::*;

impl Declared for PermissionMatrix {
    const POLICY: Policy = read::<Self>(Needs(Permission::TeamsView));
}

/// The organisation's teams × permissions, each cell with whether the viewer may toggle it.
#[server(endpoint = "teams/matrix")]
pub async fn permission_matrix() -> Result<Matrix, AppError> {
    use crate::api::guard::Guard;
    use crate::model::{MatrixCell, MatrixRow};

    let g = Guard::enter::<PermissionMatrix>().await?;
    let visible = g.visible_teams().await?;
    let tree = &g.tree();
    let permissions: Vec<Permission> = Permission::ALL
        .iter()
        .copied()
        .filter(|p| g.principal().operator || !p.operator_only())
        .collect();
    let rows = tree
        .teams()
        .filter(|t| visible.contains(t))
        .filter_map(|t| {
            let team = tree.team_ref(t)?;
            let granted = g.granted_on(t);
            let cells = permissions
                .iter()
                .map(|p| MatrixCell {
                    permission: *p,
                    granted: granted.contains(*p),
                    locked: g.may_grant(*p, t).err(),
                })
                .collect();
            Some(MatrixRow {
                depth: tree.depth(t),
                team,
                cells,
            })
        })
        .collect();
    let new_team_parents: Vec<_> = tree
        .teams()
        .filter(|t| g.allows(Permission::TeamsManage, *t))
        .filter_map(|t| tree.team_ref(t))
        .collect();
    let new_team_locked = match (
        new_team_parents.is_empty(),
        g.decide(Permission::TeamsManage, tree.root()),
    ) {
        (true, domain::authz::Decision::Deny(d)) => Some(d),
        _ => None,
    };
    Ok(Matrix {
        permissions,
        rows,
        new_team_parents,
        new_team_locked,
    })
}

#[cfg(feature = "ssr")]
async fn change_grant<F: crate::api::policy::Declared>(
    team: TeamId,
    permission: String,
    on: bool,
) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use domain::authz::can_grant;

    let permission = Permission::from_key(&permission)
        .map_err(|_| AppError::invalid("permission", "Unknown permission."))?;
    let g = Guard::enter::<F>().await?;
    let resource = Resource::Team(team);
    if !g.tree().contains(team) {
        return Err(AppError::NotFound {
            what: "Team".into(),
        });
    }
    g.authorize(team, resource).await?;
    let operator = g.principal().operator;
    let (txn, now) = g
        .begin_checked(resource, |a| can_grant(a, operator, permission, team))
        .await?;
    let org = g.principal().organisation_id;
    let changed = if on {
        let already = now.policy.grants.on(team).contains(permission);
        if !already {
            backend::directory::grant(
                &*txn,
                org,
                team,
                [permission].into_iter().collect(),
                Some(g.principal().user_id),
            )
            .await?;
        }
        !already
    } else {
        backend::directory::revoke(&*txn, org, team, permission).await?
    };
    if !changed {
        txn.commit_unaudited().await?;
        return Ok(());
    }
    if !on {
        rights_taken(&g, &txn).await?;
    }
    let verb = if on { "granted" } else { "revoked" };
    let details = backend::audit::Details::new()
        .with(backend::audit::Field::Change, verb)
        .with(backend::audit::Field::Permission, permission.key());
    g.commit_write(txn, resource, details).await?;
    Ok(())
}

impl Declared for GrantPermission {
    const POLICY: Policy = write::<Self>(Needs(Permission::PermissionsGrant));
}

/// Grants `permission` on `team` (needs `permissions.grant` and the permission itself there).
#[server(endpoint = "permissions/grant")]
pub async fn grant_permission(team: TeamId, permission: String) -> Result<(), AppError> {
    change_grant::<GrantPermission>(team, permission, true).await
}

impl Declared for RevokePermission {
    const POLICY: Policy = write::<Self>(Needs(Permission::PermissionsGrant));
}

/// Revokes `permission` on `team`, under the same rule as granting (taking away cannot
/// escalate; the rule keeps the matrix symmetrical).
#[server(endpoint = "permissions/revoke")]
pub async fn revoke_permission(team: TeamId, permission: String) -> Result<(), AppError> {
    change_grant::<RevokePermission>(team, permission, false).await
}

impl Declared for GetMyAccess {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// The caller's effective permissions per team, each with the team it comes from.
#[server(endpoint = "access/mine")]
pub async fn get_my_access() -> Result<MyAccess, AppError> {
    use crate::api::guard::Guard;
    use crate::model::TeamAccess;

    let g = Guard::enter::<GetMyAccess>().await?;
    let tree = &g.tree();
    let teams = tree
        .teams()
        .filter_map(|t| {
            let held = g.held_on(t);
            if held.is_empty() {
                return None;
            }
            Some(TeamAccess {
                team: tree.team_ref(t)?,
                depth: tree.depth(t),
                permissions: held.iter().map(|p| (p, g.sources(p, t))).collect(),
            })
        })
        .collect();
    let memberships = g
        .memberships()
        .iter()
        .filter_map(|t| tree.team_ref(*t))
        .collect();
    Ok(MyAccess { memberships, teams })
}

impl Declared for TeamMembers {
    const POLICY: Policy = read::<Self>(Needs(Permission::TeamsView));
}

/// A team's members (needs `teams.view` on it).
#[server(endpoint = "teams/members")]
pub async fn team_members(team: TeamId) -> Result<crate::model::TeamMembers, AppError> {
    use crate::api::guard::Guard;
    use crate::model::{Member, TeamMembers, UserRef};
    use backend::repo;
    use domain::people::Role;

    let g = Guard::enter::<self::TeamMembers>().await?;
    let tree = &g.tree();
    let Some(team_ref) = tree.team_ref(team) else {
        return Err(AppError::NotFound {
            what: "Team".into(),
        });
    };
    g.authorize(team, Resource::Team(team)).await?;
    let org = g.principal().organisation_id;
    let (members, others) = repo::users::with_membership_of(&g.state().db, org, team).await?;
    let manage = g.decide(Permission::MembersManage, team);
    let add_locked = g.may_add_member(team).err();
    let candidates = if add_locked.is_none() {
        others
            .into_iter()
            .filter(|u| u.active)
            .map(UserRef::from)
            .collect()
    } else {
        Vec::new()
    };
    let invite_locked = g.may_invite(team).err();
    let invitations = backend::invitation::pending_of_team(&g.state().db, team)
        .await?
        .into_iter()
        .map(|i| {
            Ok(crate::model::PendingInvitation {
                role: Role::stored(&i.role)?,
                expired: i.expires_at <= chrono::Utc::now(),
                expires: i.expires_at.format("%Y-%m-%d %H:%M").to_string(),
                id: i.id,
                name: i.full_name,
                email: i.email,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let move_targets = tree
        .teams()
        .filter(|t| *t != team && tree.parent(team) != Some(*t) && g.may_move(team, *t))
        .filter_map(|t| tree.team_ref(t))
        .collect();
    Ok(TeamMembers {
        invite_locked,
        invitations,
        manage_locked: g.may_manage_team(team).err(),
        move_targets,
        parent: tree.parent(team).and_then(|p| tree.team_ref(p)),
        team: team_ref,
        members: members
            .into_iter()
            .map(|u| {
                Ok(Member {
                    role: Role::stored(&u.role)?,
                    id: u.id,
                    name: u.full_name,
                    email: u.email,
                })
            })
            .collect::<Result<_, AppError>>()?,
        candidates,
        manage,
        add_locked,
    })
}

/// After a change that takes permissions away in the operator's organisation: the
/// impersonations whose actor no longer holds what their mode needs end in the same
/// transaction, each with its record (customer organisations have no actors).
#[cfg(feature = "ssr")]
pub(crate) async fn rights_taken(
    g: &crate::api::guard::Guard,
    txn: &backend::audit::AuditedTxn,
) -> Result<(), AppError> {
    if g.principal().operator {
        backend::impersonation::ending::end_of_actors_without_rights(
            txn,
            g.principal().organisation_id,
        )
        .await?;
    }
    Ok(())
}

#[cfg(feature = "ssr")]
async fn change_membership<F: crate::api::policy::Declared>(
    team: TeamId,
    user: i32,
    add: bool,
) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::repo;
    use domain::authz::can_add_member;

    let g = Guard::enter::<F>().await?;
    if !g.tree().contains(team) {
        return Err(AppError::NotFound {
            what: "Team".into(),
        });
    }
    let resource = Resource::Team(team);
    g.authorize(team, resource).await?;
    let org = g.principal().organisation_id;
    let person = match repo::users::load(&g.state().db, org, user).await {
        Err(repo::RepoError::NotFound(_)) => {
            return Err(AppError::invalid(
                "user",
                "Choose someone from your organisation.",
            ));
        }
        found => found?,
    };
    let changed;
    let txn = if add {
        // Adding gives the person the team's whole grant there: no escalation.
        let operator = g.principal().operator;
        let (txn, _) = g
            .begin_checked(resource, |a| can_add_member(a, operator, team))
            .await?;
        changed = backend::directory::add_member(&*txn, org, person.id, team).await?;
        txn
    } else {
        // Taking away cannot escalate: `members.manage` (checked above) is the whole rule.
        let txn = g.begin_write().await?;
        changed = backend::directory::remove_member(&*txn, org, person.id, team).await?;
        txn
    };
    if changed {
        if !add {
            rights_taken(&g, &txn).await?;
        }
        let verb = if add { "added" } else { "removed" };
        let details = backend::audit::Details::new()
            .with(backend::audit::Field::Change, verb)
            .with(
                backend::audit::Field::User,
                Resource::User(person.id).to_string(),
            );
        g.commit_write(txn, resource, details).await?;
    } else {
        txn.commit_unaudited().await?;
    }
    Ok(())
}

impl Declared for AddMember {
    const POLICY: Policy = write::<Self>(Needs(Permission::MembersManage));
}

/// Adds someone of the organisation to a team (needs `members.manage` on it, and every
/// permission the team grants: no escalation).
#[server(endpoint = "members/add")]
pub async fn add_member(team: TeamId, user: i32) -> Result<(), AppError> {
    change_membership::<AddMember>(team, user, true).await
}

impl Declared for RemoveMember {
    const POLICY: Policy = write::<Self>(Needs(Permission::MembersManage));
}

/// Removes someone from a team (needs `members.manage` on it).
#[server(endpoint = "members/remove")]
pub async fn remove_member(team: TeamId, user: i32) -> Result<(), AppError> {
    change_membership::<RemoveMember>(team, user, false).await
}
