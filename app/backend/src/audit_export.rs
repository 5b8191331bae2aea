//! The audit log, out: rows as JSON Lines or CSV, each with its chain hash, read a page at a
//! time (so a million rows never sit in memory), and checked offline against the very hash the
//! log is chained with ([`crate::audit::chain_hash`]).
//!
//! A complete export (nothing filtered out, the operator's) is checked as the chain it is: from
//! the genesis hash, every row linking to the one before, so a row changed, removed, inserted
//! or moved shows. A filtered export (a customer's is always one: the chain runs through every
//! organisation's rows) can only be checked row by row: each row's own hash, in order.

use crate::audit::{Details, Entry, GENESIS, Outcome, chain_hash};
use crate::entity::audit_event;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

/// Which rows: as the audit page filters them. `organisation` is forced to the caller's own for a
/// customer.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub organisation: Option<i32>,
    /// Events whose actor or subject is one of these people (found by name or e-mail).
    pub people: Option<Vec<i32>>,
    /// Events of one of these organisations (found by name).
    pub organisations: Option<Vec<i32>>,
    pub actor: Option<i32>,
    pub subject: Option<i32>,
    pub impersonation: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Rows read per query while streaming.
pub const PAGE: u64 = 1000;

/// The next page of rows after `after` (an id), oldest first.
pub async fn page(
    db: &impl ConnectionTrait,
    f: &Filter,
    after: i32,
) -> Result<Vec<audit_event::Model>, DbErr> {
    f.apply(audit_event::Entity::find())
        .filter(audit_event::Column::Id.gt(after))
        .order_by_asc(audit_event::Column::Id)
        .limit(PAGE)
        .all(db)
        .await
}

impl Filter {
    /// The filter as conditions on a query of the log (the audit page and the export share it).
    pub fn apply(
        &self,
        q: sea_orm::Select<audit_event::Entity>,
    ) -> sea_orm::Select<audit_event::Entity> {
        use audit_event::Column as C;
        use sea_orm::Condition;
        let f = self;
        let mut q = q;
        if let Some(people) = &f.people {
            q = q.filter(
                Condition::any()
                    .add(C::ActorUserId.is_in(people.iter().copied()))
                    .add(C::SubjectUserId.is_in(people.iter().copied())),
            );
        }
        if let Some(orgs) = &f.organisations {
            q = q.filter(C::OrganisationId.is_in(orgs.iter().copied()));
        }
        if let Some(o) = f.organisation {
            q = q.filter(C::OrganisationId.eq(o));
        }
        if let Some(a) = f.actor {
            q = q.filter(C::ActorUserId.eq(a));
        }
        if let Some(s) = f.subject {
            q = q.filter(C::SubjectUserId.eq(s));
        }
        if let Some(i) = &f.impersonation {
            q = q.filter(C::ImpersonationId.eq(i.clone()));
        }
        if let Some(a) = &f.action {
            q = q.filter(C::Action.contains(a.clone()));
        }
        if let Some(t) = f.from {
            q = q.filter(C::OccurredAt.gte(t));
        }
        if let Some(t) = f.to {
            q = q.filter(C::OccurredAt.lt(t));
        }
        q
    }
}

/// The people whose name or e-mail contains `text` (of organisation `org` when given), for a
/// filter by person: at most 500 of them.
pub async fn people_named(
    db: &impl ConnectionTrait,
    text: &str,
    org: Option<i32>,
) -> Result<Vec<i32>, DbErr> {
    use crate::entity::user;
    let mut q = crate::repo::users::matching(user::Entity::find(), text);
    if let Some(o) = org {
        q = q.filter(user::Column::OrganisationId.eq(o));
    }
    Ok(q.limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect())
}

/// The organisations whose name contains `text` (case-insensitively).
pub async fn organisations_named(db: &impl ConnectionTrait, text: &str) -> Result<Vec<i32>, DbErr> {
    use crate::entity::organisation;
    let text = text.to_lowercase();
    Ok(organisation::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|o| o.name.to_lowercase().contains(&text))
        .map(|o| o.id)
        .collect())
}

/// A time-range bound that is neither a day nor an RFC 3339 time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Give a day as YYYY-MM-DD.")]
pub struct NotADay;

/// A bound of a time range: a day (`2026-11-25`: from its start, or, as the `end`, up to its
/// end) or an RFC 3339 time.
pub fn bound(raw: Option<&str>, end: bool) -> Result<Option<DateTime<Utc>>, NotADay> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| NotADay)?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

/// One exported row: every hashed field as stored, and the hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRow {
    pub id: i32,
    pub occurred_at: String,
    pub organisation_id: Option<i32>,
    pub actor_user_id: Option<i32>,
    pub subject_user_id: Option<i32>,
    pub impersonation_id: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: String,
    /// Free text of rows written before structured fields.
    pub detail: Option<String>,
    /// The structured fields, `[key, value]` in order.
    pub fields: Vec<(String, String)>,
    pub prev_hash: String,
    pub hash: String,
}

impl ExportRow {
    pub fn of(r: audit_event::Model) -> ExportRow {
        let fields = Details::from_stored(r.fields.as_deref())
            .map(|d| {
                d.pairs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        ExportRow {
            id: r.id,
            occurred_at: r.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            organisation_id: r.organisation_id,
            actor_user_id: r.actor_user_id,
            subject_user_id: r.subject_user_id,
            impersonation_id: r.impersonation_id,
            action: r.action,
            resource: r.resource,
            outcome: r.outcome,
            detail: r.detail,
            fields,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }

    /// One line of JSON, ending in a newline.
    pub fn json_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub const CSV_HEADER: &'static str = "id,occurred_at,organisation_id,actor_user_id,subject_user_id,impersonation_id,action,resource,outcome,detail,fields,prev_hash,hash\n";

    /// One CSV record (RFC 4180 quoting), the fields as their JSON array.
    pub fn csv_line(&self) -> String {
        let n = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
        let cells = [
            self.id.to_string(),
            self.occurred_at.clone(),
            n(self.organisation_id),
            n(self.actor_user_id),
            n(self.subject_user_id),
            self.impersonation_id.clone().unwrap_or_default(),
            self.action.clone(),
            self.resource.clone().unwrap_or_default(),
            self.outcome.clone(),
            self.detail.clone().unwrap_or_default(),
            serde_json::to_string(&self.fields).unwrap_or_default(),
            self.prev_hash.clone(),
            self.hash.clone(),
        ];
        let mut line = cells.map(|c| csv_cell(&c)).join(",");
        line.push('\n');
        line
    }

    /// Whether the row's hash is the hash of its own content and its `prev_hash`.
    pub fn hash_holds(&self) -> bool {
        let Ok(at) = DateTime::parse_from_rfc3339(&self.occurred_at) else {
            return false;
        };
        let outcome = match self.outcome.as_str() {
            "success" => Outcome::Success,
            "denied" => Outcome::Denied,
            "failure" => Outcome::Failure,
            _ => return false,
        };
        let mut details = Details::new();
        for (k, v) in &self.fields {
            details = details.with_key(k, v);
        }
        let entry = Entry {
            organisation_id: self.organisation_id,
            actor_user_id: self.actor_user_id,
            subject_user_id: self.subject_user_id,
            impersonation_id: self.impersonation_id.clone(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            outcome,
            details,
        };
        chain_hash(
            &self.prev_hash,
            &at.with_timezone(&Utc),
            &entry,
            self.detail.as_deref(),
        ) == self.hash
    }
}

/// A cell, quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-`, `@`,
/// tab or carriage return is prefixed with `'` so no spreadsheet runs it as a formula. (So a CSV
/// is for reading; the JSON Lines export is the one `audit verify --file` checks.)
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// What checking an export found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub rows: u64,
    /// Links to the previous row checked (all of them in a complete export, none otherwise).
    pub links: u64,
}

/// Why an export does not verify: the line (1-based) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct Broken {
    pub line: u64,
    pub what: String,
}

/// Checks a JSON Lines export, line by line (any length: nothing is kept but the last row);
/// `complete` for an export of the whole log.
pub fn verify_lines(input: impl std::io::BufRead, complete: bool) -> Result<Verified, Broken> {
    let mut prev: Option<ExportRow> = None;
    let mut v = Verified { rows: 0, links: 0 };
    for (i, line) in input.lines().enumerate() {
        let n = i as u64 + 1;
        let broken = |what: &str| Broken {
            line: n,
            what: what.to_owned(),
        };
        let line = line.map_err(|e| broken(&format!("unreadable: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: ExportRow =
            serde_json::from_str(&line).map_err(|e| broken(&format!("not an audit row: {e}")))?;
        if !row.hash_holds() {
            return Err(broken(&format!("row {} does not match its hash", row.id)));
        }
        let expected_prev = match &prev {
            _ if !complete => None,
            Some(p) => Some(p.hash.as_str()),
            None => Some(GENESIS),
        };
        if let Some(expected) = expected_prev {
            if row.prev_hash != expected {
                return Err(broken(&format!(
                    "row {} does not follow the row before it",
                    row.id
                )));
            }
            v.links += 1;
        }
        if prev.as_ref().is_some_and(|p| row.id <= p.id) {
            return Err(broken(&format!("row {} is out of order", row.id)));
        }
        v.rows += 1;
        prev = Some(row);
    }
    Ok(v)
}
