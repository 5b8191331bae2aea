//! Sessions: a revocable row per sign-in. A request is authenticated only when its token is valid
//! *and* its session row is live (`authentication`).

use crate::entity::{organisation, session, support_notice, user};
use crate::principal::Principal;
use crate::token::{Claims, new_session_id, now_seconds};
use chrono::Utc;
use domain::error::AuthFailure;
use domain::people::{OrgKind, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};
use std::time::Duration;

/// Opens a session for `user_id`.
pub async fn start(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    ttl: Duration,
    client_addr: Option<String>,
) -> Result<session::Model, DbErr> {
    let now = now_seconds();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(8));
    session::ActiveModel {
        id: Set(new_session_id()),
        user_id: Set(user_id),
        actor_user_id: Set(None),
        parent_session_id: Set(None),
        reason: Set(None),
        ticket: Set(None),
        mode: Set(None),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        client_addr: Set(client_addr),
    }
    .insert(db)
    .await
}

/// What authenticating a request reads, in one round trip: the session row named by the
/// token, its user and the user's organisation (kept by `session_cache` while nothing of it can
/// have changed).
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct SessionRow {
    session_id: String,
    user_id: i32,
    actor_user_id: Option<i32>,
    expires_at: chrono::DateTime<Utc>,
    revoked_at: Option<chrono::DateTime<Utc>>,
    active: bool,
    role: String,
    full_name: String,
    email: String,
    organisation_id: i32,
    org_name: String,
    org_kind: String,
    authz_version: i32,
    suspended_at: Option<chrono::DateTime<Utc>>,
    pending_notices: bool,
}

impl SessionRow {
    /// The session this row is of.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

/// Reads the row of session `session_id` with its user and organisation (one query); `None`
/// when there is no such session.
pub async fn read_row(
    db: &DatabaseConnection,
    session_id: &str,
) -> Result<Option<SessionRow>, DbErr> {
    use sea_orm::FromQueryResult;
    let backend = db.get_database_backend();
    let stmt =
        sea_orm::Statement::from_sql_and_values(backend, row_sql(backend), [session_id.into()]);
    SessionRow::find_by_statement(stmt).one(db).await
}

/// The statement [`read_row`] runs, with the session's id as its one parameter: built once per
/// backend: it is every request's statement.
pub(crate) fn row_sql(backend: sea_orm::DbBackend) -> &'static str {
    use std::sync::OnceLock;
    static SQL: [OnceLock<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match backend {
        sea_orm::DbBackend::Postgres => 0,
        sea_orm::DbBackend::Sqlite => 1,
        _ => 2,
    };
    SQL[slot].get_or_init(|| backend.build(&row_query()).sql)
}

/// The session named by the statement's one parameter, with its user and organisation.
fn row_query() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let col = |t: &dyn sea_orm::sea_query::Iden, c: &'static str| {
        Expr::col((Alias::new(t.to_string()), Alias::new(c)))
    };
    let (s, u, o, n) = (
        session::Entity,
        user::Entity,
        organisation::Entity,
        support_notice::Entity,
    );
    let pending_notices = Query::select()
        // A literal, not a bound value: the statement's one parameter is the session's id.
        .expr(Expr::cust("1"))
        .from(n)
        .and_where(col(&n, "user_id").equals((s, session::Column::UserId)))
        .and_where(col(&n, "dismissed_at").is_null())
        .to_owned();
    Query::select()
        .expr_as(col(&s, "id"), Alias::new("session_id"))
        .expr_as(col(&s, "user_id"), Alias::new("user_id"))
        .expr_as(col(&s, "actor_user_id"), Alias::new("actor_user_id"))
        .expr_as(col(&s, "expires_at"), Alias::new("expires_at"))
        .expr_as(col(&s, "revoked_at"), Alias::new("revoked_at"))
        .expr_as(col(&u, "active"), Alias::new("active"))
        .expr_as(col(&u, "role"), Alias::new("role"))
        .expr_as(col(&u, "full_name"), Alias::new("full_name"))
        .expr_as(col(&u, "email"), Alias::new("email"))
        .expr_as(col(&u, "organisation_id"), Alias::new("organisation_id"))
        .expr_as(col(&o, "name"), Alias::new("org_name"))
        .expr_as(col(&o, "kind"), Alias::new("org_kind"))
        .expr_as(col(&o, "authz_version"), Alias::new("authz_version"))
        .expr_as(col(&o, "suspended_at"), Alias::new("suspended_at"))
        .expr_as(Expr::exists(pending_notices), Alias::new("pending_notices"))
        .from(s)
        .inner_join(u, col(&u, "id").equals((s, session::Column::UserId)))
        .inner_join(o, col(&o, "id").equals((u, user::Column::OrganisationId)))
        // The one parameter; the id given here only makes it one.
        .and_where(col(&s, "id").eq(""))
        .to_owned()
}

/// The principal of verified claims naming someone's **own** session (never an impersonation
/// row), judged on the session's row as read now (`now` is when the request is served): the
/// session must be live and match the claims, the user active, their organisation not
/// suspended. Pure: the same judgement whether the row was just read or kept in the cache.
pub fn judge(
    r: &SessionRow,
    claims: &Claims,
    now: chrono::DateTime<Utc>,
) -> Result<Principal, AuthFailure> {
    // A view-as session is never accepted as someone's own, and the claims must be the row's.
    if r.session_id != claims.sid
        || r.actor_user_id.is_some()
        || claims.act.is_some()
        || r.user_id.to_string() != claims.sub
    {
        return Err(AuthFailure::Invalid);
    }
    if r.revoked_at.is_some() {
        return Err(AuthFailure::Revoked);
    }
    if r.expires_at <= now {
        return Err(AuthFailure::Expired);
    }
    if !r.active {
        return Err(AuthFailure::Deactivated);
    }
    let Some(role) = Role::from_key(&r.role) else {
        return Err(AuthFailure::Invalid);
    };
    if r.suspended_at.is_some() {
        return Err(AuthFailure::Suspended);
    }
    Ok(Principal {
        session_id: r.session_id.clone(),
        user_id: r.user_id,
        organisation_id: r.organisation_id,
        operator: r.org_kind == OrgKind::Operator.key(),
        authz_version: r.authz_version,
        organisation: r.org_name.clone(),
        role,
        full_name: r.full_name.clone(),
        email: r.email.clone(),
        impersonation: None,
        pending_support_notices: r.pending_notices,
    })
}

/// The principal of a live session row's user.
pub async fn principal_of(
    db: &DatabaseConnection,
    row: &session::Model,
) -> Result<Result<Principal, AuthFailure>, DbErr> {
    let Some(u) = user::Entity::find_by_id(row.user_id).one(db).await? else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if !u.active {
        return Ok(Err(AuthFailure::Deactivated));
    }
    let Some(role) = Role::from_key(&u.role) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    let Some(org) = organisation::Entity::find_by_id(u.organisation_id)
        .one(db)
        .await?
    else {
        return Ok(Err(AuthFailure::Invalid));
    };
    if org.suspended_at.is_some() {
        return Ok(Err(AuthFailure::Suspended));
    }
    Ok(Ok(Principal {
        session_id: row.id.clone(),
        user_id: u.id,
        organisation_id: u.organisation_id,
        operator: org.kind == OrgKind::Operator.key(),
        authz_version: org.authz_version,
        organisation: org.name,
        role,
        full_name: u.full_name,
        email: u.email,
        impersonation: None,
        // The subject of an impersonation: their notices are theirs alone, never shown to
        // the operator viewing as them.
        pending_support_notices: false,
    }))
}

/// Ends a session at once (sign-out), and every impersonation started from it, each with its
/// end record, all in one transaction.
pub async fn revoke(db: &DatabaseConnection, session_id: &str) -> Result<(), DbErr> {
    use crate::impersonation::ending::Ending;
    let txn = crate::audit::begin(db).await?;
    revoke_in(&txn, session_id, &Ending::SignOut).await?;
    txn.commit().await
}

/// Revokes one session inside `txn`, and ends every impersonation started from it with its
/// record (`ending` says why: a sign-out, a password change …).
pub async fn revoke_in(
    txn: &crate::audit::AuditedTxn,
    session_id: &str,
    ending: &crate::impersonation::ending::Ending,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    crate::impersonation::ending::end_started_from(txn, session_id, ending).await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&**txn)
        .await?;
    Ok(())
}

/// The user's other live sessions of their own (not `except`, not impersonations).
pub async fn others_of(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
    except: &str,
) -> Result<Vec<session::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ActorUserId.is_null())
        .filter(session::Column::Id.ne(except))
        .filter(session::Column::RevokedAt.is_null())
        .all(db)
        .await
}

#[cfg(test)]
mod row_sql_tests {
    use sea_orm::DbBackend;

    #[test]
    fn the_sessions_statement_has_one_parameter_its_id() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let built = backend.build(&super::row_query());
            assert_eq!(built.values.map(|v| v.0.len()), Some(1), "{}", built.sql);
            assert_eq!(super::row_sql(backend), built.sql);
        }
    }
}
