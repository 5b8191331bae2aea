//! Deny by default: the declared policy of every server function, in one table.
//!
//! The guard refuses a server function that is not listed here, and a test enumerates every
//! registered server function and fails on one without an entry (or an entry without one).

use crate::authz::Permission;

/// What a server function needs before it looks at any data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// No session needed (signing in).
    Public,
    /// Any signed-in user; the function reads only the caller's own data.
    SignedIn,
    /// This permission on the scope of the resource the function touches (checked by the guard
    /// once the resource's owning team is known).
    Permission(Permission),
    /// An operator-wide permission, held on any team of the operator organisation.
    Operator(Permission),
}

/// What a server function does, which decides what it may do in someone else's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Reads only: allowed while impersonating, in either mode.
    Read,
    /// Changes state: refused in read-only impersonation.
    Write,
    /// Leaves a session (sign-out, exit): always allowed.
    Exit,
    /// Never in someone else's name, in any mode: credentials, sessions, impersonation itself.
    OwnNameOnly,
}

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// The server function's path (`/api/<endpoint>`).
    pub path: &'static str,
    pub requirement: Requirement,
    pub kind: Kind,
}

const fn policy(path: &'static str, requirement: Requirement, kind: Kind) -> Policy {
    Policy {
        path,
        requirement,
        kind,
    }
}

const fn read(path: &'static str, requirement: Requirement) -> Policy {
    policy(path, requirement, Kind::Read)
}

const fn write(path: &'static str, requirement: Requirement) -> Policy {
    policy(path, requirement, Kind::Write)
}

const fn exit(path: &'static str, requirement: Requirement) -> Policy {
    policy(path, requirement, Kind::Exit)
}

const fn own_name_only(path: &'static str, requirement: Requirement) -> Policy {
    policy(path, requirement, Kind::OwnNameOnly)
}

use Permission as P;
use Requirement::{Operator, Permission as Needs, Public, SignedIn};

pub const POLICIES: &[Policy] = &[
    own_name_only("/api/login", Public),
    exit("/api/logout", SignedIn),
    exit("/api/impersonation/exit", SignedIn),
    own_name_only("/api/account/password", SignedIn),
    own_name_only("/api/impersonation/start", Operator(P::UsersImpersonate)),
    read("/api/admin/users", Operator(P::OrgsViewAll)),
    read("/api/admin/orgs", Operator(P::OrgsViewAll)),
    read("/api/audit/list", SignedIn),
    read("/api/org/settings", SignedIn),
    write("/api/org/consent", Needs(P::OrgSettings)),
    read("/api/me", SignedIn),
    read("/api/access/mine", SignedIn),
    read("/api/vehicles/list", Needs(P::VehiclesView)),
    read("/api/vehicles/get", Needs(P::VehiclesView)),
    write("/api/vehicles/create", Needs(P::VehiclesCreate)),
    write("/api/vehicles/edit", Needs(P::VehiclesEdit)),
    write("/api/vehicles/retire", Needs(P::VehiclesRetire)),
    write("/api/work_orders/create", Needs(P::WorkOrdersCreate)),
    write("/api/inspections/submit", Needs(P::InspectionsSubmit)),
    read("/api/dashboard", SignedIn),
    read("/api/work_orders/list", Needs(P::WorkOrdersView)),
    read("/api/work_orders/get", Needs(P::WorkOrdersView)),
    write("/api/work_orders/status", Needs(P::WorkOrdersUpdate)),
    write("/api/work_orders/complete", Needs(P::WorkOrdersComplete)),
    write("/api/work_orders/assign", Needs(P::WorkOrdersAssign)),
    read("/api/teams/matrix", Needs(P::TeamsView)),
    read("/api/teams/members", Needs(P::TeamsView)),
    write("/api/members/add", Needs(P::MembersManage)),
    write("/api/members/remove", Needs(P::MembersManage)),
    write("/api/permissions/grant", Needs(P::PermissionsGrant)),
    write("/api/permissions/revoke", Needs(P::PermissionsGrant)),
];

/// The declared policy of a server function, by path.
pub fn lookup(path: &str) -> Option<&'static Policy> {
    POLICIES.iter().find(|p| p.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_under_api() {
        let mut paths: Vec<_> = POLICIES.iter().map(|p| p.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), POLICIES.len());
        assert!(POLICIES.iter().all(|p| p.path.starts_with("/api/")));
    }

    #[test]
    fn unknown_paths_have_no_policy() {
        assert!(lookup("/api/drop_everything").is_none());
        assert_eq!(
            lookup("/api/login").map(|p| p.requirement),
            Some(Requirement::Public)
        );
    }
}
