//! `/login`: e-mail and password (UI contract: **Email**, **Password**, **Sign in**, errors in
//! `role="alert"`).

use crate::api::auth::Login;
use crate::components::{ActionReads, FieldMessage};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let reads = ActionReads::of(login);
    let error = move || reads.error();
    let field = move |name: &'static str| {
        move || error().and_then(|e| e.field_message(name).map(str::to_owned))
    };

    view! {
        <main class="login-page">
            <section class="login-card" aria-labelledby="login-title">
                <h1 id="login-title">"Fleetgate"</h1>
                <p class="muted">"Sign in to your fleet."</p>
                <ActionForm action=login>
                    <label for="email">"Email"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required />
                    <FieldMessage message=Signal::derive(field("email")) />
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                    <FieldMessage message=Signal::derive(field("password")) />
                    <input type="hidden" name="next" prop:value=next />
                    <button type="submit" class="primary" disabled=move || reads.pending()>
                        "Sign in"
                    </button>
                </ActionForm>
                <p class="login-links">
                    <a href=crate::routes::FORGOT_PASSWORD>"Forgot password?"</a>
                </p>
                {move || {
                    (query.read().get("reset").as_deref() == Some("done"))
                        .then(|| {
                            view! {
                                <p role="status" class="ok">
                                    "Your password has been changed. Sign in with the new one."
                                </p>
                            }
                        })
                }}
                {move || {
                    error()
                        .filter(|e| !matches!(e, crate::error::AppError::Invalid { .. }))
                        .map(|e| {
                            view! {
                                <p role="alert" class="alert">
                                    {e.to_string()}
                                </p>
                            }
                        })
                }}
            </section>
        </main>
    }
}
