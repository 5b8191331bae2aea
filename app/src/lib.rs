//! Fleetgate's server functions and UI, built for the server (`ssr`) and the browser (`hydrate`).
//!
//! Layers, one direction, held by the compiler because each is its own crate:
//! `domain` (pure: permissions, impersonation rules, domain types, parsers) ← `backend`
//! (server only: database, tokens, audit, repositories) ← this crate: `api` (server functions,
//! thin: guard, parse, repository, DTO) ← `pages` and `components` (the UI). The wasm frontend
//! links `domain` and this crate's UI, never `backend`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod assets;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod routes;

#[cfg(feature = "ssr")]
pub mod csp;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use pages::account::AccountPage;
use pages::admin::{AdminOrgsPage, AdminUsersPage};
use pages::audit::AuditLogPage;
use pages::dashboard::DashboardPage;
use pages::invitation::AcceptInvitationPage;
use pages::layout::SignedIn;
use pages::login::LoginPage;
use pages::my_access::MyAccessPage;
use pages::password_reset::{ForgotPasswordPage, ResetPasswordPage};
use pages::people::PeoplePage;
use pages::settings::SettingsPage;
use pages::team::TeamPage;
use pages::teams::TeamsPage;
use pages::troubleshoot::{ComparePage, TroubleshootPage};
use pages::vehicles::{VehiclePage, VehiclesPage};
use pages::work_orders::{WorkOrderPage, WorkOrdersPage};

/// The HTML document around the app (server-side rendering).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::protect_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options) />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The stylesheet's URL (hashed in its name when the build hashed it; see `assets`).
fn stylesheet_href(options: &LeptosOptions) -> String {
    #[cfg(feature = "ssr")]
    return assets::stylesheet_href(options);
    #[cfg(not(feature = "ssr"))]
    format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Title text="Fleetgate" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route path=path!("/reset-password/:token") view=ResetPasswordPage />
                <Route path=path!("/invite/:token") view=AcceptInvitationPage />
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("/vehicles") view=VehiclesPage />
                    <Route path=path!("/vehicles/:id") view=VehiclePage />
                    <Route path=path!("/work-orders") view=WorkOrdersPage />
                    <Route path=path!("/work-orders/:id") view=WorkOrderPage />
                    <Route path=path!("/teams") view=TeamsPage />
                    <Route path=path!("/teams/:id") view=TeamPage />
                    <Route path=path!("/my-access") view=MyAccessPage />
                    <Route path=path!("/people") view=PeoplePage />
                    <Route path=path!("/troubleshoot") view=TroubleshootPage />
                    <Route path=path!("/troubleshoot/compare") view=ComparePage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/audit") view=AuditLogPage />
                    <Route path=path!("/admin/users") view=AdminUsersPage />
                    <Route path=path!("/admin/orgs") view=AdminOrgsPage />
                    <Route path=path!("/admin/audit") view=AuditLogPage />
                    <Route path=path!("") view=DashboardPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="content">
            <h1>"Not found"</h1>
            <p>"There is nothing at this address."</p>
            <a href=routes::HOME>"Back to Vehicles"</a>
        </main>
    }
}

/// Marks `<body data-hydrated="true">` once the wasm app runs, so browser tests (and people
/// debugging) can tell a hydrated page from the server-rendered HTML. Effects never run on the
/// server.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = leptos::web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
