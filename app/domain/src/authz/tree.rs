//! An organisation's team tree. Scope flows down: a grant on a team covers its whole subtree.

use super::ids::IdMap;
use serde::{Deserialize, Serialize};

pub type TeamId = i32;

/// A team as people see it: id and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TeamRef {
    pub id: TeamId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("team {0} appears twice")]
    Duplicate(TeamId),
    #[error("team {team} names a parent {parent} that is not in the organisation")]
    UnknownParent { team: TeamId, parent: TeamId },
    #[error("the teams {0:?} form a cycle or hang below one")]
    Cycle(Vec<TeamId>),
    #[error("an organisation has exactly one root team; found {0}")]
    Roots(usize),
}

#[derive(Clone, Debug)]
struct Node {
    id: TeamId,
    parent: Option<usize>,
    name: String,
}

/// The teams of one organisation in topological order (every parent before its children).
#[derive(Clone, Debug)]
pub struct TeamTree {
    nodes: Vec<Node>,
    index: IdMap<usize>,
}

impl TeamTree {
    /// Builds the tree from `(id, parent, name)` rows in any order, refusing anything that is
    /// not exactly one tree.
    pub fn new(
        rows: impl IntoIterator<Item = (TeamId, Option<TeamId>, String)>,
    ) -> Result<TeamTree, TreeError> {
        let rows: Vec<_> = rows.into_iter().collect();
        let mut children: IdMap<Vec<usize>> = IdMap::default();
        let mut seen: IdMap<()> = IdMap::default();
        let mut roots = Vec::new();
        for (i, (id, parent, _)) in rows.iter().enumerate() {
            if seen.insert(*id, ()).is_some() {
                return Err(TreeError::Duplicate(*id));
            }
            match parent {
                Some(p) => children.entry(*p).or_default().push(i),
                None => roots.push(i),
            }
        }
        for (id, parent, _) in &rows {
            if let Some(p) = parent
                && !seen.contains_key(p)
            {
                return Err(TreeError::UnknownParent {
                    team: *id,
                    parent: *p,
                });
            }
        }
        if roots.len() != 1 {
            return Err(TreeError::Roots(roots.len()));
        }
        // Breadth-first from the root: parents are placed before their children.
        let mut nodes: Vec<Node> = Vec::with_capacity(rows.len());
        let mut index = IdMap::default();
        let mut queue = std::collections::VecDeque::from([(roots[0], None)]);
        while let Some((row, parent)) = queue.pop_front() {
            let (id, _, name) = &rows[row];
            let pos = nodes.len();
            nodes.push(Node {
                id: *id,
                parent,
                name: name.clone(),
            });
            index.insert(*id, pos);
            for &c in children.get(id).map(Vec::as_slice).unwrap_or_default() {
                queue.push_back((c, Some(pos)));
            }
        }
        if nodes.len() != rows.len() {
            let stray = rows
                .iter()
                .map(|r| r.0)
                .filter(|id| !index.contains_key(id))
                .collect();
            return Err(TreeError::Cycle(stray));
        }
        Ok(TeamTree { nodes, index })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, team: TeamId) -> bool {
        self.index.contains_key(&team)
    }

    pub fn root(&self) -> TeamId {
        self.nodes[0].id
    }

    pub fn name(&self, team: TeamId) -> Option<&str> {
        self.index.get(&team).map(|&i| self.nodes[i].name.as_str())
    }

    pub fn team_ref(&self, team: TeamId) -> Option<TeamRef> {
        self.name(team).map(|n| TeamRef {
            id: team,
            name: n.to_owned(),
        })
    }

    pub fn parent(&self, team: TeamId) -> Option<TeamId> {
        let i = *self.index.get(&team)?;
        self.nodes[i].parent.map(|p| self.nodes[p].id)
    }

    /// `team`, its parent, … up to the root. Empty for a team not in the tree.
    pub fn ancestors(&self, team: TeamId) -> impl Iterator<Item = TeamId> + '_ {
        let mut at = self.index.get(&team).copied();
        std::iter::from_fn(move || {
            let i = at?;
            at = self.nodes[i].parent;
            Some(self.nodes[i].id)
        })
    }

    /// Whether `team` is `ancestor` or lies below it.
    pub fn is_within(&self, team: TeamId, ancestor: TeamId) -> bool {
        self.ancestors(team).any(|t| t == ancestor)
    }

    /// Every team, parents before children.
    pub fn teams(&self) -> impl Iterator<Item = TeamId> + '_ {
        self.nodes.iter().map(|n| n.id)
    }

    /// Whether `teams` name every team of the tree (whatever else, or however often, they name).
    pub fn is_covered_by(&self, teams: &[TeamId]) -> bool {
        // Fewer names than teams can never cover them: most callers see a few teams, not all.
        if teams.len() < self.nodes.len() {
            return false;
        }
        let mut named = vec![false; self.nodes.len()];
        for t in teams {
            if let Some(&i) = self.index.get(t) {
                named[i] = true;
            }
        }
        named.into_iter().all(|n| n)
    }

    /// How deep a team sits (the root is 0), for indenting the tree.
    pub fn depth(&self, team: TeamId) -> usize {
        self.ancestors(team).count().saturating_sub(1)
    }

    /// (position of parent) for each position: the walk `EffectivePermissions` makes.
    pub(super) fn parent_positions(&self) -> impl Iterator<Item = (TeamId, Option<usize>)> + '_ {
        self.nodes.iter().map(|n| (n.id, n.parent))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Acme's demo tree: 1 Acme › 2 Northeast › 3 Boston; 1 › 4 West › 5 Denver.
    pub fn acme() -> TeamTree {
        TeamTree::new([
            (3, Some(2), "Boston Depot".to_owned()),
            (1, None, "Acme Logistics".to_owned()),
            (5, Some(4), "Denver Depot".to_owned()),
            (2, Some(1), "Northeast Region".to_owned()),
            (4, Some(1), "West Region".to_owned()),
        ])
        .unwrap()
    }

    #[test]
    fn parents_come_first_and_ancestry_is_walked_up() {
        let t = acme();
        let order: Vec<_> = t.teams().collect();
        for team in &order {
            if let Some(p) = t.parent(*team) {
                let pos = |x| order.iter().position(|o| *o == x).unwrap();
                assert!(pos(p) < pos(*team));
            }
        }
        assert_eq!(t.ancestors(3).collect::<Vec<_>>(), [3, 2, 1]);
        assert!(t.is_within(3, 1) && t.is_within(3, 3) && !t.is_within(5, 2));
        assert_eq!(t.depth(3), 2);
        assert_eq!(t.root(), 1);
        assert_eq!(t.ancestors(99).count(), 0);
    }

    #[test]
    fn a_tree_is_covered_only_by_every_one_of_its_teams() {
        let t = acme();
        let all: Vec<TeamId> = t.teams().collect();
        assert!(t.is_covered_by(&all));
        let mut twice_and_more = all.iter().rev().copied().collect::<Vec<_>>();
        twice_and_more.extend([all[0], 999]);
        assert!(
            t.is_covered_by(&twice_and_more),
            "order, repeats, strangers"
        );
        for left_out in &all {
            let rest: Vec<TeamId> = all.iter().copied().filter(|x| x != left_out).collect();
            assert!(!t.is_covered_by(&rest), "all but {left_out}");
            let with_a_stranger: Vec<TeamId> = rest.iter().copied().chain([999]).collect();
            assert!(
                !t.is_covered_by(&with_a_stranger),
                "a stranger is no team of it"
            );
        }
        assert!(!t.is_covered_by(&[]));
    }

    #[test]
    fn malformed_trees_are_refused() {
        let r = |id, p: Option<i32>| (id, p, String::new());
        assert_eq!(
            TeamTree::new([r(1, None), r(1, None)]).unwrap_err(),
            TreeError::Duplicate(1)
        );
        assert_eq!(
            TeamTree::new([r(1, None), r(2, Some(9))]).unwrap_err(),
            TreeError::UnknownParent { team: 2, parent: 9 }
        );
        assert_eq!(
            TeamTree::new([r(1, None), r(2, None)]).unwrap_err(),
            TreeError::Roots(2)
        );
        assert_eq!(
            TeamTree::new([r(1, None), r(2, Some(3)), r(3, Some(2))]).unwrap_err(),
            TreeError::Cycle(vec![2, 3])
        );
    }
}
