//! The signed-in user's own account: changing the password. Credentials are never changed in
//! someone else's name, in any impersonation mode.

#[cfg(feature = "ssr")]
use crate::api::guard::Resource;
use crate::api::policy::Requirement::SignedIn;
use crate::api::policy::{Declared, Policy, own_name_only};
use crate::error::AppError;
use leptos::prelude::*;

/// Parses a chosen password and its confirmation the same way in the browser and on the
/// server (`domain::password`), the error on the field it is about: `fields` names the
/// password's field and the confirmation's.
pub fn new_password(
    password: &str,
    confirm: &str,
    fields: (&str, &str),
) -> Result<domain::password::NewPassword, AppError> {
    use domain::password::{NewPassword, NewPasswordError};
    NewPassword::parse(password, confirm).map_err(|e| {
        let field = match e {
            NewPasswordError::Differ => fields.1,
            NewPasswordError::TooShort | NewPasswordError::TooLong => fields.0,
        };
        AppError::invalid(field, e.to_string())
    })
}

/// The account form's check of a new password.
pub fn check_new_password(new: &str, repeat: &str) -> Result<(), AppError> {
    new_password(new, repeat, ("new", "repeat")).map(drop)
}

impl Declared for ChangePassword {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Changes the caller's password (the current one is required, and a wrong one counts on the
/// sign-in throttle of the account) and signs out their other sessions.
#[server(endpoint = "account/password")]
pub async fn change_password(current: String, new: String, repeat: String) -> Result<(), AppError> {
    use crate::api::guard::Guard;
    use backend::audit::Outcome;
    use backend::impersonation::ending::{self, Ending};

    if current.is_empty() {
        return Err(AppError::invalid("current", "Enter your current password."));
    }
    if current.len() > backend::password::MAX_PASSWORD_LEN {
        return Err(AppError::invalid("current", "That password is too long."));
    }
    check_new_password(&new, &repeat)?;
    let g = Guard::enter::<ChangePassword>().await?;
    let me = g.principal();
    let me = backend::repo::users::load(&g.state().db, me.organisation_id, me.user_id).await?;
    let resource = Resource::User(me.id);
    // The current password is a guess like a sign-in: counted on the same counters (the
    // stored e-mail is the normalised account key sign-in uses), so a stolen session is no
    // oracle for it.
    let addr = crate::api::ctx::client_addr();
    if let Err(e) = g
        .state()
        .throttle
        .admit_password(&g.state().db, &me.email, &addr)
        .await
    {
        if matches!(e, backend::throttle::ThrottleError::Throttled { .. }) {
            g.audit(
                resource,
                Outcome::Denied,
                backend::audit::Details::why("throttled"),
            )
            .await;
        }
        return Err(e.into());
    }
    if !backend::password::verify(current, Some(me.password_hash.clone())).await {
        g.audit(
            resource,
            Outcome::Denied,
            backend::audit::Details::why("wrong current password"),
        )
        .await;
        return Err(AppError::invalid(
            "current",
            "That is not your current password.",
        ));
    }
    g.state()
        .throttle
        .succeeded(&g.state().db, &me.email, &addr)
        .await?;
    let hash = backend::password::hash(new)
        .await
        .map_err(|_| AppError::Internal)?;
    let txn = g.begin_write().await?;
    backend::repo::users::set_password_hash(&*txn, me.id, hash).await?;
    // Impersonations of this user, and those started from the sessions signed out here, end
    // with their own records first; then the other sessions go.
    let changed = Ending::RuleBroken("the user's password changed".into());
    ending::end_of_user(&txn, me.id, &changed).await?;
    let others = backend::session::others_of(&*txn, me.id, &g.principal().session_id).await?;
    let signed_out = Ending::RuleBroken(
        "the session it was started from was signed out by a password change".into(),
    );
    for s in &others {
        backend::session::revoke_in(&txn, &s.id, &signed_out).await?;
    }
    g.commit_write(
        txn,
        resource,
        backend::audit::Details::new().with(backend::audit::Field::Change, "password changed"),
    )
    .await?;
    Ok(())
}
