//! "Forgot password?": a single-use link valid 30 minutes, mailed to the address if it has an
//! account — the answer is the same either way — and throttled like sign-in. Setting the new
//! password ends every session of the user and every impersonation of them.

use crate::api::policy::Requirement::Public;
use crate::api::policy::{Declared, Policy, own_name_only, read};
use crate::error::AppError;
use leptos::prelude::*;

impl Declared for RequestPasswordReset {
    const POLICY: Policy = own_name_only::<Self>(Public);
}

/// Mails a reset link to `email` when it has an active account; answers the same in every
/// case, so the form tells nobody who has an account.
#[server(endpoint = "password/forgot")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use backend::audit::{Details, Entry, Field, Outcome, Resource};
    use domain::people::Email;

    let st = crate::api::ctx::state()?;
    let auth = crate::api::ctx::authentication().ok();
    crate::api::guard::admit(&st, &RequestPasswordReset::POLICY, auth.as_ref()).await?;
    let email = Email::parse(&email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    // Counted like sign-in attempts (every request is one), on counters of their own: asking
    // for resets can neither lock anyone out of signing in nor flood an inbox.
    let addr = crate::api::ctx::client_addr();
    st.throttle
        .admit_password(
            &st.db,
            &format!("reset:{}", email.as_str()),
            &format!("reset:{addr}"),
        )
        .await?;
    let Some(user) = backend::repo::users::by_email(&st.db, &email).await? else {
        tracing::info!("password reset asked for an unknown address");
        return Ok(());
    };
    if backend::repo::users::barred(&st.db, &user).await?.is_some() {
        return Ok(());
    }
    let txn = backend::audit::begin(&st.db).await?;
    let token = backend::password_reset::issue(&*txn, user.id).await?;
    let link = backend::onboarding::reset_link(&st.public_url, &token);
    backend::mail::queue(&*txn, backend::mail::letters::password_reset(email, &link)).await?;
    txn.commit_with(Entry {
        organisation_id: Some(user.organisation_id),
        actor_user_id: None,
        subject_user_id: Some(user.id),
        impersonation_id: None,
        action: RequestPasswordReset::POLICY
            .path
            .trim_start_matches("/api/")
            .to_owned(),
        resource: Some(Resource::User(user.id).to_string()),
        outcome: Outcome::Success,
        details: Details::new().with(Field::Change, "reset link sent"),
    })
    .await?;
    Ok(())
}

impl Declared for CheckResetLink {
    const POLICY: Policy = read::<Self>(Public);
}

/// Whether a reset link still works (410 with the reason when it does not).
#[server(endpoint = "password/link")]
pub async fn check_reset_link(token: String) -> Result<(), AppError> {
    let st = crate::api::ctx::state()?;
    backend::password_reset::open(&st.db, &token).await??;
    Ok(())
}

impl Declared for ResetPassword {
    const POLICY: Policy = own_name_only::<Self>(Public);
}

/// Sets a new password from a reset link; every session of the user and every impersonation
/// of them end. Then on to the sign-in page.
#[server(endpoint = "password/reset")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    use backend::audit::{Details, Entry, Field, Outcome, Resource};

    let password = crate::api::account::new_password(&password, &confirm, ("password", "confirm"))?;
    let st = crate::api::ctx::state()?;
    let auth = crate::api::ctx::authentication().ok();
    crate::api::guard::admit(&st, &ResetPassword::POLICY, auth.as_ref()).await?;
    backend::password_reset::open(&st.db, &token).await??;
    let hash = backend::password::hash(password.into_inner())
        .await
        .map_err(|_| AppError::Internal)?;
    let txn = backend::audit::begin(&st.db).await?;
    let user_id = backend::password_reset::consume(&*txn, &token).await??;
    backend::repo::users::set_password_hash(&*txn, user_id, hash).await?;
    backend::offboarding::end_access_of_user(&txn, user_id, "the user's password was reset")
        .await?;
    let org = <backend::entity::user::Entity as sea_orm::EntityTrait>::find_by_id(user_id)
        .one(&*txn)
        .await?
        .map(|u| u.organisation_id);
    txn.commit_with(Entry {
        organisation_id: org,
        actor_user_id: Some(user_id),
        subject_user_id: Some(user_id),
        impersonation_id: None,
        action: ResetPassword::POLICY
            .path
            .trim_start_matches("/api/")
            .to_owned(),
        resource: Some(Resource::User(user_id).to_string()),
        outcome: Outcome::Success,
        details: Details::new().with(Field::Change, "password reset"),
    })
    .await?;
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}
