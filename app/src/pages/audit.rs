//! `/admin/audit` (operator staff: every organisation, with the chain's status) and `/audit`
//! (a customer's holders of `audit.view`: their organisation, including who viewed as whom).

use crate::api::audit_log::audit_list;
use crate::components::{ColumnHeads, or_alert};
use crate::model::{AuditFieldView, AuditPage};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

/// The query-string keys the page filters by, in the order the server function takes them.
const FILTERS: [&str; 10] = [
    "actor",
    "subject",
    "organisation",
    "impersonation",
    "person",
    "org",
    "action",
    "from",
    "to",
    "before",
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let operator = use_location()
        .pathname
        .get_untracked()
        .starts_with("/admin");
    let page = Resource::new(
        move || FILTERS.map(param),
        move |f| {
            let [_, _, _, imp, person, org, action, from, to, _] = f.clone();
            let n = |i: usize| f[i].as_deref().and_then(|v| v.parse::<i32>().ok());
            audit_list(n(0), n(1), n(2), imp, person, org, action, from, to, n(9))
        },
    );
    let filters = move || {
        FILTERS[..9]
            .iter()
            .filter_map(|k| param(k).map(|v| (*k, v)))
            .collect::<Vec<_>>()
    };
    let field =
        move |id: &'static str, label: &'static str, name: &'static str, kind: &'static str| {
            view! {
                <label for=id>{label}</label>
                <input id=id name=name type=kind value=param(name).unwrap_or_default() />
            }
        };
    view! {
        <h1>"Audit log"</h1>
        <form method="get" class="filters">
            {field("a-person", "Person (name or e-mail)", "person", "search")}
            {operator.then(|| field("a-org", "Organisation", "org", "search"))}
            {field("a-action", "Action", "action", "search")}
            {field("a-from", "From", "from", "date")}
            {field("a-to", "To", "to", "date")}
            {field("a-imp", "Impersonation", "impersonation", "search")}
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
                or_alert(
                    page.await,
                    move |p| {
                        let older = p
                            .older
                            .map(|b| {
                                let mut href = export_href("", &filters())
                                    .replacen("/audit/export?format=", "?", 1);
                                href.push_str(&format!("&before={b}"));
                                view! {
                                    <a class="pager" href=href>
                                        "Older events"
                                    </a>
                                }
                            });
                        view! {
                            <AuditTable p />
                            {older}
                        }
                    },
                )
            })}
        </Suspense>
    }
}

/// The export of the rows the page's filters select (`/audit/export`, streamed by the server).
fn export_href(format: &str, filters: &[(&str, String)]) -> String {
    let mut href = format!("/audit/export?format={format}");
    for (k, v) in filters {
        href.push_str(&format!("&{k}={}", encode(v)));
    }
    href
}

/// A query-string value, percent-encoded (letters, digits and `-_.~` kept as they are).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
        <p class="muted">{format!("Showing: {} (newest first, 100 a page)", p.scope)}</p>
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
