//! `/admin/audit` (operator staff: every organisation, with the chain's status) and `/audit`
//! (a customer's holders of `audit.view`: their organisation, including who viewed as whom).

use crate::api::audit_log::audit_list;
use crate::components::{ColumnHeads, or_alert};
use crate::model::{AuditFieldView, AuditPage};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let num = move |k: &str| param(k).and_then(|v| v.parse::<i32>().ok());
    let page = Resource::new(
        move || {
            (
                num("actor"),
                num("subject"),
                num("organisation"),
                param("impersonation"),
            )
        },
        |(a, s, o, i)| audit_list(a, s, o, i),
    );
    let filters = move || {
        ["actor", "subject", "organisation", "impersonation"]
            .into_iter()
            .filter_map(|k| param(k).map(|v| (k, v)))
            .collect::<Vec<_>>()
    };
    view! {
        <h1>"Audit log"</h1>
        <form method="get" class="filters">
            <label for="a-actor">"Actor id"</label>
            <input
                id="a-actor"
                name="actor"
                inputmode="numeric"
                size="5"
                value=param("actor").unwrap_or_default()
            />
            <label for="a-subject">"Subject id"</label>
            <input
                id="a-subject"
                name="subject"
                inputmode="numeric"
                size="5"
                value=param("subject").unwrap_or_default()
            />
            <label for="a-org">"Organisation id"</label>
            <input
                id="a-org"
                name="organisation"
                inputmode="numeric"
                size="5"
                value=param("organisation").unwrap_or_default()
            />
            <label for="a-imp">"Impersonation"</label>
            <input
                id="a-imp"
                name="impersonation"
                size="12"
                value=param("impersonation").unwrap_or_default()
            />
            <button type="submit" class="secondary">
                "Filter"
            </button>
        </form>
        <p class="exports">
            "Export what is filtered, each row with its chain hash: "
            <a href=move || export_href("jsonl", &filters()) download>
                "JSON Lines"
            </a> " · " <a href=move || export_href("csv", &filters()) download>
                "CSV"
            </a> " (check one with " <code>"server audit verify --file"</code> ")"
        </p>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                or_alert(page.await, |p| view! { <AuditTable p /> })
            })}
        </Suspense>
    }
}

/// The export of the rows the page's filters select (`/audit/export`, streamed by the server).
fn export_href(format: &str, filters: &[(&str, String)]) -> String {
    let mut href = format!("/audit/export?format={format}");
    for (k, v) in filters {
        let v: String = v
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.')
            .collect();
        href.push_str(&format!("&{k}={v}"));
    }
    href
}

/// Each structured detail as its own labelled item: what a user typed stays in its field.
#[component]
fn AuditFields(fields: Vec<AuditFieldView>) -> impl IntoView {
    (!fields.is_empty()).then(|| {
        view! {
            <dl class="audit-fields">
                {fields
                    .into_iter()
                    .map(|f| {
                        view! {
                            <div data-field=f.key>
                                <dt>{f.label}</dt>
                                <dd>{f.value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
        }
    })
}

#[component]
fn AuditTable(p: AuditPage) -> impl IntoView {
    view! {
        <p class="muted">{format!("Showing: {} (newest first, up to 500)", p.scope)}</p>
        {p
            .chain
            .map(|c| match c.first_broken {
                None => {
                    view! {
                        <p role="status" class="ok chain">
                            {format!("Hash chain verified: {} events, intact.", c.rows)}
                        </p>
                    }
                        .into_any()
                }
                Some(id) => {
                    view! {
                        <p role="alert" class="alert chain">
                            {format!("Hash chain BROKEN at event {id}: the log was altered.")}
                        </p>
                    }
                        .into_any()
                }
            })}
        <div class="table-wrap">
            <table class="audit">
                <ColumnHeads names=&[
                    "When",
                    "Action",
                    "Outcome",
                    "Actor",
                    "Subject",
                    "Organisation",
                    "Resource",
                    "Details",
                ] />
                <tbody>
                    {p
                        .events
                        .into_iter()
                        .map(|e| {
                            let viewed_as = e.impersonation_id.is_some() && e.actor != e.subject;
                            view! {
                                <tr class:impersonated=viewed_as>
                                    <td class="mono">{e.at}</td>
                                    <th scope="row">{e.action}</th>
                                    <td>{e.outcome}</td>
                                    <td>{e.actor.unwrap_or_default()}</td>
                                    <td>{e.subject.unwrap_or_default()}</td>
                                    <td>{e.organisation.unwrap_or_default()}</td>
                                    <td>{e.resource.unwrap_or_default()}</td>
                                    <td class="detail">
                                        {e.detail} <AuditFields fields=e.fields />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
