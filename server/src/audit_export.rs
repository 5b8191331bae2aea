//! `GET /audit/export?format=jsonl|csv&…`: the audit log out, streamed a page of rows at a time
//! (`backend::audit_export`), filtered like the audit page. Operator staff with `audit.view_all`
//! export every organisation's events (or one's); a customer's `audit.view` holders their own.
//! Never in someone else's name; every export, and every refusal, is on the log itself.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use backend::audit::{self, Details, Entry, Field, Outcome};
use backend::audit_export::{ExportRow, Filter, page};
use backend::principal::{Authentication, Principal};
use backend::state::AppState;
use chrono::{DateTime, Utc};
use domain::authz::Permission;
use serde::Deserialize;

use app::error::{AppError, AuthFailure};

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub organisation: Option<i32>,
    pub actor: Option<i32>,
    pub subject: Option<i32>,
    pub impersonation: Option<String>,
    pub action: Option<String>,
    /// A person's name or e-mail (or part of it): events they did or that were about them.
    pub person: Option<String>,
    /// An organisation's name (or part of it); operator staff only.
    pub org: Option<String>,
    /// A day (`2026-11-25`, from its start) or an RFC 3339 time.
    pub from: Option<String>,
    /// A day (up to its end) or an RFC 3339 time.
    pub to: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

pub async fn export(
    State(st): State<AppState>,
    auth: Option<axum::Extension<Authentication>>,
    Query(q): Query<ExportQuery>,
) -> Response {
    match prepare(&st, auth.map(|a| a.0), q).await {
        Ok((format, filter)) => stream(st, format, filter),
        Err(e) => crate::middleware::error_response(e),
    }
}

/// Who may export what, the query parsed, and the export recorded; or the refusal, recorded.
async fn prepare(
    st: &AppState,
    auth: Option<Authentication>,
    q: ExportQuery,
) -> Result<(Format, Filter), AppError> {
    let p = match auth.map(|a| a.result) {
        Some(Ok(p)) => p,
        Some(Err(reason)) => return Err(AppError::Unauthenticated { reason }),
        None => {
            return Err(AppError::Unauthenticated {
                reason: AuthFailure::Missing,
            });
        }
    };
    let format = match q.format.as_deref().unwrap_or("jsonl") {
        "jsonl" | "json" => Format::JsonLines,
        "csv" => Format::Csv,
        _ => return Err(AppError::invalid("format", "Choose jsonl or csv.")),
    };
    let from = bound(q.from.as_deref(), "from", false)?;
    let to = bound(q.to.as_deref(), "to", true)?;
    let mut filter = Filter {
        people: None,
        organisations: None,
        organisation: q.organisation,
        actor: q.actor,
        subject: q.subject,
        impersonation: q.impersonation.filter(|i| !i.is_empty()),
        action: q.action.filter(|a| !a.is_empty()),
        from,
        to,
    };
    if let Err(e) = may_export(st, &p, &mut filter).await {
        record(st, &p, Outcome::Denied, Details::why(e.to_string())).await;
        return Err(e);
    }
    let own = (!p.operator).then_some(p.organisation_id);
    if let Some(person) = q.person.as_deref().filter(|t| !t.trim().is_empty()) {
        filter.people = Some(backend::audit_export::people_named(&st.db, person, own).await?);
    }
    if let Some(org) = q
        .org
        .as_deref()
        .filter(|t| !t.trim().is_empty() && p.operator)
    {
        filter.organisations = Some(backend::audit_export::organisations_named(&st.db, org).await?);
    }
    let details = Details::new().with(
        Field::Change,
        match format {
            Format::JsonLines => "exported as JSON Lines",
            Format::Csv => "exported as CSV",
        },
    );
    record(st, &p, Outcome::Success, details).await;
    Ok((format, filter))
}

/// Operator staff: `audit.view_all`; a customer: `audit.view` on their root, and only their own
/// organisation's rows; nobody while viewing as someone else.
async fn may_export(st: &AppState, p: &Principal, filter: &mut Filter) -> Result<(), AppError> {
    if p.impersonation.is_some() {
        return Err(AppError::Forbidden {
            message: "This cannot be done while viewing as someone else.".into(),
            denial: None,
        });
    }
    let access = st.access.for_principal(&st.db, p).await?;
    if p.operator {
        if access.effective.anywhere(Permission::AuditViewAll) {
            return Ok(());
        }
        return Err(AppError::Forbidden {
            message: format!(
                "You need “{}” ({}), which only operator staff can hold.",
                Permission::AuditViewAll.label(),
                Permission::AuditViewAll.key()
            ),
            denial: None,
        });
    }
    match access.check(Permission::AuditView, access.policy.tree.root()) {
        domain::authz::Decision::Allow => {
            filter.organisation = Some(p.organisation_id);
            Ok(())
        }
        domain::authz::Decision::Deny(denial) => Err(AppError::Forbidden {
            message: denial.describe(),
            denial: Some(denial),
        }),
    }
}

fn bound(raw: Option<&str>, field: &str, end: bool) -> Result<Option<DateTime<Utc>>, AppError> {
    backend::audit_export::bound(raw, end).map_err(|e| AppError::invalid(field, e.to_string()))
}

async fn record(st: &AppState, p: &Principal, outcome: Outcome, details: Details) {
    // While viewing as someone, the operator behind it is the actor, under the impersonation.
    let (actor, impersonation_id) = match &p.impersonation {
        Some(imp) => (imp.actor.user_id, Some(imp.id.clone())),
        None => (p.user_id, None),
    };
    let e = Entry {
        organisation_id: Some(p.organisation_id),
        actor_user_id: Some(actor),
        subject_user_id: Some(p.user_id),
        impersonation_id,
        action: "audit/export".into(),
        resource: Some(audit::Resource::AuditLog.to_string()),
        outcome,
        details,
    };
    if let Err(e) = audit::record(&st.db, e).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}

/// The rows, a page per chunk: memory stays at one page whatever the log's length. A database
/// error mid-way ends the body with an error, so the client sees a broken transfer, never a
/// short file that looks whole.
fn stream(st: AppState, format: Format, filter: Filter) -> Response {
    let head = match format {
        Format::JsonLines => None,
        Format::Csv => Some(Bytes::from_static(ExportRow::CSV_HEADER.as_bytes())),
    };
    let pages = futures::stream::unfold(Some(0), move |after| {
        let (st, filter) = (st.clone(), filter.clone());
        async move {
            let after = after?;
            match page(&st.db, &filter, after).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|r| r.id);
                    let mut chunk = String::new();
                    for r in rows {
                        let row = ExportRow::of(r);
                        chunk.push_str(&match format {
                            Format::JsonLines => row.json_line(),
                            Format::Csv => row.csv_line(),
                        });
                    }
                    Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), last))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed mid-way");
                    Some((Err(std::io::Error::other("database error")), None))
                }
            }
        }
    });
    let body = futures::StreamExt::chain(
        futures::stream::iter(head.map(Ok::<_, std::io::Error>)),
        pages,
    );
    let (kind, name) = match format {
        Format::JsonLines => ("application/x-ndjson", "audit.jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "audit.csv"),
    };
    let mut res = Body::from_stream(body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
