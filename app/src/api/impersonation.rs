//! Starting and leaving an impersonation ("view as").

use crate::api::policy::Requirement::{Operator, SignedIn};
use crate::api::policy::{Declared, Policy, exit, own_name_only};
use crate::error::AppError;
use domain::authz::Permission;
use leptos::prelude::*;

impl Declared for StartImpersonation {
    const POLICY: Policy = own_name_only::<Self>(Operator(Permission::UsersImpersonate));
}

/// Starts viewing as `user` (operator staff with `users.impersonate`; `act` mode also needs
/// `users.impersonate_act`). Sets the view-as cookie and goes to the user's home page.
#[server(endpoint = "impersonation/start")]
pub async fn start_impersonation(
    user: i32,
    reason: String,
    ticket: String,
    mode: String,
    minutes: String,
) -> Result<(), AppError> {
    use crate::api::ctx;
    use crate::api::guard::{Admission, Guard};
    use backend::cookie::CookieKind;
    use backend::impersonation::store;
    use backend::token::Claims;
    use domain::impersonation::{self, Mode};
    use domain::validate::Problems;

    // Malformed input is answered field by field and is not an attempt on anyone: it is not
    // audited. Everything after this point that refuses the start is.
    let mut p = Problems::default();
    let fields = (
        p.check("reason", impersonation::reason(&reason)),
        p.check("ticket", impersonation::ticket(&ticket)),
        p.check(
            "mode",
            Mode::from_key(&mode).ok_or_else(|| "Choose Read-only or Act as user.".to_owned()),
        ),
        p.check("minutes", impersonation::minutes(&minutes)),
    );
    p.finish()?;
    let (Some(reason), Some(ticket), Some(mode), Some(minutes)) = fields else {
        return Err(AppError::Internal);
    };
    let attempt = store::Attempt {
        user_id: user,
        mode,
        reason,
        ticket,
        minutes,
    };
    // Refuses nesting (start is never allowed in someone else's name) and anyone without
    // users.impersonate; the refusal is recorded as an attempt on `user`, on their
    // organisation's log.
    let g = match Guard::admit::<StartImpersonation>().await? {
        Admission::Admitted(g) => g,
        Admission::Refused(r) => {
            let permission = (r.details)
                .get(backend::audit::Field::Permission)
                .and_then(|k| domain::authz::Permission::from_key(k).ok());
            let why = r.error.to_string();
            store::refuse(r.state(), r.principal(), &attempt, &why, permission).await;
            return Err(r.error);
        }
    };
    let row = store::start(g.state(), g.principal(), attempt).await??;
    let token = g
        .state()
        .tokens
        .sign(&Claims::for_session(&row))
        .map_err(|_| AppError::Internal)?;
    // The cookie outlives the impersonation by a few minutes on purpose: the server must see
    // the expired token once to end the impersonation, audit its expiry and show the notice.
    let max_age = std::time::Duration::from_secs(u64::from(minutes) * 60 + 300);
    ctx::set_cookie(
        &g.state()
            .cookie
            .set_kind(CookieKind::ViewAs, &token, max_age),
    )?;
    leptos_axum::redirect("/");
    Ok(())
}

impl Declared for ExitImpersonation {
    const POLICY: Policy = exit::<Self>(SignedIn);
}

/// Leaves the impersonation: ends it server-side and drops the view-as cookie; the operator is
/// back in their own session, on the admin page of that user.
#[server(endpoint = "impersonation/exit")]
pub async fn exit_impersonation() -> Result<(), AppError> {
    let g = crate::api::guard::Guard::enter::<ExitImpersonation>().await?;
    server::exit(&g).await
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::api::ctx;
    use crate::api::guard::Guard;
    use crate::error::AppError;
    use backend::cookie::CookieKind;
    use backend::impersonation::ending::{self, Ending};

    /// Ends the current impersonation; refused when there is none (a user's own session can
    /// never turn into anyone else's).
    pub async fn exit(g: &Guard) -> Result<(), AppError> {
        let Some(imp) = &g.principal().impersonation else {
            return Err(AppError::Conflict {
                message: "You are not viewing as anyone.".into(),
            });
        };
        ending::end(&g.state().db, &imp.id, Ending::Exit).await?;
        ctx::set_cookie(&g.state().cookie.clear_kind(CookieKind::ViewAs))?;
        leptos_axum::redirect(&format!("/admin/users?user={}", g.principal().user_id));
        Ok(())
    }
}
