//! The audit log: operator staff see every organisation's events and the chain's status; a
//! customer's holders of `audit.view` see their own organisation's — including who viewed as
//! whom, when and why.
// `audit_list` takes one argument per filter (the query string's fields, as the page's form
// sends them); the client stub `#[server]` generates for it carries no attribute of ours.
#![allow(clippy::too_many_arguments)]

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

/// Events per page.
#[cfg(feature = "ssr")]
const PAGE: u64 = 100;

/// Events a page at a time, newest first, filtered by person (name or e-mail), organisation
/// (name; operator staff), action, time range (days or RFC 3339 times) and the numeric ids the
/// links use; `before` pages back.
#[server(endpoint = "audit/list")]
pub async fn audit_list(
    actor: Option<i32>,
    subject: Option<i32>,
    organisation: Option<i32>,
    impersonation: Option<String>,
    person: Option<String>,
    org: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i32>,
) -> Result<AuditPage, AppError> {
    use crate::api::guard::Guard;
    use crate::model::{AuditRow, ChainStatus};
    use backend::audit_export::{Filter, bound, organisations_named, people_named};
    use backend::entity::{audit_event, organisation as orgs};
    use domain::authz::Permission;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use server::field_views;
    use std::collections::HashMap;

    let from =
        bound(from.as_deref(), false).map_err(|e| AppError::invalid("from", e.to_string()))?;
    let to = bound(to.as_deref(), true).map_err(|e| AppError::invalid("to", e.to_string()))?;
    let g = Guard::enter::<AuditList>().await?;
    let all = g.principal().operator;
    if all {
        g.require_operator(Permission::AuditViewAll).await?;
    } else {
        g.require(Permission::AuditView, g.tree().root(), Resource::AuditLog)
            .await?;
    }
    let db = &g.state().db;
    let own = (!all).then_some(g.principal().organisation_id);
    let text = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let people = match text(person) {
        Some(p) => Some(people_named(db, &p, own).await?),
        None => None,
    };
    let organisations = match text(org).filter(|_| all) {
        Some(o) => Some(organisations_named(db, &o).await?),
        None => None,
    };
    let filter = Filter {
        organisation: own.or(organisation),
        people,
        organisations,
        actor,
        subject,
        impersonation: text(impersonation),
        action: text(action),
        from,
        to,
    };
    let mut q = filter
        .apply(audit_event::Entity::find())
        .order_by_desc(audit_event::Column::Id)
        .limit(PAGE + 1);
    if let Some(b) = before {
        q = q.filter(audit_event::Column::Id.lt(b));
    }
    let mut rows = q.all(db).await?;
    let older = (rows.len() as u64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.id)
    });
    // Names of the people and organisations on this page only.
    let mut ids: Vec<i32> = rows
        .iter()
        .flat_map(|r| [r.actor_user_id, r.subject_user_id])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let users = backend::repo::users::names_anywhere(db, ids).await?;
    let org_names: HashMap<i32, String> = orgs::Entity::find()
        .filter(orgs::Column::Id.is_in(rows.iter().filter_map(|r| r.organisation_id)))
        .all(db)
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
        older: older.flatten(),
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
