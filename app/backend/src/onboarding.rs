//! Onboarding a customer organisation: the organisation, its root team (named like it) granted
//! every customer permission, and the invitation of its first Fleet Manager into that team —
//! one transaction, with the invitation mail queued in it. Used by the admin console and by
//! `server create-org`.

use crate::entity::{invitation, organisation, team};
use crate::invitation::{InvitationError, NewInvitation};
use crate::link_token::LinkToken;
use crate::{directory, mail};
use domain::authz::{Permission, PermissionSet};
use domain::people::{Email, OrgKind, Role};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// A customer to onboard; every field already parsed.
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub manager_name: &'a str,
    pub manager_email: &'a Email,
    /// The operator user doing it (none from the command line).
    pub invited_by: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("An organisation with this name already exists.")]
    NameTaken,
    #[error(transparent)]
    Invitation(#[from] InvitationError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What was created.
pub struct Onboarded {
    pub organisation: organisation::Model,
    pub root: team::Model,
    pub invitation: invitation::Model,
    /// The link sent to the manager (absolute).
    pub link: String,
}

/// Every permission a customer organisation can hold.
pub fn customer_permissions() -> PermissionSet {
    Permission::ALL
        .iter()
        .copied()
        .filter(|p| !p.operator_only())
        .collect()
}

/// Creates the organisation, its root team and grants, and the manager's invitation with its
/// mail queued, inside the caller's transaction. `base` is the public URL links start with.
pub async fn create_customer(
    db: &impl ConnectionTrait,
    new: NewCustomer<'_>,
    base: &str,
) -> Result<Onboarded, OnboardingError> {
    // Names differing only in case would be two customers nobody can tell apart.
    let taken = organisation::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(organisation::Column::Name)))
                .eq(new.name.to_lowercase()),
        )
        .one(db)
        .await?
        .is_some();
    if taken {
        return Err(OnboardingError::NameTaken);
    }
    let org = directory::create_organisation(db, new.name, OrgKind::Customer).await?;
    let root = directory::create_team(db, org.id, None, new.name).await?;
    directory::grant(db, org.id, root.id, customer_permissions(), new.invited_by).await?;
    let (invitation, token) = crate::invitation::create(
        db,
        NewInvitation {
            organisation_id: org.id,
            team_id: root.id,
            email: new.manager_email,
            full_name: new.manager_name,
            role: Role::FleetManager,
            invited_by: new.invited_by,
        },
    )
    .await?;
    let link = invitation_link(base, &token);
    mail::queue(
        db,
        mail::letters::invitation(
            new.manager_email.clone(),
            new.manager_name,
            &org.name,
            &link,
        ),
    )
    .await?;
    Ok(Onboarded {
        organisation: org,
        root,
        invitation,
        link,
    })
}

/// The absolute link that accepts an invitation.
pub fn invitation_link(base: &str, token: &LinkToken) -> String {
    let base = base.trim_end_matches('/');
    format!("{base}{}{}", domain::links::INVITATION, token.secret())
}

/// The absolute link that sets a new password.
pub fn reset_link(base: &str, token: &LinkToken) -> String {
    let base = base.trim_end_matches('/');
    format!("{base}{}{}", domain::links::PASSWORD_RESET, token.secret())
}
