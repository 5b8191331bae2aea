//! No escalation by any path: nothing a user does may give anyone (themselves included) a
//! permission on a scope that the user does not hold there.
//!
//! Every change that can widen what someone may do describes itself as a *conferral* — "this
//! gives permission set G on scope T (and, since scope flows down, on T's subtree)" — and is
//! allowed only through [`may_confer`]: the actor must hold every permission of G on T, and
//! operator-only permissions never enter a customer organisation. The paths, each with its
//! own permission checked first and then the conferral:
//!
//! - granting P on T ([`can_grant`]): `permissions.grant` on T, confers {P} on T;
//! - adding a member to T ([`can_add_member`]): `members.manage` on T, confers T's whole grant
//!   on T (a direct member of T holds T's grant on T's subtree);
//! - inviting someone into T: the same conferral as adding a member (`users.invite` on T);
//! - moving team X under a new parent: for every new ancestor A of X, confers A's grant on X
//!   (A's members now reach X's subtree);
//! - changing a role, approving a request: whatever grants or memberships they create, through
//!   the same call.
//!
//! Taking away (revoking, removing a member) cannot escalate; revoking keeps the granting rule
//! so the matrix stays symmetrical. Write paths re-check the rule inside their transaction, so a
//! concurrent change cannot slip between the check and the write.

use super::effective::UserAccess;
use super::tree::TeamId;
use super::{Decision, Denial, Permission, PermissionSet};
use serde::{Deserialize, Serialize};

/// Why a change to who holds what was refused. It explains itself like a [`Denial`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GrantRefusal {
    /// The actor lacks the operation's own permission (`permissions.grant`, `members.manage` …).
    #[error("{}", .0.describe())]
    Missing(Denial),
    /// The change would give someone the denial's permission on its scope, which the actor does
    /// not hold there.
    #[error(
        "This would give “{}” ({}) on {}, which you do not hold there yourself (no escalation). {}",
        .0.permission.label(), .0.permission.key(), .0.scope.name, .0.who_grants()
    )]
    Escalation(Denial),
    #[error("“{}” ({}) is reserved for the operator and cannot be granted here.", .0.label(), .0.key())]
    OperatorOnly(Permission),
}

impl GrantRefusal {
    /// The missing permission on its scope, for the 403 body and the troubleshooter.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            GrantRefusal::Missing(d) | GrantRefusal::Escalation(d) => Some(d),
            GrantRefusal::OperatorOnly(_) => None,
        }
    }

    /// The permission at stake, for the audit record.
    pub fn permission(&self) -> Permission {
        match self {
            GrantRefusal::Missing(d) | GrantRefusal::Escalation(d) => d.permission,
            GrantRefusal::OperatorOnly(p) => *p,
        }
    }
}

/// **The** no-escalation rule: whether `access` may make a change that gives someone the
/// permissions `gives` on `scope` (and so on its subtree). Every path that can widen anyone's
/// permissions — granting, adding a member, inviting, moving a team, changing a role, approving
/// a request — calls this with what it confers, after checking its own permission.
///
/// Holding G on `scope` is enough for the whole subtree: what is held on a team is held on
/// every team below it. The first permission missing is reported, with the teams that grant it.
pub fn may_confer(
    access: &UserAccess,
    operator_org: bool,
    gives: PermissionSet,
    scope: TeamId,
) -> Result<(), GrantRefusal> {
    if !operator_org && let Some(p) = gives.iter().find(|p| p.operator_only()) {
        return Err(GrantRefusal::OperatorOnly(p));
    }
    let held = access.effective.on(scope);
    match gives.iter().find(|p| !held.contains(*p)) {
        None => Ok(()),
        Some(p) => Err(GrantRefusal::Escalation(access.policy.explain(p, scope))),
    }
}

/// The operation's own permission on `scope`, before what it confers.
fn requires(
    access: &UserAccess,
    permission: Permission,
    scope: TeamId,
) -> Result<(), GrantRefusal> {
    match access.check(permission, scope) {
        Decision::Allow => Ok(()),
        Decision::Deny(d) => Err(GrantRefusal::Missing(d)),
    }
}

/// Whether `access` may grant (or revoke) `permission` on `team`: `permissions.grant` there,
/// and the permission itself there ([`may_confer`] of {`permission`}).
pub fn can_grant(
    access: &UserAccess,
    operator_org: bool,
    permission: Permission,
    team: TeamId,
) -> Result<(), GrantRefusal> {
    if permission.operator_only() && !operator_org {
        return Err(GrantRefusal::OperatorOnly(permission));
    }
    requires(access, Permission::PermissionsGrant, team)?;
    may_confer(
        access,
        operator_org,
        PermissionSet::EMPTY.with(permission),
        team,
    )
}

/// Whether `access` may add anyone (themselves included) to `team`: `members.manage` there, and
/// every permission `team` grants ([`may_confer`] of the team's grant on the team). Per team,
/// not per person, so the members page can grey the control out with the reason.
pub fn can_add_member(
    access: &UserAccess,
    operator_org: bool,
    team: TeamId,
) -> Result<(), GrantRefusal> {
    requires(access, Permission::MembersManage, team)?;
    may_confer(access, operator_org, access.policy.grants.on(team), team)
}

/// Whether `access` may invite someone into `team`: `users.invite` there, and the same
/// conferral as adding a member (the person will hold the team's whole grant).
pub fn can_invite(
    access: &UserAccess,
    operator_org: bool,
    team: TeamId,
) -> Result<(), GrantRefusal> {
    requires(access, Permission::UsersInvite, team)?;
    may_confer(access, operator_org, access.policy.grants.on(team), team)
}

/// Why a team cannot be moved where asked, beyond permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MoveRefusal {
    #[error("The organisation's root team cannot be moved.")]
    Root,
    #[error("A team cannot be moved under itself or one of its own sub-teams.")]
    IntoOwnSubtree,
    #[error("{0}")]
    Rights(#[from] GrantRefusal),
}

/// Whether `access` may move `team` under `new_parent`: `teams.manage` on its current parent
/// and on the new one, never under its own subtree, and no escalation — every new ancestor's
/// grant reaches the moved subtree through that ancestor's members, so each must be held on
/// `team` already ([`may_confer`]).
pub fn can_move(
    access: &UserAccess,
    operator_org: bool,
    team: TeamId,
    new_parent: TeamId,
) -> Result<(), MoveRefusal> {
    let tree = &access.policy.tree;
    // Rights first: someone who may not move anything learns nothing about the tree.
    requires(access, Permission::TeamsManage, new_parent)?;
    let Some(parent) = tree.parent(team) else {
        return Err(MoveRefusal::Root);
    };
    requires(access, Permission::TeamsManage, parent)?;
    if tree.is_within(new_parent, team) {
        return Err(MoveRefusal::IntoOwnSubtree);
    }
    let old: Vec<TeamId> = tree.ancestors(parent).collect();
    let gives = tree
        .ancestors(new_parent)
        .filter(|a| !old.contains(a))
        .fold(PermissionSet::EMPTY, |set, a| {
            set.union(access.policy.grants.on(a))
        });
    may_confer(access, operator_org, gives, team)?;
    Ok(())
}

/// Whether `access` may rename or delete `team`: `teams.manage` on its parent (the root team,
/// which has none, is never renamed or deleted here: it carries the organisation's name).
pub fn can_manage_team(access: &UserAccess, team: TeamId) -> Result<(), GrantRefusal> {
    match access.policy.tree.parent(team) {
        Some(parent) => requires(access, Permission::TeamsManage, parent),
        None => Err(GrantRefusal::Missing(
            access.policy.explain(Permission::TeamsManage, team),
        )),
    }
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
        g.set(1, PermissionSet::EMPTY.with(WorkOrdersComplete));
        let maria = UserAccess::new(policy(g), vec![2]);
        let refusal = can_grant(&maria, false, WorkOrdersComplete, 3).unwrap_err();
        let GrantRefusal::Escalation(d) = &refusal else {
            panic!("granting a permission one lacks must be refused: {refusal:?}")
        };
        assert_eq!(d.permission, WorkOrdersComplete);
        assert_eq!(
            refusal.to_string(),
            "This would give “Complete work orders” (work_orders.complete) on Boston Depot, \
             which you do not hold there yourself (no escalation). \
             Granted to members of: Acme Logistics."
        );
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
        assert_eq!(
            may_confer(&olga, false, templates::operator_admin(), 2),
            Err(GrantRefusal::OperatorOnly(OrgsViewAll))
        );
    }

    /// The attack: `members.manage` on Boston, whose grant holds what Maria lacks. Adding
    /// herself (or anyone) would give it; refused, with the permission, scope and granting teams.
    #[test]
    fn members_manage_does_not_let_maria_join_a_team_whose_grants_she_lacks() {
        let mut g = Grants::default();
        let mut held = templates::fleet_manager();
        held.remove(OrgSettings);
        g.set(2, held);
        g.set(3, templates::technician().with(OrgSettings));
        let maria = UserAccess::new(policy(g), vec![2]);
        assert!(maria.check(MembersManage, 3).is_allowed());
        let refusal = can_add_member(&maria, false, 3).unwrap_err();
        let GrantRefusal::Escalation(d) = &refusal else {
            panic!("adding to Boston must be refused as an escalation: {refusal:?}")
        };
        assert_eq!((d.permission, d.scope.id), (OrgSettings, 3));
        let names: Vec<_> = d.granted_by.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Boston Depot"]);
        assert!(refusal.to_string().contains("org.settings"));
        // The twin: Northeast grants only what she holds, so she may add people there.
        assert_eq!(can_add_member(&maria, false, 2), Ok(()));
        // And without members.manage, the operation's own permission is what is missing.
        let tina_grants = {
            let mut g = Grants::default();
            g.set(3, templates::technician());
            g
        };
        let tina = UserAccess::new(policy(tina_grants), vec![3]);
        assert!(matches!(
            can_add_member(&tina, false, 3),
            Err(GrantRefusal::Missing(d)) if d.permission == MembersManage
        ));
    }

    /// Random organisations and random sequences of directory changes by one actor.
    mod property {
        use super::super::super::{EffectivePermissions, Grants, OrgPolicy, TeamTree};
        use super::super::*;
        use proptest::prelude::*;
        use std::sync::Arc;

        const USERS: usize = 4;
        /// The actor is user 0.
        const ACTOR: usize = 0;

        #[derive(Clone, Debug)]
        enum Op {
            Grant(TeamId, Permission),
            Revoke(TeamId, Permission),
            Add(usize, TeamId),
            Remove(usize, TeamId),
        }

        /// An organisation: its tree, its grants, and each user's memberships.
        #[derive(Clone, Debug)]
        struct Org {
            tree: TeamTree,
            grants: Grants,
            members: Vec<Vec<TeamId>>,
        }

        impl Op {
            fn team(&self) -> TeamId {
                match *self {
                    Op::Grant(t, _) | Op::Revoke(t, _) | Op::Add(_, t) | Op::Remove(_, t) => t,
                }
            }
        }

        impl Org {
            fn access(&self, user: usize) -> UserAccess {
                let policy = Arc::new(OrgPolicy {
                    tree: self.tree.clone(),
                    grants: self.grants.clone(),
                });
                UserAccess::new(policy, self.members[user].clone())
            }

            fn effective(&self, user: usize) -> EffectivePermissions {
                EffectivePermissions::compute(&self.tree, &self.grants, &self.members[user])
            }

            /// Applies `op` by the actor when the rules accept it; whether they did.
            fn apply(&mut self, op: &Op) -> bool {
                let actor = self.access(ACTOR);
                let accepted = match *op {
                    Op::Grant(t, p) | Op::Revoke(t, p) => can_grant(&actor, false, p, t).is_ok(),
                    Op::Add(_, t) => can_add_member(&actor, false, t).is_ok(),
                    // Taking away needs only the operation's permission.
                    Op::Remove(_, t) => actor.check(Permission::MembersManage, t).is_allowed(),
                };
                if !accepted {
                    return false;
                }
                match *op {
                    Op::Grant(t, p) => self.grants.grant(t, p),
                    Op::Revoke(t, p) => self.grants.revoke(t, p),
                    Op::Add(u, t) => {
                        if !self.members[u].contains(&t) {
                            self.members[u].push(t);
                        }
                    }
                    Op::Remove(u, t) => self.members[u].retain(|m| *m != t),
                }
                true
            }
        }

        /// A few permissions, the two that change the directory among them: with the whole
        /// catalogue, an actor would almost never hold all of a random team's grant, and the
        /// interesting acceptances (adding to a team one is not a member of) would be rare.
        const ALPHABET: &[Permission] = &[
            Permission::MembersManage,
            Permission::PermissionsGrant,
            Permission::VehiclesView,
            Permission::WorkOrdersComplete,
            Permission::OrgSettings,
            Permission::UsersImpersonate,
        ];

        /// Team i's parent is one of 0..i; each team grants a random part of the alphabet.
        fn arb_org() -> impl Strategy<Value = Org> {
            (1usize..10).prop_flat_map(|n| {
                let parents = (1..n).map(|i| 0..i).collect::<Vec<_>>();
                (
                    parents,
                    proptest::collection::vec(any::<u8>(), n),
                    proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), USERS),
                )
                    .prop_map(move |(parents, grant_bits, member)| {
                        let rows = (0..n).map(|i| {
                            let parent = (i > 0).then(|| parents[i - 1] as i32);
                            (i as i32, parent, format!("t{i}"))
                        });
                        let tree = TeamTree::new(rows).unwrap();
                        let mut grants = Grants::default();
                        for (i, bits) in grant_bits.iter().enumerate() {
                            // Operator-only permissions never sit in a customer organisation.
                            let set = ALPHABET
                                .iter()
                                .enumerate()
                                .filter(|(b, p)| bits & (1 << b) != 0 && !p.operator_only())
                                .map(|(_, p)| *p)
                                .collect();
                            grants.set(i as i32, set);
                        }
                        let members = member
                            .iter()
                            .map(|m| (0..n as i32).filter(|t| m[*t as usize]).collect())
                            .collect();
                        Org {
                            tree,
                            grants,
                            members,
                        }
                    })
            })
        }

        fn arb_op() -> impl Strategy<Value = Op> {
            let team = 0i32..10;
            let permission = prop_oneof![
                4 => (0..ALPHABET.len()).prop_map(|i| ALPHABET[i]),
                1 => (0..Permission::ALL.len()).prop_map(|i| Permission::ALL[i]),
            ];
            prop_oneof![
                (team.clone(), permission.clone()).prop_map(|(t, p)| Op::Grant(t, p)),
                (team.clone(), permission).prop_map(|(t, p)| Op::Revoke(t, p)),
                (0..USERS, team.clone()).prop_map(|(u, t)| Op::Add(u, t)),
                (0..USERS, team).prop_map(|(u, t)| Op::Remove(u, t)),
            ]
        }

        /// The property is not vacuous: over the generated cases, the actor often adds people
        /// to teams they are not a member of and grants onward, and is often refused.
        #[test]
        fn the_generated_changes_are_accepted_and_refused() {
            use proptest::strategy::ValueTree;
            use proptest::test_runner::TestRunner;
            let mut runner = TestRunner::deterministic();
            let (mut added_outside, mut refused_adds, mut granted) = (0, 0, 0);
            for _ in 0..500 {
                let mut org = arb_org().new_tree(&mut runner).unwrap().current();
                let ops = proptest::collection::vec(arb_op(), 1..24)
                    .new_tree(&mut runner)
                    .unwrap()
                    .current();
                for op in &ops {
                    if !org.tree.contains(op.team()) {
                        continue;
                    }
                    let outside = !org.members[ACTOR].contains(&op.team());
                    match (op, org.apply(op)) {
                        (Op::Add(..), true) if outside => added_outside += 1,
                        (Op::Add(..), false) => refused_adds += 1,
                        (Op::Grant(..), true) => granted += 1,
                        _ => {}
                    }
                }
            }
            assert!(
                added_outside > 20 && refused_adds > 50 && granted > 50,
                "{added_outside} {refused_adds} {granted}"
            );
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            /// No sequence of operations by one user ever gives anyone (the actor included) a
            /// permission on a scope that the actor did not hold there when making the change.
            #[test]
            fn no_sequence_of_changes_escalates(
                mut org in arb_org(),
                ops in proptest::collection::vec(arb_op(), 1..24),
            ) {
                for op in &ops {
                    let actor_held = org.effective(ACTOR);
                    let before: Vec<_> = (0..USERS).map(|u| org.effective(u)).collect();
                    org.apply(op);
                    for (u, was) in before.iter().enumerate() {
                        let now = org.effective(u);
                        for s in org.tree.teams() {
                            for p in now.on(s).iter().filter(|p| !was.allows(*p, s)) {
                                prop_assert!(
                                    actor_held.allows(p, s),
                                    "{op:?} gave user {u} {p} on team {s}, which the actor lacked"
                                );
                            }
                        }
                    }
                }
            }

            /// The rule is not vacuous: an actor holding `members.manage` and the whole grant of
            /// a team may add to it, and one who may not is told exactly what is missing there.
            #[test]
            fn adding_is_refused_exactly_when_it_would_escalate(org in arb_org(), t in 0usize..64) {
                // Teams are numbered 0..n.
                let t = (t % org.tree.len()) as TeamId;
                let actor = org.access(ACTOR);
                let held = actor.effective.on(t);
                let needed = org.grants.on(t).with(Permission::MembersManage);
                match can_add_member(&actor, false, t) {
                    Ok(()) => prop_assert!(needed.iter().all(|p| held.contains(p))),
                    Err(r) => {
                        let d = r.denial().cloned().unwrap();
                        prop_assert!(!held.contains(d.permission));
                        prop_assert!(needed.contains(d.permission));
                        prop_assert_eq!(d.scope.id, t);
                    }
                }
            }
        }
    }

    /// Maria runs Northeast (2); West (4) grants `org.settings`, which she lacks. Moving Boston
    /// (3) under West would give West's members org.settings over Boston: refused. Moving it
    /// under Northeast's own subtree or itself: refused as a cycle. The root never moves.
    #[test]
    fn moves_never_form_a_cycle_nor_escalate() {
        let mut g = Grants::default();
        let mut held = templates::fleet_manager();
        held.remove(OrgSettings);
        g.set(1, PermissionSet::EMPTY.with(TeamsManage));
        g.set(2, held);
        g.set(4, PermissionSet::EMPTY.with(OrgSettings));
        let maria = UserAccess::new(policy(g.clone()), vec![2]);
        assert_eq!(can_move(&maria, false, 1, 2), Err(MoveRefusal::Root));
        // Moving Northeast needs teams.manage on its parent, Acme: rights before structure.
        assert!(matches!(
            can_move(&maria, false, 2, 3),
            Err(MoveRefusal::Rights(GrantRefusal::Missing(d))) if d.scope.id == 1
        ));
        assert_eq!(
            can_move(&maria, false, 3, 3),
            Err(MoveRefusal::IntoOwnSubtree)
        );
        // She lacks teams.manage on West itself.
        assert!(matches!(
            can_move(&maria, false, 3, 4),
            Err(MoveRefusal::Rights(GrantRefusal::Missing(d))) if d.permission == TeamsManage
        ));
        // Olga holds teams.manage everywhere but not org.settings: West's grant would escalate.
        let mut og = g.clone();
        og.set(1, held_with_manage());
        let olga = UserAccess::new(policy(og), vec![1]);
        assert!(matches!(
            can_move(&olga, false, 3, 4),
            Err(MoveRefusal::Rights(GrantRefusal::Escalation(d))) if d.permission == OrgSettings
        ));
        assert_eq!(
            can_move(&olga, false, 2, 3),
            Err(MoveRefusal::IntoOwnSubtree)
        );
        // The twin: Denver (5) under Northeast adds only Northeast's grant, which Olga holds.
        let mut og = g;
        og.set(1, held_with_manage());
        og.set(2, PermissionSet::EMPTY.with(VehiclesView));
        let olga = UserAccess::new(policy(og), vec![1]);
        assert_eq!(can_move(&olga, false, 5, 2), Ok(()));
    }

    fn held_with_manage() -> PermissionSet {
        let mut held = templates::fleet_manager();
        held.remove(OrgSettings);
        held
    }

    #[test]
    fn inviting_confers_the_teams_grant() {
        let mut g = Grants::default();
        let mut held = templates::fleet_manager();
        held.remove(OrgSettings);
        g.set(2, held);
        g.set(3, templates::technician().with(OrgSettings));
        let maria = UserAccess::new(policy(g), vec![2]);
        assert!(matches!(
            can_invite(&maria, false, 3),
            Err(GrantRefusal::Escalation(d)) if d.permission == OrgSettings
        ));
        assert_eq!(can_invite(&maria, false, 2), Ok(()));
        assert_eq!(can_manage_team(&maria, 3), Ok(()));
        assert!(
            can_manage_team(&maria, 2).is_err(),
            "needs teams.manage on Acme"
        );
        assert!(
            can_manage_team(&maria, 1).is_err(),
            "the root is not managed here"
        );
    }
}
