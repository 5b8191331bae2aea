//! The permission catalogue: every action is one [`Permission`], declared once below with its
//! stable key, label, group and whether it is operator-only. The database stores keys; at run
//! time a set of permissions is a bitset ([`PermissionSet`]), so a check is a bit test.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares the catalogue once: the enum, its keys, labels, groups and the operator-only flag.
macro_rules! permissions {
    ($( $variant:ident => $key:literal, $label:literal, $group:ident, $operator_only:literal; )+) => {
        /// One atomic permission: one action in the app.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        #[repr(u8)]
        pub enum Permission { $( $variant, )+ }

        impl Permission {
            /// Every permission, in declaration order (the bit order of [`PermissionSet`]).
            pub const ALL: &'static [Permission] = &[ $( Permission::$variant, )+ ];

            /// The stable key stored in the database and shown to people (`work_orders.complete`).
            pub const fn key(self) -> &'static str {
                match self { $( Permission::$variant => $key, )+ }
            }

            /// A short human label ("Complete work orders").
            pub const fn label(self) -> &'static str {
                match self { $( Permission::$variant => $label, )+ }
            }

            pub const fn group(self) -> PermissionGroup {
                match self { $( Permission::$variant => PermissionGroup::$group, )+ }
            }

            /// Operator-only permissions can never be granted inside a customer organisation.
            pub const fn operator_only(self) -> bool {
                match self { $( Permission::$variant => $operator_only, )+ }
            }

            /// Parses a stored key; an unknown key is an error, never a silent grant.
            pub fn from_key(key: &str) -> Result<Self, UnknownPermission> {
                match key {
                    $( $key => Ok(Permission::$variant), )+
                    _ => Err(UnknownPermission(key.to_owned())),
                }
            }
        }
    };
}

permissions! {
    VehiclesView => "vehicles.view", "View vehicles", Vehicles, false;
    VehiclesCreate => "vehicles.create", "Add vehicles", Vehicles, false;
    VehiclesEdit => "vehicles.edit", "Edit vehicles", Vehicles, false;
    VehiclesRetire => "vehicles.retire", "Retire vehicles", Vehicles, false;
    WorkOrdersView => "work_orders.view", "View work orders", WorkOrders, false;
    WorkOrdersCreate => "work_orders.create", "Create work orders", WorkOrders, false;
    WorkOrdersAssign => "work_orders.assign", "Assign work orders", WorkOrders, false;
    WorkOrdersUpdate => "work_orders.update", "Update work orders", WorkOrders, false;
    WorkOrdersComplete => "work_orders.complete", "Complete work orders", WorkOrders, false;
    InspectionsView => "inspections.view", "View inspections", Inspections, false;
    InspectionsSubmit => "inspections.submit", "Submit inspections", Inspections, false;
    TeamsView => "teams.view", "View teams", Teams, false;
    TeamsManage => "teams.manage", "Manage teams", Teams, false;
    MembersManage => "members.manage", "Manage team members", Teams, false;
    PermissionsGrant => "permissions.grant", "Grant permissions", Teams, false;
    UsersInvite => "users.invite", "Invite users", Users, false;
    UsersDeactivate => "users.deactivate", "Deactivate users", Users, false;
    AuditView => "audit.view", "View the audit log", Audit, false;
    OrgSettings => "org.settings", "Manage organisation settings", Users, false;
    OrgsViewAll => "orgs.view_all", "View all organisations", Operator, true;
    OrgsManage => "orgs.manage", "Create, suspend and reactivate organisations", Operator, true;
    UsersImpersonate => "users.impersonate", "View as a customer user", Operator, true;
    UsersImpersonateAct => "users.impersonate_act", "Act as a customer user", Operator, true;
    AuditViewAll => "audit.view_all", "View every organisation's audit log", Operator, true;
    AccessTroubleshoot => "access.troubleshoot", "Troubleshoot any customer user's access", Operator, true;
}

/// How permissions are grouped on the matrix and on "My access".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PermissionGroup {
    Vehicles,
    WorkOrders,
    Inspections,
    Teams,
    Users,
    Audit,
    Operator,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission key `{0}`")]
pub struct UnknownPermission(pub String);

impl From<Permission> for &'static str {
    fn from(p: Permission) -> Self {
        p.key()
    }
}

impl TryFrom<String> for Permission {
    type Error = UnknownPermission;
    fn try_from(key: String) -> Result<Self, Self::Error> {
        Permission::from_key(&key)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of permissions as a bitset: union and membership are single instructions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PermissionSet(u64);

// The bitset must have room for the whole catalogue.
const _: () = assert!(Permission::ALL.len() <= 64);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub const fn contains(self, p: Permission) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    pub const fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | (1 << p as u8))
    }

    pub fn insert(&mut self, p: Permission) {
        *self = self.with(p);
    }

    pub fn remove(&mut self, p: Permission) {
        self.0 &= !(1 << p as u8);
    }

    pub const fn union(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The members in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter()
            .fold(PermissionSet::EMPTY, PermissionSet::with)
    }
}

/// Default permission templates for a new team, by the role of the people it is for. A template
/// only pre-fills a grant; a role never decides an authorisation.
pub mod templates {
    use super::{Permission::*, PermissionSet};

    /// What a fleet manager needs across the teams they run.
    pub fn fleet_manager() -> PermissionSet {
        [
            VehiclesView,
            VehiclesCreate,
            VehiclesEdit,
            VehiclesRetire,
            WorkOrdersView,
            WorkOrdersCreate,
            WorkOrdersAssign,
            WorkOrdersUpdate,
            WorkOrdersComplete,
            InspectionsView,
            InspectionsSubmit,
            TeamsView,
            TeamsManage,
            MembersManage,
            PermissionsGrant,
            UsersInvite,
            UsersDeactivate,
            AuditView,
            OrgSettings,
        ]
        .into_iter()
        .collect()
    }

    /// A technician's working set, without `work_orders.complete` (granted per team).
    pub fn technician() -> PermissionSet {
        [
            VehiclesView,
            WorkOrdersView,
            WorkOrdersUpdate,
            InspectionsView,
            InspectionsSubmit,
        ]
        .into_iter()
        .collect()
    }

    /// The operator's administrators.
    pub fn operator_admin() -> PermissionSet {
        [
            OrgsViewAll,
            OrgsManage,
            UsersImpersonate,
            UsersImpersonateAct,
            AuditViewAll,
            AccessTroubleshoot,
        ]
        .into_iter()
        .collect()
    }

    /// Operator support staff: may view as a user, never act as one; may troubleshoot anyone's
    /// access (read-only).
    pub fn operator_support() -> PermissionSet {
        [OrgsViewAll, UsersImpersonate, AccessTroubleshoot]
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_are_unique_and_round_trip() {
        let mut keys: Vec<_> = Permission::ALL.iter().map(|p| p.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(Permission::from_key(p.key()), Ok(*p));
        }
    }

    #[test]
    fn unknown_key_is_refused() {
        assert_eq!(
            Permission::from_key("work_orders.delete_everything"),
            Err(UnknownPermission("work_orders.delete_everything".into()))
        );
    }

    #[test]
    fn operator_only_permissions_are_exactly_the_operator_group() {
        for p in Permission::ALL {
            assert_eq!(
                p.operator_only(),
                p.group() == PermissionGroup::Operator,
                "{p}"
            );
        }
    }

    #[test]
    fn serde_uses_the_stable_key() {
        let json = serde_json::to_string(&Permission::WorkOrdersComplete).unwrap();
        assert_eq!(json, "\"work_orders.complete\"");
        let back: Permission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Permission::WorkOrdersComplete);
        assert!(serde_json::from_str::<Permission>("\"nope.nope\"").is_err());
    }

    #[test]
    fn customer_templates_hold_no_operator_permission() {
        for set in [templates::fleet_manager(), templates::technician()] {
            assert!(set.iter().all(|p| !p.operator_only()));
        }
        assert!(!templates::technician().contains(Permission::WorkOrdersComplete));
        assert!(!templates::operator_support().contains(Permission::UsersImpersonateAct));
        assert!(!templates::operator_support().contains(Permission::OrgsManage));
        for set in [templates::operator_admin(), templates::operator_support()] {
            assert!(set.contains(Permission::AccessTroubleshoot));
        }
        assert!(Permission::AccessTroubleshoot.operator_only());
    }

    fn any_permission() -> impl Strategy<Value = Permission> {
        (0..Permission::ALL.len()).prop_map(|i| Permission::ALL[i])
    }

    proptest! {
        #[test]
        fn set_behaves_like_a_set(ps in proptest::collection::vec(any_permission(), 0..40),
                                  probe in any_permission()) {
            let set: PermissionSet = ps.iter().copied().collect();
            prop_assert_eq!(set.contains(probe), ps.contains(&probe));
            let mut distinct = ps.clone();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(set.len(), distinct.len());
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), distinct);
            let mut removed = set;
            removed.remove(probe);
            prop_assert!(!removed.contains(probe));
            prop_assert_eq!(removed.union(PermissionSet::EMPTY.with(probe)), set.with(probe));
        }
    }
}
