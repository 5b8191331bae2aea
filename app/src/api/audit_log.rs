//! The audit log: operator staff see every organisation's events and the chain's status; a
//! customer's holders of `audit.view` see their own organisation's — including who viewed as
//! whom, when and why.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::SignedIn;
use crate::api::policy::{Declared, Policy, read};
use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;

impl Declared for AuditList {
    const POLICY: Policy = read::<Self>(SignedIn);
}

#[server(endpoint = "audit/list")]
pub async fn audit_list(
    actor: Option<i32>,
    subject: Option<i32>,
    organisation: Option<i32>,
    impersonation: Option<String>,
) -> Result<AuditPage, AppError> {
    use crate::api::guard::Guard;
    use crate::model::{AuditRow, ChainStatus};
    use backend::entity::{audit_event, organisation as orgs, user};
    use domain::authz::Permission;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use server::field_views;
    use std::collections::HashMap;

    let g = Guard::enter::<AuditList>().await?;
    let all = g.principal().operator;
    if all {
        g.require_operator(Permission::AuditViewAll).await?;
    } else {
        g.require(Permission::AuditView, g.tree().root(), Resource::AuditLog)
            .await?;
    }
    let mut q = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .limit(500);
    if !all {
        q = q.filter(audit_event::Column::OrganisationId.eq(g.principal().organisation_id));
    } else if let Some(o) = organisation {
        q = q.filter(audit_event::Column::OrganisationId.eq(o));
    }
    if let Some(a) = actor {
        q = q.filter(audit_event::Column::ActorUserId.eq(a));
    }
    if let Some(s) = subject {
        q = q.filter(audit_event::Column::SubjectUserId.eq(s));
    }
    if let Some(i) = impersonation.filter(|i| !i.is_empty()) {
        q = q.filter(audit_event::Column::ImpersonationId.eq(i));
    }
    let rows = q.all(&g.state().db).await?;
    let users: HashMap<i32, String> = user::Entity::find()
        .all(&g.state().db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect();
    let org_names: HashMap<i32, String> = orgs::Entity::find()
        .all(&g.state().db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let chain = if all {
        let (rows, first_broken) = backend::audit::verify(&g.state().db).await?;
        Some(ChainStatus { rows, first_broken })
    } else {
        None
    };
    Ok(AuditPage {
        scope: if all {
            "All organisations".into()
        } else {
            g.principal().organisation.clone()
        },
        chain,
        events: rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.id,
                at: r.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                organisation: r.organisation_id.and_then(|o| org_names.get(&o).cloned()),
                actor: r.actor_user_id.and_then(|a| users.get(&a).cloned()),
                subject: r.subject_user_id.and_then(|s| users.get(&s).cloned()),
                impersonation_id: r.impersonation_id,
                action: r.action,
                resource: r.resource,
                outcome: r.outcome,
                detail: r.detail,
                fields: field_views(r.fields.as_deref()),
            })
            .collect(),
    })
}

#[cfg(feature = "ssr")]
mod server {
    use crate::model::AuditFieldView;
    use backend::audit::{Details, Field};

    /// The stored fields as labelled items; a field this version does not know keeps its key
    /// as its label, and an unreadable value is shown as such rather than hidden.
    pub fn field_views(stored: Option<&str>) -> Vec<AuditFieldView> {
        let Some(details) = Details::from_stored(stored) else {
            return vec![AuditFieldView {
                key: "unreadable".into(),
                label: "Unreadable fields".into(),
                value: stored.unwrap_or_default().to_owned(),
            }];
        };
        details
            .pairs()
            .map(|(k, v)| AuditFieldView {
                key: k.to_owned(),
                label: Field::from_key(k).map_or_else(|| k.to_owned(), |f| f.label().to_owned()),
                value: v.to_owned(),
            })
            .collect()
    }
}
