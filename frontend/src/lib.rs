//! The wasm entry point: hydrates the server-rendered page. Nothing else lives here.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazily: a page behind `lazy_page!` hydrates once its chunk has arrived (the router waits
    // for it), which hydrating the body at once cannot do.
    leptos::mount::hydrate_lazy(app::App);
}
