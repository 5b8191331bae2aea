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
    use crate::api::guard::{enter_public, public_entry};
    use backend::audit::{Details, Field, Resource};
    use domain::people::Email;

    let st = enter_public::<RequestPasswordReset>().await?;
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
    txn.commit_with(public_entry::<RequestPasswordReset>(
        Some(user.organisation_id),
        None,
        user.id,
        Resource::User(user.id),
        Details::new().with(Field::Change, "reset link sent"),
    ))
    .await?;
    Ok(())
}

impl Declared for CheckResetLink {
    const POLICY: Policy = read::<Self>(Public);
}

/// Whether a reset link still works (410 with the reason when it does not).
#[server(endpoint = "password/link")]
pub async fn check_reset_link(token: String) -> Result<(), AppError> {
    let st = crate::api::guard::enter_public::<CheckResetLink>().await?;
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
    use crate::api::guard::{enter_public, public_entry};
    use backend::audit::{Details, Field, Resource};

    let st = enter_public::<ResetPassword>().await?;
    let password = crate::api::account::new_password(&password, &confirm, ("password", "confirm"))?;
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
    txn.commit_with(public_entry::<ResetPassword>(
        org,
        Some(user_id),
        user_id,
        Resource::User(user_id),
        Details::new().with(Field::Change, "password reset"),
    ))
    .await?;
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}
