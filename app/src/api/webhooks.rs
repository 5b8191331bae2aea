//! An organisation's webhook: its audit events sent to a URL it chose, signed
//! (`backend::webhook`). Customers' `org.settings` holders manage their organisation's; operator
//! staff with `audit.view_all` the operator's, which takes every organisation's events.
//! The secret is shown once, when the URL is set; the URL itself is never written to the log
//! (it may carry a token), only its host.

#[cfg(feature = "ssr")]
use crate::api::guard::{Guard, Resource};
use crate::api::policy::Requirement::SignedIn;
use crate::api::policy::{Declared, Policy, own_name_only, read};
use crate::error::AppError;
use crate::model::WebhookView;
use leptos::prelude::*;

/// Who may manage this organisation's webhook, and whether it takes every organisation's
/// events (the operator's).
#[cfg(feature = "ssr")]
async fn scope(g: &Guard) -> Result<bool, AppError> {
    use domain::authz::Permission;
    if g.principal().operator {
        g.require_operator(Permission::AuditViewAll).await?;
        Ok(true)
    } else {
        let org = g.principal().organisation_id;
        g.require(
            Permission::OrgSettings,
            g.tree().root(),
            Resource::Organisation(org),
        )
        .await?;
        Ok(false)
    }
}

impl Declared for GetWebhook {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// The webhook and how its deliveries go.
#[server(endpoint = "webhook/get")]
pub async fn get_webhook() -> Result<WebhookView, AppError> {
    use backend::entity::audit_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let g = Guard::enter::<GetWebhook>().await?;
    let all = scope(&g).await?;
    let org = g.principal().organisation_id;
    let Some(h) = backend::webhook::of(&g.state().db, org).await? else {
        return Ok(WebhookView {
            all_organisations: all,
            ..WebhookView::default()
        });
    };
    let mut pending =
        audit_event::Entity::find().filter(audit_event::Column::Id.gt(h.delivered_up_to));
    if !h.all_organisations {
        pending = pending.filter(audit_event::Column::OrganisationId.eq(org));
    }
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    Ok(WebhookView {
        url: Some(h.url),
        all_organisations: h.all_organisations,
        pending: pending.count(&g.state().db).await?,
        delivered_up_to: h.delivered_up_to,
        last_delivered: h.last_delivered_at.map(when),
        failing: (h.attempts > 0).then(|| {
            format!(
                "{} failed attempt(s); last: {}. Next try {}.",
                h.attempts,
                h.last_error.unwrap_or_default(),
                when(h.next_attempt_at)
            )
        }),
    })
}

impl Declared for SetWebhook {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Sets the webhook's URL (empty: removes it) and returns its new signing secret, shown once.
#[server(endpoint = "webhook/set")]
pub async fn set_webhook(url: String) -> Result<Option<String>, AppError> {
    use backend::audit::{Details, Field};

    let g = Guard::enter::<SetWebhook>().await?;
    let all = scope(&g).await?;
    let org = g.principal().organisation_id;
    let txn = g.begin_write().await?;
    if url.trim().is_empty() {
        backend::webhook::remove(&*txn, org).await?;
        g.commit_write(
            txn,
            Resource::Organisation(org),
            Details::new().with(Field::Change, "webhook removed"),
        )
        .await?;
        return Ok(None);
    }
    let parsed = backend::webhook::parse_url(&url, g.state().webhook_allow_private)
        .map_err(|e| AppError::invalid("url", e.to_string()))?;
    let by = g.principal().user_id;
    let (_, secret) = backend::webhook::save(&*txn, org, all, &parsed, by).await?;
    g.commit_write(
        txn,
        Resource::Organisation(org),
        Details::new()
            .with(Field::Change, "webhook set")
            .with(Field::Name, parsed.host_str().unwrap_or_default()),
    )
    .await?;
    Ok(Some(secret))
}

impl Declared for TestWebhook {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Sends a signed `ping` now and says how the receiver answered.
#[server(endpoint = "webhook/test")]
pub async fn test_webhook() -> Result<String, AppError> {
    use backend::audit::{Details, Field, Outcome};

    let g = Guard::enter::<TestWebhook>().await?;
    scope(&g).await?;
    let org = g.principal().organisation_id;
    let hook = backend::webhook::of(&g.state().db, org)
        .await?
        .ok_or(AppError::NotFound {
            what: "Webhook".into(),
        })?;
    let answer = backend::webhook::ping(&hook, g.state().webhook_allow_private).await;
    let said = match &answer {
        Ok(s) if (200..300).contains(s) => format!("The receiver answered {s}: it works."),
        Ok(s) => format!("The receiver answered {s}: check its address and signature check."),
        Err(why) => format!("No answer: {why}."),
    };
    g.audit(
        Resource::Organisation(org),
        if answer.as_ref().is_ok_and(|s| (200..300).contains(s)) {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        Details::new()
            .with(Field::Change, "webhook tested")
            .with(Field::Why, said.clone()),
    )
    .await;
    Ok(said)
}
