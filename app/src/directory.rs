//! Writing the directory: organisations, teams, users, memberships and grants (server only).
//! Callers pass a transaction, so a multi-row change is all or nothing.

use crate::authz::PermissionSet;
use crate::entity::{membership, organisation, team, team_permission, user};
use crate::model::{Email, OrgKind, Role};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

pub async fn create_organisation(
    db: &impl ConnectionTrait,
    name: &str,
    kind: OrgKind,
) -> Result<organisation::Model, DbErr> {
    organisation::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(kind.key().to_owned()),
        created_at: Set(Utc::now()),
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

pub async fn add_member(
    db: &impl ConnectionTrait,
    user_id: i32,
    team_id: i32,
) -> Result<(), DbErr> {
    membership::ActiveModel {
        user_id: Set(user_id),
        team_id: Set(team_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map(drop)
}

pub async fn grant(
    db: &impl ConnectionTrait,
    team_id: i32,
    permissions: PermissionSet,
    granted_by: Option<i32>,
) -> Result<(), DbErr> {
    for p in permissions.iter() {
        team_permission::ActiveModel {
            team_id: Set(team_id),
            permission: Set(p.key().to_owned()),
            granted_by: Set(granted_by),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
