//! Effective permissions: what one user may do on each team of their organisation.
//!
//! Effective(U, S) = ∪ grants(T) for every team T such that U is a direct member of T and T is S
//! or an ancestor of S. Computed once per session in one walk of the tree (parents first), then
//! every check is a map lookup and a bit test.

use super::decision::{Decision, Denial};
use super::ids::IdMap;
use super::tree::{TeamId, TeamRef, TeamTree};
use super::{Permission, PermissionSet};

/// What each team of an organisation grants to its direct members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants(IdMap<PermissionSet>);

impl Grants {
    pub fn on(&self, team: TeamId) -> PermissionSet {
        self.0.get(&team).copied().unwrap_or_default()
    }

    pub fn grant(&mut self, team: TeamId, p: Permission) {
        self.0.entry(team).or_default().insert(p);
    }

    pub fn revoke(&mut self, team: TeamId, p: Permission) {
        if let Some(set) = self.0.get_mut(&team) {
            set.remove(p);
        }
    }

    pub fn set(&mut self, team: TeamId, set: PermissionSet) {
        self.0.insert(team, set);
    }
}

impl FromIterator<(TeamId, Permission)> for Grants {
    fn from_iter<I: IntoIterator<Item = (TeamId, Permission)>>(iter: I) -> Self {
        let mut g = Grants::default();
        for (t, p) in iter {
            g.grant(t, p);
        }
        g
    }
}

/// An organisation's structure as far as authorisation goes: its tree and its grants.
#[derive(Clone, Debug)]
pub struct OrgPolicy {
    pub tree: TeamTree,
    pub grants: Grants,
}

impl OrgPolicy {
    /// Why `permission` is missing on `scope`: the teams on the way up from `scope` whose grant
    /// includes it (joining one of them would give it).
    pub fn explain(&self, permission: Permission, scope: TeamId) -> Denial {
        let scope_ref = self.tree.team_ref(scope).unwrap_or(TeamRef {
            id: scope,
            name: format!("team {scope}"),
        });
        let granted_by = self
            .tree
            .ancestors(scope)
            .filter(|t| self.grants.on(*t).contains(permission))
            .filter_map(|t| self.tree.team_ref(t))
            .collect();
        Denial {
            permission,
            scope: scope_ref,
            granted_by,
        }
    }
}

/// team → what the user may do there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EffectivePermissions(IdMap<PermissionSet>);

impl EffectivePermissions {
    /// One walk, parents first: a team inherits its parent's set and adds its own grant when the
    /// user is a direct member.
    pub fn compute(tree: &TeamTree, grants: &Grants, memberships: &[TeamId]) -> Self {
        let mut by_position: Vec<PermissionSet> = Vec::with_capacity(tree.len());
        let mut map = IdMap::default();
        map.reserve(tree.len());
        for (team, parent) in tree.parent_positions() {
            let inherited = parent.map(|p| by_position[p]).unwrap_or_default();
            let own = if memberships.contains(&team) {
                grants.on(team)
            } else {
                PermissionSet::EMPTY
            };
            let set = inherited.union(own);
            by_position.push(set);
            if !set.is_empty() {
                map.insert(team, set);
            }
        }
        EffectivePermissions(map)
    }

    #[inline]
    pub fn on(&self, scope: TeamId) -> PermissionSet {
        self.0.get(&scope).copied().unwrap_or_default()
    }

    #[inline]
    pub fn allows(&self, permission: Permission, scope: TeamId) -> bool {
        self.on(scope).contains(permission)
    }

    /// Whether the user holds `permission` on any team (operator-wide permissions).
    pub fn anywhere(&self, permission: Permission) -> bool {
        self.0.values().any(|s| s.contains(permission))
    }

    /// Every team where the user holds `permission`.
    pub fn teams_with(&self, permission: Permission) -> impl Iterator<Item = TeamId> + '_ {
        self.0
            .iter()
            .filter(move |(_, s)| s.contains(permission))
            .map(|(t, _)| *t)
    }
}

/// One user's access: their effective permissions within their organisation's policy.
#[derive(Clone, Debug)]
pub struct UserAccess {
    pub policy: std::sync::Arc<OrgPolicy>,
    pub memberships: Vec<TeamId>,
    pub effective: EffectivePermissions,
}

impl UserAccess {
    pub fn new(policy: std::sync::Arc<OrgPolicy>, memberships: Vec<TeamId>) -> UserAccess {
        let effective = EffectivePermissions::compute(&policy.tree, &policy.grants, &memberships);
        UserAccess {
            policy,
            memberships,
            effective,
        }
    }

    /// `(permission, scope) → Decision`; a denial names what is missing and who would grant it.
    pub fn check(&self, permission: Permission, scope: TeamId) -> Decision {
        if self.effective.allows(permission, scope) {
            Decision::Allow
        } else {
            Decision::Deny(self.policy.explain(permission, scope))
        }
    }

    /// The teams the user's grant of `permission` comes from on `scope` (for "My access").
    pub fn sources(&self, permission: Permission, scope: TeamId) -> Vec<TeamRef> {
        self.policy
            .tree
            .ancestors(scope)
            .filter(|t| {
                self.memberships.contains(t) && self.policy.grants.on(*t).contains(permission)
            })
            .filter_map(|t| self.policy.tree.team_ref(t))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::acme;
    use super::super::{Permission::*, templates};
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn demo_policy() -> Arc<OrgPolicy> {
        let mut grants = Grants::default();
        grants.set(1, templates::fleet_manager());
        grants.set(2, templates::fleet_manager());
        grants.set(3, templates::technician());
        grants.set(5, templates::technician().with(WorkOrdersComplete));
        Arc::new(OrgPolicy {
            tree: acme(),
            grants,
        })
    }

    #[test]
    fn tina_cannot_complete_in_boston_and_learns_why() {
        let tina = UserAccess::new(demo_policy(), vec![3]);
        assert_eq!(tina.check(WorkOrdersUpdate, 3), Decision::Allow);
        let Decision::Deny(d) = tina.check(WorkOrdersComplete, 3) else {
            panic!("tina must not complete in Boston")
        };
        assert_eq!(d.permission, WorkOrdersComplete);
        assert_eq!(d.scope.name, "Boston Depot");
        let names: Vec<_> = d.granted_by.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Northeast Region", "Acme Logistics"]);
    }

    #[test]
    fn dan_completes_in_denver_but_nothing_in_boston() {
        let dan = UserAccess::new(demo_policy(), vec![5]);
        assert!(dan.check(WorkOrdersComplete, 5).is_allowed());
        assert!(!dan.check(WorkOrdersView, 3).is_allowed());
        assert!(
            !dan.check(WorkOrdersView, 4).is_allowed(),
            "scope flows down, never up"
        );
    }

    #[test]
    fn maria_manages_northeast_and_below_only() {
        let maria = UserAccess::new(demo_policy(), vec![2]);
        assert!(maria.check(WorkOrdersComplete, 3).is_allowed());
        assert!(maria.check(PermissionsGrant, 2).is_allowed());
        assert!(!maria.check(VehiclesView, 5).is_allowed());
        assert!(!maria.check(VehiclesView, 1).is_allowed());
        assert_eq!(
            maria.sources(WorkOrdersComplete, 3),
            vec![TeamRef {
                id: 2,
                name: "Northeast Region".into()
            }]
        );
    }

    #[test]
    fn operator_wide_permissions_count_on_any_team() {
        let tree = TeamTree::new([
            (10, None, "Fleetgate".into()),
            (11, Some(10), "Administrators".into()),
        ])
        .unwrap();
        let mut grants = Grants::default();
        grants.set(11, templates::operator_admin());
        let admin = UserAccess::new(Arc::new(OrgPolicy { tree, grants }), vec![10, 11]);
        assert!(admin.effective.anywhere(UsersImpersonateAct));
        assert!(!admin.effective.anywhere(WorkOrdersComplete));
    }

    /// A random tree: team i's parent is one of 0..i, so it is always a tree rooted at 0.
    fn arb_case() -> impl Strategy<Value = (TeamTree, Grants, Vec<TeamId>)> {
        (1usize..24).prop_flat_map(|n| {
            let parents = (1..n).map(|i| 0..i).collect::<Vec<_>>();
            let mask = (1u64 << Permission::ALL.len()) - 1;
            (
                parents,
                proptest::collection::vec(any::<u64>().prop_map(move |m| m & mask), n),
                proptest::collection::vec(any::<bool>(), n),
            )
                .prop_map(move |(parents, grant_bits, member)| {
                    let rows = (0..n).map(|i| {
                        let parent = if i == 0 {
                            None
                        } else {
                            Some(parents[i - 1] as i32)
                        };
                        (i as i32, parent, format!("t{i}"))
                    });
                    let tree = TeamTree::new(rows).unwrap();
                    let mut grants = Grants::default();
                    for (i, bits) in grant_bits.iter().enumerate() {
                        let set = Permission::ALL
                            .iter()
                            .enumerate()
                            .filter(|(b, _)| bits & (1 << b) != 0)
                            .map(|(_, p)| *p)
                            .collect();
                        grants.set(i as i32, set);
                    }
                    let members = (0..n as i32).filter(|i| member[*i as usize]).collect();
                    (tree, grants, members)
                })
        })
    }

    fn any_permission() -> impl Strategy<Value = Permission> {
        (0..Permission::ALL.len()).prop_map(|i| Permission::ALL[i])
    }

    proptest! {
        #[test]
        fn matches_the_definition((tree, grants, members) in arb_case()) {
            let eff = EffectivePermissions::compute(&tree, &grants, &members);
            for s in tree.teams() {
                let expected = members.iter()
                    .filter(|t| tree.is_within(s, **t))
                    .fold(PermissionSet::EMPTY, |acc, t| acc.union(grants.on(*t)));
                prop_assert_eq!(eff.on(s), expected);
            }
        }

        #[test]
        fn a_grant_holds_exactly_on_the_subtree_for_direct_members(
            (tree, _, _) in arb_case(), t in 0i32..24, p in any_permission()
        ) {
            prop_assume!(tree.contains(t));
            let grants: Grants = [(t, p)].into_iter().collect();
            let member = EffectivePermissions::compute(&tree, &grants, &[t]);
            let others: Vec<_> = tree.teams().filter(|x| *x != t).collect();
            let outsider = EffectivePermissions::compute(&tree, &grants, &others);
            for s in tree.teams() {
                prop_assert_eq!(member.allows(p, s), tree.is_within(s, t));
                prop_assert!(!outsider.allows(p, s));
            }
        }

        #[test]
        fn removing_a_grant_never_adds_a_permission(
            (tree, grants, members) in arb_case(), t in 0i32..24, p in any_permission()
        ) {
            let before = EffectivePermissions::compute(&tree, &grants, &members);
            let mut fewer = grants.clone();
            fewer.revoke(t, p);
            let after = EffectivePermissions::compute(&tree, &fewer, &members);
            for s in tree.teams() {
                prop_assert_eq!(after.on(s).union(before.on(s)), before.on(s));
            }
        }

        #[test]
        fn a_denial_names_only_teams_that_really_grant(
            (tree, grants, members) in arb_case(), s in 0i32..24, p in any_permission()
        ) {
            prop_assume!(tree.contains(s));
            let access = UserAccess::new(Arc::new(OrgPolicy { tree: tree.clone(), grants: grants.clone() }), members.clone());
            match access.check(p, s) {
                Decision::Allow => prop_assert!(access.effective.allows(p, s)),
                Decision::Deny(d) => {
                    prop_assert_eq!(d.permission, p);
                    prop_assert_eq!(d.scope.id, s);
                    for team in &d.granted_by {
                        prop_assert!(grants.on(team.id).contains(p));
                        prop_assert!(tree.is_within(s, team.id));
                        // Joining that team would really give the permission.
                        let mut joined = members.clone();
                        joined.push(team.id);
                        prop_assert!(EffectivePermissions::compute(&tree, &grants, &joined).allows(p, s));
                    }
                    // And no granting team on the way up is left out.
                    let expected = tree.ancestors(s).filter(|t| grants.on(*t).contains(p)).count();
                    prop_assert_eq!(d.granted_by.len(), expected);
                }
            }
        }
    }
}
