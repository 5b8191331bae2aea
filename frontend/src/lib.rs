//! The wasm entry point: hydrates the server-rendered page, then says so. Nothing else lives here.

use leptos::mount::hydrate_from_async;
use leptos::tachys::dom::body;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Err only when the executor already runs, which is fine.
    _ = any_spawner::Executor::init_wasm_bindgen();
    // Lazily: a page behind `lazy_page!` hydrates once its chunk has arrived (the router waits
    // for it), which hydrating the body at once cannot do.
    leptos::task::spawn_local(async {
        let body = body();
        hydrate_from_async(body.clone(), app::App).await.forget();
        // `<body data-hydrated="true">` once the whole page hydrated, its lazily loaded route
        // included, so browser tests (and people debugging) know a click now reaches the app. An
        // effect in `App` said so as soon as the frame hydrated, before a slow route chunk
        // arrived: a click in between was lost (a button) or posted its form without the app.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
