//! `/people`: the organisation's people the caller can see (members of teams where they hold
//! `teams.view`), searchable and paged; deactivating, reactivating and changing a role, each
//! needing its permission on every team of the person (`authz::can_manage_person`).

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Permission as Needs;
use crate::api::policy::{Declared, Policy, read, write};
use crate::error::AppError;
use crate::model::PeoplePage;
use domain::authz::Permission;
use leptos::prelude::*;

impl Declared for ListPeople {
    const POLICY: Policy = read::<Self>(Needs(Permission::TeamsView));
}

/// A page of people by name, filtered by `q` (name or e-mail, case-insensitive); `after` is
/// the previous page's cursor.
#[server(endpoint = "people/list")]
pub async fn list_people(q: Option<String>, after: Option<String>) -> Result<PeoplePage, AppError> {
    use crate::api::guard::Guard;
    use crate::api::paging::{next_page, parse_cursor};
    use crate::model::{Cursor, PersonRow};
    use domain::people::Role;

    let after = parse_cursor(after.as_deref())?;
    let g = Guard::enter::<ListPeople>().await?;
    let visible = g.visible_teams().await?;
    let org = g.principal().organisation_id;
    let tree = g.tree();
    // Everyone when the root is visible (scope flows down); else the members of visible teams.
    let within = (!visible.contains(&tree.root())).then_some(visible.as_slice());
    let mut people = backend::repo::users::page(
        &g.state().db,
        org,
        within,
        q.as_deref().unwrap_or(""),
        after
            .as_ref()
            .map(|c| (c.key.clone().unwrap_or_default(), c.id)),
        crate::model::PAGE_SIZE + 1,
    )
    .await?;
    let next = next_page(&mut people, |(u, _)| Cursor {
        id: u.id,
        key: Some(u.full_name.clone()),
    });
    let rows = people
        .into_iter()
        .map(|(u, teams)| {
            let manage = |p| g.may_manage_person(p, u.id, &teams);
            Ok(PersonRow {
                role: Role::stored(&u.role)?,
                deactivate: manage(Permission::UsersDeactivate),
                change_role: manage(Permission::MembersManage),
                teams: teams.iter().filter_map(|t| tree.team_ref(*t)).collect(),
                last_sign_in: u
                    .last_sign_in_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                active: u.active,
                id: u.id,
                name: u.full_name,
                email: u.email,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(PeoplePage { rows, next })
}

#[cfg(feature = "ssr")]
async fn set_active<F: Declared>(user: i32, active: bool) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};

    let g = Guard::enter::<F>().await?;
    let org = g.principal().organisation_id;
    let person = backend::repo::users::load(&g.state().db, org, user).await?;
    let resource = Resource::User(person.id);
    let teams = backend::repo::users::teams_of(&g.state().db, person.id).await?;
    g.require_person(Permission::UsersDeactivate, person.id, &teams, resource)
        .await?;
    if person.active == active {
        return Ok(());
    }
    let txn = g.begin_write().await?;
    backend::repo::users::set_active(&*txn, person.id, active).await?;
    if !active {
        backend::offboarding::end_access_of_user(&txn, person.id, "the user was deactivated")
            .await?;
    }
    let change = if active { "reactivated" } else { "deactivated" };
    g.commit_write(txn, resource, Details::new().with(Field::Change, change))
        .await
}

impl Declared for DeactivateUser {
    const POLICY: Policy = write::<Self>(Needs(Permission::UsersDeactivate));
}

/// Deactivates a person: their sessions and any impersonation of them end at once, on every
/// instance; sign-in is refused with a clear message; the audit log keeps them.
#[server(endpoint = "people/deactivate")]
pub async fn deactivate_user(user: i32) -> Result<(), AppError> {
    set_active::<DeactivateUser>(user, false).await
}

impl Declared for ReactivateUser {
    const POLICY: Policy = write::<Self>(Needs(Permission::UsersDeactivate));
}

/// Lets a deactivated person sign in again.
#[server(endpoint = "people/reactivate")]
pub async fn reactivate_user(user: i32) -> Result<(), AppError> {
    set_active::<ReactivateUser>(user, true).await
}

impl Declared for ChangeRole {
    const POLICY: Policy = write::<Self>(Needs(Permission::MembersManage));
}

/// Changes a person's role between Fleet Manager and Technician (`members.manage` on every
/// team of theirs). A role confers no permission: it is a label and a template.
#[server(endpoint = "people/role")]
pub async fn change_role(user: i32, role: String) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};

    let g = Guard::enter::<ChangeRole>().await?;
    let role = domain::people::Role::from_key(&role)
        .filter(|r| crate::api::invitations::INVITABLE.contains(r))
        .ok_or_else(|| AppError::invalid("role", "Choose Fleet Manager or Technician."))?;
    let org = g.principal().organisation_id;
    let person = backend::repo::users::load(&g.state().db, org, user).await?;
    let resource = Resource::User(person.id);
    let teams = backend::repo::users::teams_of(&g.state().db, person.id).await?;
    g.require_person(Permission::MembersManage, person.id, &teams, resource)
        .await?;
    if g.principal().operator {
        return Err(AppError::invalid(
            "role",
            "Operator roles are not changed here.",
        ));
    }
    if person.role == role.key() {
        return Ok(());
    }
    let txn = g.begin_write().await?;
    backend::repo::users::set_role(&*txn, person.id, role).await?;
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "role changed")
            .with(Field::Role, role.key()),
    )
    .await
}
