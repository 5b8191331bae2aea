//! The impersonation banner: on every page while viewing as someone, impossible to dismiss, with
//! who, mode, time left, reason, and **Exit impersonation**.

use crate::api::impersonation::ExitImpersonation;
use crate::model::ImpersonationInfo;
use domain::impersonation::Mode;
use domain::people::Role;
use leptos::prelude::*;

/// Seconds since the Unix epoch, on either side.
fn now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (leptos::web_sys::js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

fn format_left(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02} left", s / 60, s % 60)
}

/// Reloads the whole app, so every resource is fetched again as the new effective user.
pub fn reload_to(path: &str) {
    if let Some(w) = leptos::web_sys::window() {
        let _ = w.location().set_href(path);
    }
}

#[component]
pub fn ImpersonationBanner(
    info: ImpersonationInfo,
    name: String,
    role: Role,
    organisation: String,
) -> impl IntoView {
    let exit = ServerAction::<ExitImpersonation>::new();
    let expires = info.expires_at;
    let left = RwSignal::new(expires - now());
    // A live countdown; at zero the server ends the impersonation on the next request.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let l = expires - now();
                left.set(l);
                if l <= 0 {
                    reload_to("/");
                }
            },
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = exit.value().get() {
            reload_to("/admin/users");
        }
    });
    let mode_class = if info.mode == Mode::View {
        "imp-mode"
    } else {
        "imp-mode imp-act"
    };
    view! {
        <section role="region" aria-label="Impersonation" class="impersonation-banner">
            <div class="imp-text">
                <p class="imp-who">
                    {format!("Viewing as {name}")}
                    <span class="imp-meta">
                        {format!(" · {} · {}", role.label(), organisation)}
                    </span>
                </p>
                <p class="imp-details">
                    <span class=mode_class>{info.mode.label()}</span>
                    <span class="imp-left" aria-live="off">
                        {move || format_left(left.try_get().unwrap_or_default())}
                    </span>
                    <span class="imp-reason">{format!("Reason: {}", info.reason)}</span>
                    {info
                        .ticket
                        .clone()
                        .map(|t| {
                            view! { <span class="imp-reason">{format!("Ticket: {t}")}</span> }
                        })}
                    <span class="imp-actor">{format!("by {}", info.actor)}</span>
                </p>
            </div>
            <ActionForm action=exit>
                <button type="submit" class="exit">
                    "Exit impersonation"
                </button>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_left_reads_as_minutes_and_seconds() {
        assert_eq!(super::format_left(1799), "29:59 left");
        assert_eq!(super::format_left(-5), "0:00 left");
    }
}
