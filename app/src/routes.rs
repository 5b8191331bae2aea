//! Paths of the app: the rules are the pure core's (`domain::routes`), shared with the server;
//! what needs the router is here.

pub use domain::routes::*;

/// The numeric `:id` of the current route (0, which matches nothing, when it is not a number).
pub fn use_id_param() -> impl Fn() -> i32 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        use leptos::prelude::Read;
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0)
    }
}
