//! `/invite/<secret>`: accepting an invitation — choose a password (**New password**,
//! **Confirm password**, **Accept invitation**) and be signed in. A link that no longer works
//! says why, in an alert.

use crate::api::account::new_password;
use crate::api::invitations::{AcceptInvitation, open_invitation};
use crate::components::{ActionReads, Field, FormAlert, ValidatedForm, form_error};
use crate::error::AppError;
use crate::model::InvitationView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn check(i: &AcceptInvitation) -> Result<(), AppError> {
    new_password(&i.password, &i.confirm, ("password", "confirm")).map(drop)
}

/// The secret at the end of a mailed link's path.
pub fn use_link_secret() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("token").unwrap_or_default()
}

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let token = use_link_secret();
    let invitation = Resource::new(token, open_invitation);
    view! {
        <main class="login-page">
            <section class="login-card" aria-labelledby="invite-title">
                <h1 id="invite-title">"Fleetgate"</h1>
                <Suspense fallback=|| {
                    view! { <p class="muted">"Opening your invitation…"</p> }
                }>
                    {move || Suspend::new(async move {
                        match invitation.await {
                            Ok(i) => view! { <AcceptForm i token=token() /> }.into_any(),
                            Err(e) => view! { <DeadLink error=e /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn AcceptForm(i: InvitationView, token: String) -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(accept, invalid);
    let reads = ActionReads::of(accept);
    view! {
        <p>{format!("Welcome, {}.", i.name)}</p>
        <p class="muted">
            {format!(
                "You are invited to {} ({}). Choose a password of 12 to 128 characters for {}.",
                i.organisation,
                i.team,
                i.email,
            )}
        </p>
        <ValidatedForm action=accept check invalid>
            <input type="hidden" name="token" value=token />
            <Field label="New password" name="password" kind="password" error />
            <Field label="Confirm password" name="confirm" kind="password" error />
            <button type="submit" class="primary" disabled=move || reads.pending()>
                "Accept invitation"
            </button>
        </ValidatedForm>
        <FormAlert error />
    }
}

/// A mailed link that no longer opens anything: why, and where to go instead.
#[component]
pub fn DeadLink(error: AppError) -> impl IntoView {
    view! {
        <p role="alert" class="alert">
            {error.to_string()}
        </p>
        <p>
            <a href=crate::routes::LOGIN>"Go to sign-in"</a>
        </p>
    }
}
