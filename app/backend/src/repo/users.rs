//! People, as lists and pickers show them.

use crate::entity::{membership, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A user of the organisation; another organisation's is not found.
pub async fn load(
    db: &impl ConnectionTrait,
    org: i32,
    id: i32,
) -> Result<user::Model, super::RepoError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| u.organisation_id == org)
        .ok_or(super::RepoError::NotFound("User"))
}

/// The account with this e-mail address, in any organisation (signing in: e-mail is unique on
/// the platform).
pub async fn by_email(
    db: &impl ConnectionTrait,
    email: &domain::people::Email,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

/// Why `user` may not sign in even with the right password: deactivated, or their
/// organisation suspended.
pub async fn barred(
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> Result<Option<domain::error::AuthFailure>, DbErr> {
    use crate::entity::organisation;
    use domain::error::AuthFailure;
    if !user.active {
        return Ok(Some(AuthFailure::Deactivated));
    }
    let suspended = organisation::Entity::find_by_id(user.organisation_id)
        .one(db)
        .await?
        .is_none_or(|o| o.suspended_at.is_some());
    Ok(suspended.then_some(AuthFailure::Suspended))
}

/// Whether `user` belongs to the operator's organisation.
pub async fn is_operator(db: &impl ConnectionTrait, user: &user::Model) -> Result<bool, DbErr> {
    use crate::entity::organisation;
    Ok(organisation::Entity::find_by_id(user.organisation_id)
        .one(db)
        .await?
        .is_some_and(|o| o.kind == domain::people::OrgKind::Operator.key()))
}

/// Records a sign-in (shown as "last sign-in" on the people page).
pub async fn signed_in(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::LastSignInAt, Expr::value(chrono::Utc::now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// Replaces a user's password hash (inside the caller's transaction).
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: i32,
    hash: String,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The organisation's users, by name, and which of them are direct members of `team`.
pub async fn with_membership_of(
    db: &impl ConnectionTrait,
    org: i32,
    team: i32,
) -> Result<(Vec<user::Model>, Vec<user::Model>), DbErr> {
    let member_ids: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::TeamId.eq(team))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let people = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .order_by_asc(user::Column::FullName)
        .all(db)
        .await?;
    Ok(people.into_iter().partition(|u| member_ids.contains(&u.id)))
}

/// The names of the organisation's users among `ids`.
pub async fn names(
    db: &impl ConnectionTrait,
    org: i32,
    ids: Vec<i32>,
) -> Result<HashMap<i32, String>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect())
}

/// The members of `teams`, by name; `None` when they are more than `max` (the query stops
/// counting there).
pub async fn members_of(
    db: &impl ConnectionTrait,
    org: i32,
    teams: &[i32],
    max: u64,
) -> Result<Option<Vec<user::Model>>, DbErr> {
    let ids: Vec<i32> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .distinct()
        .filter(membership::Column::TeamId.is_in(teams.to_vec()))
        .limit(max + 1)
        .into_tuple()
        .all(db)
        .await?;
    if ids.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::OrganisationId.eq(org))
            .order_by_asc(user::Column::FullName)
            .all(db)
            .await?,
    ))
}

/// The active members of `teams`, by name.
pub async fn active_members_of(
    db: &impl ConnectionTrait,
    org: i32,
    teams: Vec<i32>,
) -> Result<Vec<user::Model>, DbErr> {
    let members: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::TeamId.is_in(teams))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let mut people = user::Entity::find()
        .filter(user::Column::Id.is_in(members))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::OrganisationId.eq(org))
        .all(db)
        .await?;
    people.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    Ok(people)
}

/// `%needle%` for a LIKE, the needle lower-cased with its wildcards escaped (`\`).
pub fn contains_pattern(needle: &str) -> String {
    let mut p = String::from("%");
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Narrows `query` to people whose name or e-mail contains `q` (case-insensitive; e-mail is
/// stored lower-case), when `q` is not blank.
pub fn matching(query: sea_orm::Select<user::Entity>, q: &str) -> sea_orm::Select<user::Entity> {
    use sea_orm::sea_query::{Cond, Expr, ExprTrait, Func, LikeExpr};
    if q.trim().is_empty() {
        return query;
    }
    let pattern = contains_pattern(q);
    let like = || LikeExpr::new(pattern.clone()).escape('\\');
    query.filter(
        Cond::any()
            .add(Expr::expr(Func::lower(Expr::col(user::Column::FullName))).like(like()))
            .add(Expr::col(user::Column::Email).like(like())),
    )
}

/// Starts `query` after the row (`name`, `id`) in (full name, id) order.
pub fn after_name(
    query: sea_orm::Select<user::Entity>,
    after: Option<(String, i32)>,
) -> sea_orm::Select<user::Entity> {
    use sea_orm::sea_query::Cond;
    let query = query
        .order_by_asc(user::Column::FullName)
        .order_by_asc(user::Column::Id);
    match after {
        None => query,
        Some((name, id)) => query.filter(
            Cond::any()
                .add(user::Column::FullName.gt(name.clone()))
                .add(
                    Cond::all()
                        .add(user::Column::FullName.eq(name))
                        .add(user::Column::Id.gt(id)),
                ),
        ),
    }
}

/// A page of the organisation's people in (name, id) order, each with the teams they are a
/// direct member of: those matching `q`, after `after`, and — when `within` is given — only
/// members of those teams. At most `limit` rows.
pub async fn page(
    db: &impl ConnectionTrait,
    org: i32,
    within: Option<&[i32]>,
    q: &str,
    after: Option<(String, i32)>,
    limit: u64,
) -> Result<Vec<(user::Model, Vec<i32>)>, DbErr> {
    use sea_orm::sea_query::Query;
    let mut query = user::Entity::find().filter(user::Column::OrganisationId.eq(org));
    if let Some(teams) = within {
        let members = Query::select()
            .column(membership::Column::UserId)
            .from(membership::Entity)
            .and_where(membership::Column::TeamId.is_in(teams.iter().copied()))
            .to_owned();
        query = query.filter(user::Column::Id.in_subquery(members));
    }
    let users = after_name(matching(query, q), after)
        .limit(limit)
        .all(db)
        .await?;
    let mut teams = teams_of_many(db, users.iter().map(|u| u.id)).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let t = teams.remove(&u.id).unwrap_or_default();
            (u, t)
        })
        .collect())
}

/// The teams each of `users` is a direct member of.
pub async fn teams_of_many(
    db: &impl ConnectionTrait,
    users: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, Vec<i32>>, DbErr> {
    let ids: Vec<i32> = users.into_iter().collect();
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for m in membership::Entity::find()
        .filter(membership::Column::UserId.is_in(ids))
        .order_by_asc(membership::Column::TeamId)
        .all(db)
        .await?
    {
        out.entry(m.user_id).or_default().push(m.team_id);
    }
    Ok(out)
}

/// The teams `user` is a direct member of.
pub async fn teams_of(db: &impl ConnectionTrait, user: i32) -> Result<Vec<i32>, DbErr> {
    Ok(teams_of_many(db, [user])
        .await?
        .remove(&user)
        .unwrap_or_default())
}

/// Deactivates or reactivates a user (inside the caller's transaction).
pub async fn set_active(db: &impl ConnectionTrait, id: i32, active: bool) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// Gives a user another role (inside the caller's transaction).
pub async fn set_role(
    db: &impl ConnectionTrait,
    id: i32,
    role: domain::people::Role,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(role.key()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

/// The users with these ids (any organisation: the caller has scoped the ids).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The full names of the users with these ids in any organisation (the caller scoped the ids:
/// the people on a page of the audit log, the operators who viewed as someone).
pub async fn names_anywhere(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect())
}
