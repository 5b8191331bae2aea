//! Loading a user's `UserAccess` from the database, cached per session.
//!
//! A cached entry is valid only for the organisation's authz version it was built at; every
//! grant, membership or tree change bumps that version in its own transaction, so the next
//! request of every session in the organisation rebuilds — on every instance, since the version
//! lives in the shared database.

use crate::entity::{membership, team, team_permission};
use crate::principal::Principal;
use domain::authz::{Grants, IdMap, OrgPolicy, Permission, TeamTree, UserAccess};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept before the cache starts over (a crude bound; entries are cheap to rebuild).
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Default)]
pub struct AccessCache {
    orgs: Mutex<IdMap<(i32, Arc<OrgPolicy>)>>,
    sessions: Mutex<HashMap<String, (i32, Arc<UserAccess>)>>,
}

impl AccessCache {
    /// The principal's access, from the cache when its version is current.
    pub async fn for_principal(
        &self,
        db: &impl ConnectionTrait,
        p: &Principal,
    ) -> Result<Arc<UserAccess>, DbErr> {
        let version = p.authz_version;
        if let Some(hit) = lock(&self.sessions)
            .get(&p.session_id)
            .filter(|(v, _)| *v == version)
        {
            return Ok(hit.1.clone());
        }
        let policy = self.policy(db, p.organisation_id, version).await?;
        let memberships = load_memberships(db, p.user_id).await?;
        let access = Arc::new(UserAccess::new(policy, memberships));
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= MAX_ENTRIES {
            sessions.clear();
        }
        sessions.insert(p.session_id.clone(), (version, access.clone()));
        Ok(access)
    }

    async fn policy(
        &self,
        db: &impl ConnectionTrait,
        organisation_id: i32,
        version: i32,
    ) -> Result<Arc<OrgPolicy>, DbErr> {
        if let Some((_, hit)) = lock(&self.orgs)
            .get(&organisation_id)
            .filter(|(v, _)| *v == version)
        {
            return Ok(hit.clone());
        }
        let policy = Arc::new(load_policy(db, organisation_id).await?);
        lock(&self.orgs).insert(organisation_id, (version, policy.clone()));
        Ok(policy)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An organisation's tree and grants.
pub async fn load_policy(
    db: &impl ConnectionTrait,
    organisation_id: i32,
) -> Result<OrgPolicy, DbErr> {
    let teams = team::Entity::find()
        .filter(team::Column::OrganisationId.eq(organisation_id))
        .all(db)
        .await?;
    let ids: Vec<i32> = teams.iter().map(|t| t.id).collect();
    let tree = TeamTree::new(teams.into_iter().map(|t| (t.id, t.parent_id, t.name)))
        .map_err(|e| DbErr::Custom(format!("team tree of organisation {organisation_id}: {e}")))?;
    let rows = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.is_in(ids))
        .all(db)
        .await?;
    let grants: Grants = rows
        .into_iter()
        .filter_map(|r| match Permission::from_key(&r.permission) {
            Ok(p) => Some((r.team_id, p)),
            Err(e) => {
                // An unknown key grants nothing: deny by default, and say so in the log.
                tracing::warn!(team = r.team_id, error = %e, "ignoring unknown permission");
                None
            }
        })
        .collect();
    Ok(OrgPolicy { tree, grants })
}

/// A user's access as the directory stands in `db` right now, bypassing the cache: inside a
/// write's transaction, what a security rule is re-checked against.
pub async fn load_access(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    user_id: i32,
) -> Result<UserAccess, DbErr> {
    let policy = Arc::new(load_policy(db, organisation_id).await?);
    Ok(UserAccess::new(
        policy,
        load_memberships(db, user_id).await?,
    ))
}

pub async fn load_memberships(db: &impl ConnectionTrait, user_id: i32) -> Result<Vec<i32>, DbErr> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.team_id)
        .collect())
}
