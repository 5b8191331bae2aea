//! What the access troubleshooter reads besides an organisation's policy
//! ([`crate::access::load_policy`]): who is a direct member of which team (active users only:
//! a deactivated user neither applies a fix nor gains from one), their names, and how many
//! vehicles and work orders each team owns — one query each, whatever the organisation's size.

use crate::entity::{membership, team, user, vehicle, work_order};
use domain::authz::{Members, Owned, ResourceCounts};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an organisation's counts are reused. They only size a blast radius ("on 40 teams,
/// 4,000 vehicles"), never decide which fix is offered or who may apply it, and counting half a
/// million work orders takes longer than the whole rest of an answer.
const COUNTS_TTL: Duration = Duration::from_secs(60);

/// What each team owns, per organisation, counted at most once a minute (per instance).
#[derive(Debug, Default)]
pub struct CountsCache(Mutex<HashMap<i32, (Instant, Arc<ResourceCounts>)>>);

impl CountsCache {
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        organisation_id: i32,
    ) -> Result<Arc<ResourceCounts>, DbErr> {
        let fresh = |(at, _): &&(Instant, Arc<ResourceCounts>)| at.elapsed() < COUNTS_TTL;
        if let Some((_, hit)) = self.lock().get(&organisation_id).filter(fresh) {
            return Ok(Arc::clone(hit));
        }
        let counts = Arc::new(load_counts(db, organisation_id).await?);
        self.lock()
            .insert(organisation_id, (Instant::now(), Arc::clone(&counts)));
        Ok(counts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (Instant, Arc<ResourceCounts>)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An organisation's active people (id → (name, e-mail)) and their memberships.
pub struct People {
    pub members: Members,
    pub names: HashMap<i32, (String, String)>,
}

/// The organisation's active users and their direct memberships. `operator_org` says whether
/// it is the operator's (which decides whether operator-only permissions may be conferred).
pub async fn load_people(
    db: &impl ConnectionTrait,
    organisation_id: i32,
    operator_org: bool,
) -> Result<People, DbErr> {
    let users: Vec<(i32, String, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::FullName)
        .column(user::Column::Email)
        .filter(user::Column::OrganisationId.eq(organisation_id))
        .filter(user::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let names: HashMap<i32, (String, String)> = users
        .into_iter()
        .map(|(id, name, email)| (id, (name, email)))
        .collect();
    let teams = Query::select()
        .column(team::Column::Id)
        .from(team::Entity)
        .and_where(team::Column::OrganisationId.eq(organisation_id))
        .to_owned();
    let rows: Vec<(i32, i32)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .column(membership::Column::TeamId)
        .filter(membership::Column::TeamId.in_subquery(teams))
        .into_tuple()
        .all(db)
        .await?;
    let members = Members::new(
        operator_org,
        rows.into_iter().filter(|(u, _)| names.contains_key(u)),
    );
    Ok(People { members, names })
}

/// How many vehicles and work orders each team of the organisation owns directly.
pub async fn load_counts(
    db: &impl ConnectionTrait,
    organisation_id: i32,
) -> Result<ResourceCounts, DbErr> {
    let vehicles: Vec<(i32, i64)> = vehicle::Entity::find()
        .select_only()
        .column(vehicle::Column::TeamId)
        .column_as(vehicle::Column::Id.count(), "n")
        .filter(vehicle::Column::OrganisationId.eq(organisation_id))
        .group_by(vehicle::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    let work_orders: Vec<(i32, i64)> = work_order::Entity::find()
        .select_only()
        .column(work_order::Column::TeamId)
        .column_as(work_order::Column::Id.count(), "n")
        .filter(work_order::Column::OrganisationId.eq(organisation_id))
        .group_by(work_order::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    let mut owned: HashMap<i32, Owned> = HashMap::new();
    for (team, n) in vehicles {
        owned.entry(team).or_default().vehicles = u64::try_from(n).unwrap_or(0);
    }
    for (team, n) in work_orders {
        owned.entry(team).or_default().work_orders = u64::try_from(n).unwrap_or(0);
    }
    Ok(owned.into_iter().collect())
}
