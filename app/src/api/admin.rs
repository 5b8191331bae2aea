//! The operator's admin console: users of every organisation, and organisations.

use crate::api::policy::Requirement::Operator;
use crate::api::policy::{Declared, Policy, read};
use crate::error::AppError;
use crate::model::{AdminUserPage, OrgList};
use domain::authz::Permission;
use leptos::prelude::*;

impl Declared for AdminUsers {
    const POLICY: Policy = read::<Self>(Operator(Permission::OrgsViewAll));
}

/// Users of every organisation, a page at a time by name, filtered (name or e-mail, case
/// insensitive); each with whether **View as** is possible and why not. Organisations are read
/// once per page, never per user, so the list stays fast with thousands of people.
#[server(endpoint = "admin/users")]
pub async fn admin_users(
    q: Option<String>,
    organisation: Option<i32>,
    role: Option<String>,
    active: Option<String>,
    after: Option<String>,
) -> Result<AdminUserPage, AppError> {
    use crate::api::guard::Guard;
    use crate::api::paging::{next_page, parse_cursor};
    use crate::model::Cursor;
    use backend::entity::{organisation as orgs, user};
    use backend::repo::users::{after_name, matching};
    use domain::impersonation::{self, Consent, Mode, Target};
    use domain::people::{OrgKind, Role};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    use std::collections::HashMap;

    let after = parse_cursor(after.as_deref())?;
    let g = Guard::enter::<AdminUsers>().await?;
    let mut query = user::Entity::find();
    if let Some(o) = organisation {
        query = query.filter(user::Column::OrganisationId.eq(o));
    }
    if let Some(r) = role.as_deref().filter(|r| !r.is_empty()) {
        let r = Role::from_key(r)
            .ok_or_else(|| AppError::invalid("role", "Choose a role from the list."))?;
        query = query.filter(user::Column::Role.eq(r.key()));
    }
    match active.as_deref() {
        Some("yes") => query = query.filter(user::Column::Active.eq(true)),
        Some("no") => query = query.filter(user::Column::Active.eq(false)),
        _ => {}
    }
    let query = matching(query, q.as_deref().unwrap_or(""));
    let after = after.map(|c| (c.key.unwrap_or_default(), c.id));
    let mut rows = after_name(query, after)
        .limit(crate::model::PAGE_SIZE + 1)
        .all(&g.state().db)
        .await?;
    let next = next_page(&mut rows, |u| Cursor {
        id: u.id,
        key: Some(u.full_name.clone()),
    });
    let mut ids: Vec<i32> = rows.iter().map(|u| u.organisation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let orgs: HashMap<i32, orgs::Model> = orgs::Entity::find()
        .filter(orgs::Column::Id.is_in(ids))
        .all(&g.state().db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    // Support access per organisation of the page: its grants and protections, a query or two
    // per organisation, never per user.
    let mut covers = HashMap::new();
    for org in orgs.values() {
        let people: Vec<i32> = rows
            .iter()
            .filter(|u| u.organisation_id == org.id)
            .map(|u| u.id)
            .collect();
        covers.extend(backend::support_access::covers(&g.state().db, org.id, &people).await?);
    }
    let rows = rows
        .into_iter()
        .filter_map(|u| {
            let org = orgs.get(&u.organisation_id)?;
            Some((u, org))
        })
        .map(|(u, org)| {
            let cover = covers.get(&u.id).cloned().unwrap_or_default();
            let kind = OrgKind::stored(&org.kind)?;
            let consent = Consent::stored(&org.impersonation_consent)?;
            let role = Role::stored(&u.role)?;
            let target = Target {
                user_id: u.id,
                role,
                active: u.active,
                org_kind: kind,
                consent,
                suspended: org.suspended_at.is_some(),
                protected_by: cover.protected.then(|| org.name.clone()),
                grant: cover.grant,
            };
            Ok(crate::model::AdminUserRow {
                granted_until: cover
                    .until
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                view_as: impersonation::eligibility(g.principal().user_id, &target, Mode::View),
                id: u.id,
                name: u.full_name,
                email: u.email,
                role,
                organisation: org.name.clone(),
                organisation_id: org.id,
                active: u.active,
                consent: (kind == OrgKind::Customer).then_some(consent),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(AdminUserPage { rows, next })
}

impl Declared for AdminOrgs {
    const POLICY: Policy = read::<Self>(Operator(Permission::OrgsViewAll));
}

/// Every organisation, with its impersonation consent and whether it is suspended, and
/// whether the viewer may create, suspend and reactivate organisations (`orgs.manage`).
#[server(endpoint = "admin/orgs")]
pub async fn admin_orgs() -> Result<OrgList, AppError> {
    use crate::api::guard::Guard;
    use backend::entity::{organisation, user};
    use domain::impersonation::Consent;
    use domain::people::OrgKind;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

    let g = Guard::enter::<AdminOrgs>().await?;
    let mut out = Vec::new();
    for o in organisation::Entity::find()
        .order_by_asc(organisation::Column::Name)
        .all(&g.state().db)
        .await?
    {
        let users = user::Entity::find()
            .filter(user::Column::OrganisationId.eq(o.id))
            .count(&g.state().db)
            .await?;
        out.push(crate::model::OrgRow {
            id: o.id,
            kind: OrgKind::stored(&o.kind)?,
            consent: Consent::stored(&o.impersonation_consent)?,
            name: o.name,
            users,
            suspended: o.suspended_at.is_some(),
        });
    }
    let manage_locked = (!g.holds_anywhere(Permission::OrgsManage)).then(|| {
        format!(
            "You need “{}” ({}), which only operator Admins hold.",
            Permission::OrgsManage.label(),
            Permission::OrgsManage.key()
        )
    });
    Ok(OrgList {
        rows: out,
        manage_locked,
    })
}
