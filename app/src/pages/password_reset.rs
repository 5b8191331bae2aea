//! "Forgot password?" (`/forgot-password`: **Email**, **Send reset link**) and the page its
//! mailed link opens (`/reset-password/<secret>`: **New password**, **Confirm password**,
//! **Set password**).

use crate::api::account::new_password;
use crate::api::password_reset::{RequestPasswordReset, ResetPassword, check_reset_link};
use crate::components::{ActionReads, Field, FormAlert, ValidatedForm, form_error};
use crate::error::AppError;
use crate::pages::invitation::{DeadLink, use_link_secret};
use leptos::prelude::*;

fn check_email(i: &RequestPasswordReset) -> Result<(), AppError> {
    domain::people::Email::parse(&i.email)
        .map(drop)
        .map_err(|e| AppError::invalid("email", e.to_string()))
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = ServerAction::<RequestPasswordReset>::new();
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(ask, invalid);
    let reads = ActionReads::of(ask);
    view! {
        <main class="login-page">
            <section class="login-card" aria-labelledby="forgot-title">
                <h1 id="forgot-title">"Forgot password?"</h1>
                <p class="muted">
                    "Enter the e-mail address of your account; we send a link to choose a new password."
                </p>
                <ValidatedForm action=ask check=check_email invalid>
                    <Field label="Email" name="email" kind="email" error />
                    <button type="submit" class="primary" disabled=move || reads.pending()>
                        "Send reset link"
                    </button>
                </ValidatedForm>
                <FormAlert error />
                // The same answer whether or not the address has an account.
                {move || {
                    reads
                        .ok()
                        .map(|()| {
                            view! {
                                <p role="status" class="ok">
                                    "If an account uses this address, a reset link is on its way. It works once, for 30 minutes."
                                </p>
                            }
                        })
                }}
                <p class="login-links">
                    <a href=crate::routes::LOGIN>"Back to sign-in"</a>
                </p>
            </section>
        </main>
    }
}

fn check_new(i: &ResetPassword) -> Result<(), AppError> {
    new_password(&i.password, &i.confirm, ("password", "confirm")).map(drop)
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = use_link_secret();
    let link = Resource::new(token, check_reset_link);
    view! {
        <main class="login-page">
            <section class="login-card" aria-labelledby="reset-title">
                <h1 id="reset-title">"Choose a new password"</h1>
                <Suspense fallback=|| {
                    view! { <p class="muted">"Checking your link…"</p> }
                }>
                    {move || Suspend::new(async move {
                        match link.await {
                            Ok(()) => view! { <ResetForm token=token() /> }.into_any(),
                            Err(e) => view! { <DeadLink error=e /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn ResetForm(token: String) -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(reset, invalid);
    let reads = ActionReads::of(reset);
    view! {
        <p class="muted">"12 to 128 characters. Setting it signs you out everywhere else."</p>
        <ValidatedForm action=reset check=check_new invalid>
            <input type="hidden" name="token" value=token />
            <Field label="New password" name="password" kind="password" error />
            <Field label="Confirm password" name="confirm" kind="password" error />
            <button type="submit" class="primary" disabled=move || reads.pending()>
                "Set password"
            </button>
        </ValidatedForm>
        <FormAlert error />
    }
}
