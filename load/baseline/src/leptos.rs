//! The Leptos baseline of the load run (scripts/load.sh): one trivial page rendered on the
//! server through the same stack as the app (leptos_axum's `LeptosRoutes`, `leptos_router`, a
//! shell with `leptos_meta`), so the signed-in page's figures can be read as a ratio to "Leptos
//! rendering a heading and a paragraph" in the same run. No database, no middleware, no session.
//!
//! `cargo run --release -p load-baseline --bin leptos-baseline -- 127.0.0.1:3202`

use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;

/// The HTML document around the page: no scripts, no stylesheet.
fn shell() -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Baseline" />
        <LeptosRouter>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=Home />
            </Routes>
        </LeptosRouter>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <main>
            <h1>"Baseline"</h1>
            <p>"A trivial page rendered on the server."</p>
        </main>
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3202".to_owned());
    let options = LeptosOptions::builder().output_name("baseline").build();
    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes(&options, routes, shell)
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
