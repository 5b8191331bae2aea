//! Teams, as lists show them.

use crate::entity::team;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// What a team still holds, which keeps it from being deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    pub sub_teams: u64,
    pub members: u64,
    pub vehicles: u64,
    pub work_orders: u64,
    pub invitations: u64,
}

impl Contents {
    pub fn is_empty(&self) -> bool {
        *self == Contents::default()
    }
}

impl std::fmt::Display for Contents {
    /// "2 sub-teams, 1 member and 3 vehicles".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.sub_teams, "sub-team", "sub-teams"),
            (self.members, "member", "members"),
            (self.vehicles, "vehicle", "vehicles"),
            (self.work_orders, "work order", "work orders"),
            (
                self.invitations,
                "pending invitation",
                "pending invitations",
            ),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        match parts.as_slice() {
            [] => f.write_str("nothing"),
            [one] => f.write_str(one),
            [init @ .., last] => write!(f, "{} and {last}", init.join(", ")),
        }
    }
}

/// Locks `team`'s row until the caller's transaction ends (PostgreSQL; SQLite has one writer):
/// a vehicle or work order being added to it meanwhile — independent writes, which
/// take no turn — holds a key-share lock on it, so this waits for them to commit, and any
/// added after waits for the caller. Take it before [`contents`], so the count is the truth.
pub async fn lock(db: &impl ConnectionTrait, team_id: i32) -> Result<(), DbErr> {
    use sea_orm::QuerySelect;
    crate::entity::team::Entity::find_by_id(team_id)
        .lock_exclusive()
        .one(db)
        .await
        .map(drop)
}

/// Counts what `team` holds (inside the caller's transaction, so the count is the one a delete
/// acts on).
pub async fn contents(db: &impl ConnectionTrait, team_id: i32) -> Result<Contents, DbErr> {
    use crate::entity::{invitation, membership, vehicle, work_order};
    use sea_orm::PaginatorTrait;
    let now = chrono::Utc::now();
    let invitations = invitation::Entity::find()
        .filter(invitation::Column::TeamId.eq(team_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .iter()
        .filter(|i| i.expires_at > now)
        .count() as u64;
    Ok(Contents {
        sub_teams: team::Entity::find()
            .filter(team::Column::ParentId.eq(team_id))
            .count(db)
            .await?,
        members: membership::Entity::find()
            .filter(membership::Column::TeamId.eq(team_id))
            .count(db)
            .await?,
        vehicles: vehicle::Entity::find()
            .filter(vehicle::Column::TeamId.eq(team_id))
            .count(db)
            .await?,
        work_orders: work_order::Entity::find()
            .filter(work_order::Column::TeamId.eq(team_id))
            .count(db)
            .await?,
        invitations,
    })
}

#[cfg(test)]
mod tests {
    use super::Contents;

    #[test]
    fn what_is_left_is_named() {
        let c = Contents {
            sub_teams: 2,
            members: 1,
            vehicles: 3,
            ..Contents::default()
        };
        assert_eq!(c.to_string(), "2 sub-teams, 1 member and 3 vehicles");
        assert_eq!(
            Contents {
                invitations: 1,
                ..Contents::default()
            }
            .to_string(),
            "1 pending invitation"
        );
        assert!(Contents::default().is_empty());
    }
}
