//! The signed-in frame: header with the user, navigation and **Sign out**.

use crate::api::auth::{Logout, current_user};
use crate::error::AppError;
use crate::model::Me;
use crate::routes;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_location;

#[component]
pub fn SignedIn() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| {
            view! { <header class="app-header" /> }
        }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => {
                        view! {
                            {me
                                .impersonation
                                .clone()
                                .map(|info| {
                                    view! {
                                        <crate::pages::banner::ImpersonationBanner
                                            info
                                            name=me.full_name.clone()
                                            role=me.role
                                            organisation=me.organisation.clone()
                                        />
                                    }
                                })}
                            <Header me />
                        }
                            .into_any()
                    }
                    Err(e) => view! { <SignInAgain error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <main class="content">
            <Outlet />
        </main>
    }
}

#[component]
fn Header(me: Me) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="app-header">
            <a class="brand" href="/">
                "Fleetgate"
            </a>
            <nav aria-label="Main">
                <A href="/" exact=true>
                    "Dashboard"
                </A>
                <A href="/vehicles">"Vehicles"</A>
                <A href="/work-orders">"Work orders"</A>
                <A href="/teams">"Teams"</A>
                <A href="/my-access">"My access"</A>
                {me
                    .audit
                    .then(|| {
                        let href = if me.operator { "/admin/audit" } else { "/audit" };
                        view! { <A href=href>"Audit"</A> }
                    })}
                {(!me.operator).then(|| view! { <A href="/settings">"Settings"</A> })}
                {me.operator.then(|| view! { <A href="/admin/users">"Admin"</A> })}
            </nav>
            <div class="who">
                <a class="who-name" href="/account">
                    {me.full_name}
                </a>
                <span class="who-meta">
                    {format!("{} · {}", me.role.label(), me.organisation)}
                </span>
            </div>
            <ActionForm action=logout>
                <button type="submit" class="secondary">
                    "Sign out"
                </button>
            </ActionForm>
        </header>
    }
}

/// Shown when the session is gone while the app is open: say why, and go to the sign-in page.
#[component]
fn SignInAgain(error: AppError) -> impl IntoView {
    let location = use_location();
    let target = if matches!(
        error,
        AppError::Unauthenticated {
            reason: crate::error::AuthFailure::ImpersonationEnded
        }
    ) {
        "/admin/users?notice=impersonation-ended".to_owned()
    } else {
        routes::login_with_next(&format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        ))
    };
    if matches!(error, AppError::Unauthenticated { .. }) {
        let target = target.clone();
        Effect::new(move |_| {
            if let Some(w) = web_window() {
                let _ = w.location().set_href(&target);
            }
        });
    }
    view! {
        <header class="app-header">
            <p role="alert" class="alert">
                {error.to_string()}
                " "
                <a href=target>"Sign in"</a>
            </p>
        </header>
    }
}

fn web_window() -> Option<leptos::web_sys::Window> {
    leptos::web_sys::window()
}
