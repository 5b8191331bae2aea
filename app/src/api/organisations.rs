//! Onboarding and offboarding customer organisations (operator Admins, `orgs.manage`): create
//! one with its root team and its first Fleet Manager's invitation; suspend and reactivate.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::Operator;
use crate::api::policy::{Declared, Policy, write};
use crate::error::AppError;
use domain::authz::Permission;
use leptos::prelude::*;

/// A new organisation's fields (its name, its first manager's name and e-mail), parsed the
/// same way in the browser and on the server; every field's problem at once.
pub fn parse_new_organisation(
    name: &str,
    manager_name: &str,
    manager_email: &str,
) -> Result<(String, String, domain::people::Email), AppError> {
    use domain::validate::{Problems, required};
    let mut p = Problems::default();
    let name = p.check("name", required(name, "the organisation's name", 200));
    let manager_name = p.check(
        "manager_name",
        required(manager_name, "the manager's name", 200),
    );
    let email = p.check(
        "manager_email",
        domain::people::Email::parse(manager_email).map_err(|e| e.to_string()),
    );
    p.finish()?;
    match (name, manager_name, email) {
        (Some(n), Some(m), Some(e)) => Ok((n, m, e)),
        // `finish` refused any field that did not parse.
        _ => Err(AppError::Internal),
    }
}

impl Declared for CreateOrganisation {
    const POLICY: Policy = write::<Self>(Operator(Permission::OrgsManage));
}

/// Creates a customer organisation, its root team (granted every customer permission) and the
/// invitation of its first Fleet Manager, whose mail is queued in the same transaction.
#[server(endpoint = "orgs/create")]
pub async fn create_organisation(
    name: String,
    manager_name: String,
    manager_email: String,
) -> Result<crate::model::OrgCreated, AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use backend::onboarding::{self, NewCustomer};

    let g = Guard::enter::<CreateOrganisation>().await?;
    let (name, manager_name, email) = parse_new_organisation(&name, &manager_name, &manager_email)?;
    let txn = g.begin_write().await?;
    let done = onboarding::create_customer(
        &*txn,
        NewCustomer {
            name: &name,
            manager_name: &manager_name,
            manager_email: &email,
            invited_by: Some(g.principal().user_id),
        },
        &g.state().public_url,
    )
    .await?;
    let org = done.organisation.id;
    g.commit_write(
        txn,
        Resource::Organisation(org),
        Details::new()
            .with(Field::Change, "created")
            .with(Field::Name, name)
            .with(Field::Email, email.as_str()),
    )
    .await?;
    Ok(crate::model::OrgCreated {
        id: org,
        invited: email.as_str().to_owned(),
    })
}

#[cfg(feature = "ssr")]
async fn set_suspended<F: Declared>(organisation: i32, suspend: bool) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use backend::entity::organisation;
    use domain::people::OrgKind;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let g = Guard::enter::<F>().await?;
    let resource = Resource::Organisation(organisation);
    let Some(org) = organisation::Entity::find_by_id(organisation)
        .one(&g.state().db)
        .await?
    else {
        return Err(AppError::NotFound {
            what: "Organisation".into(),
        });
    };
    if OrgKind::stored(&org.kind)? == OrgKind::Operator {
        let e = AppError::Forbidden {
            message: "The operator's own organisation cannot be suspended.".into(),
            denial: None,
        };
        g.audit(
            resource,
            backend::audit::Outcome::Denied,
            Details::why(e.to_string()),
        )
        .await;
        return Err(e);
    }
    if org.suspended_at.is_some() == suspend {
        return Ok(());
    }
    let txn = g.begin_write().await?;
    let at = suspend.then(chrono::Utc::now);
    organisation::Entity::update_many()
        .col_expr(organisation::Column::SuspendedAt, Expr::value(at))
        .filter(organisation::Column::Id.eq(organisation))
        .exec(&*txn)
        .await?;
    if suspend {
        backend::offboarding::end_access_of_organisation(
            &txn,
            organisation,
            "the organisation was suspended",
        )
        .await?;
    }
    let change = if suspend { "suspended" } else { "reactivated" };
    g.commit_write(txn, resource, Details::new().with(Field::Change, change))
        .await
}

impl Declared for SuspendOrganisation {
    const POLICY: Policy = write::<Self>(Operator(Permission::OrgsManage));
}

/// Suspends a customer organisation: every session of its people ends at once, sign-in is
/// refused with a clear message, the data stays.
#[server(endpoint = "orgs/suspend")]
pub async fn suspend_organisation(organisation: i32) -> Result<(), AppError> {
    set_suspended::<SuspendOrganisation>(organisation, true).await
}

impl Declared for ReactivateOrganisation {
    const POLICY: Policy = write::<Self>(Operator(Permission::OrgsManage));
}

/// Lets a suspended organisation's people sign in again.
#[server(endpoint = "orgs/reactivate")]
pub async fn reactivate_organisation(organisation: i32) -> Result<(), AppError> {
    set_suspended::<ReactivateOrganisation>(organisation, false).await
}
