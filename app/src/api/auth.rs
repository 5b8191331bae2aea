//! Sign-in, sign-out and "who am I".

use crate::error::AppError;
use crate::model::Me;
use leptos::prelude::*;

/// Signs in with e-mail and password, sets the session cookie and redirects to `next`.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::ctx;
    use crate::entity::user;
    use crate::error::AuthFailure;
    use crate::model::Email;
    use crate::{password, routes, session};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    if email.trim().is_empty() {
        return Err(AppError::invalid("email", "Enter your e-mail address."));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    if password.len() > password::MAX_PASSWORD_LEN {
        return Err(AppError::invalid("password", "That password is too long."));
    }
    let st = ctx::state()?;
    let addr = ctx::client_addr();
    // Throttle on the normalised address even when it is malformed: every guess counts.
    let account_key = email.trim().to_lowercase();
    st.throttle
        .admit_password(&st.db, &account_key, &addr)
        .await?;

    let found = match Email::parse(&email) {
        Ok(e) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(e.as_str()))
                .one(&st.db)
                .await?
        }
        Err(_) => None,
    };
    // Always run one argon2 verification, against a dummy hash when there is no such user.
    let matches = password::verify(password, found.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match found {
        Some(u) if matches && u.active => u,
        _ => {
            tracing::info!(%addr, "sign-in failed");
            return Err(AppError::Unauthenticated {
                reason: AuthFailure::BadCredentials,
            });
        }
    };
    st.throttle.succeeded(&st.db, &account_key, &addr).await?;

    let row = session::start(&st.db, user.id, st.session_ttl, Some(addr)).await?;
    let token = st
        .tokens
        .sign(&session::Claims::for_session(&row))
        .map_err(|_| AppError::Internal)?;
    ctx::set_cookie(&st.cookie.set(&token, st.session_ttl))?;
    tracing::info!(user_id = user.id, "signed in");
    leptos_axum::redirect(&routes::safe_return_path(next.as_deref()));
    Ok(())
}

/// Signs out: revokes the session row (so the cookie is dead everywhere) and clears the cookie.
/// While impersonating, it leaves the impersonation instead, back to the operator's own session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::ctx;
    use crate::session::CookieKind;
    use crate::{routes, session};

    if let Ok(p) = ctx::principal()
        && p.impersonation.is_some()
    {
        let g = crate::api::guard::Guard::enter("/api/logout").await?;
        return crate::api::impersonation::server::exit(&g).await;
    }
    let st = ctx::state()?;
    // Signing out with an already-dead session still clears the cookie.
    if let Ok(p) = ctx::principal() {
        session::revoke(&st.db, &p.session_id).await?;
        tracing::info!(user_id = p.user_id, "signed out");
    }
    ctx::set_cookie(&st.cookie.clear())?;
    ctx::set_cookie(&st.cookie.clear_kind(CookieKind::ViewAs))?;
    leptos_axum::redirect(routes::LOGIN);
    Ok(())
}

/// The effective user, for the header (and the banner while impersonating).
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Me, AppError> {
    use crate::authz::Permission;
    use crate::model::ImpersonationInfo;
    let g = crate::api::guard::Guard::enter("/api/me").await?;
    let p = &g.principal;
    let audit = if p.operator {
        g.access.effective.anywhere(Permission::AuditViewAll)
    } else {
        g.access
            .effective
            .allows(Permission::AuditView, g.access.policy.tree.root())
    };
    Ok(Me {
        user_id: p.user_id,
        full_name: p.full_name.clone(),
        email: p.email.clone(),
        role: p.role,
        organisation: p.organisation.clone(),
        operator: p.operator,
        audit,
        impersonation: p.impersonation.as_ref().map(|i| ImpersonationInfo {
            actor: i.actor.full_name.clone(),
            mode: i.mode,
            reason: i.reason.clone(),
            ticket: i.ticket.clone(),
            expires_at: i.expires_at.timestamp(),
        }),
    })
}
