//! The permission model: pure, no I/O, compiled for the server and for the wasm frontend, so the
//! UI greys out exactly what the server refuses, with the same explanation.
//!
//! - [`Permission`] / [`PermissionSet`]: the catalogue and its bitset form.
//! - [`TeamTree`]: an organisation's teams; a grant on a team flows down to its subtree.
//! - [`EffectivePermissions`]: what one user may do on each team, precomputed per session.
//! - [`UserAccess::check`]: `(principal, permission, scope) → Decision`; a denial explains itself.
//! - [`may_confer`]: the one no-escalation rule, for every path that can widen anyone's
//!   permissions ([`can_grant`], [`can_add_member`], …).
//! - [`troubleshoot`]: why a check is allowed or denied, the smallest fixes and who may apply
//!   them, who can, what can, and two users compared — from the same code as the guard.

mod catalogue;
mod decision;
mod effective;
mod escalation;
mod ids;
mod person;
mod tree;
pub mod troubleshoot;

pub use catalogue::{Permission, PermissionGroup, PermissionSet, UnknownPermission, templates};
pub use decision::{Decision, Denial};
pub use effective::{EffectivePermissions, Grants, OrgPolicy, UserAccess};
pub use escalation::{
    GrantRefusal, MoveRefusal, can_add_member, can_grant, can_invite, can_manage_team, can_move,
    may_confer,
};
pub use ids::IdMap;
pub use person::{PersonRefusal, can_manage_person};
pub use tree::{TeamId, TeamRef, TeamTree, TreeError};
pub use troubleshoot::{
    BlastRadius, Change, Difference, Explanation, Fix, Gain, Holder, Members, Owned,
    ResourceCounts, Step, TeamAccess, UserGains, UserId, compare, explain, fixes, what_can,
    who_can,
};
