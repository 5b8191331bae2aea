//! `/account`: change your password; support access (grants, and every time support viewed
//! as you).

use crate::api::account::{ChangePassword, check_new_password};
use crate::components::{ActionReads, Field, FormAlert, ValidatedForm, form_error};
use crate::error::AppError;
use leptos::prelude::*;

fn check(i: &ChangePassword) -> Result<(), AppError> {
    check_new_password(&i.new, &i.repeat)
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let invalid = RwSignal::new(None::<AppError>);
    let error = form_error(change, invalid);
    let reads = ActionReads::of(change);
    let done = move || reads.ok().is_some();
    view! {
        <h1>"Your account"</h1>
        <section class="panel" aria-label="Change password">
            <h2>"Change password"</h2>
            <ValidatedForm action=change check invalid>
                <Field label="Current password" name="current" kind="password" error />
                <Field label="New password" name="new" kind="password" error />
                <Field label="Repeat the new password" name="repeat" kind="password" error />
                <button type="submit" class="primary">
                    "Change password"
                </button>
            </ValidatedForm>
            {move || {
                done()
                    .then(|| {
                        view! {
                            <p role="status" class="ok">
                                "Password changed. Your other sessions were signed out."
                            </p>
                        }
                    })
            }}
            <FormAlert error />
        </section>
        <crate::pages::support_access::AccountSupportAccess />
        <crate::pages::support_access::SupportRequestsPanel />
    }
}
