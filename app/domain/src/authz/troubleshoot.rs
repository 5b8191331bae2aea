//! The access troubleshooter's core: "I can't do X" answered from the permission graph alone,
//! without viewing as anyone.
//!
//! - [`explain`]: allowed or denied, and the path behind it — the scope's chain up to the root,
//!   with the user's direct memberships and each team's grant — ending in the very sentence the
//!   greyed button shows.
//! - [`fixes`]: for a denial, the smallest changes that would allow it, each with its blast
//!   radius (who gains what, on how many teams, vehicles and work orders) and the people whose
//!   own access lets them apply it.
//! - [`who_can`], [`what_can`], [`compare`]: who holds a permission on a scope and through which
//!   team; what one user holds, per team; what one user has that another lacks, and why.
//!
//! Nothing here decides anything on its own. Every decision comes from the guard's own code
//! ([`UserAccess::check`], [`EffectivePermissions::compute`]) and every "who may apply it" from
//! the no-escalation rule itself ([`can_add_member`], [`can_grant`]); this module only walks the
//! tree to say why, and to work out what a change would give whom. Answers are plain data (ids,
//! names, permission sets) that the server and the wasm UI share.

use super::effective::{EffectivePermissions, OrgPolicy, UserAccess};
use super::escalation::{can_add_member, can_grant};
use super::ids::IdMap;
use super::tree::{TeamId, TeamRef, TeamTree};
use super::{Decision, Permission, PermissionSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

/// A user's id, as the database numbers them.
pub type UserId = i32;

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// Who is a direct member of which team in one organisation (both ways round), and whether it
/// is the operator organisation — which decides, as everywhere in `authz`, whether operator-only
/// permissions may be conferred. Give it the active users only: a deactivated user neither
/// applies a fix nor gains from one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Members {
    operator_org: bool,
    by_team: IdMap<Vec<UserId>>,
    by_user: IdMap<Vec<TeamId>>,
}

impl Members {
    /// From `(user, team)` membership rows in any order; duplicates count once.
    pub fn new(
        operator_org: bool,
        memberships: impl IntoIterator<Item = (UserId, TeamId)>,
    ) -> Members {
        let mut m = Members {
            operator_org,
            ..Members::default()
        };
        for (user, team) in memberships {
            m.by_team.entry(team).or_default().push(user);
            m.by_user.entry(user).or_default().push(team);
        }
        for list in m.by_team.values_mut().chain(m.by_user.values_mut()) {
            list.sort_unstable();
            list.dedup();
        }
        m
    }

    pub fn operator_org(&self) -> bool {
        self.operator_org
    }

    /// The direct members of `team`, by id.
    pub fn of_team(&self, team: TeamId) -> &[UserId] {
        self.by_team
            .get(&team)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The teams `user` is a direct member of, by id.
    pub fn teams_of(&self, user: UserId) -> &[TeamId] {
        self.by_user
            .get(&user)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// What one team owns directly (not counting its sub-teams).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub vehicles: u64,
    pub work_orders: u64,
}

/// How many vehicles and work orders each team owns, so a blast radius can say how much a
/// change reaches, not only how many teams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceCounts(IdMap<Owned>);

impl ResourceCounts {
    pub fn set(&mut self, team: TeamId, owned: Owned) {
        self.0.insert(team, owned);
    }

    pub fn on(&self, team: TeamId) -> Owned {
        self.0.get(&team).copied().unwrap_or_default()
    }
}

impl FromIterator<(TeamId, Owned)> for ResourceCounts {
    fn from_iter<I: IntoIterator<Item = (TeamId, Owned)>>(iter: I) -> Self {
        ResourceCounts(iter.into_iter().collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// One team on the way from the scope up to the root, as it bears on the question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub team: TeamRef,
    /// Whether the user is a direct member of this team (only direct members hold its grant).
    pub member: bool,
    /// Everything the team grants its direct members, on itself and its sub-teams.
    pub grant: PermissionSet,
    /// Whether that grant includes the permission asked about.
    pub grants: bool,
}

/// Why a user may or may not do something on a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub permission: Permission,
    pub scope: TeamRef,
    /// The guard's own answer ([`UserAccess::check`]).
    pub decision: Decision,
    /// The scope first, then its parent, … up to the root.
    pub path: Vec<Step>,
    /// The denial's own sentence ([`super::Denial::describe`], what the greyed button says), or
    /// "Allowed: … through <team>".
    pub sentence: String,
}

/// One change that would allow what was denied.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Change {
    /// Add `user` to `team`, which already grants the permission on the scope.
    JoinTeam { user: UserId, team: TeamRef },
    /// Grant `permission` to `team`: the lowest team on the scope's chain the user is in.
    Grant {
        team: TeamRef,
        permission: Permission,
    },
}

impl Change {
    /// The team the change is made on (and whose subtree it reaches).
    pub fn team(&self) -> &TeamRef {
        match self {
            Change::JoinTeam { team, .. } | Change::Grant { team, .. } => team,
        }
    }

    /// The operation's own permission, which an applier needs on the team before the
    /// no-escalation rule is even asked.
    fn operation(&self) -> Permission {
        match self {
            Change::JoinTeam { .. } => Permission::MembersManage,
            Change::Grant { .. } => Permission::PermissionsGrant,
        }
    }
}

/// One permission someone would gain, and how far it would reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gain {
    pub permission: Permission,
    /// Teams on which it is gained (held nowhere there before).
    pub teams: usize,
    /// Vehicles and work orders owned by those teams.
    pub vehicles: u64,
    pub work_orders: u64,
}

/// What one other person would gain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGains {
    pub user: UserId,
    pub gains: Vec<Gain>,
}

/// Everything a change would give, to whom: worked out from the tree, not guessed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlastRadius {
    /// What the user the fix is for gains (the permission asked about among it).
    pub user: Vec<Gain>,
    /// Who else gains what, by user id.
    pub others: Vec<UserGains>,
}

/// A change that would allow it, how far it reaches, and who may make it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub change: Change,
    pub blast_radius: BlastRadius,
    /// The users whose own access lets them make the change under the no-escalation rule, by
    /// id. Empty when nobody in the organisation may.
    pub appliers: Vec<UserId>,
}

/// Someone who holds a permission on a scope, and the teams it comes from (nearest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub user: UserId,
    pub through: Vec<TeamRef>,
}

/// What a user holds on one team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAccess {
    pub team: TeamRef,
    /// How deep the team sits (the root is 0), for indenting.
    pub depth: usize,
    pub permissions: PermissionSet,
}

/// A permission one user holds on a team and another lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub team: TeamRef,
    pub permission: Permission,
    pub holder: UserId,
    pub lacker: UserId,
    /// The holder's teams whose grant gives it there (nearest first).
    pub holder_through: Vec<TeamRef>,
    /// The lacker's teams on the way up from `team` (none of which grants it).
    pub lacker_member_of: Vec<TeamRef>,
    /// How many teams the difference holds on: `team` and those below it where the lacker
    /// still lacks it.
    pub teams: usize,
    /// The smallest changes that would give the lacker what the holder has here ([`fixes`]).
    pub fixes: Vec<Fix>,
}

// ---------------------------------------------------------------------------------------------
// The questions
// ---------------------------------------------------------------------------------------------

/// Why `memberships` (one user's direct teams) may or may not use `permission` on `scope`: the
/// guard's decision, the path that makes it, and the sentence the greyed button shows.
///
/// The policy comes as the sessions share it (`Arc`), so that the decision is made by the very
/// call the guard makes, [`UserAccess::check`], over the very same policy.
pub fn explain(
    policy: &Arc<OrgPolicy>,
    memberships: &[TeamId],
    permission: Permission,
    scope: TeamId,
) -> Explanation {
    let access = UserAccess::new(Arc::clone(policy), memberships.to_vec());
    let decision = access.check(permission, scope);
    let scope_ref = team_ref(&policy.tree, scope);
    let path = policy
        .tree
        .ancestors(scope)
        .map(|t| {
            let grant = policy.grants.on(t);
            Step {
                team: team_ref(&policy.tree, t),
                member: memberships.contains(&t),
                grant,
                grants: grant.contains(permission),
            }
        })
        .collect();
    let sentence = match &decision {
        Decision::Deny(denial) => denial.describe(),
        Decision::Allow => allowed(permission, &scope_ref, &access.sources(permission, scope)),
    };
    Explanation {
        permission,
        scope: scope_ref,
        decision,
        path,
        sentence,
    }
}

/// For a denial of `permission` on `scope` to `user`, the smallest changes that would allow it,
/// ranked: joining a team on the scope's chain that already grants it (nearest to the scope
/// first), then granting it to the lowest team on that chain the user is a direct member of.
/// Empty when it is allowed, or when no such change exists.
///
/// Minimal: a change's *effect* is the set of (user, permission, team) it would newly confer;
/// a candidate whose effect strictly contains another candidate's gives more to the same people
/// for the same answer, and is left out. So no offered fix is a strict superset of another.
/// (Its appliers may differ: someone who may add members but not grant loses the join that was
/// left out. The design asks for the smallest changes; [`who_can`] still names who holds it.)
///
/// Appliers are asked of [`can_add_member`] / [`can_grant`], which take a [`UserAccess`]; the
/// policy comes as an `Arc` so that each is built over the same policy, not a copy.
pub fn fixes(
    policy: &Arc<OrgPolicy>,
    members: &Members,
    counts: &ResourceCounts,
    user: UserId,
    permission: Permission,
    scope: TeamId,
) -> Vec<Fix> {
    Inquiry::new(policy, members, counts).fixes(user, permission, scope)
}

/// Who holds `permission` on `scope`, and through which teams (nearest first), by user id.
/// One walk up the scope's chain: only direct members of a team there that grants it hold it.
pub fn who_can(
    policy: &OrgPolicy,
    members: &Members,
    permission: Permission,
    scope: TeamId,
) -> Vec<Holder> {
    let mut by_user: BTreeMap<UserId, Vec<TeamRef>> = BTreeMap::new();
    let granting = policy
        .tree
        .ancestors(scope)
        .filter(|t| policy.grants.on(*t).contains(permission));
    for team in granting {
        let team_ref = team_ref(&policy.tree, team);
        for user in members.of_team(team) {
            by_user.entry(*user).or_default().push(team_ref.clone());
        }
    }
    by_user
        .into_iter()
        .map(|(user, through)| Holder { user, through })
        .collect()
}

/// Everything `memberships` (one user's direct teams) allow, per team, depth-first (a team
/// before its sub-teams), leaving out the teams where they allow nothing.
pub fn what_can(policy: &OrgPolicy, memberships: &[TeamId]) -> Vec<TeamAccess> {
    let effective = EffectivePermissions::compute(&policy.tree, &policy.grants, memberships);
    let layout = Layout::new(&policy.tree);
    layout
        .order
        .iter()
        .zip(&layout.depth)
        .filter(|(t, _)| !effective.on(**t).is_empty())
        .map(|(t, depth)| TeamAccess {
            team: team_ref(&policy.tree, *t),
            depth: *depth,
            permissions: effective.on(*t),
        })
        .collect()
}

/// What `a` holds that `b` lacks, and the other way round: on `scope`, or, without one, on every
/// team where a difference starts (the team where the holder's grant comes in; it then holds on
/// that team's subtree except below teams where the lacker holds it too, as `teams` counts).
/// Each difference carries the memberships behind it and the fixes that would give the lacker
/// what the holder has there.
pub fn compare(
    policy: &Arc<OrgPolicy>,
    members: &Members,
    counts: &ResourceCounts,
    a: UserId,
    b: UserId,
    scope: Option<TeamId>,
) -> Vec<Difference> {
    let mut inquiry = Inquiry::new(policy, members, counts);
    let (ea, eb) = (inquiry.access(a), inquiry.access(b));
    let sides = [
        (&ea.effective, &eb.effective, a, b),
        (&eb.effective, &ea.effective, b, a),
    ];
    let mut starts: Vec<(TeamId, Permission, UserId, UserId)> = Vec::new();
    let teams: Vec<(TeamId, Option<TeamId>)> = match scope {
        // A scope is asked about on its own: whatever its parent holds does not matter.
        Some(s) => vec![(s, None)],
        None => inquiry.layout.teams_with_parents().collect(),
    };
    for (team, parent) in teams {
        for (held, lacked, holder, lacker) in sides {
            let here = difference(held, lacked, team);
            let above = parent.map_or(PermissionSet::EMPTY, |p| difference(held, lacked, p));
            for p in here.iter().filter(|p| !above.contains(*p)) {
                starts.push((team, p, holder, lacker));
            }
        }
    }
    starts
        .into_iter()
        .map(|(team, p, holder, lacker)| inquiry.difference(team, p, holder, lacker))
        .collect()
}

/// The sentence for an allowed check, the twin of [`super::Denial::describe`].
fn allowed(permission: Permission, scope: &TeamRef, through: &[TeamRef]) -> String {
    let names: Vec<_> = through.iter().map(|t| t.name.as_str()).collect();
    format!(
        "Allowed: “{}” ({}) on {}, through {}.",
        permission.label(),
        permission.key(),
        scope.name,
        names.join(", ")
    )
}

/// A team's id and name; a team not in the tree is named the way [`OrgPolicy::explain`] does.
fn team_ref(tree: &TeamTree, team: TeamId) -> TeamRef {
    tree.team_ref(team).unwrap_or(TeamRef {
        id: team,
        name: format!("team {team}"),
    })
}

/// What `held` allows on `team` that `lacked` does not.
fn difference(
    held: &EffectivePermissions,
    lacked: &EffectivePermissions,
    team: TeamId,
) -> PermissionSet {
    let other = lacked.on(team);
    held.on(team)
        .iter()
        .filter(|p| !other.contains(*p))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The work behind the answers
// ---------------------------------------------------------------------------------------------

/// The tree depth-first, so that a team's subtree is one contiguous range of positions and a
/// team always comes after its parent: a blast radius is then one walk over a range.
struct Layout {
    order: Vec<TeamId>,
    at: IdMap<usize>,
    /// The subtree of `order[i]` is `i..end[i]`.
    end: Vec<usize>,
    parent: Vec<Option<usize>>,
    depth: Vec<usize>,
}

impl Layout {
    fn new(tree: &TeamTree) -> Layout {
        // The tree's own order is breadth-first; position 0 is the root.
        let rows: Vec<(TeamId, Option<usize>)> = tree.parent_positions().collect();
        let mut children = vec![Vec::new(); rows.len()];
        for (i, (_, parent)) in rows.iter().enumerate() {
            if let Some(p) = parent {
                children[*p].push(i);
            }
        }
        let mut layout = Layout {
            order: Vec::with_capacity(rows.len()),
            at: IdMap::default(),
            end: vec![0; rows.len()],
            parent: Vec::with_capacity(rows.len()),
            depth: Vec::with_capacity(rows.len()),
        };
        enum Visit {
            Open { row: usize, parent: Option<usize> },
            Close(usize),
        }
        let mut stack = Vec::new();
        if !rows.is_empty() {
            stack.push(Visit::Open {
                row: 0,
                parent: None,
            });
        }
        while let Some(visit) = stack.pop() {
            match visit {
                Visit::Open { row, parent } => {
                    let pos = layout.order.len();
                    layout.order.push(rows[row].0);
                    layout.at.insert(rows[row].0, pos);
                    layout.parent.push(parent);
                    layout.depth.push(parent.map_or(0, |p| layout.depth[p] + 1));
                    stack.push(Visit::Close(pos));
                    let kids = children[row].iter().rev();
                    stack.extend(kids.map(|&row| Visit::Open {
                        row,
                        parent: Some(pos),
                    }));
                }
                Visit::Close(pos) => layout.end[pos] = layout.order.len(),
            }
        }
        layout
    }

    fn subtree(&self, pos: usize) -> Range<usize> {
        pos..self.end[pos]
    }

    /// Every team with its parent, parents first.
    fn teams_with_parents(&self) -> impl Iterator<Item = (TeamId, Option<TeamId>)> + '_ {
        self.order
            .iter()
            .zip(&self.parent)
            .map(|(t, p)| (*t, p.map(|p| self.order[p])))
    }
}

/// A set of teams, by [`Layout`] position.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TeamSet(Vec<u64>);

impl TeamSet {
    fn new(teams: usize) -> TeamSet {
        TeamSet(vec![0; teams.div_ceil(64)])
    }

    fn insert(&mut self, pos: usize) {
        self.0[pos / 64] |= 1 << (pos % 64);
    }

    fn is_subset(&self, other: &TeamSet) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & !b == 0)
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| i * 64 + b)
        })
    }
}

/// What a change would newly confer: per (user, permission), the teams where it is gained.
/// Only non-empty sets are kept, so two effects are equal exactly when they confer the same.
type Effect = BTreeMap<(UserId, Permission), TeamSet>;

/// Whether `a` confers nothing that `b` does not.
fn within(a: &Effect, b: &Effect) -> bool {
    a.iter()
        .all(|(key, teams)| b.get(key).is_some_and(|other| teams.is_subset(other)))
}

/// The candidates that no other candidate undercuts (whose effect none strictly contains),
/// in their order. Strict containment is a strict order, so every one left out contains one
/// that is kept.
fn minimal(candidates: Vec<(Change, Rc<Effect>)>) -> Vec<(Change, Rc<Effect>)> {
    let undercut: Vec<bool> = candidates
        .iter()
        .map(|(_, e)| {
            candidates
                .iter()
                .any(|(_, other)| other != e && within(other, e))
        })
        .collect();
    candidates
        .into_iter()
        .zip(undercut)
        .filter_map(|(c, undercut)| (!undercut).then_some(c))
        .collect()
}

/// One question's shared work, so the several fixes of a comparison share it: the layout,
/// what each team owns, each user's access once computed (by the guard's own
/// [`UserAccess::new`]), what joining a team would give whom, and who may make each change.
struct Inquiry<'a> {
    policy: &'a Arc<OrgPolicy>,
    members: &'a Members,
    layout: Layout,
    owned: Vec<Owned>,
    accesses: IdMap<Rc<UserAccess>>,
    joins: BTreeMap<(UserId, TeamId), Rc<Effect>>,
    appliers: HashMap<Change, Vec<UserId>>,
}

impl<'a> Inquiry<'a> {
    fn new(
        policy: &'a Arc<OrgPolicy>,
        members: &'a Members,
        counts: &ResourceCounts,
    ) -> Inquiry<'a> {
        let layout = Layout::new(&policy.tree);
        let owned = layout.order.iter().map(|t| counts.on(*t)).collect();
        Inquiry {
            policy,
            members,
            layout,
            owned,
            accesses: IdMap::default(),
            joins: BTreeMap::new(),
            appliers: HashMap::new(),
        }
    }

    fn access(&mut self, user: UserId) -> Rc<UserAccess> {
        let (policy, members) = (self.policy, self.members);
        Rc::clone(self.accesses.entry(user).or_insert_with(|| {
            let memberships = members.teams_of(user).to_vec();
            Rc::new(UserAccess::new(Arc::clone(policy), memberships))
        }))
    }

    fn team_ref(&self, team: TeamId) -> TeamRef {
        team_ref(&self.policy.tree, team)
    }

    fn fixes(&mut self, user: UserId, permission: Permission, scope: TeamId) -> Vec<Fix> {
        if !self.layout.at.contains_key(&scope)
            || self.access(user).check(permission, scope).is_allowed()
        {
            return Vec::new();
        }
        let chain: Vec<TeamId> = self.policy.tree.ancestors(scope).collect();
        minimal(self.candidates(user, permission, &chain))
            .into_iter()
            .map(|(change, effect)| Fix {
                appliers: self.appliers(&change),
                blast_radius: self.blast_radius(user, &effect),
                change,
            })
            .collect()
    }

    /// Every change of the two kinds, ranked, with its effect.
    fn candidates(
        &mut self,
        user: UserId,
        permission: Permission,
        chain: &[TeamId],
    ) -> Vec<(Change, Rc<Effect>)> {
        let grants = &self.policy.grants;
        let mut out = Vec::new();
        for &team in chain.iter().filter(|t| grants.on(**t).contains(permission)) {
            let change = Change::JoinTeam {
                user,
                team: self.team_ref(team),
            };
            out.push((change, self.join(user, team)));
        }
        // Operator-only permissions never enter a customer organisation, whoever asks.
        let grantable = self.members.operator_org || !permission.operator_only();
        let mine = self.members.teams_of(user);
        if grantable && let Some(&team) = chain.iter().find(|t| mine.contains(t)) {
            let mut effect = Effect::new();
            let gives = PermissionSet::EMPTY.with(permission);
            for &member in self.members.of_team(team) {
                self.gains(member, gives, self.layout.at[&team], &mut effect);
            }
            let change = Change::Grant {
                team: self.team_ref(team),
                permission,
            };
            out.push((change, Rc::new(effect)));
        }
        out
    }

    /// What `user` joining `team` would give them: the team's whole grant on its subtree.
    fn join(&mut self, user: UserId, team: TeamId) -> Rc<Effect> {
        if let Some(effect) = self.joins.get(&(user, team)) {
            return Rc::clone(effect);
        }
        let mut effect = Effect::new();
        let gives = self.policy.grants.on(team);
        self.gains(user, gives, self.layout.at[&team], &mut effect);
        let effect = Rc::new(effect);
        self.joins.insert((user, team), Rc::clone(&effect));
        effect
    }

    /// Adds to `effect` what `user` would gain if `gives` were added to what they hold on the
    /// subtree at layout position `top` (joining that team, or its grant growing while they
    /// are a direct member): each permission of `gives` on each team there where they lack it.
    /// One walk of that subtree, parents first, carrying what the user holds.
    fn gains(&self, user: UserId, gives: PermissionSet, top: usize, effect: &mut Effect) {
        let (tree, grants, layout) = (&self.policy.tree, &self.policy.grants, &self.layout);
        let mine = self.members.teams_of(user);
        let own = |t: TeamId| {
            if mine.contains(&t) {
                grants.on(t)
            } else {
                PermissionSet::EMPTY
            }
        };
        let above = tree
            .ancestors(layout.order[top])
            .skip(1)
            .fold(PermissionSet::EMPTY, |held, t| held.union(own(t)));
        let range = layout.subtree(top);
        let mut held: Vec<PermissionSet> = Vec::with_capacity(range.len());
        let mut gained: Vec<(Permission, Option<TeamSet>)> =
            gives.iter().map(|p| (p, None)).collect();
        for pos in range {
            let inherited = match layout.parent[pos] {
                Some(p) if pos != top => held[p - top],
                _ => above,
            };
            let here = inherited.union(own(layout.order[pos]));
            held.push(here);
            if here.union(gives) == here {
                continue;
            }
            for (_, teams) in gained.iter_mut().filter(|(p, _)| !here.contains(*p)) {
                teams
                    .get_or_insert_with(|| TeamSet::new(layout.order.len()))
                    .insert(pos);
            }
        }
        for (p, teams) in gained {
            if let Some(teams) = teams {
                effect.insert((user, p), teams);
            }
        }
    }

    /// The direct members of the teams on `chain`, by id: nobody else holds anything on a team
    /// of that chain, so nobody else can apply a change there.
    fn people_on(&self, chain: &[TeamId]) -> Vec<UserId> {
        let mut people: Vec<UserId> = chain
            .iter()
            .flat_map(|t| self.members.of_team(*t))
            .copied()
            .collect();
        people.sort_unstable();
        people.dedup();
        people
    }

    /// The people whose own access lets them make `change`, asked of the no-escalation rule
    /// itself. Only the direct members of the change's team and of the teams above it hold
    /// anything there; of them, those whose memberships there cannot even give them the
    /// operation's own permission are not asked: the rule would refuse them first.
    fn appliers(&mut self, change: &Change) -> Vec<UserId> {
        if let Some(known) = self.appliers.get(change) {
            return known.clone();
        }
        let operator_org = self.members.operator_org;
        let chain: Vec<TeamId> = self.policy.tree.ancestors(change.team().id).collect();
        let mut out = Vec::new();
        for person in self.people_on(&chain) {
            let reach = self
                .members
                .teams_of(person)
                .iter()
                .filter(|t| chain.contains(t))
                .fold(PermissionSet::EMPTY, |s, t| {
                    s.union(self.policy.grants.on(*t))
                });
            if !reach.contains(change.operation()) {
                continue;
            }
            let access = self.access(person);
            let allowed = match change {
                Change::JoinTeam { team, .. } => can_add_member(&access, operator_org, team.id),
                Change::Grant { team, permission } => {
                    can_grant(&access, operator_org, *permission, team.id)
                }
            };
            if allowed.is_ok() {
                out.push(person);
            }
        }
        self.appliers.insert(change.clone(), out.clone());
        out
    }

    fn blast_radius(&self, user: UserId, effect: &Effect) -> BlastRadius {
        let mut radius = BlastRadius::default();
        for ((who, permission), teams) in effect {
            let gain = self.gain(*permission, teams);
            match radius.others.last_mut() {
                _ if *who == user => radius.user.push(gain),
                Some(last) if last.user == *who => last.gains.push(gain),
                _ => radius.others.push(UserGains {
                    user: *who,
                    gains: vec![gain],
                }),
            }
        }
        radius
    }

    fn gain(&self, permission: Permission, teams: &TeamSet) -> Gain {
        let (vehicles, work_orders) = teams.iter().fold((0, 0), |(v, w), pos| {
            (
                v + self.owned[pos].vehicles,
                w + self.owned[pos].work_orders,
            )
        });
        Gain {
            permission,
            teams: teams.len(),
            vehicles,
            work_orders,
        }
    }

    fn difference(
        &mut self,
        team: TeamId,
        permission: Permission,
        holder: UserId,
        lacker: UserId,
    ) -> Difference {
        let (held, lacked) = (self.access(holder), self.access(lacker));
        let lacker_member_of = self
            .policy
            .tree
            .ancestors(team)
            .filter(|t| lacked.memberships.contains(t))
            .map(|t| self.team_ref(t))
            .collect();
        let teams = self
            .layout
            .subtree(self.layout.at[&team])
            .filter(|pos| !lacked.effective.allows(permission, self.layout.order[*pos]))
            .count();
        Difference {
            team: self.team_ref(team),
            permission,
            holder,
            lacker,
            holder_through: held.sources(permission, team),
            lacker_member_of,
            teams,
            fixes: self.fixes(lacker, permission, team),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::acme;
    use super::super::{Grants, Permission::*, templates};
    use super::*;

    const MARIA: UserId = 10;
    const TINA: UserId = 11;
    const DAN: UserId = 12;
    const OLGA: UserId = 13;
    const TOM: UserId = 14;

    /// Acme as in the demo: 1 Acme › 2 Northeast › 3 Boston; 1 › 4 West › 5 Denver. Olga runs
    /// Acme, Maria Northeast; Tina works in Boston (no `work_orders.complete`), Dan in Denver.
    fn demo() -> (Arc<OrgPolicy>, Members, ResourceCounts) {
        let mut grants = Grants::default();
        grants.set(1, templates::fleet_manager());
        grants.set(2, templates::fleet_manager());
        grants.set(3, templates::technician());
        grants.set(5, templates::technician().with(WorkOrdersComplete));
        let policy = Arc::new(OrgPolicy {
            tree: acme(),
            grants,
        });
        let members = Members::new(false, [(MARIA, 2), (TINA, 3), (DAN, 5), (OLGA, 1)]);
        let owned = |vehicles, work_orders| Owned {
            vehicles,
            work_orders,
        };
        let counts = [(3, owned(4, 3)), (5, owned(3, 2))].into_iter().collect();
        (policy, members, counts)
    }

    fn names(teams: &[TeamRef]) -> Vec<&str> {
        teams.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn tina_learns_why_in_the_words_of_the_greyed_button() {
        let (policy, members, _) = demo();
        let why = explain(&policy, members.teams_of(TINA), WorkOrdersComplete, 3);
        let Decision::Deny(denial) = &why.decision else {
            panic!("tina must not complete in Boston")
        };
        assert_eq!(why.sentence, denial.describe());
        assert_eq!(
            why.sentence,
            "You need “Complete work orders” (work_orders.complete) on Boston Depot. \
             Granted to members of: Northeast Region, Acme Logistics."
        );
        let path: Vec<_> = why
            .path
            .iter()
            .map(|s| (s.team.name.as_str(), s.member, s.grants))
            .collect();
        assert_eq!(
            path,
            [
                ("Boston Depot", true, false),
                ("Northeast Region", false, true),
                ("Acme Logistics", false, true),
            ]
        );
        assert_eq!(why.path[0].grant, templates::technician());
    }

    #[test]
    fn an_allowed_check_names_the_team_it_comes_through() {
        let (policy, members, _) = demo();
        let why = explain(&policy, members.teams_of(MARIA), WorkOrdersComplete, 3);
        assert_eq!(why.decision, Decision::Allow);
        assert_eq!(
            why.sentence,
            "Allowed: “Complete work orders” (work_orders.complete) on Boston Depot, \
             through Northeast Region."
        );
        // Someone in two granting teams is told both, nearest first.
        let both = explain(&policy, &[1, 2], WorkOrdersComplete, 3);
        assert!(
            both.sentence
                .ends_with("through Northeast Region, Acme Logistics.")
        );
    }

    #[test]
    fn a_scope_outside_the_tree_is_denied_with_an_empty_path() {
        let (policy, members, counts) = demo();
        let why = explain(&policy, members.teams_of(OLGA), VehiclesView, 99);
        assert!(!why.decision.is_allowed());
        assert!(why.path.is_empty());
        assert_eq!(why.scope.name, "team 99");
        assert!(fixes(&policy, &members, &counts, OLGA, VehiclesView, 99).is_empty());
        assert!(who_can(&policy, &members, VehiclesView, 99).is_empty());
    }

    /// The ticket that started it all. Tina is Boston's only member, so granting
    /// `work_orders.complete` to Boston gives it to her alone, on Boston alone; joining
    /// Northeast or Acme would give her that and a fleet manager's whole set besides: not
    /// minimal, left out. Maria and Olga may apply it; Tina and Dan may not.
    #[test]
    fn tinas_fix_is_the_grant_to_boston_and_maria_or_olga_may_apply_it() {
        let (policy, members, counts) = demo();
        let offered = fixes(&policy, &members, &counts, TINA, WorkOrdersComplete, 3);
        assert_eq!(
            offered,
            [Fix {
                change: Change::Grant {
                    team: policy.tree.team_ref(3).unwrap(),
                    permission: WorkOrdersComplete,
                },
                blast_radius: BlastRadius {
                    user: vec![Gain {
                        permission: WorkOrdersComplete,
                        teams: 1,
                        vehicles: 4,
                        work_orders: 3,
                    }],
                    others: vec![],
                },
                appliers: vec![MARIA, OLGA],
            }]
        );
        // Allowed: nothing to fix.
        assert!(fixes(&policy, &members, &counts, MARIA, WorkOrdersComplete, 3).is_empty());
    }

    /// With a second technician in Boston, the grant reaches Tom too, and joining Northeast
    /// (which reaches only Tina) is no longer a superset of it: both are offered, the join
    /// first. Joining Acme still is a superset of joining Northeast: left out.
    #[test]
    fn a_grant_that_reaches_others_leaves_the_join_in_and_says_who_else_gains() {
        let (policy, _, counts) = demo();
        let members = Members::new(
            false,
            [(MARIA, 2), (TINA, 3), (TOM, 3), (DAN, 5), (OLGA, 1)],
        );
        let offered = fixes(&policy, &members, &counts, TINA, WorkOrdersComplete, 3);
        let changes: Vec<_> = offered.iter().map(|f| f.change.team().id).collect();
        assert_eq!(changes, [2, 3]);
        let join = &offered[0];
        assert_eq!(
            join.change,
            Change::JoinTeam {
                user: TINA,
                team: policy.tree.team_ref(2).unwrap()
            }
        );
        assert!(join.blast_radius.others.is_empty());
        // She gains the fleet-manager set on Northeast and Boston, less what she has in Boston.
        let complete = join
            .blast_radius
            .user
            .iter()
            .find(|g| g.permission == WorkOrdersComplete)
            .unwrap();
        assert_eq!((complete.teams, complete.vehicles), (2, 4));
        let view = join
            .blast_radius
            .user
            .iter()
            .find(|g| g.permission == VehiclesView);
        assert_eq!(view.map(|g| g.teams), Some(1), "only on Northeast itself");
        assert_eq!(join.appliers, [MARIA, OLGA]);
        let grant = &offered[1];
        assert_eq!(
            grant.blast_radius.others,
            [UserGains {
                user: TOM,
                gains: vec![Gain {
                    permission: WorkOrdersComplete,
                    teams: 1,
                    vehicles: 4,
                    work_orders: 3
                }]
            }]
        );
    }

    /// Maria lacks `org.settings` and Boston grants it: she may not add anyone to Boston (that
    /// would confer what she lacks), so she is not named for a join there; Olga is.
    #[test]
    fn appliers_are_held_to_the_no_escalation_rule() {
        let mut grants = Grants::default();
        let mut fm = templates::fleet_manager();
        grants.set(1, fm);
        fm.remove(OrgSettings);
        grants.set(2, fm);
        grants.set(3, templates::technician().with(OrgSettings));
        let policy = Arc::new(OrgPolicy {
            tree: acme(),
            grants,
        });
        let members = Members::new(false, [(MARIA, 2), (OLGA, 1), (DAN, 5)]);
        let counts = ResourceCounts::default();
        let offered = fixes(&policy, &members, &counts, DAN, InspectionsSubmit, 3);
        let boston = offered
            .iter()
            .find(|f| f.change.team().id == 3)
            .expect("joining Boston is offered");
        assert_eq!(boston.appliers, [OLGA]);
        // Dan is in no team on Boston's chain: there is no team of his to grant it to.
        assert!(
            offered
                .iter()
                .all(|f| matches!(f.change, Change::JoinTeam { .. }))
        );
    }

    #[test]
    fn operator_only_permissions_are_never_offered_as_a_grant_in_a_customer_org() {
        let (policy, members, counts) = demo();
        assert!(fixes(&policy, &members, &counts, TINA, UsersImpersonate, 3).is_empty());
        let operator = Members::new(true, [(TINA, 3), (OLGA, 1)]);
        let offered = fixes(&policy, &operator, &counts, TINA, UsersImpersonate, 3);
        assert!(matches!(
            offered.as_slice(),
            [Fix {
                change: Change::Grant { .. },
                ..
            }]
        ));
        // Nobody there holds it, so nobody may grant it.
        assert!(offered[0].appliers.is_empty());
    }

    #[test]
    fn who_can_complete_in_boston() {
        let (policy, members, _) = demo();
        let holders = who_can(&policy, &members, WorkOrdersComplete, 3);
        let found: Vec<_> = holders
            .iter()
            .map(|h| (h.user, names(&h.through)))
            .collect();
        assert_eq!(
            found,
            [
                (MARIA, vec!["Northeast Region"]),
                (OLGA, vec!["Acme Logistics"])
            ]
        );
        let denver = who_can(&policy, &members, WorkOrdersComplete, 5);
        let users: Vec<_> = denver.iter().map(|h| h.user).collect();
        assert_eq!(users, [DAN, OLGA]);
    }

    #[test]
    fn what_tina_and_maria_can_do_per_team() {
        let (policy, members, _) = demo();
        let tina = what_can(&policy, members.teams_of(TINA));
        assert_eq!(
            tina,
            [TeamAccess {
                team: policy.tree.team_ref(3).unwrap(),
                depth: 2,
                permissions: templates::technician(),
            }]
        );
        let maria = what_can(&policy, members.teams_of(MARIA));
        let teams: Vec<_> = maria.iter().map(|t| (t.team.id, t.depth)).collect();
        assert_eq!(teams, [(2, 1), (3, 2)]);
        assert!(
            maria
                .iter()
                .all(|t| t.permissions == templates::fleet_manager())
        );
        let olga = what_can(&policy, members.teams_of(OLGA));
        let order: Vec<_> = olga.iter().map(|t| t.team.id).collect();
        assert_eq!(
            order,
            [1, 2, 3, 4, 5],
            "depth-first: a team before its sub-teams"
        );
    }

    /// Dan completes in Denver, Tina cannot in Boston. On Boston, Tina has the technician's
    /// set and Dan nothing; with no scope, each difference is told once, where it starts.
    #[test]
    fn tina_and_dan_compared() {
        let (policy, members, counts) = demo();
        let on_boston = compare(&policy, &members, &counts, TINA, DAN, Some(3));
        assert_eq!(on_boston.len(), templates::technician().len());
        for d in &on_boston {
            assert_eq!((d.holder, d.lacker, d.team.id, d.teams), (TINA, DAN, 3, 1));
            assert_eq!(names(&d.holder_through), ["Boston Depot"]);
            assert!(d.lacker_member_of.is_empty());
            assert_eq!(
                d.fixes,
                fixes(&policy, &members, &counts, DAN, d.permission, 3)
            );
        }
        let everywhere = compare(&policy, &members, &counts, TINA, DAN, None);
        let found: Vec<_> = everywhere
            .iter()
            .map(|d| (d.team.id, d.holder, d.permission))
            .collect();
        let mut expected: Vec<_> = templates::technician()
            .iter()
            .map(|p| (3, TINA, p))
            .collect();
        expected.extend(
            templates::technician()
                .with(WorkOrdersComplete)
                .iter()
                .map(|p| (5, DAN, p)),
        );
        assert_eq!(found, expected);
        // The fix for Tina is the one the troubleshooter offers her on Boston.
        let complete = everywhere
            .iter()
            .find(|d| d.permission == WorkOrdersComplete)
            .unwrap();
        assert_eq!(complete.lacker, TINA);
        assert_eq!(
            complete.fixes,
            fixes(&policy, &members, &counts, TINA, WorkOrdersComplete, 5)
        );
    }

    /// Olga runs Acme, Maria Northeast: with no scope, Olga's advantage starts at Acme and
    /// holds on West and Denver (3 teams), not below Northeast, where Maria holds it too.
    #[test]
    fn a_difference_is_told_where_it_starts_with_the_teams_it_covers() {
        let (policy, members, counts) = demo();
        let diffs = compare(&policy, &members, &counts, OLGA, MARIA, None);
        assert_eq!(diffs.len(), templates::fleet_manager().len());
        for d in &diffs {
            assert_eq!((d.team.id, d.holder, d.teams), (1, OLGA, 3));
            assert_eq!(names(&d.lacker_member_of), Vec::<&str>::new());
        }
        assert!(compare(&policy, &members, &counts, OLGA, MARIA, Some(3)).is_empty());
    }

    #[test]
    fn answers_travel_as_json() {
        let (policy, members, counts) = demo();
        let why = explain(&policy, members.teams_of(TINA), WorkOrdersComplete, 3);
        let json = serde_json::to_string(&why).unwrap();
        assert!(json.contains("\"work_orders.complete\""));
        assert_eq!(serde_json::from_str::<Explanation>(&json).unwrap(), why);
        let offered = fixes(&policy, &members, &counts, TINA, WorkOrdersComplete, 3);
        let json = serde_json::to_string(&offered).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Fix>>(&json).unwrap(), offered);
    }

    #[test]
    fn the_layout_keeps_each_subtree_in_one_range() {
        let layout = Layout::new(&acme());
        assert_eq!(layout.order, [1, 2, 3, 4, 5]);
        assert_eq!(layout.end, [5, 3, 3, 5, 5]);
        assert_eq!(layout.depth, [0, 1, 2, 1, 2]);
        let mut set = TeamSet::new(130);
        for pos in [0, 63, 64, 129] {
            set.insert(pos);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
        assert_eq!(set.len(), 4);
        let mut more = set.clone();
        more.insert(7);
        assert!(set.is_subset(&more) && !more.is_subset(&set));
    }

    /// Random organisations, checked against the definitions: the guard's own check, the
    /// escalation functions, and effective permissions recomputed before and after a change.
    mod property {
        use super::super::super::{EffectivePermissions, Grants, OrgPolicy, TeamTree, UserAccess};
        use super::super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        const USERS: UserId = 5;

        /// A few permissions, the two that change the directory among them, so that appliers
        /// exist often enough (as in the escalation properties).
        const ALPHABET: &[Permission] = &[
            Permission::MembersManage,
            Permission::PermissionsGrant,
            Permission::VehiclesView,
            Permission::WorkOrdersComplete,
            Permission::OrgSettings,
            Permission::UsersImpersonate,
        ];

        /// Who holds what where: (user, permission, team).
        type Holdings = BTreeSet<(UserId, Permission, TeamId)>;

        #[derive(Clone, Debug)]
        pub(super) struct Org {
            tree: TeamTree,
            grants: Grants,
            memberships: Vec<Vec<TeamId>>,
            owned: Vec<Owned>,
            operator_org: bool,
        }

        impl Org {
            fn policy(&self) -> Arc<OrgPolicy> {
                Arc::new(OrgPolicy {
                    tree: self.tree.clone(),
                    grants: self.grants.clone(),
                })
            }

            fn members(&self) -> Members {
                let rows = self.memberships.iter().enumerate();
                let pairs = rows.flat_map(|(u, ts)| ts.iter().map(move |t| (u as UserId, *t)));
                Members::new(self.operator_org, pairs)
            }

            fn counts(&self) -> ResourceCounts {
                (0..).zip(self.owned.iter().copied()).collect()
            }

            fn access(&self, user: UserId) -> UserAccess {
                UserAccess::new(self.policy(), self.memberships[user as usize].clone())
            }

            fn effective(&self, user: UserId) -> EffectivePermissions {
                EffectivePermissions::compute(
                    &self.tree,
                    &self.grants,
                    &self.memberships[user as usize],
                )
            }

            fn holdings(&self) -> Holdings {
                let mut all = Holdings::new();
                for u in 0..USERS {
                    let eff = self.effective(u);
                    for t in self.tree.teams() {
                        all.extend(eff.on(t).iter().map(|p| (u, p, t)));
                    }
                }
                all
            }

            fn applied(&self, change: &Change) -> Org {
                let mut after = self.clone();
                match change {
                    Change::JoinTeam { user, team } => {
                        let mine = &mut after.memberships[*user as usize];
                        if !mine.contains(&team.id) {
                            mine.push(team.id);
                        }
                    }
                    Change::Grant { team, permission } => after.grants.grant(team.id, *permission),
                }
                after
            }

            /// What `change` newly confers, recomputed from scratch.
            fn conferred(&self, change: &Change) -> Holdings {
                let before = self.holdings();
                let after = self.applied(change).holdings();
                after.difference(&before).copied().collect()
            }

            /// The blast radius by its definition: the conferred holdings, counted.
            fn radius(&self, user: UserId, conferred: &Holdings) -> BlastRadius {
                let mut per: BTreeMap<(UserId, Permission), Gain> = BTreeMap::new();
                for &(u, p, t) in conferred {
                    let gain = per.entry((u, p)).or_insert(Gain {
                        permission: p,
                        teams: 0,
                        vehicles: 0,
                        work_orders: 0,
                    });
                    gain.teams += 1;
                    gain.vehicles += self.owned[t as usize].vehicles;
                    gain.work_orders += self.owned[t as usize].work_orders;
                }
                let mut radius = BlastRadius::default();
                for ((u, _), gain) in per {
                    if u == user {
                        radius.user.push(gain);
                    } else if let Some(last) = radius.others.last_mut().filter(|l| l.user == u) {
                        last.gains.push(gain);
                    } else {
                        radius.others.push(UserGains {
                            user: u,
                            gains: vec![gain],
                        });
                    }
                }
                radius
            }

            /// Every change of the two kinds, by the definition, ranked.
            fn candidates(&self, user: UserId, p: Permission, scope: TeamId) -> Vec<Change> {
                let team = |t| self.tree.team_ref(t).unwrap();
                let mut out: Vec<_> = self
                    .tree
                    .ancestors(scope)
                    .filter(|t| self.grants.on(*t).contains(p))
                    .map(|t| Change::JoinTeam {
                        user,
                        team: team(t),
                    })
                    .collect();
                let mine = &self.memberships[user as usize];
                let lowest = self.tree.ancestors(scope).find(|t| mine.contains(t));
                if let Some(t) = lowest.filter(|_| self.operator_org || !p.operator_only()) {
                    out.push(Change::Grant {
                        team: team(t),
                        permission: p,
                    });
                }
                out
            }

            /// Whether `user`'s own access lets them make `change`, asked of the rule itself.
            fn may_apply(&self, user: UserId, change: &Change) -> bool {
                let access = self.access(user);
                match change {
                    Change::JoinTeam { team, .. } => {
                        can_add_member(&access, self.operator_org, team.id).is_ok()
                    }
                    Change::Grant { team, permission } => {
                        can_grant(&access, self.operator_org, *permission, team.id).is_ok()
                    }
                }
            }
        }

        /// Team i's parent is one of 0..i; each team grants a random part of the alphabet
        /// (operator-only permissions only in the operator organisation); each of the users is
        /// in a random set of teams; each team owns a few vehicles and work orders.
        pub(super) fn arb_org() -> impl Strategy<Value = Org> {
            (1usize..10, prop::bool::weighted(0.2)).prop_flat_map(|(n, operator_org)| {
                let parents = (1..n).map(|i| 0..i).collect::<Vec<_>>();
                (
                    parents,
                    proptest::collection::vec(any::<u8>(), n),
                    proptest::collection::vec(
                        proptest::collection::vec(prop::bool::weighted(0.3), n),
                        USERS as usize,
                    ),
                    proptest::collection::vec((0u64..5, 0u64..5), n),
                )
                    .prop_map(move |(parents, grant_bits, member, owned)| {
                        let rows = (0..n).map(|i| {
                            let parent = (i > 0).then(|| parents[i - 1] as i32);
                            (i as i32, parent, format!("t{i}"))
                        });
                        let tree = TeamTree::new(rows).unwrap();
                        let mut grants = Grants::default();
                        for (i, bits) in grant_bits.iter().enumerate() {
                            let set = ALPHABET
                                .iter()
                                .enumerate()
                                .filter(|(b, p)| {
                                    bits & (1 << b) != 0 && (operator_org || !p.operator_only())
                                })
                                .map(|(_, p)| *p)
                                .collect();
                            grants.set(i as i32, set);
                        }
                        let memberships = member
                            .iter()
                            .map(|m| (0..n as i32).filter(|t| m[*t as usize]).collect())
                            .collect();
                        let owned = owned
                            .into_iter()
                            .map(|(vehicles, work_orders)| Owned {
                                vehicles,
                                work_orders,
                            })
                            .collect();
                        Org {
                            tree,
                            grants,
                            memberships,
                            owned,
                            operator_org,
                        }
                    })
            })
        }

        pub(super) fn arb_permission() -> impl Strategy<Value = Permission> {
            prop_oneof![
                4 => (0..ALPHABET.len()).prop_map(|i| ALPHABET[i]),
                1 => (0..Permission::ALL.len()).prop_map(|i| Permission::ALL[i]),
            ]
        }

        /// A user, a permission and a scope in the organisation (teams are numbered 0..n).
        pub(super) fn arb_question() -> impl Strategy<Value = (Org, UserId, Permission, TeamId)> {
            (arb_org(), 0..USERS, arb_permission(), 0i32..64).prop_map(|(org, u, p, s)| {
                let s = s % org.tree.len() as i32;
                (org, u, p, s)
            })
        }

        /// What every offered fix must be, checked against the definitions; panics with the
        /// broken promise. Returns the offered fixes and the candidates they were chosen from.
        fn check_fixes(org: &Org, u: UserId, p: Permission, s: TeamId) -> (Vec<Fix>, Vec<Change>) {
            let offered = fixes(&org.policy(), &org.members(), &org.counts(), u, p, s);
            let candidates = org.candidates(u, p, s);
            if org.access(u).check(p, s).is_allowed() {
                assert!(offered.is_empty(), "nothing to fix when allowed");
                return (offered, candidates);
            }
            let before: Vec<_> = (0..USERS).map(|w| org.effective(w)).collect();
            let effects: Vec<Holdings> = offered.iter().map(|f| org.conferred(&f.change)).collect();
            for (fix, conferred) in offered.iter().zip(&effects) {
                // Applying it allows what was denied.
                let after = org.applied(&fix.change);
                assert!(
                    after.access(u).check(p, s).is_allowed(),
                    "{fix:?} does not allow it"
                );
                // Its blast radius is exactly what it confers.
                assert_eq!(fix.blast_radius, org.radius(u, conferred), "{fix:?}");
                // Its appliers are exactly those the no-escalation rule lets make it…
                let may: Vec<UserId> = (0..USERS)
                    .filter(|w| org.may_apply(*w, &fix.change))
                    .collect();
                assert_eq!(fix.appliers, may, "{fix:?}");
                // … and it gives nobody, the applier included, anything the applier lacked.
                for w in &fix.appliers {
                    for (v, q, t) in conferred {
                        assert!(
                            before[*w as usize].allows(*q, *t),
                            "{fix:?} applied by {w} gives {v} {q} on {t}"
                        );
                    }
                }
            }
            // Minimal: no offered fix confers strictly more than another.
            for (i, a) in effects.iter().enumerate() {
                for (j, b) in effects.iter().enumerate() {
                    assert!(
                        i == j || !(b.is_subset(a) && b != a),
                        "{:?} is a strict superset of {:?}",
                        offered[i].change,
                        offered[j].change
                    );
                }
            }
            // Ranked as the candidates are; each candidate left out undercut by an offered fix.
            let changes: Vec<&Change> = offered.iter().map(|f| &f.change).collect();
            let mut rest = candidates.iter();
            for c in &changes {
                assert!(
                    rest.any(|x| x == *c),
                    "{c:?} out of rank or not a candidate"
                );
            }
            for c in candidates.iter().filter(|c| !changes.contains(c)) {
                let e = org.conferred(c);
                assert!(
                    effects.iter().any(|o| o.is_subset(&e) && *o != e),
                    "{c:?} left out but not a superset of any offered fix"
                );
            }
            (offered, candidates)
        }

        /// The properties are not vacuous: over the generated cases, denials get fixes of both
        /// kinds, fixes have appliers, grants reach other people, and supersets are left out.
        #[test]
        fn the_generated_questions_exercise_every_kind_of_fix() {
            use proptest::strategy::ValueTree;
            use proptest::test_runner::TestRunner;
            let mut runner = TestRunner::deterministic();
            let (mut joins, mut grants, mut applied, mut others, mut left_out) = (0, 0, 0, 0, 0);
            for _ in 0..400 {
                let (org, u, p, s) = arb_question().new_tree(&mut runner).unwrap().current();
                let (offered, candidates) = check_fixes(&org, u, p, s);
                left_out += candidates.len() - offered.len().min(candidates.len());
                for f in &offered {
                    match f.change {
                        Change::JoinTeam { .. } => joins += 1,
                        Change::Grant { .. } => grants += 1,
                    }
                    applied += usize::from(!f.appliers.is_empty());
                    others += usize::from(!f.blast_radius.others.is_empty());
                }
            }
            assert!(
                joins > 80 && grants > 35 && applied > 45 && others > 25 && left_out > 100,
                "joins {joins} grants {grants} applied {applied} others {others} left out {left_out}"
            );
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// The decision is the guard's, always; the path is the scope's chain with the
            /// user's memberships and the grants; the sentence is the greyed button's.
            #[test]
            fn explain_agrees_with_the_guard(org in arb_org(), p in arb_permission()) {
                let policy = org.policy();
                for u in 0..USERS {
                    let access = org.access(u);
                    for s in org.tree.teams().chain([99]) {
                        let why = explain(&policy, &org.memberships[u as usize], p, s);
                        prop_assert_eq!(&why.decision, &access.check(p, s));
                        let chain: Vec<_> = org.tree.ancestors(s).collect();
                        let path: Vec<_> = why.path.iter().map(|st| st.team.id).collect();
                        prop_assert_eq!(&path, &chain);
                        for st in &why.path {
                            prop_assert_eq!(st.member, access.memberships.contains(&st.team.id));
                            prop_assert_eq!(st.grant, org.grants.on(st.team.id));
                            prop_assert_eq!(st.grants, st.grant.contains(p));
                        }
                        // Allowed exactly when some step is both a membership and a grant.
                        prop_assert_eq!(
                            why.decision.is_allowed(),
                            why.path.iter().any(|st| st.member && st.grants)
                        );
                        match &why.decision {
                            Decision::Deny(d) => prop_assert_eq!(&why.sentence, &d.describe()),
                            Decision::Allow => {
                                prop_assert!(why.sentence.starts_with("Allowed: "));
                                for t in access.sources(p, s) {
                                    prop_assert!(why.sentence.contains(&t.name));
                                }
                            }
                        }
                    }
                }
            }

            /// Every offered fix allows it, states its blast radius exactly, names exactly the
            /// users the no-escalation rule lets apply it, escalates nobody, and is minimal.
            #[test]
            fn fixes_keep_their_promises((org, u, p, s) in arb_question()) {
                check_fixes(&org, u, p, s);
            }

            /// Who can: exactly the users the guard allows, through the teams it names.
            #[test]
            fn who_can_agrees_with_the_guard(org in arb_org(), p in arb_permission()) {
                let policy = org.policy();
                let members = org.members();
                for s in org.tree.teams() {
                    let holders = who_can(&policy, &members, p, s);
                    let expected: Vec<_> = (0..USERS)
                        .map(|u| org.access(u))
                        .enumerate()
                        .filter(|(_, a)| a.check(p, s).is_allowed())
                        .map(|(u, a)| Holder { user: u as UserId, through: a.sources(p, s) })
                        .collect();
                    prop_assert_eq!(holders, expected);
                }
            }

            /// What can: exactly the effective permissions, a team before its sub-teams.
            #[test]
            fn what_can_is_the_effective_permissions(org in arb_org(), u in 0..USERS) {
                let listed = what_can(&org.policy(), &org.memberships[u as usize]);
                let eff = org.effective(u);
                let teams: BTreeSet<_> = listed.iter().map(|t| t.team.id).collect();
                let expected: BTreeSet<_> =
                    org.tree.teams().filter(|t| !eff.on(*t).is_empty()).collect();
                prop_assert_eq!(teams, expected);
                for (i, entry) in listed.iter().enumerate() {
                    prop_assert_eq!(entry.permissions, eff.on(entry.team.id));
                    prop_assert_eq!(entry.depth, org.tree.depth(entry.team.id));
                    if let Some(parent) = org.tree.parent(entry.team.id) {
                        let before = listed[..i].iter().any(|e| e.team.id == parent);
                        prop_assert!(before || eff.on(parent).is_empty());
                    }
                }
            }

            /// Compare on a scope: exactly the symmetric difference of the two users' effective
            /// permissions there, with the holder's sources and the lacker's fixes.
            #[test]
            fn compare_on_a_scope_is_the_symmetric_difference(
                (org, a, _, s) in arb_question(), b in 0..USERS
            ) {
                let (policy, members, counts) = (org.policy(), org.members(), org.counts());
                let diffs = compare(&policy, &members, &counts, a, b, Some(s));
                let (ea, eb) = (org.effective(a), org.effective(b));
                let found: BTreeSet<_> = diffs.iter().map(|d| (d.holder, d.permission)).collect();
                let mut expected = BTreeSet::new();
                for p in Permission::ALL {
                    match (ea.allows(*p, s), eb.allows(*p, s)) {
                        (true, false) => { expected.insert((a, *p)); }
                        (false, true) => { expected.insert((b, *p)); }
                        _ => {}
                    }
                }
                prop_assert_eq!(found.len(), diffs.len());
                prop_assert_eq!(found, expected);
                for d in &diffs {
                    prop_assert_eq!(d.team.id, s);
                    prop_assert_eq!(&d.holder_through, &org.access(d.holder).sources(d.permission, s));
                    prop_assert_eq!(&d.fixes, &fixes(&policy, &members, &counts, d.lacker, d.permission, s));
                }
            }

            /// Compare without a scope: every team and permission where they differ is covered
            /// by exactly one reported difference, told at the team where it starts, whose
            /// `teams` counts exactly the teams it covers.
            #[test]
            fn compare_everywhere_tells_each_difference_once_where_it_starts(
                org in arb_org(), a in 0..USERS, b in 0..USERS
            ) {
                let (policy, members, counts) = (org.policy(), org.members(), org.counts());
                let diffs = compare(&policy, &members, &counts, a, b, None);
                let eff = |u| org.effective(u);
                let differs = |holder: UserId, lacker: UserId, p: Permission, t: TeamId| {
                    eff(holder).allows(p, t) && !eff(lacker).allows(p, t)
                };
                let mut covered = BTreeSet::new();
                for d in &diffs {
                    let (t, p) = (d.team.id, d.permission);
                    prop_assert!(differs(d.holder, d.lacker, p, t));
                    prop_assert!(d.holder == a && d.lacker == b || d.holder == b && d.lacker == a);
                    let starts = org.tree.parent(t).is_none_or(|q| !differs(d.holder, d.lacker, p, q));
                    prop_assert!(starts, "{:?} is told below where it starts", d);
                    let below: Vec<_> = org.tree.teams()
                        .filter(|x| org.tree.is_within(*x, t) && differs(d.holder, d.lacker, p, *x))
                        .collect();
                    prop_assert_eq!(d.teams, below.len());
                    for x in below {
                        prop_assert!(covered.insert((d.holder, p, x)), "told twice");
                    }
                }
                for t in org.tree.teams() {
                    for p in Permission::ALL {
                        for (h, l) in [(a, b), (b, a)] {
                            prop_assert_eq!(differs(h, l, *p, t), covered.contains(&(h, *p, t)));
                        }
                    }
                }
            }
        }
    }

    /// The design's scale: 1,000 teams and 5,000 users. No timing is asserted here (the
    /// ignored test below prints them); the quick test asks each question once and checks the
    /// answers against the guard.
    mod scale {
        use super::super::super::{Grants, OrgPolicy, TeamTree, UserAccess, templates};
        use super::super::*;
        use std::time::{Duration, Instant};

        const TEAMS: i32 = 1_000;
        const USERS: UserId = 5_000;

        /// splitmix64: a deterministic stream, so every run builds the same organisation.
        struct Rng(u64);

        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) % n as u64) as usize
            }
        }

        /// A random tree (team i hangs below one of 0..i), the root granting the fleet-manager
        /// set, other teams a fleet-manager, technician or mixed set or nothing; every user in
        /// one to three teams; a few managers in the root; a few vehicles and work orders each.
        fn org(seed: u64) -> (Arc<OrgPolicy>, Members, ResourceCounts) {
            let mut rng = Rng(seed);
            let rows: Vec<_> = (0..TEAMS)
                .map(|i| {
                    let parent = (i > 0).then(|| rng.below(i as usize) as i32);
                    (i, parent, format!("Team {i}"))
                })
                .collect();
            let tree = TeamTree::new(rows).unwrap();
            let mut grants = Grants::default();
            grants.set(0, templates::fleet_manager());
            let lead = templates::technician()
                .with(Permission::MembersManage)
                .with(Permission::PermissionsGrant)
                .with(Permission::WorkOrdersComplete);
            for t in 1..TEAMS {
                let set = match rng.below(10) {
                    0 => templates::fleet_manager(),
                    1..=4 => templates::technician(),
                    5 => templates::technician().with(Permission::WorkOrdersComplete),
                    6 => lead,
                    _ => PermissionSet::EMPTY,
                };
                grants.set(t, set);
            }
            let mut pairs = Vec::new();
            for u in 0..USERS {
                if u < 5 {
                    pairs.push((u, 0));
                }
                for _ in 0..=rng.below(3) {
                    pairs.push((u, rng.below(TEAMS as usize) as TeamId));
                }
            }
            let counts = (0..TEAMS)
                .map(|t| {
                    let vehicles = rng.below(20) as u64;
                    let work_orders = rng.below(40) as u64;
                    (
                        t,
                        Owned {
                            vehicles,
                            work_orders,
                        },
                    )
                })
                .collect();
            let policy = Arc::new(OrgPolicy { tree, grants });
            (policy, Members::new(false, pairs), counts)
        }

        /// Denied questions: a random user, a permission, and a scope below one of their teams.
        fn denials(
            policy: &Arc<OrgPolicy>,
            members: &Members,
            seed: u64,
            n: usize,
        ) -> Vec<(UserId, Permission, TeamId)> {
            let mut rng = Rng(seed);
            let asked = [
                Permission::WorkOrdersComplete,
                Permission::VehiclesRetire,
                Permission::MembersManage,
                Permission::InspectionsSubmit,
            ];
            let mut out = Vec::new();
            while out.len() < n {
                let u = rng.below(USERS as usize) as UserId;
                let p = asked[rng.below(asked.len())];
                let s = rng.below(TEAMS as usize) as TeamId;
                let access = UserAccess::new(Arc::clone(policy), members.teams_of(u).to_vec());
                if !access.check(p, s).is_allowed() {
                    out.push((u, p, s));
                }
            }
            out
        }

        #[test]
        fn a_thousand_teams_and_five_thousand_users() {
            let (policy, members, counts) = org(1);
            for (u, p, s) in denials(&policy, &members, 2, 3) {
                let why = explain(&policy, members.teams_of(u), p, s);
                assert!(!why.decision.is_allowed());
                assert_eq!(why.path.len(), policy.tree.depth(s) + 1);
                let offered = fixes(&policy, &members, &counts, u, p, s);
                assert!(
                    !offered.is_empty(),
                    "the root grants it, so joining it would do"
                );
                for fix in &offered {
                    let (mut memberships, mut grants) =
                        (members.teams_of(u).to_vec(), policy.grants.clone());
                    match &fix.change {
                        Change::JoinTeam { team, .. } => memberships.push(team.id),
                        Change::Grant { team, permission } => grants.grant(team.id, *permission),
                    }
                    let after = Arc::new(OrgPolicy {
                        tree: policy.tree.clone(),
                        grants,
                    });
                    assert!(UserAccess::new(after, memberships).check(p, s).is_allowed());
                }
                let holders = who_can(&policy, &members, p, s);
                assert!(holders.iter().any(|h| h.user < 5), "the root's managers");
                for h in holders.iter().take(20) {
                    let access =
                        UserAccess::new(Arc::clone(&policy), members.teams_of(h.user).to_vec());
                    assert!(access.check(p, s).is_allowed());
                }
                let listed = what_can(&policy, members.teams_of(u));
                assert!(
                    listed
                        .iter()
                        .all(|t| !t.permissions.contains(p) || t.team.id != s)
                );
                let here = compare(&policy, &members, &counts, 0, u, Some(s));
                assert!(here.iter().any(|d| d.permission == p && d.holder == 0));
                let everywhere = compare(&policy, &members, &counts, 0, u, None);
                assert!(everywhere.iter().all(|d| d.holder == 0 || d.holder == u));
            }
        }

        /// Prints what each question costs at this scale. Run once with
        /// `cargo test -p domain --release timings_at_scale -- --ignored --nocapture`.
        fn timed<T>(f: impl FnOnce() -> T) -> Duration {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        }

        #[test]
        #[ignore = "prints timings; run by hand with --release"]
        fn timings_at_scale() {
            let started = Instant::now();
            let (policy, members, counts) = org(1);
            println!("built the organisation in {:?}", started.elapsed());
            let questions = denials(&policy, &members, 3, 200);
            let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
            let mut record = |name, took| times.entry(name).or_default().push(took);
            for &(u, p, s) in &questions {
                let why = timed(|| explain(&policy, members.teams_of(u), p, s));
                let fix = timed(|| fixes(&policy, &members, &counts, u, p, s));
                let who = timed(|| who_can(&policy, &members, p, s));
                record("1 explain", why);
                record("2 fixes", fix);
                record("3 who_can", who);
                record("4 why + fixes + who can", why + fix + who);
                record(
                    "5 what_can",
                    timed(|| what_can(&policy, members.teams_of(u))),
                );
                let scoped = timed(|| compare(&policy, &members, &counts, 0, u, Some(s)));
                record("6 compare on the scope", scoped);
                let everywhere = timed(|| compare(&policy, &members, &counts, 0, u, None));
                record("7 compare everywhere", everywhere);
            }
            for (name, mut ts) in times {
                ts.sort();
                let mean = ts.iter().sum::<Duration>() / ts.len() as u32;
                let median = ts[ts.len() / 2];
                let max = ts[ts.len() - 1];
                println!(
                    "{name:>24}: mean {mean:?}, median {median:?}, max {max:?} over {}",
                    ts.len()
                );
            }
        }
    }
}
