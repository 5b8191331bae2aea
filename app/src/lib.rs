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
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};
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
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    csp::protect_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" id="leptos" href=assets::stylesheet_href(&options) />
                <AutoReload options=options.clone() />
                <assets::AppScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A page whose code the browser fetches when the page is first shown, not with the app
/// (`cargo leptos build --split`): the pages most people never open stay out of the first visit's
/// wasm. Their data is loaded by the page itself, so there is nothing to start before its view.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),+ $(,)?) => {$(
        struct $route;

        impl $route {
            /// The route's view: the page, once its chunk has arrived.
            fn page() -> Lazy<$route> {
                Lazy::new()
            }
        }

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )+};
}

lazy_page! {
    DashboardRoute => DashboardPage,
    WorkOrderRoute => WorkOrderPage,
    VehicleRoute => VehiclePage,
    TeamsRoute => TeamsPage,
    TeamRoute => TeamPage,
    MyAccessRoute => MyAccessPage,
    PeopleRoute => PeoplePage,
    TroubleshootRoute => TroubleshootPage,
    CompareRoute => ComparePage,
    SettingsRoute => SettingsPage,
    AccountRoute => AccountPage,
    AuditRoute => AuditLogPage,
    AdminUsersRoute => AdminUsersPage,
    AdminOrgsRoute => AdminOrgsPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    InvitationRoute => AcceptInvitationPage,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Fleetgate" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordRoute::page() />
                <Route path=path!("/reset-password/:token") view=ResetPasswordRoute::page() />
                <Route path=path!("/invite/:token") view=InvitationRoute::page() />
                // Signed-in pages are rendered whole once their data is read (`Async`), not
                // streamed as a shell whose parts arrive later (the default): their reads take
                // a millisecond, and a page in one piece is cheaper to make (+40 % pages/s,
                // measured), has no "Loading…" to replace, can still set its status, and reads
                // complete without its script.
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("/vehicles") view=VehiclesPage />
                    <Route path=path!("/vehicles/:id") view=VehicleRoute::page() />
                    <Route path=path!("/work-orders") view=WorkOrdersPage />
                    <Route path=path!("/work-orders/:id") view=WorkOrderRoute::page() />
                    <Route path=path!("/teams") view=TeamsRoute::page() />
                    <Route path=path!("/teams/:id") view=TeamRoute::page() />
                    <Route path=path!("/my-access") view=MyAccessRoute::page() />
                    <Route path=path!("/people") view=PeopleRoute::page() />
                    <Route path=path!("/troubleshoot") view=TroubleshootRoute::page() />
                    <Route path=path!("/troubleshoot/compare") view=CompareRoute::page() />
                    <Route path=path!("/settings") view=SettingsRoute::page() />
                    <Route path=path!("/account") view=AccountRoute::page() />
                    <Route path=path!("/audit") view=AuditRoute::page() />
                    <Route path=path!("/admin/users") view=AdminUsersRoute::page() />
                    <Route path=path!("/admin/orgs") view=AdminOrgsRoute::page() />
                    <Route path=path!("/admin/audit") view=AuditRoute::page() />
                    <Route path=path!("") view=DashboardRoute::page() />
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
