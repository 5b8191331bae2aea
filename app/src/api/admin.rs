//! The operator's admin console: users of every organisation, and organisations.

use crate::api::policy::Requirement::Operator;
use crate::api::policy::{Declared, Policy, read};
use crate::error::AppError;
use crate::model::{AdminUserRow, OrgRow};
use domain::authz::Permission;
use leptos::prelude::*;

impl Declared for AdminUsers {
    const POLICY: Policy = read::<Self>(Operator(Permission::OrgsViewAll));
}

/// Users of every organisation, filtered; each with whether **View as** is possible and why not.
#[server(endpoint = "admin/users")]
pub async fn admin_users(
    q: Option<String>,
    organisation: Option<i32>,
    role: Option<String>,
    active: Option<String>,
) -> Result<Vec<AdminUserRow>, AppError> {
    use crate::api::guard::Guard;
    use backend::entity::{organisation as orgs, user};
    use domain::impersonation::{self, Consent, Mode, Target};
    use domain::people::{OrgKind, Role};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use std::collections::HashMap;

    let g = Guard::enter::<AdminUsers>().await?;
    let orgs: HashMap<i32, backend::entity::organisation::Model> = orgs::Entity::find()
        .all(&g.state().db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut query = user::Entity::find()
        .order_by_asc(user::Column::OrganisationId)
        .order_by_asc(user::Column::FullName);
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
    let needle = q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let rows = query.all(&g.state().db).await?;
    rows.into_iter()
        .filter(|u| {
            needle.as_ref().is_none_or(|n| {
                u.email.contains(n.as_str()) || u.full_name.to_lowercase().contains(n.as_str())
            })
        })
        .filter_map(|u| {
            let org = orgs.get(&u.organisation_id)?;
            Some((u, org))
        })
        .map(|(u, org)| {
            let kind = OrgKind::stored(&org.kind)?;
            let consent = Consent::stored(&org.impersonation_consent)?;
            let role = Role::stored(&u.role)?;
            let target = Target {
                user_id: u.id,
                role,
                active: u.active,
                org_kind: kind,
                consent,
            };
            Ok(AdminUserRow {
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
        .collect::<Result<_, AppError>>()
}

impl Declared for AdminOrgs {
    const POLICY: Policy = read::<Self>(Operator(Permission::OrgsViewAll));
}

/// Every organisation, with its impersonation consent.
#[server(endpoint = "admin/orgs")]
pub async fn admin_orgs() -> Result<Vec<OrgRow>, AppError> {
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
        out.push(OrgRow {
            id: o.id,
            kind: OrgKind::stored(&o.kind)?,
            consent: Consent::stored(&o.impersonation_consent)?,
            name: o.name,
            users,
        });
    }
    Ok(out)
}
