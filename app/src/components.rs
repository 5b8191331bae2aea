//! Small shared UI pieces. An action the effective user lacks stays visible, disabled for real,
//! with the reason as its accessible description and tooltip (DESIGN.md, UI contract).

use crate::authz::Decision;
use crate::error::AppError;
use leptos::prelude::*;

/// A button for one permission-guarded action, rendered from the server's decision.
#[component]
pub fn ActionButton(
    /// The visible label, also the accessible name.
    label: &'static str,
    /// The server's decision; `None` (not decided) is shown disabled.
    decision: Option<Decision>,
    /// Disabled for another reason than permissions (e.g. while a request is in flight).
    #[prop(into, optional)]
    busy: Signal<bool>,
    #[prop(into)] on_click: Callback<()>,
) -> impl IntoView {
    let allowed = decision.as_ref().is_some_and(Decision::is_allowed);
    let why = decision
        .as_ref()
        .and_then(Decision::denial)
        .map(|d| d.describe());
    let id = format!("why-{}", label.to_lowercase().replace(' ', "-"));
    let described_by = why.as_ref().map(|_| id.clone());
    view! {
        <span class="action">
            <button
                type="button"
                class="primary"
                disabled=move || !allowed || busy.get()
                aria-describedby=described_by
                title=why.clone()
                on:click=move |_| on_click.run(())
            >
                {label}
            </button>
            {why.map(|w| view! { <span id=id class="why">{w}</span> })}
        </span>
    }
}

/// The error of the last attempt of an action, as an alert (a refusal shows the server's
/// explanation).
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p role="alert" class="alert">{e.to_string()}</p> })
    }
}

/// Renders a `Result` from a resource: the value, or the error as an alert.
pub fn or_alert<T, V: IntoView + 'static>(
    result: Result<T, AppError>,
    view: impl FnOnce(T) -> V,
) -> AnyView {
    match result {
        Ok(v) => view(v).into_any(),
        Err(e) => {
            let not_found = matches!(e, AppError::NotFound { .. });
            view! {
                <div class="notice">
                    {not_found.then(|| view! { <h1>"Not found"</h1> })}
                    <p role="alert" class="alert">{e.to_string()}</p>
                </div>
            }
            .into_any()
        }
    }
}
