//! Managing a person (deactivating, reactivating, changing their role): the permission is
//! needed on **every** team they are a member of — the root team when they are in none — so
//! nobody reaches a person through one small team they happen to share. Nobody does it to
//! themselves.

use super::effective::UserAccess;
use super::tree::TeamId;
use super::{Decision, Denial, Permission};
use serde::{Deserialize, Serialize};

/// Why a person cannot be managed by the viewer. Explains itself like a [`Denial`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PersonRefusal {
    #[error("You cannot do this to your own account.")]
    Yourself,
    #[error("{}", .0.describe())]
    Missing(Denial),
}

impl PersonRefusal {
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            PersonRefusal::Missing(d) => Some(d),
            PersonRefusal::Yourself => None,
        }
    }
}

/// Whether `access` (the user `actor`) may use `permission` on the person `target`, a member
/// of `target_teams`.
pub fn can_manage_person(
    access: &UserAccess,
    actor: i32,
    permission: Permission,
    target: i32,
    target_teams: &[TeamId],
) -> Result<(), PersonRefusal> {
    if actor == target {
        return Err(PersonRefusal::Yourself);
    }
    let root = [access.policy.tree.root()];
    let teams = if target_teams.is_empty() {
        &root[..]
    } else {
        target_teams
    };
    for team in teams {
        if let Decision::Deny(d) = access.check(permission, *team) {
            return Err(PersonRefusal::Missing(d));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::acme;
    use super::super::{Grants, OrgPolicy, Permission::*, PermissionSet};
    use super::*;
    use std::sync::Arc;

    fn access(grants: &[(TeamId, PermissionSet)], memberships: Vec<TeamId>) -> UserAccess {
        let mut g = Grants::default();
        for (t, set) in grants {
            g.set(*t, *set);
        }
        UserAccess::new(
            Arc::new(OrgPolicy {
                tree: acme(),
                grants: g,
            }),
            memberships,
        )
    }

    #[test]
    fn every_team_of_the_person_counts() {
        let deactivate = PermissionSet::EMPTY.with(UsersDeactivate);
        // Maria runs Northeast (2): Tina of Boston (3) is hers; Dan of Denver (5) is not.
        let maria = access(&[(2, deactivate)], vec![2]);
        assert_eq!(
            can_manage_person(&maria, 10, UsersDeactivate, 11, &[3]),
            Ok(())
        );
        let refusal = can_manage_person(&maria, 10, UsersDeactivate, 12, &[5]).unwrap_err();
        assert_eq!(refusal.denial().map(|d| d.scope.id), Some(5));
        // Someone in Boston *and* Denver is out of her reach too.
        assert!(can_manage_person(&maria, 10, UsersDeactivate, 13, &[3, 5]).is_err());
        // Someone in no team is managed from the root.
        let refusal = can_manage_person(&maria, 10, UsersDeactivate, 14, &[]).unwrap_err();
        assert_eq!(refusal.denial().map(|d| d.scope.id), Some(1));
        let olga = access(&[(1, deactivate)], vec![1]);
        assert_eq!(
            can_manage_person(&olga, 20, UsersDeactivate, 14, &[]),
            Ok(())
        );
        // Nobody manages themselves.
        assert_eq!(
            can_manage_person(&olga, 20, UsersDeactivate, 20, &[1]),
            Err(PersonRefusal::Yourself)
        );
    }
}
