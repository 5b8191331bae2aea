//! No escalation: to grant or revoke permission P on team T you need `permissions.grant` on T
//! *and* P yourself on T. Operator-only permissions never enter a customer organisation.

use super::effective::UserAccess;
use super::tree::TeamId;
use super::{Decision, Denial, Permission};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GrantRefusal {
    #[error("{}", .0.describe())]
    Missing(Denial),
    #[error("“{}” ({}) is reserved for the operator and cannot be granted here.", .0.label(), .0.key())]
    OperatorOnly(Permission),
}

/// Whether `access` may grant (or revoke) `permission` on `team`.
pub fn can_grant(
    access: &UserAccess,
    operator_org: bool,
    permission: Permission,
    team: TeamId,
) -> Result<(), GrantRefusal> {
    if permission.operator_only() && !operator_org {
        return Err(GrantRefusal::OperatorOnly(permission));
    }
    for needed in [Permission::PermissionsGrant, permission] {
        if let Decision::Deny(d) = access.check(needed, team) {
            return Err(GrantRefusal::Missing(d));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::acme;
    use super::super::{Grants, OrgPolicy, Permission::*, templates};
    use super::*;
    use std::sync::Arc;

    fn policy(grants: Grants) -> Arc<OrgPolicy> {
        Arc::new(OrgPolicy {
            tree: acme(),
            grants,
        })
    }

    #[test]
    fn maria_grants_what_she_holds_below_her_team() {
        let mut g = Grants::default();
        g.set(2, templates::fleet_manager());
        let maria = UserAccess::new(policy(g), vec![2]);
        assert_eq!(can_grant(&maria, false, WorkOrdersComplete, 3), Ok(()));
        // Not outside her subtree.
        assert!(matches!(
            can_grant(&maria, false, WorkOrdersComplete, 5),
            Err(GrantRefusal::Missing(_))
        ));
    }

    #[test]
    fn nobody_grants_what_they_do_not_hold() {
        let mut g = Grants::default();
        let mut held = templates::fleet_manager();
        held.remove(WorkOrdersComplete);
        g.set(2, held);
        let maria = UserAccess::new(policy(g), vec![2]);
        let Err(GrantRefusal::Missing(d)) = can_grant(&maria, false, WorkOrdersComplete, 3) else {
            panic!("granting a permission one lacks must be refused")
        };
        assert_eq!(d.permission, WorkOrdersComplete);
    }

    #[test]
    fn holding_a_permission_without_permissions_grant_is_not_enough() {
        let mut g = Grants::default();
        g.set(3, templates::technician());
        let tina = UserAccess::new(policy(g), vec![3]);
        let Err(GrantRefusal::Missing(d)) = can_grant(&tina, false, WorkOrdersView, 3) else {
            panic!("tina cannot grant")
        };
        assert_eq!(d.permission, PermissionsGrant);
    }

    #[test]
    fn operator_only_permissions_never_enter_a_customer_org() {
        let mut g = Grants::default();
        g.set(
            1,
            templates::fleet_manager().union(templates::operator_admin()),
        );
        let olga = UserAccess::new(policy(g), vec![1]);
        assert_eq!(
            can_grant(&olga, false, UsersImpersonate, 1),
            Err(GrantRefusal::OperatorOnly(UsersImpersonate))
        );
    }
}
