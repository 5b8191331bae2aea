//! Sign-in, sign-out and "who am I".

use crate::api::policy::Requirement::{Public, SignedIn};
use crate::api::policy::{Declared, Policy, exit, own_name_only, read};
use crate::error::AppError;
use crate::model::Me;
use leptos::prelude::*;

impl Declared for Login {
    const POLICY: Policy = own_name_only::<Self>(Public);
}

/// Signs in with e-mail and password, sets the session cookie and redirects to `next`.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::ctx;
    use crate::error::AuthFailure;
    use crate::routes;
    use backend::password;
    use domain::people::Email;

    // Declared own-name-only: never signs in while viewing as someone (the middleware refuses
    // it before parsing; entering the door here keeps the function honest on its own).
    let st = crate::api::guard::enter_public::<Login>().await?;
    if email.trim().is_empty() {
        return Err(AppError::invalid("email", "Enter your e-mail address."));
    }
    // Longer than any address can be: refused before it is used as a throttle key.
    if email.trim().len() > domain::people::Email::MAX_LEN {
        return Err(AppError::invalid(
            "email",
            "That e-mail address is too long.",
        ));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    if password.len() > password::MAX_PASSWORD_LEN {
        return Err(AppError::invalid("password", "That password is too long."));
    }
    let addr = ctx::client_addr();
    // Throttle on the normalised address even when it is malformed: every guess counts.
    let account_key = email.trim().to_lowercase();
    st.throttle
        .admit_password(&st.db, &account_key, &addr)
        .await?;

    let found = match Email::parse(&email) {
        Ok(e) => backend::repo::users::by_email(&st.db, &e).await?,
        Err(_) => None,
    };
    // Always run one argon2 verification, against a dummy hash when there is no such user.
    let matches = password::verify(password, found.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match found {
        Some(u) if matches => u,
        _ => {
            tracing::info!(%addr, "sign-in failed");
            return Err(AppError::Unauthenticated {
                reason: AuthFailure::BadCredentials,
            });
        }
    };
    st.throttle.succeeded(&st.db, &account_key, &addr).await?;
    // Said only to someone who knows the password: the account exists but may not sign in.
    if let Some(reason) = backend::repo::users::barred(&st.db, &user).await? {
        tracing::info!(user_id = user.id, ?reason, "sign-in refused");
        return Err(AppError::Unauthenticated { reason });
    }

    open_session(&st, user.id).await?;
    let home = routes::home_of(backend::repo::users::is_operator(&st.db, &user).await?);
    leptos_axum::redirect(&routes::safe_return_path_or(next.as_deref(), home));
    Ok(())
}

/// Signs `user_id` in on this browser: a new session row, its cookie, the sign-in recorded.
/// Signing in again from a signed-in browser replaces its session: the old one (and any
/// impersonation started from it, with its sign-out record) ends rather than lingering.
#[cfg(feature = "ssr")]
pub(crate) async fn open_session(
    st: &backend::state::AppState,
    user_id: i32,
) -> Result<(), AppError> {
    use crate::api::ctx;
    use backend::session;
    if let Some(previous) = ctx::authentication().ok().and_then(|a| a.own_session) {
        session::revoke(&st.db, &previous).await?;
    }
    let row = session::start(&st.db, user_id, st.session_ttl, Some(ctx::client_addr())).await?;
    backend::repo::users::signed_in(&st.db, user_id).await?;
    let token = st
        .tokens
        .sign(&backend::token::Claims::for_session(&row))
        .map_err(|_| AppError::Internal)?;
    ctx::set_cookie(&st.cookie.set(&token, st.session_ttl))?;
    // A view-as overlay belongs to the session it was started from, never to this new one.
    ctx::set_cookie(&st.cookie.clear_kind(backend::cookie::CookieKind::ViewAs))?;
    tracing::info!(user_id, "signed in");
    Ok(())
}

impl Declared for Logout {
    // Public: signing out with a dead or half-dead session must still end what is left of it.
    const POLICY: Policy = exit::<Self>(Public);
}

/// Signs out: revokes the session the request's own cookie names (so it is dead everywhere)
/// and clears both cookies — whatever state a view-as cookie sent with it is in. While a live
/// impersonation is on, it leaves the impersonation instead, back to the operator's own session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::ctx;
    use crate::routes;
    use backend::cookie::CookieKind;
    use backend::session;

    let auth = ctx::authentication()?;
    if let Ok(p) = &auth.result
        && p.impersonation.is_some()
    {
        let g = crate::api::guard::Guard::enter::<Logout>().await?;
        return crate::api::impersonation::server::exit(&g).await;
    }
    let st = ctx::state()?;
    // Signing out with an already-dead session still clears the cookies.
    if let Some(own) = &auth.own_session {
        session::revoke(&st.db, own).await?;
        tracing::info!("signed out");
    }
    ctx::set_cookie(&st.cookie.clear())?;
    ctx::set_cookie(&st.cookie.clear_kind(CookieKind::ViewAs))?;
    leptos_axum::redirect(routes::LOGIN);
    Ok(())
}

impl Declared for CurrentUser {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// The effective user, for the header (and the banner while impersonating).
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Me, AppError> {
    use crate::model::ImpersonationInfo;
    use domain::authz::Permission;
    let g = crate::api::guard::Guard::enter::<CurrentUser>().await?;
    let p = g.principal();
    let audit = if p.operator {
        g.holds_anywhere(Permission::AuditViewAll)
    } else {
        g.allows(Permission::AuditView, g.tree().root())
    };
    Ok(Me {
        user_id: p.user_id,
        full_name: p.full_name.clone(),
        email: p.email.clone(),
        role: p.role,
        organisation: p.organisation.clone(),
        operator: p.operator,
        audit,
        people: g.holds_anywhere(Permission::TeamsView),
        troubleshoot: if p.operator {
            g.holds_anywhere(Permission::AccessTroubleshoot)
        } else {
            g.holds_anywhere(Permission::TeamsView)
        },
        impersonation: p.impersonation.as_ref().map(|i| ImpersonationInfo {
            actor: i.actor.full_name.clone(),
            mode: i.mode,
            reason: i.reason.clone(),
            ticket: i.ticket.clone(),
            expires_at: i.expires_at.timestamp(),
        }),
    })
}
