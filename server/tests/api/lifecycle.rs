//! The customer lifecycle (DESIGN.md "Customer lifecycle") over real HTTP on SQLite and
//! PostgreSQL: onboarding an organisation, invitations and their links, password resets,
//! shaping the team tree, the people list, deactivation, suspension, and the admin console's
//! search and paging. Each rule with its denied twin and its audit rows.
//!
//! Mail is read where it lands without an SMTP server: one `.eml` file per message in
//! `<data dir>/outbox/` ([`nth_link`], [`link_in_outbox`]); `mail.rs` drives a real SMTP server.

use crate::support::{
    Backend, Call, DEMO_PASSWORD, NoSession, Session, TestApp, app_error, decode, every_work_order,
    retry_after, session_cookie, view_as_cookie,
};
use app::api::admin::{AdminOrgs, AdminUsers};
use app::api::auth::CurrentUser;
use app::api::impersonation::StartImpersonation;
use app::api::invitations::{
    AcceptInvitation, InviteMember, OpenInvitation, ResendInvitation, RevokeInvitation,
};
use app::api::organisations::{CreateOrganisation, ReactivateOrganisation, SuspendOrganisation};
use app::api::password_reset::{CheckResetLink, RequestPasswordReset, ResetPassword};
use app::api::people::{ChangeRole, DeactivateUser, ListPeople, ReactivateUser};
use app::api::team_tree::{CreateTeam, DeleteTeam, MoveTeam, RenameTeam};
use app::api::teams::{AddMember, GrantPermission, RemoveMember, RevokePermission, TeamMembers};
use app::api::work_orders::GetWorkOrder;
use app::error::{AppError, AuthFailure};
use app::model::{AdminUserPage, PeoplePage};
use backend::entity::{
    audit_event, invitation, mail_outbox, membership, organisation, password_reset, session, team,
    team_permission, user,
};
use domain::authz::Permission;
use domain::people::Role;
use leptos::server_fn::ServerFn;
use reqwest::{StatusCode, header};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use server::config::Tuning;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

on_both_databases!(
    an_operator_creates_an_organisation_with_its_root_team_and_first_manager,
    an_invitation_is_accepted_once_and_signs_the_person_in,
    expired_revoked_and_replaced_invitation_links_are_gone,
    invitations_refuse_taken_addresses_and_bad_passwords,
    inviting_cannot_escalate,
    concurrent_invitations_and_acceptances_make_one_of_each,
    an_invitation_into_a_suspended_organisation_does_not_sign_in,
    a_reset_link_sets_the_password_once_and_ends_every_session,
    reset_requests_are_throttled_with_the_same_answer_for_everyone,
    mailed_links_start_with_the_public_url,
    the_team_tree_is_shaped_within_the_rules,
    moving_a_team_cannot_escalate,
    deleting_a_team_names_what_is_left,
    people_are_listed_searched_and_paged_within_the_callers_reach,
    deactivation_ends_access_at_once_everywhere,
    managing_a_person_needs_every_one_of_their_teams,
    suspension_ends_an_organisations_access_and_reactivation_restores_it,
    the_admin_console_searches_and_pages_users,
);

/// A password that follows the rule (12–128 characters).
const PASSWORD: &str = "a-long-enough-passphrase";
const REASON: &str = "Ticket SUP-77: checking what the customer sees";

/// The mail worker every 50 ms, a failed delivery retried after 100 ms.
pub fn mail_tuning() -> Tuning {
    Tuning {
        mail_every: Duration::from_millis(50),
        mail_retry: Duration::from_millis(100),
        ..Tuning::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Mail

/// A link found in a message: the whole URL and the token after `/invite/` or
/// `/reset-password/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailedLink {
    pub url: String,
    pub token: String,
}

/// A message's header block and body, the body decoded from its transfer encoding
/// (quoted-printable soft breaks and `=XX` escapes undone, base64 decoded).
fn parse_message(raw: &str) -> (String, String) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""));
    let encoding = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-transfer-encoding")
                .then(|| value.trim().to_ascii_lowercase())
        })
        .unwrap_or_default();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("a base64 body");
            String::from_utf8(bytes).expect("a UTF-8 body")
        }
        _ => body.to_owned(),
    };
    (head.to_owned(), body)
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("a UTF-8 body")
}

/// Whether a header block's `To:` names `to` (case-insensitive).
fn addressed_to(head: &str, to: &str) -> bool {
    let to = to.to_ascii_lowercase();
    head.lines().any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("to") && value.to_ascii_lowercase().contains(&to)
        })
    })
}

/// The link in a decoded body.
fn link_in(body: &str) -> Option<MailedLink> {
    let (at, marker) = ["/invite/", "/reset-password/"]
        .iter()
        .find_map(|m| body.find(m).map(|at| (at, *m)))?;
    let start = body[..at].rfind("http")?;
    let rest = &body[at + marker.len()..];
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    Some(MailedLink {
        url: body[start..at + marker.len() + len].to_owned(),
        token: rest[..len].to_owned(),
    })
}

/// The links mailed to `to` in `dir` (the outbox, or a maildir's `new/`), oldest first by file
/// name; files still being written (hidden, temporary) are skipped.
pub fn links_in_dir(dir: &Path, to: &str) -> Vec<MailedLink> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
            !name.starts_with('.') && !name.ends_with(".tmp")
        })
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|raw| {
            let (head, body) = parse_message(&raw);
            addressed_to(&head, to).then(|| link_in(&body)).flatten()
        })
        .collect()
}

fn outbox(app: &TestApp) -> PathBuf {
    app.config().data_dir.join("outbox")
}

/// The `n`-th link (1-based, oldest first) mailed to `to`, waiting up to 10 s for it to reach
/// the outbox.
pub async fn nth_link(app: &TestApp, to: &str, n: usize) -> MailedLink {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let links = links_in_dir(&outbox(app), to);
        if links.len() >= n {
            return links[n - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no mail #{n} to {to} in the outbox after 10 s (found {})",
            links.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token of the newest link mailed to `to` (waiting up to 10 s for a first one).
pub async fn link_in_outbox(app: &TestApp, to: &str) -> String {
    nth_link(app, to, 1).await;
    let links = links_in_dir(&outbox(app), to);
    links.last().expect("a link").token.clone()
}

/// Messages queued for `to` (delivered or not).
async fn queued_for(app: &TestApp, to: &str) -> u64 {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Recipient.eq(to))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// Password reset messages queued for `to` (other mail, such as the notice that support viewed
/// as them, is not counted).
async fn resets_queued_for(app: &TestApp, to: &str) -> u64 {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Recipient.eq(to))
        .filter(mail_outbox::Column::Subject.contains("Reset"))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[test]
fn links_are_read_from_plain_and_quoted_printable_mail() {
    let plain = "From: x@y.test\r\nTo: Nora@Acme.test\r\n\r\nHello,\r\n\r\n\
                 http://127.0.0.1:3000/invite/AbC-_9xyz\r\n\r\nBye\r\n";
    let (head, body) = parse_message(plain);
    assert!(addressed_to(&head, "nora@acme.test"));
    assert!(!addressed_to(&head, "x@y.test"), "From: is not To:");
    let link = link_in(&body).unwrap();
    assert_eq!(
        (link.url.as_str(), link.token.as_str()),
        ("http://127.0.0.1:3000/invite/AbC-_9xyz", "AbC-_9xyz")
    );
    let qp = "To: a@b.test\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
              Go to=3D http://h.test/reset-pass=\r\nword/Tok=\r\nen_1 now\r\n";
    let (_, body) = parse_message(qp);
    let link = link_in(&body).unwrap();
    assert_eq!(
        (link.url.as_str(), link.token.as_str()),
        ("http://h.test/reset-password/Token_1", "Token_1")
    );
    assert!(body.starts_with("Go to= "));
}

// ---------------------------------------------------------------------------------------------
// Rows and calls

async fn audit_rows(app: &TestApp, action: &str, outcome: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::Outcome.eq(outcome))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

/// The permission a denial row is about.
fn denied_permission(row: &audit_event::Model) -> Option<String> {
    backend::audit::Details::from_stored(row.fields.as_deref())
        .and_then(|d| d.get(backend::audit::Field::Permission).map(str::to_owned))
}

async fn org(app: &TestApp, name: &str) -> organisation::Model {
    organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("organisation {name}"))
}

async fn authz_version(app: &TestApp, name: &str) -> i32 {
    org(app, name).await.authz_version
}

async fn team_row(app: &TestApp, id: i32) -> Option<team::Model> {
    team::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
}

async fn user_row(app: &TestApp, email: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.state.db)
        .await
        .unwrap()
}

/// The newest invitation to `email`.
async fn invitation_to(app: &TestApp, email: &str) -> invitation::Model {
    invitation::Entity::find()
        .filter(invitation::Column::Email.eq(email))
        .order_by_desc(invitation::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("an invitation to {email}"))
}

async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    E::find().count(&app.state.db).await.unwrap()
}

fn invite(team: i32, name: &str, email: &str, role: &str) -> InviteMember {
    InviteMember {
        team,
        name: name.into(),
        email: email.into(),
        role: role.into(),
    }
}

fn accept(token: &str, password: &str, confirm: &str) -> AcceptInvitation {
    AcceptInvitation {
        token: token.into(),
        password: password.into(),
        confirm: confirm.into(),
    }
}

fn open(token: &str) -> OpenInvitation {
    OpenInvitation {
        token: token.into(),
    }
}

fn new_org(name: &str, manager_email: &str) -> CreateOrganisation {
    CreateOrganisation {
        name: name.into(),
        manager_name: "Peter Gibbons".into(),
        manager_email: manager_email.into(),
    }
}

fn reset(token: &str, password: &str) -> ResetPassword {
    ResetPassword {
        token: token.into(),
        password: password.into(),
        confirm: password.into(),
    }
}

fn forgot(email: &str) -> RequestPasswordReset {
    RequestPasswordReset {
        email: email.into(),
    }
}

/// The message of a 410 (a dead link).
fn gone(err: AppError) -> String {
    match err {
        AppError::Gone { message } => message,
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

/// The denial inside a 403.
fn denial(err: AppError) -> (String, domain::authz::Denial) {
    match err {
        AppError::Forbidden {
            message,
            denial: Some(d),
        } => (message, d),
        other => panic!("expected a 403 with its denial, got {other:?}"),
    }
}

/// Accepts an invitation without a session; the new session.
async fn accept_and_sign_in(app: &TestApp, token: &str, password: &str) -> Session {
    let res = app
        .call_raw(NoSession, accept(token, password, password))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "accepting the invitation");
    assert_eq!(res.headers()[header::LOCATION], "/");
    session_cookie(&res).expect("accepting signs in")
}

/// An admin's browser viewing the app as `email` (read-only).
async fn view_as(app: &TestApp, admin: &Session, email: &str) -> Session {
    let start = StartImpersonation {
        user: app.user_id(email).await,
        reason: REASON.into(),
        ticket: "SUP-77".into(),
        mode: "view".into(),
        minutes: String::new(),
    };
    let res = app.call_raw(admin, start).await;
    assert_eq!(res.status(), StatusCode::OK, "starting to view as {email}");
    admin.viewing_as(&view_as_cookie(&res).expect("a view-as cookie"))
}

async fn refused_session(app: &TestApp, who: &Session) -> AppError {
    let err = app
        .call(who, CurrentUser {})
        .await
        .expect_err("the session must be over");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED, "{err:?}");
    err
}

async fn sign_in_refusal(app: &TestApp, email: &str, password: &str) -> AppError {
    let res = app.login(email, password).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "sign-in of {email}");
    app_error(res).await
}

/// Makes `n` people directly in the database, in one transaction, members of `team`:
/// `<Name prefix> 001` … with addresses `<mail prefix>001@<domain>`.
async fn add_people(app: &TestApp, team_name: &str, n: usize, name: &str, mail: &str) {
    use backend::directory::{self, NewUser};
    use sea_orm::TransactionTrait;
    let team = team_row(app, app.team_id(team_name).await).await.unwrap();
    let txn = app.state.db.begin().await.unwrap();
    for i in 1..=n {
        let email = domain::people::Email::parse(&mail.replace("{}", &format!("{i:03}"))).unwrap();
        let person = directory::create_user(
            &txn,
            NewUser {
                organisation_id: team.organisation_id,
                email: &email,
                full_name: &format!("{name} {i:03}"),
                role: Role::Technician,
                password_hash: "not-a-password-hash".into(),
            },
        )
        .await
        .unwrap();
        directory::add_member(&txn, team.organisation_id, person.id, team.id)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

fn names(page: &PeoplePage) -> Vec<String> {
    page.rows.iter().map(|r| r.name.clone()).collect()
}

/// Every page of the people list, following `next`.
async fn people_pages(app: &TestApp, who: &Session, q: Option<&str>) -> Vec<PeoplePage> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let list = ListPeople {
            q: q.map(str::to_owned),
            after: after.clone(),
        };
        let page = app.call(who, list).await.expect("a page of people");
        after = page.next.clone();
        pages.push(page);
        if after.is_none() || pages.len() > 10 {
            return pages;
        }
    }
}

async fn people(app: &TestApp, who: &Session, q: &str) -> Vec<String> {
    let pages = people_pages(app, who, Some(q)).await;
    pages.iter().flat_map(names).collect()
}

/// Every page of the admin console's users, following `next`.
async fn admin_pages(app: &TestApp, who: &Session, q: Option<&str>) -> Vec<AdminUserPage> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let list = AdminUsers {
            q: q.map(str::to_owned),
            organisation: None,
            role: None,
            active: None,
            after: after.clone(),
        };
        let page = app.call(who, list).await.expect("a page of users");
        after = page.next.clone();
        pages.push(page);
        if after.is_none() || pages.len() > 10 {
            return pages;
        }
    }
}

/// Checks that the pages hold every row once, in (name) order, 50 to a full page.
fn assert_paged(pages: &[Vec<String>], total: usize) {
    let all: Vec<String> = pages.concat();
    assert_eq!(all.len(), total, "{pages:?}");
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "pages in name order");
    sorted.dedup();
    assert_eq!(sorted.len(), total, "no row on two pages");
    for (i, p) in pages.iter().enumerate() {
        if i + 1 < pages.len() {
            assert_eq!(p.len(), 50, "page {i} is full");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations

async fn an_operator_creates_an_organisation_with_its_root_team_and_first_manager(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let written = || async {
        (
            count::<organisation::Entity>(&app).await,
            count::<team::Entity>(&app).await,
            count::<invitation::Entity>(&app).await,
            count::<mail_outbox::Entity>(&app).await,
        )
    };
    let before = written().await;

    // Support staff lack orgs.manage: refused, audited, nothing written.
    let err = app
        .call(&support, new_org("Initech", "peter@initech.test"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert!(err.to_string().contains("orgs.manage"), "{err}");
    let denied = audit_rows(&app, "orgs/create", "denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        denied[0].actor_user_id,
        Some(app.user_id("support@fleetgate.test").await)
    );
    assert_eq!(
        denied_permission(&denied[0]).as_deref(),
        Some("orgs.manage")
    );
    // A customer's fleet manager is refused as well.
    let err = app
        .call(&olga, new_org("Initech", "peter@initech.test"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(written().await, before);

    // Bad input: 422 naming the field, nothing written (not even half an organisation).
    let cases = [
        (new_org("Acme Logistics", "peter@initech.test"), "name"),
        (new_org("Initech", "not-an-address"), "manager_email"),
        (new_org("Initech", "MARIA@acme.test"), "manager_email"),
        (new_org("  ", "peter@initech.test"), "name"),
    ];
    for (input, field) in cases {
        let what = format!("{input:?}");
        let err = app.call(&admin, input).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(err.field_message(field).is_some(), "{field} in {err:?}");
        assert_eq!(written().await, before, "{what} wrote nothing");
    }
    assert!(audit_rows(&app, "orgs/create", "success").await.is_empty());

    // The admin creates it: organisation, root team, grants, invitation, mail.
    let created = app
        .call(&admin, new_org("Initech", "Peter@Initech.test"))
        .await
        .expect("the admin creates Initech");
    assert_eq!(created.invited, "peter@initech.test");
    let initech = org(&app, "Initech").await;
    assert_eq!(initech.id, created.id);
    assert_eq!(
        (initech.kind.as_str(), initech.suspended_at),
        ("customer", None)
    );
    let teams = team::Entity::find()
        .filter(team::Column::OrganisationId.eq(created.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(teams.len(), 1, "one root team");
    let root = &teams[0];
    assert_eq!((root.name.as_str(), root.parent_id), ("Initech", None));
    let mut granted: Vec<String> = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.eq(root.id))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.permission)
        .collect();
    granted.sort();
    let mut customer: Vec<String> = Permission::ALL
        .iter()
        .filter(|p| !p.operator_only())
        .map(|p| p.key().to_owned())
        .collect();
    customer.sort();
    assert_eq!(granted, customer, "every customer permission, nothing more");

    let inv = invitation_to(&app, "peter@initech.test").await;
    assert_eq!(
        (inv.organisation_id, inv.team_id, inv.role.as_str()),
        (created.id, root.id, "fleet_manager")
    );
    assert_eq!(inv.full_name, "Peter Gibbons");
    assert!(inv.accepted_at.is_none() && inv.revoked_at.is_none());
    let valid = inv.expires_at - chrono::Utc::now();
    assert!(
        valid > chrono::Duration::days(7) - chrono::Duration::minutes(5)
            && valid <= chrono::Duration::days(7),
        "valid 7 days: {valid}"
    );
    let rows = audit_rows(&app, "orgs/create", "success").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].actor_user_id, rows[0].resource.clone()),
        (
            Some(app.user_id("admin@fleetgate.test").await),
            Some(format!("organisation:{}", created.id))
        )
    );

    // The mail: an absolute link to this server, its token stored only as its hash.
    let link = nth_link(&app, "peter@initech.test", 1).await;
    assert_eq!(link.url, format!("{}/invite/{}", app.base, link.token));
    assert_eq!(link.token.len(), 43, "256 bits, URL-safe base64");
    assert_eq!(inv.token_hash, backend::link_token::hash_of(&link.token));
    assert!(!inv.token_hash.contains(&link.token));
    let view = app
        .call(NoSession, open(&link.token))
        .await
        .expect("the link opens");
    assert_eq!(
        (
            view.organisation.as_str(),
            view.team.as_str(),
            view.name.as_str()
        ),
        ("Initech", "Initech", "Peter Gibbons")
    );
    // Delivered: the queued copy forgets the link.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Recipient.eq("peter@initech.test"))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        if row.sent_at.is_some() {
            assert_eq!(row.body, "", "a delivered message's body is erased");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox row is never marked sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The console lists it; the manager accepts and runs the new organisation.
    let orgs = app.call(&admin, AdminOrgs {}).await.expect("the orgs");
    assert_eq!(orgs.manage_locked, None);
    let row = orgs.rows.iter().find(|o| o.id == created.id).unwrap();
    assert_eq!(
        (row.name.as_str(), row.users, row.suspended),
        ("Initech", 0, false)
    );
    let locked = app.call(&support, AdminOrgs {}).await.expect("the orgs");
    assert!(
        locked.manage_locked.is_some(),
        "support sees why it is greyed"
    );

    let peter = accept_and_sign_in(&app, &link.token, PASSWORD).await;
    let me = app.call(&peter, CurrentUser {}).await.expect("Peter");
    assert_eq!(
        (me.organisation.as_str(), me.role, me.full_name.as_str()),
        ("Initech", Role::FleetManager, "Peter Gibbons")
    );
    let list = app
        .call(
            &peter,
            ListPeople {
                q: None,
                after: None,
            },
        )
        .await
        .expect("Peter's people");
    assert_eq!(names(&list), ["Peter Gibbons"]);
    let sub = CreateTeam {
        parent: root.id,
        name: "Initech Austin".into(),
    };
    app.call(&peter, sub).await.expect("Peter shapes his tree");
}

// ---------------------------------------------------------------------------------------------
// Invitations

async fn an_invitation_is_accepted_once_and_signs_the_person_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    app.call(
        &olga,
        invite(boston, "Nora Newman", "nora@acme.test", "technician"),
    )
    .await
    .expect("Olga invites Nora");
    let rows = audit_rows(&app, "invitations/create", "success").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].resource, Some(format!("team:{boston}")));
    let inv = invitation_to(&app, "nora@acme.test").await;
    let page = app
        .call(&olga, TeamMembers { team: boston })
        .await
        .expect("Boston's page");
    assert_eq!(page.invite_locked, None);
    let pending = page
        .invitations
        .iter()
        .find(|i| i.id == inv.id)
        .expect("the invitation is listed on the team page");
    assert_eq!(
        (pending.email.as_str(), pending.role, pending.expired),
        ("nora@acme.test", Role::Technician, false)
    );

    let token = link_in_outbox(&app, "nora@acme.test").await;
    let view = app.call(NoSession, open(&token)).await.expect("opens");
    assert_eq!(
        (
            view.name.as_str(),
            view.email.as_str(),
            view.organisation.as_str(),
            view.team.as_str()
        ),
        (
            "Nora Newman",
            "nora@acme.test",
            "Acme Logistics",
            "Boston Depot"
        )
    );

    // Accepting signs her in: the cookie is a working session.
    let nora = accept_and_sign_in(&app, &token, PASSWORD).await;
    let me = app.call(&nora, CurrentUser {}).await.expect("Nora");
    assert_eq!(
        (
            me.full_name.as_str(),
            me.email.as_str(),
            me.role,
            me.organisation.as_str()
        ),
        (
            "Nora Newman",
            "nora@acme.test",
            Role::Technician,
            "Acme Logistics"
        )
    );
    let row = user_row(&app, "nora@acme.test").await.unwrap();
    assert!(row.active);
    let teams: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::UserId.eq(row.id))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.team_id)
        .collect();
    assert_eq!(teams, [boston], "a member of Boston Depot only");
    // The team's grant is hers at once.
    let orders = app
        .call(&nora, every_work_order())
        .await
        .expect("Boston's work orders");
    assert!(!orders.rows.is_empty());
    assert!(orders.rows.iter().all(|w| w.team == "Boston Depot"));
    let accepted = audit_rows(&app, "invitations/accept", "success").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        (accepted[0].actor_user_id, accepted[0].resource.clone()),
        (Some(row.id), Some(format!("invitation:{}", inv.id)))
    );
    assert!(
        invitation_to(&app, "nora@acme.test")
            .await
            .accepted_at
            .is_some()
    );
    // Her password works for signing in.
    assert_eq!(
        app.login("nora@acme.test", PASSWORD).await.status(),
        StatusCode::OK
    );

    // The link works once.
    let err = app
        .call(NoSession, accept(&token, PASSWORD, PASSWORD))
        .await
        .unwrap_err();
    assert!(gone(err).contains("already been used"));
    let err = app.call(NoSession, open(&token)).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    let err = app
        .call(&nora, accept(&token, PASSWORD, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE, "nor with a session");
    let users = user::Entity::find()
        .filter(user::Column::Email.eq("nora@acme.test"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
    assert_eq!(
        audit_rows(&app, "invitations/accept", "success")
            .await
            .len(),
        1
    );
    let page = app.call(&olga, TeamMembers { team: boston }).await.unwrap();
    assert!(page.invitations.iter().all(|i| i.id != inv.id));
    assert!(page.members.iter().any(|m| m.name == "Nora Newman"));
    // A bogus token is gone too, and says so.
    let err = app.call(NoSession, open("not-a-token")).await.unwrap_err();
    assert!(gone(err).contains("not one we sent"));
}

async fn expired_revoked_and_replaced_invitation_links_are_gone(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;
    let users_before = count::<user::Entity>(&app).await;

    // Expired.
    app.call(
        &olga,
        invite(northeast, "Eve Expired", "eve@acme.test", "technician"),
    )
    .await
    .unwrap();
    let token = link_in_outbox(&app, "eve@acme.test").await;
    let eve = invitation_to(&app, "eve@acme.test").await;
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(invitation::Column::Id.eq(eve.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    let err = app.call(NoSession, open(&token)).await.unwrap_err();
    assert!(gone(err).contains("expired"));
    let err = app
        .call(NoSession, accept(&token, PASSWORD, PASSWORD))
        .await
        .unwrap_err();
    assert!(gone(err).contains("expired"));
    // Listed as expired, and it can be resent: a new link for seven more days.
    let page = app
        .call(&olga, TeamMembers { team: northeast })
        .await
        .unwrap();
    assert!(page.invitations.iter().any(|i| i.id == eve.id && i.expired));
    app.call(&olga, ResendInvitation { invitation: eve.id })
        .await
        .expect("an expired invitation is resent");
    let fresh = nth_link(&app, "eve@acme.test", 2).await;
    assert_ne!(fresh.token, token);
    app.call(NoSession, open(&fresh.token))
        .await
        .expect("the new link opens");
    let err = app.call(NoSession, open(&token)).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);

    // Revoked.
    app.call(
        &olga,
        invite(northeast, "Rick Revoked", "rick@acme.test", "technician"),
    )
    .await
    .unwrap();
    let token = link_in_outbox(&app, "rick@acme.test").await;
    let rick = invitation_to(&app, "rick@acme.test").await;
    app.call(
        &olga,
        RevokeInvitation {
            invitation: rick.id,
        },
    )
    .await
    .expect("Olga revokes it");
    let err = app.call(NoSession, open(&token)).await.unwrap_err();
    assert!(gone(err).contains("withdrawn"));
    let err = app
        .call(NoSession, accept(&token, PASSWORD, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    let revoked = audit_rows(&app, "invitations/revoke", "success").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].resource, Some(format!("invitation:{}", rick.id)));
    // Revoking again changes nothing; a revoked invitation is not resent.
    app.call(
        &olga,
        RevokeInvitation {
            invitation: rick.id,
        },
    )
    .await
    .expect("a second revoke is a no-op");
    assert_eq!(
        audit_rows(&app, "invitations/revoke", "success")
            .await
            .len(),
        1
    );
    let err = app
        .call(
            &olga,
            ResendInvitation {
                invitation: rick.id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    assert_eq!(queued_for(&app, "rick@acme.test").await, 1);

    // Resent: the old link dies, the new one works.
    app.call(
        &olga,
        invite(northeast, "Ray Resent", "ray@acme.test", "fleet_manager"),
    )
    .await
    .unwrap();
    let old = nth_link(&app, "ray@acme.test", 1).await;
    let ray = invitation_to(&app, "ray@acme.test").await;
    app.call(&olga, ResendInvitation { invitation: ray.id })
        .await
        .expect("Olga resends it");
    let new = nth_link(&app, "ray@acme.test", 2).await;
    assert_ne!(old.token, new.token);
    let err = app.call(NoSession, open(&old.token)).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    let err = app
        .call(NoSession, accept(&old.token, PASSWORD, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    assert_eq!(
        count::<user::Entity>(&app).await,
        users_before,
        "no account yet"
    );
    let resent = audit_rows(&app, "invitations/resend", "success").await;
    assert_eq!(resent.len(), 2, "Eve's and Ray's");
    let ray_session = accept_and_sign_in(&app, &new.token, PASSWORD).await;
    let me = app.call(&ray_session, CurrentUser {}).await.unwrap();
    assert_eq!(
        (me.full_name.as_str(), me.role),
        ("Ray Resent", Role::FleetManager)
    );
    // Only Ray has an account now.
    assert_eq!(count::<user::Entity>(&app).await, users_before + 1);
}

async fn invitations_refuse_taken_addresses_and_bad_passwords(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let boston = app.team_id("Boston Depot").await;

    // Addresses are unique on the platform, whatever their case.
    for (email, why) in [
        ("TINA@Acme.Test", "account"),
        ("Gary@GLOBEX.test", "account"),
        ("olga@acme.test", "account"),
    ] {
        let err = app
            .call(&olga, invite(boston, "Someone", email, "technician"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert!(
            err.field_message("email").is_some_and(|m| m.contains(why)),
            "{email}: {err:?}"
        );
    }
    app.call(
        &olga,
        invite(boston, "Pat Pending", "pat@acme.test", "technician"),
    )
    .await
    .expect("Olga invites Pat");
    let err = app
        .call(
            &olga,
            invite(boston, "Pat Again", "PAT@ACME.TEST", "fleet_manager"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err.field_message("email")
            .is_some_and(|m| m.contains("pending invitation")),
        "{err:?}"
    );
    // Nor into another team.
    let northeast = app.team_id("Northeast Region").await;
    let err = app
        .call(
            &olga,
            invite(northeast, "Pat", "pat@acme.test", "technician"),
        )
        .await
        .unwrap_err();
    assert!(err.field_message("email").is_some());
    // Other fields are named too.
    let err = app
        .call(&olga, invite(boston, " ", "not-an-address", "admin"))
        .await
        .unwrap_err();
    for field in ["name", "email", "role"] {
        assert!(err.field_message(field).is_some(), "{field}: {err:?}");
    }
    assert_eq!(count::<invitation::Entity>(&app).await, 1);
    assert_eq!(
        audit_rows(&app, "invitations/create", "success")
            .await
            .len(),
        1
    );

    // The password rule, each on its field; the link survives every refusal.
    let token = link_in_outbox(&app, "pat@acme.test").await;
    let long = "x".repeat(129);
    let cases = [
        ("a".repeat(11), "a".repeat(11), "password"),
        (long.clone(), long, "password"),
        (PASSWORD.to_owned(), format!("{PASSWORD}!"), "confirm"),
    ];
    for (password, confirm, field) in cases {
        let err = app
            .call(NoSession, accept(&token, &password, &confirm))
            .await
            .unwrap_err();
        assert_eq!(
            err.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{} chars",
            password.len()
        );
        assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        app.call(NoSession, open(&token))
            .await
            .expect("the link still works");
    }
    assert!(user_row(&app, "pat@acme.test").await.is_none());
    // The longest allowed password (128 characters) is accepted and signs in later.
    let longest = "p".repeat(128);
    let pat = accept_and_sign_in(&app, &token, &longest).await;
    app.call(&pat, CurrentUser {}).await.expect("Pat");
    assert_eq!(
        app.login("pat@acme.test", &longest).await.status(),
        StatusCode::OK
    );
}

/// Olga (root) moves `org.settings` from Northeast Region down to Boston Depot: Maria still
/// holds `users.invite` on Boston, but no longer everything Boston grants.
async fn boston_grants_what_maria_lacks(app: &TestApp) {
    let olga = app.sign_in("olga@acme.test").await;
    let revoke = RevokePermission {
        team: app.team_id("Northeast Region").await,
        permission: "org.settings".into(),
    };
    app.call(&olga, revoke).await.expect("permissions/revoke");
    let grant = GrantPermission {
        team: app.team_id("Boston Depot").await,
        permission: "org.settings".into(),
    };
    app.call(&olga, grant).await.expect("permissions/grant");
}

async fn inviting_cannot_escalate(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    boston_grants_what_maria_lacks(&app).await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let (boston, northeast) = (
        app.team_id("Boston Depot").await,
        app.team_id("Northeast Region").await,
    );

    // The team page already says why Invite is off.
    let page = app
        .call(&maria, TeamMembers { team: boston })
        .await
        .unwrap();
    let Some(domain::authz::GrantRefusal::Escalation(d)) = &page.invite_locked else {
        panic!(
            "Invite must be locked as an escalation: {:?}",
            page.invite_locked
        )
    };
    assert_eq!(d.permission, Permission::OrgSettings);

    // Sent anyway: 403 with the explanation, nothing written, a denial on the audit log.
    let err = app
        .call(&maria, invite(boston, "Ivy", "ivy@acme.test", "technician"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let (message, d) = denial(err);
    assert_eq!(
        (d.permission, d.scope.id),
        (Permission::OrgSettings, boston)
    );
    for part in ["org.settings", "Boston Depot", "no escalation"] {
        assert!(message.contains(part), "{part} in: {message}");
    }
    assert_eq!(count::<invitation::Entity>(&app).await, 0);
    assert_eq!(count::<mail_outbox::Entity>(&app).await, 0);
    let denied = audit_rows(&app, "invitations/create", "denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        (denied[0].actor_user_id, denied[0].resource.clone()),
        (
            Some(app.user_id("maria@acme.test").await),
            Some(format!("team:{boston}"))
        )
    );
    assert_eq!(
        denied_permission(&denied[0]).as_deref(),
        Some("org.settings")
    );

    // Tina may not invite at all.
    let err = app
        .call(&tina, invite(boston, "Ivy", "ivy@acme.test", "technician"))
        .await
        .unwrap_err();
    let (_, d) = denial(err);
    assert_eq!(d.permission, Permission::UsersInvite);
    // Gary does not even see Boston.
    let err = app
        .call(&gary, invite(boston, "Ivy", "ivy@acme.test", "technician"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    assert_eq!(count::<invitation::Entity>(&app).await, 0);
    assert_eq!(
        audit_rows(&app, "invitations/create", "denied").await.len(),
        2
    );

    // The twin: Northeast grants only what Maria holds, so she may invite there.
    let page = app
        .call(&maria, TeamMembers { team: northeast })
        .await
        .unwrap();
    assert_eq!(page.invite_locked, None);
    app.call(
        &maria,
        invite(northeast, "Ivy", "ivy@acme.test", "technician"),
    )
    .await
    .expect("Maria invites into Northeast");
    let inv = invitation_to(&app, "ivy@acme.test").await;
    assert_eq!(inv.team_id, northeast);
    assert_eq!(
        audit_rows(&app, "invitations/create", "success")
            .await
            .len(),
        1
    );
    link_in_outbox(&app, "ivy@acme.test").await;
}

async fn concurrent_invitations_and_acceptances_make_one_of_each(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let boston = app.team_id("Boston Depot").await;

    // The same invitation sent six times at once: one invitation, one mail.
    let same = invite(boston, "Cody Concurrent", "cody@acme.test", "technician");
    let answers = app.call_all_at_once(&olga, vec![same; 6]).await;
    let made = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(made, 1, "{answers:?}");
    for err in answers.into_iter().filter_map(Result::err) {
        assert!(err.field_message("email").is_some(), "{err:?}");
    }
    let invitations = invitation::Entity::find()
        .filter(invitation::Column::Email.eq("cody@acme.test"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(invitations, 1);
    assert_eq!(queued_for(&app, "cody@acme.test").await, 1);

    // The link accepted four times at once: one account, one session, the rest 410.
    let token = link_in_outbox(&app, "cody@acme.test").await;
    let call = Call::of(&accept(&token, PASSWORD, PASSWORD));
    let sent: Vec<_> = (0..4)
        .map(|_| tokio::spawn(app.request(NoSession, &call).send()))
        .collect();
    let mut statuses = Vec::new();
    for s in sent {
        let res = s.await.expect("task").expect("request");
        let status = res.status();
        let cookie = session_cookie(&res);
        if status == StatusCode::OK {
            let cody = cookie.expect("the winner is signed in");
            app.call(&cody, CurrentUser {}).await.expect("Cody");
        } else {
            assert_eq!(
                decode::<()>(res).await.unwrap_err().status(),
                StatusCode::GONE
            );
        }
        statuses.push(status.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 410, 410, 410]);
    let accounts = user::Entity::find()
        .filter(user::Column::Email.eq("cody@acme.test"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(accounts, 1);
    let cody = user_row(&app, "cody@acme.test").await.unwrap();
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(cody.id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(memberships, 1);
    assert_eq!(
        audit_rows(&app, "invitations/accept", "success")
            .await
            .len(),
        1
    );
}

/// DESIGN.md: a suspended organisation's sign-in "is refused with a clear message"; accepting
/// an invitation signs in, so it is refused the same way, and the person gets in once the
/// organisation is reactivated.
async fn an_invitation_into_a_suspended_organisation_does_not_sign_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let boston = app.team_id("Boston Depot").await;
    app.call(&olga, invite(boston, "Sue", "sue@acme.test", "technician"))
        .await
        .unwrap();
    let token = link_in_outbox(&app, "sue@acme.test").await;
    let acme = org(&app, "Acme Logistics").await.id;
    app.call(&admin, SuspendOrganisation { organisation: acme })
        .await
        .unwrap();

    let res = app
        .call_raw(NoSession, accept(&token, PASSWORD, PASSWORD))
        .await;
    let status = res.status();
    let cookie = session_cookie(&res);
    let answer = decode::<()>(res).await;
    assert_eq!(
        (status, cookie.is_some(), answer),
        (
            StatusCode::UNAUTHORIZED,
            false,
            Err(AppError::Unauthenticated {
                reason: AuthFailure::Suspended
            })
        ),
        "accepting into a suspended organisation must be refused with the reason"
    );

    // Reactivated, Sue gets in: with the link if it was kept, else with her password.
    app.call(&admin, ReactivateOrganisation { organisation: acme })
        .await
        .unwrap();
    let res = app
        .call_raw(NoSession, accept(&token, PASSWORD, PASSWORD))
        .await;
    if res.status() != StatusCode::OK {
        assert_eq!(
            app.login("sue@acme.test", PASSWORD).await.status(),
            StatusCode::OK
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Password reset

async fn a_reset_link_sets_the_password_once_and_ends_every_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let tina = app.sign_in("tina@acme.test").await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let viewing = view_as(&app, &admin, "tina@acme.test").await;
    app.call(&viewing, CurrentUser {})
        .await
        .expect("viewing as Tina");
    let tina_id = app.user_id("tina@acme.test").await;

    // The same answer whether or not the address has an account.
    let known = app.call_raw(NoSession, forgot("Tina@Acme.test")).await;
    let unknown = app.call_raw(NoSession, forgot("nobody@acme.test")).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(
        known.headers().get(header::LOCATION),
        unknown.headers().get(header::LOCATION)
    );
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    let first = nth_link(&app, "tina@acme.test", 1).await;
    assert_eq!(
        first.url,
        format!("{}/reset-password/{}", app.base, first.token)
    );
    assert_eq!(queued_for(&app, "nobody@acme.test").await, 0);
    let asked = audit_rows(&app, "password/forgot", "success").await;
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].subject_user_id, Some(tina_id));
    let stored = password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(tina_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.token_hash,
        backend::link_token::hash_of(&first.token)
    );
    let valid = stored.expires_at - chrono::Utc::now();
    assert!(
        valid > chrono::Duration::minutes(25) && valid <= chrono::Duration::minutes(30),
        "valid 30 minutes: {valid}"
    );

    // Asking again replaces the link.
    app.call(NoSession, forgot("tina@acme.test")).await.unwrap();
    let link = nth_link(&app, "tina@acme.test", 2).await;
    assert_ne!(link.token, first.token);
    let err = app
        .call(
            NoSession,
            CheckResetLink {
                token: first.token.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    app.call(
        NoSession,
        CheckResetLink {
            token: link.token.clone(),
        },
    )
    .await
    .expect("the newest link works");

    // A bad password is refused on its field and leaves the link working.
    let err = app
        .call(NoSession, reset(&link.token, "short"))
        .await
        .unwrap_err();
    assert!(err.field_message("password").is_some(), "{err:?}");
    let mismatch = ResetPassword {
        token: link.token.clone(),
        password: PASSWORD.into(),
        confirm: "something-else-entirely".into(),
    };
    let err = app.call(NoSession, mismatch).await.unwrap_err();
    assert!(err.field_message("confirm").is_some(), "{err:?}");
    app.call(
        NoSession,
        CheckResetLink {
            token: link.token.clone(),
        },
    )
    .await
    .expect("still works");
    // Nothing happened to Tina yet.
    app.call(&tina, CurrentUser {})
        .await
        .expect("Tina's session");

    let res = app.call_raw(NoSession, reset(&link.token, PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/login?reset=done");

    // Every session of hers ended, and the impersonation of her; the admin's own goes on.
    refused_session(&app, &tina).await;
    assert_eq!(
        refused_session(&app, &viewing).await,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    app.call(&admin, CurrentUser {})
        .await
        .expect("the admin's own session");
    let live = session::Entity::find()
        .filter(session::Column::UserId.eq(tina_id))
        .filter(session::Column::RevokedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(live, 0, "no live session of Tina's, own or viewed");

    // The old password fails, the new one works.
    assert_eq!(
        sign_in_refusal(&app, "tina@acme.test", DEMO_PASSWORD).await,
        AppError::Unauthenticated {
            reason: AuthFailure::BadCredentials
        }
    );
    assert_eq!(
        app.login("tina@acme.test", PASSWORD).await.status(),
        StatusCode::OK
    );
    let rows = audit_rows(&app, "password/reset", "success").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].subject_user_id, rows[0].resource.clone()),
        (Some(tina_id), Some(format!("user:{tina_id}")))
    );

    // The link works once.
    let err = app
        .call(NoSession, reset(&link.token, "yet-another-passphrase"))
        .await
        .unwrap_err();
    assert!(gone(err).contains("already been used"));
    let err = app
        .call(
            NoSession,
            CheckResetLink {
                token: link.token.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GONE);
    assert_eq!(
        app.login("tina@acme.test", "yet-another-passphrase")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // An expired link is gone too.
    app.call(NoSession, forgot("dan@acme.test")).await.unwrap();
    let dan_link = nth_link(&app, "dan@acme.test", 1).await;
    password_reset::Entity::update_many()
        .col_expr(
            password_reset::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(password_reset::Column::UserId.eq(app.user_id("dan@acme.test").await))
        .exec(&app.state.db)
        .await
        .unwrap();
    let err = app
        .call(NoSession, reset(&dan_link.token, PASSWORD))
        .await
        .unwrap_err();
    assert!(gone(err).contains("expired"));
    assert_eq!(
        app.login("dan@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn reset_requests_are_throttled_with_the_same_answer_for_everyone(backend: Backend) {
    let mut tuning = mail_tuning();
    tuning.throttle_account.slow_after = 2;
    tuning.throttle_account.lock_after = 3;
    tuning.throttle_account.slow_delay = Duration::from_millis(10);
    let app = TestApp::spawn_with(backend, tuning).await;
    for email in ["tina@acme.test", "nobody@acme.test"] {
        for i in 0..3 {
            let res = app.call_raw(NoSession, forgot(email)).await;
            assert_eq!(res.status(), StatusCode::OK, "{email} request {i}");
        }
        let res = app.call_raw(NoSession, forgot(email)).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        let retry = retry_after(&res);
        assert!(retry > 0 && retry <= 15 * 60, "{retry}");
        assert!(matches!(app_error(res).await, AppError::Throttled { .. }));
    }
    // Only the admitted requests mailed anything; sign-in has its own counter.
    nth_link(&app, "tina@acme.test", 3).await;
    assert_eq!(queued_for(&app, "tina@acme.test").await, 3);
    assert_eq!(queued_for(&app, "nobody@acme.test").await, 0);
    assert_eq!(
        app.login("tina@acme.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Another account is not throttled.
    assert_eq!(
        app.call_raw(NoSession, forgot("dan@acme.test"))
            .await
            .status(),
        StatusCode::OK
    );
}

/// Behind a proxy, links are built from `FLEETGATE_PUBLIC_URL`, not the listening address.
async fn mailed_links_start_with_the_public_url(backend: Backend) {
    const PUBLIC: &str = "https://fleet.example.com";
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let mut config = app.config().clone();
    config.demo = false;
    config.public_url = Some(format!("{PUBLIC}/"));
    let proxied = app.sibling_with_config(&config).await;
    // A request as the proxy forwards it: the public host and origin.
    let res = proxied
        .client
        .post(proxied.url(RequestPasswordReset::PATH))
        .header(header::HOST, "fleet.example.com")
        .header(header::ORIGIN, PUBLIC)
        .form(&[("email", "dan@acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let link = nth_link(&app, "dan@acme.test", 1).await;
    assert_eq!(
        link.url,
        format!("{PUBLIC}/reset-password/{}", link.token),
        "absolute, from the public URL"
    );
    app.call(NoSession, CheckResetLink { token: link.token })
        .await
        .expect("the link works on every instance");
}

// ---------------------------------------------------------------------------------------------
// Team tree

async fn the_team_tree_is_shaped_within_the_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let acme = app.team_id("Acme Logistics").await;
    let northeast = app.team_id("Northeast Region").await;
    let boston = app.team_id("Boston Depot").await;
    let west = app.team_id("West Region").await;
    let version = || authz_version(&app, "Acme Logistics");
    let audited = |action: &'static str| {
        let app = &app;
        async move { audit_rows(app, action, "success").await }
    };

    // Create: under Northeast, with no grants.
    let v0 = version().await;
    let create = CreateTeam {
        parent: northeast,
        name: "Cambridge Depot".into(),
    };
    let cambridge = app.call(&olga, create).await.expect("Olga creates a team");
    let row = team_row(&app, cambridge).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.parent_id),
        ("Cambridge Depot", Some(northeast))
    );
    let grants = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.eq(cambridge))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(grants, 0, "a new team has no grants");
    let v1 = version().await;
    assert!(v1 > v0, "creating bumps the authz version");
    let rows = audited("teams/create").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].resource, Some(format!("team:{cambridge}")));

    // Rename.
    let rename = RenameTeam {
        team: cambridge,
        name: "Cambridge Yard".into(),
    };
    app.call(&olga, rename).await.expect("Olga renames it");
    assert_eq!(
        team_row(&app, cambridge).await.unwrap().name,
        "Cambridge Yard"
    );
    let v2 = version().await;
    assert!(v2 > v1, "renaming bumps the authz version");
    assert_eq!(audited("teams/rename").await.len(), 1);
    let blank = RenameTeam {
        team: cambridge,
        name: "   ".into(),
    };
    let err = app.call(&olga, blank).await.unwrap_err();
    assert!(err.field_message("name").is_some(), "{err:?}");

    // Move under West.
    let to_west = MoveTeam {
        team: cambridge,
        parent: west,
    };
    app.call(&olga, to_west).await.expect("Olga moves it");
    assert_eq!(
        team_row(&app, cambridge).await.unwrap().parent_id,
        Some(west)
    );
    let v3 = version().await;
    assert!(v3 > v2, "moving bumps the authz version");
    let moved = audited("teams/move").await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].resource, Some(format!("team:{cambridge}")));

    // Moves the tree cannot take: 422 on `parent`, nothing changed.
    let impossible = [
        (northeast, boston, "under its own sub-team"),
        (northeast, northeast, "under itself"),
        (acme, west, "the root"),
    ];
    for (team, parent, what) in impossible {
        let err = app
            .call(&olga, MoveTeam { team, parent })
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(err.field_message("parent").is_some(), "{what}: {err:?}");
    }
    assert_eq!(
        team_row(&app, northeast).await.unwrap().parent_id,
        Some(acme)
    );
    assert_eq!(team_row(&app, acme).await.unwrap().parent_id, None);
    assert_eq!(version().await, v3, "refusals change nothing");

    // Maria lacks teams.manage on West: she cannot move Boston there.
    let err = app
        .call(
            &maria,
            MoveTeam {
                team: boston,
                parent: west,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let (_, d) = denial(err);
    assert_eq!((d.permission, d.scope.id), (Permission::TeamsManage, west));
    assert_eq!(
        team_row(&app, boston).await.unwrap().parent_id,
        Some(northeast)
    );
    let maria_id = app.user_id("maria@acme.test").await;
    let denied: Vec<_> = audit_rows(&app, "teams/move", "denied")
        .await
        .into_iter()
        .filter(|r| r.actor_user_id == Some(maria_id))
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(
        denied_permission(&denied[0]).as_deref(),
        Some("teams.manage")
    );
    // Nor rename her own team (teams.manage on its parent, the root), nor create under West.
    let err = app
        .call(
            &maria,
            RenameTeam {
                team: northeast,
                name: "Maria's Region".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(
            &maria,
            CreateTeam {
                parent: west,
                name: "Maria's West".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    // Tina manages no team.
    let err = app
        .call(
            &tina,
            CreateTeam {
                parent: boston,
                name: "Tina's bay".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(version().await, v3, "denials change nothing");
    assert_eq!(audited("teams/create").await.len(), 1);
    assert_eq!(
        team_row(&app, northeast).await.unwrap().name,
        "Northeast Region"
    );

    // The twin: inside her subtree Maria shapes the tree.
    let bay = CreateTeam {
        parent: boston,
        name: "Boston Bay 2".into(),
    };
    let bay = app
        .call(&maria, bay)
        .await
        .expect("Maria creates under Boston");
    app.call(
        &maria,
        RenameTeam {
            team: bay,
            name: "Boston Bay Two".into(),
        },
    )
    .await
    .expect("Maria renames it");
    assert!(version().await > v3);
    assert_eq!(audited("teams/create").await.len(), 2);
}

/// Moving a team under a new parent gives the new ancestors' members that parent's grant on
/// the moved subtree: refused when the mover lacks part of it there.
async fn moving_a_team_cannot_escalate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    boston_grants_what_maria_lacks(&app).await;
    let maria = app.sign_in("maria@acme.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let (northeast, boston) = (
        app.team_id("Northeast Region").await,
        app.team_id("Boston Depot").await,
    );
    let quincy = CreateTeam {
        parent: northeast,
        name: "Quincy Depot".into(),
    };
    let quincy = app.call(&maria, quincy).await.expect("Maria creates it");
    let v = authz_version(&app, "Acme Logistics").await;

    // Under Boston, whose grant holds org.settings, which Maria lacks: refused.
    let err = app
        .call(
            &maria,
            MoveTeam {
                team: quincy,
                parent: boston,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let (message, d) = denial(err);
    assert_eq!(
        (d.permission, d.scope.id),
        (Permission::OrgSettings, quincy)
    );
    assert!(message.contains("no escalation"), "{message}");
    assert_eq!(
        team_row(&app, quincy).await.unwrap().parent_id,
        Some(northeast)
    );
    assert_eq!(authz_version(&app, "Acme Logistics").await, v);
    let denied = audit_rows(&app, "teams/move", "denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        denied_permission(&denied[0]).as_deref(),
        Some("org.settings")
    );

    // The twins: Olga holds it there; and once Boston no longer grants it, Maria may.
    app.call(
        &olga,
        MoveTeam {
            team: quincy,
            parent: boston,
        },
    )
    .await
    .expect("Olga moves it");
    let lynn = CreateTeam {
        parent: northeast,
        name: "Lynn Depot".into(),
    };
    let lynn = app.call(&maria, lynn).await.unwrap();
    let revoke = RevokePermission {
        team: boston,
        permission: "org.settings".into(),
    };
    app.call(&olga, revoke).await.unwrap();
    app.call(
        &maria,
        MoveTeam {
            team: lynn,
            parent: boston,
        },
    )
    .await
    .expect("Maria moves it now");
    assert_eq!(team_row(&app, lynn).await.unwrap().parent_id, Some(boston));
    assert_eq!(audit_rows(&app, "teams/move", "success").await.len(), 2);
}

async fn deleting_a_team_names_what_is_left(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;
    let boston = app.team_id("Boston Depot").await;
    let west = app.team_id("West Region").await;
    let denver = app.team_id("Denver Depot").await;
    let acme = app.team_id("Acme Logistics").await;
    let v0 = authz_version(&app, "Acme Logistics").await;

    let conflict = |team| {
        let (app, olga) = (&app, &olga);
        async move {
            match app.call(olga, DeleteTeam { team }).await.unwrap_err() {
                AppError::Conflict { message } => message,
                other => panic!("expected 409, got {other:?}"),
            }
        }
    };
    let m = conflict(boston).await;
    for part in ["Boston Depot", "1 member", "3 vehicles", "work order"] {
        assert!(m.contains(part), "{part} in: {m}");
    }
    assert!(!m.contains("sub-team"), "{m}");
    let m = conflict(northeast).await;
    for part in ["Northeast Region", "1 sub-team", "1 member"] {
        assert!(m.contains(part), "{part} in: {m}");
    }
    let m = conflict(west).await;
    assert!(m.contains("1 sub-team"), "{m}");
    assert!(!m.contains("member") && !m.contains("vehicle"), "{m}");

    // A team whose only content is a pending invitation.
    let empty = CreateTeam {
        parent: west,
        name: "Pueblo Depot".into(),
    };
    let pueblo = app.call(&olga, empty).await.unwrap();
    app.call(&olga, invite(pueblo, "Pia", "pia@acme.test", "technician"))
        .await
        .unwrap();
    let m = conflict(pueblo).await;
    assert!(m.contains("1 pending invitation"), "{m}");
    let v1 = authz_version(&app, "Acme Logistics").await;
    assert!(team_row(&app, pueblo).await.is_some());

    // Nobody deletes the root; Maria cannot delete outside her reach.
    let err = app
        .call(&olga, DeleteTeam { team: acme })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(&maria, DeleteTeam { team: pueblo })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(&maria, DeleteTeam { team: denver })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(authz_version(&app, "Acme Logistics").await, v1);
    assert!(audit_rows(&app, "teams/delete", "success").await.is_empty());
    assert_eq!(audit_rows(&app, "teams/delete", "denied").await.len(), 3);

    // Emptied, it goes.
    let pia = invitation_to(&app, "pia@acme.test").await;
    app.call(&olga, RevokeInvitation { invitation: pia.id })
        .await
        .unwrap();
    app.call(&olga, DeleteTeam { team: pueblo })
        .await
        .expect("an empty team is deleted");
    assert!(team_row(&app, pueblo).await.is_none());
    assert!(authz_version(&app, "Acme Logistics").await > v1);
    assert!(v1 > v0);
    let deleted = audit_rows(&app, "teams/delete", "success").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].resource, Some(format!("team:{pueblo}")));
    // The 409s deleted nothing.
    for team in [boston, northeast, west] {
        assert!(team_row(&app, team).await.is_some());
    }
    // Gone is gone: a second delete does not find it.
    let err = app
        .call(&olga, DeleteTeam { team: pueblo })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// People

async fn people_are_listed_searched_and_paged_within_the_callers_reach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;

    let all = app
        .call(
            &olga,
            ListPeople {
                q: None,
                after: None,
            },
        )
        .await
        .expect("Olga's people");
    assert_eq!(
        names(&all),
        ["Dan Brooks", "Maria Santos", "Olga Petrova", "Tina Nguyen"],
        "Acme's people, by name, nobody of Globex"
    );
    assert_eq!(all.next, None);
    let tina_row = all.rows.iter().find(|r| r.name == "Tina Nguyen").unwrap();
    assert_eq!(
        (
            tina_row.email.as_str(),
            tina_row.role,
            tina_row.active,
            tina_row
                .teams
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
        ),
        (
            "tina@acme.test",
            Role::Technician,
            true,
            vec!["Boston Depot"]
        )
    );
    assert!(tina_row.last_sign_in.is_some(), "she signed in above");
    assert_eq!(tina_row.deactivate, Ok(()));
    let own = all.rows.iter().find(|r| r.name == "Olga Petrova").unwrap();
    assert_eq!(own.deactivate, Err(domain::authz::PersonRefusal::Yourself));

    // Search: part of a name or of an e-mail, any case; wildcards are literal.
    assert_eq!(people(&app, &olga, "NGUY").await, ["Tina Nguyen"]);
    assert_eq!(people(&app, &olga, "Dan@ACME").await, ["Dan Brooks"]);
    assert_eq!(people(&app, &olga, " petrova ").await, ["Olga Petrova"]);
    assert_eq!(
        people(&app, &olga, "acme.test").await.len(),
        4,
        "by e-mail domain"
    );
    assert!(people(&app, &olga, "%").await.is_empty());
    assert!(people(&app, &olga, "_").await.is_empty());
    assert!(people(&app, &olga, "gary").await.is_empty(), "Globex's");

    // Maria sees her subtree's people only.
    assert_eq!(
        people(&app, &maria, "").await,
        ["Maria Santos", "Tina Nguyen"]
    );
    assert!(people(&app, &maria, "dan").await.is_empty());
    let maria_page = app
        .call(
            &maria,
            ListPeople {
                q: None,
                after: None,
            },
        )
        .await
        .unwrap();
    let tina_row = maria_page
        .rows
        .iter()
        .find(|r| r.name == "Tina Nguyen")
        .unwrap();
    assert_eq!(tina_row.deactivate, Ok(()));
    // Tina sees nobody's list.
    let err = app
        .call(
            &tina,
            ListPeople {
                q: None,
                after: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);

    // Paging: 55 more people in Boston.
    add_people(&app, "Boston Depot", 55, "Bulk Person", "bulk{}@acme.test").await;
    let pages: Vec<Vec<String>> = people_pages(&app, &olga, None)
        .await
        .iter()
        .map(names)
        .collect();
    assert_eq!(pages.len(), 2);
    assert_paged(&pages, 59);
    let pages: Vec<Vec<String>> = people_pages(&app, &maria, None)
        .await
        .iter()
        .map(names)
        .collect();
    assert_eq!(pages.len(), 2);
    assert_paged(&pages, 57);
    assert!(!pages.concat().contains(&"Dan Brooks".to_owned()));
    // A search pages too.
    let pages: Vec<Vec<String>> = people_pages(&app, &olga, Some("BULK"))
        .await
        .iter()
        .map(names)
        .collect();
    assert_eq!(pages.len(), 2);
    assert_paged(&pages, 55);
    assert_eq!(pages[1].len(), 5);
    assert_eq!(
        people(&app, &olga, "person 05").await,
        (50..=55)
            .map(|i| format!("Bulk Person {i:03}"))
            .collect::<Vec<_>>()
    );
    // A broken cursor is refused, not a 500.
    let broken = ListPeople {
        q: None,
        after: Some("not-a-cursor".into()),
    };
    let err = app.call(&olga, broken).await.unwrap_err();
    assert!(err.status() < 500, "{err:?}");
}

async fn deactivation_ends_access_at_once_everywhere(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let sibling = app.sibling().await;
    let maria = app.sign_in("maria@acme.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let viewing = view_as(&app, &admin, "tina@acme.test").await;
    let (tina_id, dan_id, maria_id, olga_id) = (
        app.user_id("tina@acme.test").await,
        app.user_id("dan@acme.test").await,
        app.user_id("maria@acme.test").await,
        app.user_id("olga@acme.test").await,
    );
    app.call(&tina, CurrentUser {}).await.expect("Tina, here");
    sibling
        .call(&tina, CurrentUser {})
        .await
        .expect("Tina, on the sibling");
    app.call(&viewing, CurrentUser {}).await.expect("viewing");

    // Nobody deactivates themselves; Maria cannot reach Dan (Denver); Tina reaches nobody.
    for (who, session, target) in [
        ("Maria herself", &maria, maria_id),
        ("Olga herself", &olga, olga_id),
    ] {
        let err = app
            .call(session, DeactivateUser { user: target })
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::FORBIDDEN, "{who}");
        assert!(err.to_string().contains("your own account"), "{who}: {err}");
    }
    let err = app
        .call(&maria, DeactivateUser { user: dan_id })
        .await
        .unwrap_err();
    let (_, d) = denial(err);
    assert_eq!(d.permission, Permission::UsersDeactivate);
    assert_eq!(d.scope.id, app.team_id("Denver Depot").await);
    let err = app
        .call(&tina, DeactivateUser { user: dan_id })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let gary = app.sign_in("gary@globex.test").await;
    let err = app
        .call(&gary, DeactivateUser { user: tina_id })
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        StatusCode::NOT_FOUND,
        "another organisation's"
    );
    for id in [maria_id, olga_id, dan_id, tina_id] {
        assert!(
            user::Entity::find_by_id(id)
                .one(&app.state.db)
                .await
                .unwrap()
                .unwrap()
                .active
        );
    }
    assert_eq!(
        audit_rows(&app, "people/deactivate", "denied").await.len(),
        4
    );
    assert!(
        audit_rows(&app, "people/deactivate", "success")
            .await
            .is_empty()
    );

    // Maria deactivates Tina: her sessions end at once, on every instance, and the view as her.
    app.call(&maria, DeactivateUser { user: tina_id })
        .await
        .expect("Maria deactivates Tina");
    refused_session(&app, &tina).await;
    refused_session(&sibling, &tina).await;
    assert_eq!(
        refused_session(&app, &viewing).await,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    app.call(&admin, CurrentUser {})
        .await
        .expect("the admin's own session");
    // She cannot sign in, and is told why — only with the right password.
    let refusal = sign_in_refusal(&app, "tina@acme.test", DEMO_PASSWORD).await;
    assert_eq!(
        refusal,
        AppError::Unauthenticated {
            reason: AuthFailure::Deactivated
        }
    );
    assert!(refusal.to_string().contains("deactivated"), "{refusal}");
    assert_eq!(
        sign_in_refusal(&app, "tina@acme.test", "a-wrong-password").await,
        AppError::Unauthenticated {
            reason: AuthFailure::BadCredentials
        }
    );
    // No reset link reaches a deactivated account either.
    app.call(NoSession, forgot("tina@acme.test")).await.unwrap();
    assert_eq!(resets_queued_for(&app, "tina@acme.test").await, 0);
    let rows = audit_rows(&app, "people/deactivate", "success").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].actor_user_id, rows[0].resource.clone()),
        (Some(maria_id), Some(format!("user:{tina_id}")))
    );
    let listed = app
        .call(
            &olga,
            ListPeople {
                q: Some("tina".into()),
                after: None,
            },
        )
        .await
        .unwrap();
    assert!(!listed.rows[0].active, "listed as deactivated");
    // Deactivating again is a no-op.
    app.call(&maria, DeactivateUser { user: tina_id })
        .await
        .unwrap();
    assert_eq!(
        audit_rows(&app, "people/deactivate", "success").await.len(),
        1
    );

    // Reactivated, she signs in again; the old sessions stay dead.
    app.call(&maria, ReactivateUser { user: tina_id })
        .await
        .expect("Maria reactivates Tina");
    assert_eq!(
        audit_rows(&app, "people/reactivate", "success").await.len(),
        1
    );
    let again = app.sign_in("tina@acme.test").await;
    app.call(&again, CurrentUser {})
        .await
        .expect("Tina is back");
    refused_session(&app, &tina).await;
    refused_session(&app, &viewing).await;
}

async fn managing_a_person_needs_every_one_of_their_teams(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let (tina_id, dan_id, maria_id) = (
        app.user_id("tina@acme.test").await,
        app.user_id("dan@acme.test").await,
        app.user_id("maria@acme.test").await,
    );
    let denver = app.team_id("Denver Depot").await;
    let role = |user, role: &str| ChangeRole {
        user,
        role: role.into(),
    };

    // Tina in Boston *and* Denver: out of Maria's reach.
    app.call(
        &olga,
        AddMember {
            team: denver,
            user: tina_id,
        },
    )
    .await
    .unwrap();
    let err = app
        .call(&maria, DeactivateUser { user: tina_id })
        .await
        .unwrap_err();
    let (_, d) = denial(err);
    assert_eq!(
        (d.permission, d.scope.id),
        (Permission::UsersDeactivate, denver)
    );
    let err = app
        .call(&maria, role(tina_id, "fleet_manager"))
        .await
        .unwrap_err();
    let (_, d) = denial(err);
    assert_eq!(
        (d.permission, d.scope.id),
        (Permission::MembersManage, denver)
    );
    app.call(&tina, CurrentUser {})
        .await
        .expect("Tina is untouched");
    assert_eq!(audit_rows(&app, "people/role", "denied").await.len(), 1);

    // Back in Boston only, she is Maria's to manage.
    app.call(
        &olga,
        RemoveMember {
            team: denver,
            user: tina_id,
        },
    )
    .await
    .unwrap();
    app.call(&maria, role(tina_id, "fleet_manager"))
        .await
        .expect("Maria changes Tina's role");
    let row = user_row(&app, "tina@acme.test").await.unwrap();
    assert_eq!(row.role, "fleet_manager");
    let changed = audit_rows(&app, "people/role", "success").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].resource, Some(format!("user:{tina_id}")));
    // A role is a label: it gives Tina nothing she could not do before.
    let brakes = app.work_order_id("Replace front brake pads").await;
    let w = app.call(&tina, GetWorkOrder { id: brakes }).await.unwrap();
    assert!(
        !w.actions
            .get(Permission::WorkOrdersComplete)
            .unwrap()
            .is_allowed()
    );
    // Nobody changes their own role; operator roles are not given here; Dan is not hers.
    let err = app
        .call(&maria, role(maria_id, "technician"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app.call(&maria, role(tina_id, "admin")).await.unwrap_err();
    assert!(err.field_message("role").is_some(), "{err:?}");
    let err = app
        .call(&maria, role(dan_id, "fleet_manager"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        user_row(&app, "dan@acme.test").await.unwrap().role,
        "technician"
    );

    // Someone in no team is managed from the root team.
    let loner = {
        use backend::directory::{self, NewUser};
        let email = domain::people::Email::parse("lone@acme.test").unwrap();
        let acme = org(&app, "Acme Logistics").await.id;
        let new = NewUser {
            organisation_id: acme,
            email: &email,
            full_name: "Lone Wolf",
            role: Role::Technician,
            password_hash: "not-a-password-hash".into(),
        };
        directory::create_user(&app.state.db, new).await.unwrap().id
    };
    let err = app
        .call(&maria, DeactivateUser { user: loner })
        .await
        .unwrap_err();
    let (_, d) = denial(err);
    assert_eq!(d.scope.name, "Acme Logistics");
    app.call(&olga, DeactivateUser { user: loner })
        .await
        .expect("Olga manages from the root");
    assert!(!user_row(&app, "lone@acme.test").await.unwrap().active);
}

// ---------------------------------------------------------------------------------------------
// Suspension

async fn suspension_ends_an_organisations_access_and_reactivation_restores_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, mail_tuning()).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let viewing = view_as(&app, &admin, "tina@acme.test").await;
    let acme = org(&app, "Acme Logistics").await.id;
    let operator = org(&app, "Fleetgate").await.id;
    let vehicles = count::<backend::entity::vehicle::Entity>(&app).await;

    // Refused: support (no orgs.manage), and anyone suspending the operator itself.
    let err = app
        .call(&support, SuspendOrganisation { organisation: acme })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(&olga, SuspendOrganisation { organisation: acme })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(
            &admin,
            SuspendOrganisation {
                organisation: operator,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = app
        .call(
            &admin,
            SuspendOrganisation {
                organisation: 999_999,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    assert_eq!(audit_rows(&app, "orgs/suspend", "denied").await.len(), 3);
    assert!(org(&app, "Acme Logistics").await.suspended_at.is_none());
    assert!(org(&app, "Fleetgate").await.suspended_at.is_none());
    app.call(&olga, CurrentUser {}).await.expect("Olga, still");

    // Suspended: every session of its people ends at once, the view as one of them too.
    app.call(&admin, SuspendOrganisation { organisation: acme })
        .await
        .expect("the admin suspends Acme");
    assert!(org(&app, "Acme Logistics").await.suspended_at.is_some());
    refused_session(&app, &olga).await;
    refused_session(&app, &tina).await;
    assert_eq!(
        refused_session(&app, &viewing).await,
        AppError::Unauthenticated {
            reason: AuthFailure::ImpersonationEnded
        }
    );
    app.call(&admin, CurrentUser {}).await.expect("the admin");
    app.call(&gary, CurrentUser {})
        .await
        .expect("Globex is untouched");
    let refusal = sign_in_refusal(&app, "olga@acme.test", DEMO_PASSWORD).await;
    assert_eq!(
        refusal,
        AppError::Unauthenticated {
            reason: AuthFailure::Suspended
        }
    );
    assert!(refusal.to_string().contains("suspended"), "{refusal}");
    // Nobody views as its people meanwhile; the console says why.
    let start = StartImpersonation {
        user: app.user_id("tina@acme.test").await,
        reason: REASON.into(),
        ticket: String::new(),
        mode: "view".into(),
        minutes: String::new(),
    };
    let res = app.call_raw(&admin, start).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(view_as_cookie(&res).is_none());
    let listed = AdminUsers {
        q: Some("tina@acme".into()),
        organisation: None,
        role: None,
        active: None,
        after: None,
    };
    let listed = app.call(&admin, listed).await.unwrap();
    assert!(listed.rows[0].view_as.is_err(), "{:?}", listed.rows[0]);
    // No way around it by mail: no reset link is sent.
    app.call(NoSession, forgot("olga@acme.test")).await.unwrap();
    assert_eq!(queued_for(&app, "olga@acme.test").await, 0);
    let orgs = app.call(&admin, AdminOrgs {}).await.unwrap();
    assert!(orgs.rows.iter().any(|o| o.id == acme && o.suspended));
    let rows = audit_rows(&app, "orgs/suspend", "success").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].resource, Some(format!("organisation:{acme}")));
    // Suspending again is a no-op.
    app.call(&admin, SuspendOrganisation { organisation: acme })
        .await
        .unwrap();
    assert_eq!(audit_rows(&app, "orgs/suspend", "success").await.len(), 1);
    // Support cannot lift it either.
    let err = app
        .call(&support, ReactivateOrganisation { organisation: acme })
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);

    // Reactivated: sign-in works again, the data stayed.
    app.call(&admin, ReactivateOrganisation { organisation: acme })
        .await
        .expect("the admin reactivates Acme");
    assert!(org(&app, "Acme Logistics").await.suspended_at.is_none());
    assert_eq!(
        audit_rows(&app, "orgs/reactivate", "success").await.len(),
        1
    );
    let olga = app.sign_in("olga@acme.test").await;
    app.call(&olga, CurrentUser {}).await.expect("Olga is back");
    assert_eq!(
        count::<backend::entity::vehicle::Entity>(&app).await,
        vehicles
    );
    let orgs = app.call(&admin, AdminOrgs {}).await.unwrap();
    assert!(orgs.rows.iter().any(|o| o.id == acme && !o.suspended));
}

// ---------------------------------------------------------------------------------------------
// Admin console

async fn the_admin_console_searches_and_pages_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let search = |q: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let pages = admin_pages(app, admin, Some(q)).await;
            pages
                .iter()
                .flat_map(|p| p.rows.iter().map(|r| r.name.clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("SANTOS").await, ["Maria Santos"]);
    assert_eq!(search("GLOBEX.test").await, ["Gary Mills"]);
    assert_eq!(
        search("acme.TEST").await,
        ["Dan Brooks", "Maria Santos", "Olga Petrova", "Tina Nguyen"]
    );
    assert_eq!(search("  nguyen ").await, ["Tina Nguyen"]);
    assert!(search("%").await.is_empty());

    add_people(
        &app,
        "Chicago Yard",
        55,
        "Bulk Person",
        "bulk{}@globex.test",
    )
    .await;
    let names_of = |pages: Vec<AdminUserPage>| -> Vec<Vec<String>> {
        pages
            .iter()
            .map(|p| p.rows.iter().map(|r| r.name.clone()).collect())
            .collect()
    };
    let pages = names_of(admin_pages(&app, &admin, None).await);
    assert_eq!(pages.len(), 2);
    assert_paged(&pages, 62);
    let pages = names_of(admin_pages(&app, &admin, Some("bulk person")).await);
    assert_eq!(pages.len(), 2);
    assert_paged(&pages, 55);
    assert_eq!(pages[1].len(), 5);
    // By e-mail, paged the same way.
    let pages = names_of(admin_pages(&app, &admin, Some("@GLOBEX.test")).await);
    assert_paged(&pages, 56);
}
