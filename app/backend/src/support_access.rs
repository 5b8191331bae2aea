//! Support access the customer controls, in the database: grants, protections and the notices
//! of impersonations that ended. The rules are `domain::support_access` and
//! `domain::impersonation::eligibility`; this module reads the facts they need and writes the
//! rows a decision leaves. Each write runs inside its caller's transaction, beside its audit row.

use crate::entity::{
    membership, protection, session, support_grant, support_notice, support_request, team,
};
use chrono::{DateTime, Utc};
use domain::authz::TeamTree;
use domain::impersonation::Mode;
use domain::support_access::{GrantLength, protected_by_team, strongest};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use std::collections::{HashMap, HashSet};

/// What support access says about one person right now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cover {
    /// They, or a team they belong to (or one above it), are protected.
    pub protected: bool,
    /// The strongest live grant's mode.
    pub grant: Option<Mode>,
    /// When the last of their live grants ends.
    pub until: Option<DateTime<Utc>>,
}

/// The grants of `users` that are neither revoked nor expired, newest first.
pub async fn live_grants(
    db: &impl ConnectionTrait,
    users: &[i32],
) -> Result<Vec<support_grant::Model>, DbErr> {
    let now = Utc::now();
    // Compared here rather than in SQL: SQLite keeps times as text. Live grants are few.
    Ok(support_grant::Entity::find()
        .filter(support_grant::Column::UserId.is_in(users.iter().copied()))
        .filter(support_grant::Column::RevokedAt.is_null())
        .order_by_desc(support_grant::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|g| g.expires_at > now)
        .collect())
}

/// The cover of each of `users`, all of organisation `org`: one query for grants, one for
/// protections, and, only when a team is protected, the tree and the memberships.
pub async fn covers(
    db: &impl ConnectionTrait,
    org: i32,
    users: &[i32],
) -> Result<HashMap<i32, Cover>, DbErr> {
    let mut out: HashMap<i32, Cover> = users.iter().map(|u| (*u, Cover::default())).collect();
    for g in live_grants(db, users).await? {
        let Some(c) = out.get_mut(&g.user_id) else {
            continue;
        };
        let Some(mode) = Mode::from_key(&g.mode) else {
            // An unknown mode opens nothing: deny by default.
            tracing::warn!(
                grant = g.id,
                "ignoring a support grant with an unknown mode"
            );
            continue;
        };
        c.grant = strongest(c.grant.into_iter().chain([mode]));
        c.until = c.until.max(Some(g.expires_at));
    }
    let protections = protection::Entity::find()
        .filter(protection::Column::OrganisationId.eq(org))
        .all(db)
        .await?;
    let teams: Vec<i32> = protections.iter().filter_map(|p| p.team_id).collect();
    for p in &protections {
        if let Some(c) = p.user_id.and_then(|u| out.get_mut(&u)) {
            c.protected = true;
        }
    }
    if teams.is_empty() {
        return Ok(out);
    }
    let tree = tree_of(db, org).await?;
    let mut memberships: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in membership::Entity::find()
        .filter(membership::Column::UserId.is_in(users.iter().copied()))
        .all(db)
        .await?
    {
        memberships.entry(m.user_id).or_default().push(m.team_id);
    }
    // Someone in no team stands in the root team (as the people rules have it), so protecting
    // the root protects them too.
    let root = [tree.root()];
    for (u, c) in out.iter_mut() {
        let of = memberships.get(u).map_or(&root[..], Vec::as_slice);
        c.protected |= protected_by_team(&tree, of, &teams);
    }
    Ok(out)
}

/// One person's cover.
pub async fn cover(db: &impl ConnectionTrait, org: i32, user: i32) -> Result<Cover, DbErr> {
    Ok(covers(db, org, &[user])
        .await?
        .remove(&user)
        .unwrap_or_default())
}

async fn tree_of(db: &impl ConnectionTrait, org: i32) -> Result<TeamTree, DbErr> {
    let teams = team::Entity::find()
        .filter(team::Column::OrganisationId.eq(org))
        .all(db)
        .await?;
    TeamTree::new(teams.into_iter().map(|t| (t.id, t.parent_id, t.name)))
        .map_err(|e| DbErr::Custom(format!("team tree of organisation {org}: {e}")))
}

/// A grant to open.
#[derive(Clone, Debug)]
pub struct NewGrant {
    pub organisation_id: i32,
    pub user_id: i32,
    pub granted_by: i32,
    pub mode: Mode,
    pub length: GrantLength,
    pub ticket: Option<String>,
    pub note: Option<String>,
}

pub async fn open(db: &impl ConnectionTrait, g: NewGrant) -> Result<support_grant::Model, DbErr> {
    let now = Utc::now();
    support_grant::ActiveModel {
        organisation_id: Set(g.organisation_id),
        user_id: Set(g.user_id),
        granted_by: Set(Some(g.granted_by)),
        mode: Set(g.mode.key().to_owned()),
        ticket: Set(g.ticket),
        note: Set(g.note),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(g.length.hours())),
        revoked_at: Set(None),
        revoked_by: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Revokes grant `id` if it is still open; whether this call revoked it.
pub async fn revoke(db: &impl ConnectionTrait, id: i32, by: i32) -> Result<bool, DbErr> {
    Ok(support_grant::Entity::update_many()
        .col_expr(support_grant::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(support_grant::Column::RevokedBy, Expr::value(by))
        .filter(support_grant::Column::Id.eq(id))
        .filter(support_grant::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// What can be protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protectable {
    User(i32),
    Team(i32),
}

/// The people and teams organisation `org` protects.
pub async fn protections(
    db: &impl ConnectionTrait,
    org: i32,
) -> Result<(HashSet<i32>, HashSet<i32>), DbErr> {
    let rows = protection::Entity::find()
        .filter(protection::Column::OrganisationId.eq(org))
        .all(db)
        .await?;
    Ok((
        rows.iter().filter_map(|p| p.user_id).collect(),
        rows.iter().filter_map(|p| p.team_id).collect(),
    ))
}

/// Protects or unprotects `what`; whether anything changed.
pub async fn set_protection(
    db: &impl ConnectionTrait,
    org: i32,
    what: Protectable,
    protect: bool,
    by: i32,
) -> Result<bool, DbErr> {
    let (user_id, team_id) = match what {
        Protectable::User(u) => (Some(u), None),
        Protectable::Team(t) => (None, Some(t)),
    };
    let existing = protection::Entity::find()
        .filter(protection::Column::OrganisationId.eq(org))
        .filter(match what {
            Protectable::User(u) => protection::Column::UserId.eq(u),
            Protectable::Team(t) => protection::Column::TeamId.eq(t),
        })
        .one(db)
        .await?;
    match (existing, protect) {
        (None, true) => {
            protection::ActiveModel {
                organisation_id: Set(org),
                user_id: Set(user_id),
                team_id: Set(team_id),
                created_by: Set(Some(by)),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(true)
        }
        (Some(row), false) => {
            protection::Entity::delete_by_id(row.id).exec(db).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// An impersonation of someone, as they are told of it.
#[derive(Clone, Debug)]
pub struct Viewing {
    pub id: String,
    pub actor_name: String,
    pub mode: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub started_at: DateTime<Utc>,
    /// When it ended (revoked, or its time ran out); `None` while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
}

/// Every impersonation of `user`, newest first.
pub async fn viewings_of(db: &impl ConnectionTrait, user: i32) -> Result<Vec<Viewing>, DbErr> {
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(user))
        .filter(session::Column::ActorUserId.is_not_null())
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?;
    viewings(db, rows).await
}

async fn viewings(
    db: &impl ConnectionTrait,
    rows: Vec<session::Model>,
) -> Result<Vec<Viewing>, DbErr> {
    let actors: HashSet<i32> = rows.iter().filter_map(|r| r.actor_user_id).collect();
    let names = crate::repo::users::names_anywhere(db, actors).await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|r| Viewing {
            actor_name: r
                .actor_user_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_else(|| "A former operator user".into()),
            mode: r.mode.unwrap_or_default(),
            reason: r.reason.unwrap_or_default(),
            ticket: r.ticket,
            started_at: r.created_at,
            ended_at: r
                .revoked_at
                .or((r.expires_at <= now).then_some(r.expires_at)),
            id: r.id,
        })
        .collect())
}

/// Records the notice of impersonation `session_id` of `user`, once.
pub async fn notify(db: &impl ConnectionTrait, session_id: &str, user: i32) -> Result<(), DbErr> {
    support_notice::ActiveModel {
        session_id: Set(session_id.to_owned()),
        user_id: Set(user),
        created_at: Set(Utc::now()),
        dismissed_at: Set(None),
    }
    .insert(db)
    .await
    .map(drop)
}

/// The notices `user` has not dismissed, newest first.
pub async fn notices_of(db: &impl ConnectionTrait, user: i32) -> Result<Vec<Viewing>, DbErr> {
    let ids: Vec<String> = support_notice::Entity::find()
        .filter(support_notice::Column::UserId.eq(user))
        .filter(support_notice::Column::DismissedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|n| n.session_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = session::Entity::find()
        .filter(session::Column::Id.is_in(ids))
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?;
    viewings(db, rows).await
}

/// Dismisses `user`'s notice of impersonation `session_id`; whether it was theirs and shown.
pub async fn dismiss(
    db: &impl ConnectionTrait,
    user: i32,
    session_id: &str,
) -> Result<bool, DbErr> {
    Ok(support_notice::Entity::update_many()
        .col_expr(support_notice::Column::DismissedAt, Expr::value(Utc::now()))
        .filter(support_notice::Column::SessionId.eq(session_id))
        .filter(support_notice::Column::UserId.eq(user))
        .filter(support_notice::Column::DismissedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Operator staff asking for support access to a person.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub organisation_id: i32,
    pub user_id: i32,
    pub requested_by: i32,
    pub reason: String,
    pub ticket: Option<String>,
    pub mode: Mode,
}

pub async fn ask(
    db: &impl ConnectionTrait,
    r: NewRequest,
) -> Result<support_request::Model, DbErr> {
    support_request::ActiveModel {
        organisation_id: Set(r.organisation_id),
        user_id: Set(r.user_id),
        requested_by: Set(Some(r.requested_by)),
        reason: Set(r.reason),
        ticket: Set(r.ticket),
        mode: Set(r.mode.key().to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Records the answer to request `id` if it has none yet (a conditional update, so two people
/// answering at once make one answer); whether this call answered it.
pub async fn answer(
    db: &impl ConnectionTrait,
    id: i32,
    by: i32,
    approved: bool,
    why: Option<String>,
    grant: Option<i32>,
) -> Result<bool, DbErr> {
    Ok(support_request::Entity::update_many()
        .col_expr(support_request::Column::AnsweredAt, Expr::value(Utc::now()))
        .col_expr(support_request::Column::AnsweredBy, Expr::value(by))
        .col_expr(support_request::Column::Approved, Expr::value(approved))
        .col_expr(support_request::Column::Answer, Expr::value(why))
        .col_expr(support_request::Column::GrantId, Expr::value(grant))
        .filter(support_request::Column::Id.eq(id))
        .filter(support_request::Column::AnsweredAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// The people who answer for organisation `org`'s support access besides the person asked
/// about: the members of its root team when the root grants `org.settings` (the only team
/// where `org.settings` holds over the whole organisation).
pub async fn settings_holders(db: &impl ConnectionTrait, org: i32) -> Result<Vec<i32>, DbErr> {
    let policy = crate::access::load_policy(db, org).await?;
    let root = policy.tree.root();
    let access = domain::authz::UserAccess::new(std::sync::Arc::new(policy), vec![root]);
    if !access
        .check(domain::authz::Permission::OrgSettings, root)
        .is_allowed()
    {
        return Ok(Vec::new());
    }
    Ok(membership::Entity::find()
        .filter(membership::Column::TeamId.eq(root))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}
