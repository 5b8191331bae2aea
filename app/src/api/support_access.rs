//! Support access the customer controls: grants that let operator staff view as someone for a
//! while, people and teams protected from it, and the notice each person gets after support
//! viewed as them. The rules are `domain::support_access` and
//! `domain::impersonation::eligibility`; the rows are `backend::support_access`.
//!
//! Every function here is the customer's own say, so none is ever done in someone else's name
//! (`own_name_only`): an impersonation cannot open a grant for itself, nor dismiss the notice
//! its subject is meant to read.

#[cfg(feature = "ssr")]
use crate::api::guard::{Guard, Resource};
use crate::api::policy::Requirement::{Operator, Permission as Needs, SignedIn};
use crate::api::policy::{Declared, Policy, own_name_only, read};
use crate::error::AppError;
use crate::model::{ProtectionView, RequestRow, SupportAccessView, ViewingRow};
use domain::authz::Permission;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(feature = "ssr")]
fn viewing_row(v: backend::support_access::Viewing) -> ViewingRow {
    let end = v.ended_at.unwrap_or_else(chrono::Utc::now);
    ViewingRow {
        minutes: (end - v.started_at).num_minutes().max(0),
        id: v.id,
        actor: v.actor_name,
        mode: domain::impersonation::Mode::from_key(&v.mode)
            .map(|m| m.label().to_owned())
            .unwrap_or(v.mode),
        reason: v.reason,
        ticket: v.ticket,
        started: when(v.started_at),
        ended: v.ended_at.map(when),
    }
}

/// Customers only: the operator's own people are never viewed as, so they have nothing to grant
/// or protect.
#[cfg(feature = "ssr")]
fn customers_only(g: &Guard) -> Result<(), AppError> {
    if g.principal().operator {
        return Err(AppError::Forbidden {
            message: "Support access is the customer's to give; operator staff have none.".into(),
            denial: None,
        });
    }
    Ok(())
}

/// The grant form's input, parsed the same way in the browser and on the server.
pub fn parse_grant(
    length: &str,
    mode: Option<&str>,
    ticket: &str,
    note: &str,
) -> Result<
    (
        domain::support_access::GrantLength,
        domain::impersonation::Mode,
        Option<String>,
        Option<String>,
    ),
    AppError,
> {
    use domain::impersonation::Mode;
    use domain::support_access::GrantLength;
    let length = GrantLength::from_key(length)
        .ok_or_else(|| AppError::invalid("length", "Choose 1 hour, 1 day or 7 days."))?;
    let mode = match mode.filter(|m| !m.is_empty()) {
        None => Mode::View,
        Some(m) => Mode::from_key(m)
            .ok_or_else(|| AppError::invalid("mode", "Choose read-only or act as user."))?,
    };
    let ticket =
        domain::impersonation::ticket(ticket).map_err(|e| AppError::invalid("ticket", e))?;
    let note = domain::support_access::note(note).map_err(|e| AppError::invalid("note", e))?;
    Ok((length, mode, ticket, note))
}

/// The grant form's check (the browser's half of [`parse_grant`]).
pub fn check_grant(i: &GrantSupportAccess) -> Result<(), AppError> {
    parse_grant(&i.length, i.mode.as_deref(), &i.ticket, &i.note).map(drop)
}

impl Declared for GetSupportAccess {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// The caller's support access: the consent, the grants they may see (their own; everyone's
/// for `org.settings` holders) and every impersonation of them.
#[server(endpoint = "support/access")]
pub async fn get_support_access() -> Result<SupportAccessView, AppError> {
    use backend::entity::{organisation, user};
    use domain::impersonation::{Consent, Mode};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let g = Guard::enter::<GetSupportAccess>().await?;
    let me = g.principal();
    let db = &g.state().db;
    let org = organisation::Entity::find_by_id(me.organisation_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            what: "Organisation".into(),
        })?;
    let consent = Consent::stored(&org.impersonation_consent)?;
    let manager = g
        .decide(Permission::OrgSettings, g.tree().root())
        .is_allowed();
    let grants = if manager {
        let people: Vec<i32> = user::Entity::find()
            .filter(user::Column::OrganisationId.eq(org.id))
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        backend::support_access::live_grants(db, &people).await?
    } else {
        backend::support_access::live_grants(db, &[me.user_id]).await?
    };
    let names = backend::repo::users::names_anywhere(db, grants.iter().map(|g| g.user_id)).await?;
    let grants = grants
        .into_iter()
        .map(|gr| {
            let may = gr.user_id == me.user_id || gr.granted_by == Some(me.user_id) || manager;
            Ok(crate::model::GrantRow {
                id: gr.id,
                person: names.get(&gr.user_id).cloned().unwrap_or_default(),
                mode: Mode::stored(&gr.mode)?,
                until: when(gr.expires_at),
                ticket: gr.ticket,
                note: gr.note,
                revoke: if may {
                    Ok(())
                } else {
                    Err(format!(
                        "Only {} or a holder of {} may revoke it.",
                        names.get(&gr.user_id).map_or("its person", |n| n.as_str()),
                        Permission::OrgSettings.key()
                    ))
                },
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let viewings = backend::support_access::viewings_of(db, me.user_id)
        .await?
        .into_iter()
        .map(viewing_row)
        .collect();
    let (modes, grant_locked) = match (me.operator, consent.grant_ceiling()) {
        (true, _) => (
            Vec::new(),
            Some("Operator staff are never viewed as; there is nothing to grant.".to_owned()),
        ),
        (false, None) => (
            Vec::new(),
            Some(domain::support_access::GrantRefusal::ConsentNever.to_string()),
        ),
        (false, Some(Mode::View)) => (vec![Mode::View], None),
        (false, Some(Mode::Act)) => (vec![Mode::View, Mode::Act], None),
    };
    Ok(SupportAccessView {
        organisation: org.name,
        consent,
        modes,
        grant_locked,
        grants,
        viewings,
    })
}

impl Declared for GrantSupportAccess {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Opens a support access grant for `user` (the caller when empty): for oneself, anyone; for
/// someone else of the organisation, holders of `org.settings`. Never more than the consent
/// allows.
#[server(endpoint = "support/grant")]
pub async fn grant_support_access(
    user: Option<i32>,
    length: String,
    mode: Option<String>,
    ticket: String,
    note: String,
) -> Result<(), AppError> {
    use backend::audit::{Details, Field};
    use backend::entity::organisation;
    use domain::impersonation::Consent;
    use domain::support_access::grant_mode;
    use sea_orm::EntityTrait;

    let (length, asked, ticket, note) = parse_grant(&length, mode.as_deref(), &ticket, &note)?;
    let g = Guard::enter::<GrantSupportAccess>().await?;
    customers_only(&g)?;
    let me = g.principal().clone();
    let subject = user.unwrap_or(me.user_id);
    let person = backend::repo::users::load(&g.state().db, me.organisation_id, subject).await?;
    if subject != me.user_id {
        g.require(
            Permission::OrgSettings,
            g.tree().root(),
            Resource::User(subject),
        )
        .await?;
    }
    let org = organisation::Entity::find_by_id(me.organisation_id)
        .one(&g.state().db)
        .await?
        .ok_or(AppError::NotFound {
            what: "Organisation".into(),
        })?;
    let consent = Consent::stored(&org.impersonation_consent)?;
    let mode = grant_mode(consent, asked).map_err(|e| AppError::invalid("mode", e.to_string()))?;
    let txn = g.begin_write().await?;
    let grant = backend::support_access::open(
        &*txn,
        backend::support_access::NewGrant {
            organisation_id: org.id,
            user_id: person.id,
            granted_by: me.user_id,
            mode,
            length,
            ticket: ticket.clone(),
            note: note.clone(),
        },
    )
    .await?;
    g.commit_write(
        txn,
        Resource::SupportGrant(grant.id),
        Details::new()
            .with(Field::Change, "granted")
            .with(Field::User, Resource::User(person.id).to_string())
            .with(Field::Mode, mode.key())
            .with(Field::Until, when(grant.expires_at))
            .with_opt(Field::Ticket, ticket)
            .with_opt(Field::Note, note),
    )
    .await
}

impl Declared for RevokeSupportGrant {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Revokes a grant (its person, who opened it, or an `org.settings` holder); a live
/// impersonation it covered ends in the same transaction, so every instance refuses its next
/// request.
#[server(endpoint = "support/revoke")]
pub async fn revoke_support_grant(grant: i32) -> Result<(), AppError> {
    use backend::audit::{Details, Field};
    use backend::entity::support_grant;
    use sea_orm::EntityTrait;

    let g = Guard::enter::<RevokeSupportGrant>().await?;
    customers_only(&g)?;
    let me = g.principal().clone();
    let row = support_grant::Entity::find_by_id(grant)
        .one(&g.state().db)
        .await?
        .filter(|r| r.organisation_id == me.organisation_id)
        .ok_or(AppError::NotFound {
            what: "Support access grant".into(),
        })?;
    if row.user_id != me.user_id && row.granted_by != Some(me.user_id) {
        g.require(
            Permission::OrgSettings,
            g.tree().root(),
            Resource::SupportGrant(grant),
        )
        .await?;
    }
    let txn = g.begin_write().await?;
    if !backend::support_access::revoke(&*txn, grant, me.user_id).await? {
        return Err(AppError::Conflict {
            message: "This grant has been revoked already.".into(),
        });
    }
    backend::impersonation::ending::end_no_longer_covered(&txn, &[row.user_id]).await?;
    g.commit_write(
        txn,
        Resource::SupportGrant(grant),
        Details::new()
            .with(Field::Change, "revoked")
            .with(Field::User, Resource::User(row.user_id).to_string()),
    )
    .await
}

impl Declared for SupportNotices {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// The impersonations of the caller that ended and that they have not dismissed. Empty while
/// viewing as someone: those notices are for their person alone. Asked on every signed-in
/// page, so it reads nothing when the session's own query found none.
#[server(endpoint = "support/notices")]
pub async fn support_notices() -> Result<Vec<ViewingRow>, AppError> {
    let g = Guard::enter::<SupportNotices>().await?;
    let p = g.principal();
    if p.impersonation.is_some() || !p.pending_support_notices {
        return Ok(Vec::new());
    }
    Ok(
        backend::support_access::notices_of(&g.state().db, g.principal().user_id)
            .await?
            .into_iter()
            .map(viewing_row)
            .collect(),
    )
}

impl Declared for DismissNotice {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Dismisses one of the caller's support access notices.
#[server(endpoint = "support/dismiss")]
pub async fn dismiss_notice(id: String) -> Result<(), AppError> {
    use backend::audit::{Details, Field};

    let g = Guard::enter::<DismissNotice>().await?;
    let me = g.principal().user_id;
    let txn = g.begin_write().await?;
    if !backend::support_access::dismiss(&*txn, me, &id).await? {
        return Err(AppError::NotFound {
            what: "Notice".into(),
        });
    }
    g.commit_write(
        txn,
        Resource::User(me),
        Details::new().with(Field::Change, "support access notice dismissed"),
    )
    .await
}

impl Declared for GetProtections {
    const POLICY: Policy = read::<Self>(Needs(Permission::OrgSettings));
}

/// The organisation's people and teams, each protected or not (`org.settings`).
#[server(endpoint = "support/protections")]
pub async fn get_protections() -> Result<ProtectionView, AppError> {
    use crate::model::ProtectableRow;
    use backend::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let g = Guard::enter::<GetProtections>().await?;
    customers_only(&g)?;
    let org = g.principal().organisation_id;
    g.authorize(g.tree().root(), Resource::Organisation(org))
        .await?;
    let db = &g.state().db;
    let (people, teams) = backend::support_access::protections(db, org).await?;
    let tree = g.tree();
    let people = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .order_by_asc(user::Column::FullName)
        .all(db)
        .await?
        .into_iter()
        .map(|u| ProtectableRow {
            protected: people.contains(&u.id),
            id: u.id,
            name: u.full_name,
            detail: u.email,
        })
        .collect();
    let teams = tree
        .teams()
        .map(|t| ProtectableRow {
            id: t,
            name: tree.name(t).unwrap_or_default().to_owned(),
            detail: tree.depth(t).to_string(),
            protected: teams.contains(&t),
        })
        .collect();
    Ok(ProtectionView { people, teams })
}

impl Declared for SetProtection {
    const POLICY: Policy = own_name_only::<Self>(Needs(Permission::OrgSettings));
}

/// Protects (or unprotects) a person or a whole team (`kind`: `user` or `team`): never viewed
/// as, whatever the consent and grants. Live impersonations it now refuses end at once.
#[server(endpoint = "support/protect")]
pub async fn set_protection(kind: String, id: i32, protect: bool) -> Result<(), AppError> {
    use backend::audit::{Details, Field};
    use backend::entity::user;
    use backend::support_access::Protectable;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let g = Guard::enter::<SetProtection>().await?;
    customers_only(&g)?;
    let org = g.principal().organisation_id;
    let what = match kind.as_str() {
        "user" => {
            backend::repo::users::load(&g.state().db, org, id).await?;
            Protectable::User(id)
        }
        "team" if g.tree().contains(id) => Protectable::Team(id),
        "team" => {
            return Err(AppError::NotFound {
                what: "Team".into(),
            });
        }
        _ => return Err(AppError::invalid("kind", "Choose a person or a team.")),
    };
    let resource = match what {
        Protectable::User(u) => Resource::User(u),
        Protectable::Team(t) => Resource::Team(t),
    };
    g.authorize(g.tree().root(), resource).await?;
    let by = g.principal().user_id;
    let txn = g.begin_write().await?;
    backend::support_access::set_protection(&*txn, org, what, protect, by).await?;
    if protect {
        let people: Vec<i32> = user::Entity::find()
            .filter(user::Column::OrganisationId.eq(org))
            .all(&*txn)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        backend::impersonation::ending::end_no_longer_covered(&txn, &people).await?;
    }
    g.commit_write(
        txn,
        resource,
        Details::new().with(
            Field::Change,
            if protect { "protected" } else { "unprotected" },
        ),
    )
    .await
}

impl Declared for RequestSupportAccess {
    const POLICY: Policy = own_name_only::<Self>(Operator(Permission::UsersImpersonate));
}

/// Operator staff ask for support access to a customer's person, with a reason: the person and
/// their organisation's `org.settings` holders see it in the app and get a mail.
#[server(endpoint = "support/ask")]
pub async fn request_support_access(
    user: i32,
    reason: String,
    ticket: String,
    mode: Option<String>,
) -> Result<(), AppError> {
    use backend::audit::{Details, Entry, Field, Outcome};
    use domain::impersonation::Mode;
    use domain::people::{Email, OrgKind};

    let reason =
        domain::impersonation::reason(&reason).map_err(|e| AppError::invalid("reason", e))?;
    let ticket =
        domain::impersonation::ticket(&ticket).map_err(|e| AppError::invalid("ticket", e))?;
    let mode = match mode.as_deref().filter(|m| !m.is_empty()) {
        None => Mode::View,
        Some(m) => Mode::from_key(m)
            .ok_or_else(|| AppError::invalid("mode", "Choose read-only or act as user."))?,
    };
    let g = Guard::enter::<RequestSupportAccess>().await?;
    let db = &g.state().db;
    let not_found = || AppError::NotFound {
        what: "User".into(),
    };
    let (person, org, _) = backend::impersonation::store::target(db, user)
        .await?
        .ok_or_else(not_found)?;
    if OrgKind::stored(&org.kind)? != OrgKind::Customer {
        return Err(AppError::invalid(
            "user",
            "Only a customer's people can be asked about.",
        ));
    }
    let me = g.principal().clone();
    let txn = g.begin_write().await?;
    let request = backend::support_access::ask(
        &*txn,
        backend::support_access::NewRequest {
            organisation_id: org.id,
            user_id: person.id,
            requested_by: me.user_id,
            reason: reason.clone(),
            ticket: ticket.clone(),
            mode,
        },
    )
    .await?;
    let mut told = backend::support_access::settings_holders(&*txn, org.id).await?;
    told.push(person.id);
    told.sort_unstable();
    told.dedup();
    let link = format!("{}/account", g.state().public_url.trim_end_matches('/'));
    for u in backend::repo::users::by_ids(&*txn, &told).await? {
        if let Ok(to) = Email::parse(&u.email) {
            let mail = backend::mail::letters::support_request(
                to,
                &me.full_name,
                &person.full_name,
                &reason,
                ticket.as_deref(),
                &link,
            );
            backend::mail::queue(&*txn, mail).await?;
        }
    }
    // On the customer's log: they see who asked for what.
    txn.commit_with(Entry {
        organisation_id: Some(org.id),
        actor_user_id: Some(me.user_id),
        subject_user_id: Some(person.id),
        impersonation_id: None,
        action: "support/ask".into(),
        resource: Some(Resource::SupportRequest(request.id).to_string()),
        outcome: Outcome::Success,
        details: Details::new()
            .with(Field::Reason, reason)
            .with_opt(Field::Ticket, ticket)
            .with(Field::Mode, mode.key()),
    })
    .await?;
    Ok(())
}

impl Declared for SupportRequests {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// Requests for support access: for operator staff, every request and its answer; for a
/// customer, those about themselves, and, for `org.settings` holders, their organisation's.
#[server(endpoint = "support/requests")]
pub async fn support_requests() -> Result<Vec<RequestRow>, AppError> {
    use backend::entity::{organisation, support_request};
    use domain::impersonation::Mode;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use std::collections::HashMap;

    let g = Guard::enter::<SupportRequests>().await?;
    let me = g.principal();
    let db = &g.state().db;
    let manager = !me.operator
        && g.decide(Permission::OrgSettings, g.tree().root())
            .is_allowed();
    let mut q = support_request::Entity::find()
        .order_by_desc(support_request::Column::Id)
        .limit(200);
    if me.operator {
        if !g.holds_anywhere(Permission::UsersImpersonate) {
            return Ok(Vec::new());
        }
    } else if manager {
        q = q.filter(support_request::Column::OrganisationId.eq(me.organisation_id));
    } else {
        q = q.filter(support_request::Column::UserId.eq(me.user_id));
    }
    let rows = q.all(db).await?;
    let mut ids: Vec<i32> = rows
        .iter()
        .flat_map(|r| [Some(r.user_id), r.requested_by, r.answered_by])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = backend::repo::users::names_anywhere(db, ids).await?;
    let orgs: HashMap<i32, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|r| r.organisation_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name = |id: Option<i32>| {
        id.and_then(|i| names.get(&i).cloned())
            .unwrap_or_else(|| "someone no longer here".into())
    };
    rows.into_iter()
        .map(|r| {
            let answerable = if me.operator {
                Err("Only the customer answers a request for access.".to_owned())
            } else if r.answered_at.is_some() {
                Err("Already answered.".to_owned())
            } else if r.user_id == me.user_id || manager {
                Ok(())
            } else {
                Err(format!(
                    "Only its person or a holder of {} may answer.",
                    Permission::OrgSettings.key()
                ))
            };
            Ok(RequestRow {
                id: r.id,
                person: name(Some(r.user_id)),
                organisation: orgs.get(&r.organisation_id).cloned().unwrap_or_default(),
                asked_by: name(r.requested_by),
                reason: r.reason,
                ticket: r.ticket,
                mode: Mode::stored(&r.mode)?,
                asked: when(r.created_at),
                approved: r.approved,
                answer: r.answered_at.map(|_| {
                    let who = name(r.answered_by);
                    match &r.answer {
                        Some(why) => format!("{who}: {why}"),
                        None => who,
                    }
                }),
                answerable,
            })
        })
        .collect()
}

impl Declared for AnswerSupportRequest {
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Approves (opening a grant for `length`, in the mode asked, never more than the consent
/// allows) or declines (saying why) a request for support access: its person or an
/// `org.settings` holder, once.
#[server(endpoint = "support/answer")]
pub async fn answer_support_request(
    request: i32,
    approve: bool,
    length: Option<String>,
    why: String,
) -> Result<(), AppError> {
    use backend::audit::{Details, Field};
    use backend::entity::{organisation, support_request};
    use domain::impersonation::{Consent, Mode};
    use domain::support_access::{GrantLength, grant_mode};
    use sea_orm::EntityTrait;

    let length = match length.as_deref().filter(|l| !l.is_empty()) {
        None => GrantLength::default(),
        Some(l) => GrantLength::from_key(l)
            .ok_or_else(|| AppError::invalid("length", "Choose 1 hour, 1 day or 7 days."))?,
    };
    let why = domain::support_access::note(&why).map_err(|e| AppError::invalid("why", e))?;
    if !approve && why.is_none() {
        return Err(AppError::invalid("why", "Say why you decline."));
    }
    let g = Guard::enter::<AnswerSupportRequest>().await?;
    customers_only(&g)?;
    let me = g.principal().clone();
    let db = &g.state().db;
    let row = support_request::Entity::find_by_id(request)
        .one(db)
        .await?
        .filter(|r| r.organisation_id == me.organisation_id)
        .ok_or(AppError::NotFound {
            what: "Request".into(),
        })?;
    if row.user_id != me.user_id {
        g.require(
            Permission::OrgSettings,
            g.tree().root(),
            Resource::SupportRequest(request),
        )
        .await?;
    }
    let already = || AppError::Conflict {
        message: "This request has already been answered.".into(),
    };
    if row.answered_at.is_some() {
        return Err(already());
    }
    let txn = g.begin_write().await?;
    let grant = if approve {
        let org = organisation::Entity::find_by_id(me.organisation_id)
            .one(&*txn)
            .await?
            .ok_or(AppError::NotFound {
                what: "Organisation".into(),
            })?;
        let consent = Consent::stored(&org.impersonation_consent)?;
        let mode = grant_mode(consent, Mode::stored(&row.mode)?)
            .map_err(|e| AppError::invalid("approve", e.to_string()))?;
        let opened = backend::support_access::open(
            &*txn,
            backend::support_access::NewGrant {
                organisation_id: org.id,
                user_id: row.user_id,
                granted_by: me.user_id,
                mode,
                length,
                ticket: row.ticket.clone(),
                note: Some(format!("Approved request #{}", row.id)),
            },
        )
        .await?;
        Some(opened.id)
    } else {
        None
    };
    if !backend::support_access::answer(&*txn, request, me.user_id, approve, why.clone(), grant)
        .await?
    {
        return Err(already());
    }
    g.commit_write(
        txn,
        Resource::SupportRequest(request),
        Details::new()
            .with(Field::Change, if approve { "approved" } else { "declined" })
            .with(Field::User, Resource::User(row.user_id).to_string())
            .with_opt(Field::Why, why)
            .with_opt(
                Field::Until,
                approve.then(|| format!("{} hours", length.hours())),
            ),
    )
    .await
}
