//! The signed-in frame: header with the user, navigation and **Sign out**.

use crate::api::auth::{Logout, current_user};
use crate::error::AppError;
use crate::model::Me;
use crate::routes;
use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

#[component]
pub fn SignedIn() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    // For the Why? links beside greyed controls, which name the effective user.
    provide_context(crate::components::EffectiveUser(me));
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
        // Beside the header rather than inside its suspense, so its resource is made in the same
        // order on the server and in the browser. Empty while viewing as someone: the notices
        // are their person's alone (the server says so).
        <crate::pages::support_access::SupportNotice />
        <SessionWatch />
        <main class="content">
            <Outlet />
        </main>
    }
}

/// How often an open page checks that its session still lives.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Asks the server now and then whether the session still lives, so a page left open after a
/// deactivation, a suspension or a sign-out elsewhere goes to the sign-in page by itself (with
/// the reason) instead of failing on the next click. One small request every few seconds,
/// from the browser only.
#[component]
fn SessionWatch() -> impl IntoView {
    let ended = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Err(e @ AppError::Unauthenticated { .. }) = current_user().await {
                        ended.set(Some(e));
                    }
                });
            },
            SESSION_CHECK,
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    move || {
        ended
            .try_get()
            .flatten()
            .map(|error| view! { <SignInAgain error /> })
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
                <NavLink href="/" label="Dashboard" exact=true />
                <NavLink href="/vehicles" label="Vehicles" />
                <NavLink href="/work-orders" label="Work orders" />
                <NavLink href="/teams" label="Teams" />
                <NavLink href="/my-access" label="My access" />
                {me
                    .audit
                    .then(|| {
                        let href = if me.operator { "/admin/audit" } else { "/audit" };
                        view! { <NavLink href label="Audit" /> }
                    })}
                {me.people.then(|| view! { <NavLink href="/people" label="People" /> })}
                {me
                    .troubleshoot
                    .then(|| view! { <NavLink href="/troubleshoot" label="Troubleshoot" /> })}
                {(!me.operator).then(|| view! { <NavLink href="/settings" label="Settings" /> })}
                {me.operator.then(|| view! { <NavLink href="/admin/users" label="Admin" /> })}
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

/// A link of the main navigation, marked as the current page while the location is in its
/// section. A plain anchor, whose clicks the router handles like any other: the router's `<A>`
/// also resolves relative paths, a memo per link and a tenth of a signed-in page's rendering
/// (measured), for paths that are all absolute here.
#[component]
fn NavLink(
    href: &'static str,
    label: &'static str,
    #[prop(optional)] exact: bool,
) -> impl IntoView {
    let path = use_location().pathname;
    let current = move || routes::is_in_section(&path.read(), href, exact).then_some("page");
    view! {
        <a href=href aria-current=current>
            {label}
        </a>
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
