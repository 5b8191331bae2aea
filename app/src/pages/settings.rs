//! `/settings`: the organisation's impersonation consent, owned by its fleet managers.

use crate::api::org::{SetConsent, org_settings};
use crate::components::{ActionError, ActionReads, or_alert};
use crate::model::OrgSettingsView;
use domain::impersonation::Consent;
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let set = ServerAction::<SetConsent>::new();
    let reads = ActionReads::of(set);
    let data = Resource::new(move || reads.version(), |_| org_settings());
    let error = Signal::derive(move || reads.error());
    view! {
        <h1>"Settings"</h1>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(data.await, |s| view! { <ConsentForm s set /> })
            })}
        </Suspense>
        // Said in words, not only by the radio that stays checked: a save that never landed
        // must not look like one that did.
        {move || {
            reads
                .ok()
                .map(|_| {
                    view! {
                        <p role="status" class="ok">
                            "Support access saved."
                        </p>
                    }
                })
        }}
        <ActionError error />
        <crate::pages::support_access::Protections />
        <crate::pages::webhook::WebhookPanel />
    }
}

#[component]
fn ConsentForm(s: OrgSettingsView, set: ServerAction<SetConsent>) -> impl IntoView {
    let why = s.change.denial().map(|d| d.describe());
    let locked = why.is_some();
    let title = why.clone();
    let described = why.as_ref().map(|_| "why-consent");
    view! {
        <section class="panel" aria-label="Support access">
            <h2>{format!("Support access to {}", s.name)}</h2>
            <p class="muted">
                "Whether Fleetgate's support staff may view the app as one of your people to help them. Every viewing is on your audit log."
            </p>
            <ActionForm action=set>
                <fieldset class="modes" disabled=locked aria-describedby=described>
                    <legend>"Impersonation"</legend>
                    {Consent::ALL
                        .into_iter()
                        .map(|c| {
                            view! {
                                <label class="inline">
                                    <input
                                        type="radio"
                                        name="consent"
                                        value=c.key()
                                        checked=c == s.consent
                                    />
                                    {c.label()}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit" class="primary" disabled=locked title=title>
                    "Save"
                </button>
            </ActionForm>
            {why
                .map(|w| {
                    view! {
                        <p id="why-consent" class="why">
                            {w}
                        </p>
                    }
                })}
        </section>
    }
}
