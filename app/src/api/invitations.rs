//! Invitations into a team (`users.invite` there, under the no-escalation rule: the person will
//! hold the team's grant), resending and revoking them, and accepting one from its link.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::{Permission as Needs, Public};
use crate::api::policy::{Declared, Policy, own_name_only, read, write};
use crate::error::AppError;
use crate::model::InvitationView;
use domain::authz::{Permission, TeamId};
use leptos::prelude::*;

/// The roles a customer organisation's people can be invited with.
pub const INVITABLE: [domain::people::Role; 2] = [
    domain::people::Role::FleetManager,
    domain::people::Role::Technician,
];

/// An invitation's fields, parsed the same way in the browser and on the server.
pub fn parse_invitation(
    name: &str,
    email: &str,
    role: &str,
) -> Result<(String, domain::people::Email, domain::people::Role), AppError> {
    use domain::validate::{Problems, required};
    let mut p = Problems::default();
    let name = p.check("name", required(name, "the person's name", 200));
    let email = p.check(
        "email",
        domain::people::Email::parse(email).map_err(|e| e.to_string()),
    );
    let role = p.check(
        "role",
        domain::people::Role::from_key(role)
            .filter(|r| INVITABLE.contains(r))
            .ok_or_else(|| "Choose Fleet Manager or Technician.".to_owned()),
    );
    p.finish()?;
    match (name, email, role) {
        (Some(n), Some(e), Some(r)) => Ok((n, e, r)),
        _ => Err(AppError::Internal),
    }
}

impl Declared for InviteMember {
    const POLICY: Policy = write::<Self>(Needs(Permission::UsersInvite));
}

/// Invites a person into `team`; the mail with the link is queued in the same transaction.
#[server(endpoint = "invitations/create")]
pub async fn invite_member(
    team: TeamId,
    name: String,
    email: String,
    role: String,
) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use backend::invitation::{self, NewInvitation};
    use domain::authz::can_invite;

    let g = Guard::enter::<InviteMember>().await?;
    let (name, email, role) = parse_invitation(&name, &email, &role)?;
    if !g.tree().contains(team) {
        return Err(AppError::NotFound {
            what: "Team".into(),
        });
    }
    let resource = Resource::Team(team);
    g.authorize(team, resource).await?;
    refuse_in_operator_org(&g, resource).await?;
    let operator = g.principal().operator;
    let (txn, _) = g
        .begin_checked(resource, |a| can_invite(a, operator, team))
        .await?;
    let org = g.principal().organisation_id;
    let (inv, token) = invitation::create(
        &*txn,
        NewInvitation {
            organisation_id: org,
            team_id: team,
            email: &email,
            full_name: &name,
            role,
            invited_by: Some(g.principal().user_id),
        },
    )
    .await?;
    queue_mail(&g, &txn, &inv, &token).await?;
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "invited")
            .with(Field::Email, email.as_str())
            .with(Field::Role, role.key()),
    )
    .await
}

/// Operator staff are created with `server create-admin`, never invited.
#[cfg(feature = "ssr")]
async fn refuse_in_operator_org(
    g: &crate::api::guard::Guard,
    resource: Resource,
) -> Result<(), AppError> {
    if !g.principal().operator {
        return Ok(());
    }
    let e = AppError::Forbidden {
        message: "Operator staff are not invited: create them with `server create-admin`.".into(),
        denial: None,
    };
    g.audit(
        resource,
        backend::audit::Outcome::Denied,
        backend::audit::Details::why(e.to_string()),
    )
    .await;
    Err(e)
}

#[cfg(feature = "ssr")]
async fn queue_mail(
    g: &crate::api::guard::Guard,
    txn: &backend::audit::AuditedTxn,
    inv: &backend::entity::invitation::Model,
    token: &backend::link_token::LinkToken,
) -> Result<(), AppError> {
    let to = domain::people::Email::parse(&inv.email).map_err(|_| AppError::Internal)?;
    let link = backend::onboarding::invitation_link(&g.state().public_url, token);
    let mail =
        backend::mail::letters::invitation(to, &inv.full_name, &g.principal().organisation, &link);
    backend::mail::queue(&**txn, mail).await?;
    Ok(())
}

impl Declared for ResendInvitation {
    const POLICY: Policy = write::<Self>(Needs(Permission::UsersInvite));
}

/// Sends a pending (or expired) invitation again with a new link; the old link dies.
#[server(endpoint = "invitations/resend")]
pub async fn resend_invitation(invitation: i32) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};
    use domain::authz::can_invite;

    let g = Guard::enter::<ResendInvitation>().await?;
    let org = g.principal().organisation_id;
    let inv = backend::invitation::load(&g.state().db, org, invitation).await?;
    let resource = Resource::Invitation(inv.id);
    g.authorize(inv.team_id, resource).await?;
    let operator = g.principal().operator;
    let (txn, _) = g
        .begin_checked(resource, |a| can_invite(a, operator, inv.team_id))
        .await?;
    let token = backend::invitation::renew(&*txn, &inv).await?;
    queue_mail(&g, &txn, &inv, &token).await?;
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "resent")
            .with(Field::Email, inv.email.clone()),
    )
    .await
}

impl Declared for RevokeInvitation {
    const POLICY: Policy = write::<Self>(Needs(Permission::UsersInvite));
}

/// Withdraws a pending invitation: its link stops working.
#[server(endpoint = "invitations/revoke")]
pub async fn revoke_invitation(invitation: i32) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::{Details, Field};

    let g = Guard::enter::<RevokeInvitation>().await?;
    let org = g.principal().organisation_id;
    let inv = backend::invitation::load(&g.state().db, org, invitation).await?;
    let resource = Resource::Invitation(inv.id);
    g.authorize(inv.team_id, resource).await?;
    let txn = g.begin_write().await?;
    if !backend::invitation::revoke(&*txn, inv.id).await? {
        txn.commit_unaudited().await?;
        return Ok(());
    }
    g.commit_write(
        txn,
        resource,
        Details::new()
            .with(Field::Change, "revoked")
            .with(Field::Email, inv.email.clone()),
    )
    .await
}

impl Declared for OpenInvitation {
    const POLICY: Policy = read::<Self>(Public);
}

/// What an invitation link is for, or why it no longer works (410).
#[server(endpoint = "invitations/open")]
pub async fn open_invitation(token: String) -> Result<InvitationView, AppError> {
    use backend::entity::{organisation, team};
    use sea_orm::EntityTrait;

    let st = crate::api::guard::enter_public::<OpenInvitation>().await?;
    let inv = backend::invitation::open(&st.db, &token).await?;
    let org = organisation::Entity::find_by_id(inv.organisation_id)
        .one(&st.db)
        .await?;
    let team = team::Entity::find_by_id(inv.team_id).one(&st.db).await?;
    Ok(InvitationView {
        name: inv.full_name,
        email: inv.email,
        organisation: org.map(|o| o.name).unwrap_or_default(),
        team: team.map(|t| t.name).unwrap_or_default(),
    })
}

impl Declared for AcceptInvitation {
    // Public (the person has no account yet), and never in someone else's name.
    const POLICY: Policy = own_name_only::<Self>(Public);
}

/// Accepts an invitation: sets the password, creates the account and its membership, signs
/// the person in and takes them to the dashboard. The link works once.
#[server(endpoint = "invitations/accept")]
pub async fn accept_invitation(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::api::guard::{enter_public, public_entry};
    use backend::audit::{Details, Field};

    let st = enter_public::<AcceptInvitation>().await?;
    let password = crate::api::account::new_password(&password, &confirm, ("password", "confirm"))?;
    // Checked before the (slow) hash, so a dead link answers at once.
    backend::invitation::open(&st.db, &token).await?;
    let hash = backend::password::hash(password.into_inner())
        .await
        .map_err(|_| AppError::Internal)?;
    let txn = backend::audit::begin(&st.db).await?;
    let (inv, user) = backend::invitation::accept(&*txn, &token, hash).await?;
    let details = Details::new()
        .with(Field::Change, "accepted")
        .with(Field::Team, Resource::Team(inv.team_id).to_string());
    txn.commit_with(public_entry::<AcceptInvitation>(
        Some(inv.organisation_id),
        Some(user.id),
        user.id,
        Resource::Invitation(inv.id),
        details,
    ))
    .await?;
    crate::api::auth::open_session(&st, user.id).await?;
    leptos_axum::redirect("/");
    Ok(())
}
