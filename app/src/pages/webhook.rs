//! The webhook panel (`/settings` for a customer's `org.settings` holders, `/admin/orgs` for
//! operator staff): the URL, the signing secret shown once, a test event, and how deliveries
//! go — failing ones say so, with the next try.

use crate::api::webhooks::{SetWebhook, TestWebhook, get_webhook};
use crate::components::{ActionError, ActionReads};
use crate::model::WebhookView;
use leptos::prelude::*;

#[component]
pub fn WebhookPanel() -> impl IntoView {
    let set = ServerAction::<SetWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let saved = ActionReads::of(set);
    let tested = ActionReads::of(test);
    let data = Resource::new(
        move || (saved.version(), tested.version()),
        |_| get_webhook(),
    );
    let error = Signal::derive(move || saved.error().or_else(|| tested.error()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().map(|w| view! { <WebhookBody w set test /> })
            })}
        </Suspense>
        {move || {
            saved
                .ok()
                .flatten()
                .map(|secret| {
                    view! {
                        <p role="status" class="ok">
                            "Signing secret (shown once; keep it in your receiver): "
                            <code>{secret}</code>
                        </p>
                    }
                })
        }}
        {move || {
            tested
                .ok()
                .map(|said| {
                    view! {
                        <p role="status" class="ok">
                            {said}
                        </p>
                    }
                })
        }}
        <ActionError error />
    }
}

#[component]
fn WebhookBody(
    w: WebhookView,
    set: ServerAction<SetWebhook>,
    test: ServerAction<TestWebhook>,
) -> impl IntoView {
    let has = w.url.is_some();
    view! {
        <section class="panel" aria-label="Webhook">
            <h2>"Webhook"</h2>
            <p class="muted">
                {if w.all_organisations {
                    "Every organisation's audit events"
                } else {
                    "Your organisation's audit events"
                }}
                ", in order, each signed (header Fleetgate-Signature: t=<unix time>,v1=<HMAC-SHA256 of \"t.body\">); refuse a signature older than five minutes. Sent at least once: skip an event id (Fleetgate-Event) you have seen."
            </p>
            <ActionForm action=set>
                <div class="field">
                    <label for="f-webhook-url">"Webhook URL"</label>
                    <input
                        id="f-webhook-url"
                        name="url"
                        type="url"
                        size="60"
                        placeholder="https://"
                        value=w.url.clone().unwrap_or_default()
                    />
                </div>
                <button type="submit" class="primary">
                    "Use this URL"
                </button>
            </ActionForm>
            {has
                .then(|| {
                    view! {
                        <p>
                            {format!(
                                "Delivered up to event {}{}; {} waiting.",
                                w.delivered_up_to,
                                w
                                    .last_delivered
                                    .as_ref()
                                    .map(|t| format!(" (last at {t})"))
                                    .unwrap_or_default(),
                                w.pending,
                            )}
                        </p>
                        {w
                            .failing
                            .clone()
                            .map(|f| {
                                view! {
                                    <p role="alert" class="alert">
                                        {format!("Deliveries are failing: {f}")}
                                    </p>
                                }
                            })}
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| {
                                test.dispatch(TestWebhook {});
                            }
                        >
                            "Send test event"
                        </button>
                    }
                })}
        </section>
    }
}
