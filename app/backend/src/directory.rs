//! Writing the directory: organisations, teams, users, memberships and grants.
//! Callers pass a transaction, so a multi-row change is all or nothing.

use crate::entity::{membership, organisation, team, team_permission, user};
use chrono::Utc;
use domain::authz::Permission;
use domain::authz::PermissionSet;
use domain::people::{Email, OrgKind, Role};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

/// Invalidates every cached effective-permission set of the organisation. Called by each change
/// below that can alter what someone may do, inside the same transaction.
pub async fn bump_authz_version(
    db: &impl ConnectionTrait,
    organisation_id: i32,
) -> Result<(), DbErr> {
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::AuthzVersion,
            Expr::col(organisation::Column::AuthzVersion).add(1),
        )
        .filter(organisation::Column::Id.eq(organisation_id))
        .exec(db)
        .await
        .map(drop)
}

pub async fn create_organisation(
    db: &impl ConnectionTrait,
    name: &str,
    kind: OrgKind,
) -> Result<organisation::Model, DbErr> {
    organisation::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(kind.key().to_owned()),
        created_at: Set(Utc::now()),
        authz_version: Set(0),
        impersonation_consent: Set(domain::impersonation::Consent::Allowed.key().to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn create_team(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    parent_id: Option<i32>,
    name: &str,
) -> Result<team::Model, DbErr> {
    bump_authz_version(db, organisation_id).await?;
    team::ActiveModel {
        organisation_id: Set(organisation_id),
        parent_id: Set(parent_id),
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// A new user; `password_hash` is a PHC string made by `crate::password`.
pub struct NewUser<'a> {
    pub organisation_id: i32,
    pub email: &'a Email,
    pub full_name: &'a str,
    pub role: Role,
    pub password_hash: String,
}

pub async fn create_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        organisation_id: Set(new.organisation_id),
        email: Set(new.email.as_str().to_owned()),
        full_name: Set(new.full_name.to_owned()),
        role: Set(new.role.key().to_owned()),
        active: Set(true),
        password_hash: Set(new.password_hash),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Makes a user a member of a team; true when they were not one already. Idempotent by
/// construction (the primary key decides, not an earlier read), so two concurrent adds of the
/// same membership both succeed and only one row exists.
pub async fn add_member(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    user_id: i32,
    team_id: i32,
) -> Result<bool, DbErr> {
    let row = membership::ActiveModel {
        user_id: Set(user_id),
        team_id: Set(team_id),
        created_at: Set(Utc::now()),
    };
    let inserted = membership::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([membership::Column::UserId, membership::Column::TeamId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted > 0 {
        bump_authz_version(db, organisation_id).await?;
    }
    Ok(inserted > 0)
}

/// Grants permissions to a team, skipping any it already has (idempotent, as above).
pub async fn grant(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    team_id: i32,
    permissions: PermissionSet,
    granted_by: Option<i32>,
) -> Result<(), DbErr> {
    bump_authz_version(db, organisation_id).await?;
    for p in permissions.iter() {
        let row = team_permission::ActiveModel {
            team_id: Set(team_id),
            permission: Set(p.key().to_owned()),
            granted_by: Set(granted_by),
            created_at: Set(Utc::now()),
        };
        team_permission::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    team_permission::Column::TeamId,
                    team_permission::Column::Permission,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Withdraws one permission from a team; true when it was granted.
pub async fn revoke(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    team_id: i32,
    permission: Permission,
) -> Result<bool, DbErr> {
    bump_authz_version(db, organisation_id).await?;
    let res = team_permission::Entity::delete_many()
        .filter(team_permission::Column::TeamId.eq(team_id))
        .filter(team_permission::Column::Permission.eq(permission.key()))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Removes a user from a team; true when they were a member.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    user_id: i32,
    team_id: i32,
) -> Result<bool, DbErr> {
    bump_authz_version(db, organisation_id).await?;
    let res = membership::Entity::delete_many()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TeamId.eq(team_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Renames a team.
pub async fn rename_team(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    team_id: i32,
    name: &str,
) -> Result<(), DbErr> {
    bump_authz_version(db, organisation_id).await?;
    team::Entity::update_many()
        .col_expr(team::Column::Name, Expr::value(name))
        .filter(team::Column::Id.eq(team_id))
        .filter(team::Column::OrganisationId.eq(organisation_id))
        .exec(db)
        .await
        .map(drop)
}

/// Gives a team a new parent (the caller has checked that no cycle forms).
pub async fn move_team(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    team_id: i32,
    parent_id: i32,
) -> Result<(), DbErr> {
    bump_authz_version(db, organisation_id).await?;
    team::Entity::update_many()
        .col_expr(team::Column::ParentId, Expr::value(parent_id))
        .filter(team::Column::Id.eq(team_id))
        .filter(team::Column::OrganisationId.eq(organisation_id))
        .exec(db)
        .await
        .map(drop)
}

/// Deletes an empty team with its grants and its finished invitations (the caller has checked
/// that nothing else refers to it).
pub async fn delete_team(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    team_id: i32,
) -> Result<(), DbErr> {
    use crate::entity::invitation;
    bump_authz_version(db, organisation_id).await?;
    team_permission::Entity::delete_many()
        .filter(team_permission::Column::TeamId.eq(team_id))
        .exec(db)
        .await?;
    invitation::Entity::delete_many()
        .filter(invitation::Column::TeamId.eq(team_id))
        .exec(db)
        .await?;
    team::Entity::delete_many()
        .filter(team::Column::Id.eq(team_id))
        .filter(team::Column::OrganisationId.eq(organisation_id))
        .exec(db)
        .await
        .map(drop)
}
