//! Organisation settings: the impersonation consent, owned by the customer (`org.settings`).

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::{Permission as Needs, SignedIn};
use crate::api::policy::{Declared, Policy, own_name_only, read};
use crate::error::AppError;
use crate::model::OrgSettingsView;
use domain::authz::Permission;
use leptos::prelude::*;

impl Declared for OrgSettings {
    const POLICY: Policy = read::<Self>(SignedIn);
}

#[server(endpoint = "org/settings")]
pub async fn org_settings() -> Result<OrgSettingsView, AppError> {
    use crate::api::guard::Guard;
    use backend::entity::organisation;
    use domain::authz::Permission;
    use domain::impersonation::Consent;
    use sea_orm::EntityTrait;

    let g = Guard::enter::<OrgSettings>().await?;
    let org = organisation::Entity::find_by_id(g.principal().organisation_id)
        .one(&g.state().db)
        .await?
        .ok_or(AppError::NotFound {
            what: "Organisation".into(),
        })?;
    Ok(OrgSettingsView {
        name: org.name,
        consent: Consent::stored(&org.impersonation_consent)?,
        change: g.decide(Permission::OrgSettings, g.tree().root()),
    })
}

impl Declared for SetConsent {
    // The customer's own say over support access: never changed in someone else's name, even by
    // an impersonation allowed to act (it could open the organisation to itself).
    const POLICY: Policy = own_name_only::<Self>(Needs(Permission::OrgSettings));
}

/// Sets whether operator staff may view as this organisation's users.
#[server(endpoint = "org/consent")]
pub async fn set_consent(consent: String) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::entity::organisation;
    use domain::impersonation::Consent;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let consent = Consent::from_key(&consent).ok_or_else(|| {
        AppError::invalid(
            "consent",
            "Choose allowed, read-only only, only with a grant, or never.",
        )
    })?;
    let g = Guard::enter::<SetConsent>().await?;
    if g.principal().operator {
        return Err(AppError::Forbidden {
            message: "The operator organisation has no consent setting.".into(),
            denial: None,
        });
    }
    let org = g.principal().organisation_id;
    g.authorize(g.tree().root(), Resource::Organisation(org))
        .await?;
    let txn = g.begin_write().await?;
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::ImpersonationConsent,
            Expr::value(consent.key()),
        )
        .filter(organisation::Column::Id.eq(org))
        .exec(&*txn)
        .await?;
    // Live impersonations the new consent refuses end now, each with its record, rather than
    // on their next request (which may never come).
    backend::impersonation::ending::end_refused_by_consent(&txn, org, consent).await?;
    g.commit_write(
        txn,
        Resource::Organisation(org),
        backend::audit::Details::new().with(backend::audit::Field::Consent, consent.key()),
    )
    .await?;
    Ok(())
}
