//! Deny by default: the declared policy of every server function, in one table.
//!
//! The guard refuses a server function that is not listed here, and a test enumerates every
//! registered server function and fails on one without an entry (or an entry without one).

use super::{
    account, admin, audit_log, auth, dashboard, impersonation, inspections, org, teams, vehicles,
    work_orders,
};
use domain::authz::Permission;
use leptos::server_fn::ServerFn;

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

/// The table's key: a server function's path, read from its type (the `#[server]` macro's
/// `endpoint`), never typed out a second time.
pub const fn path_of<F: ServerFn>() -> &'static str {
    F::PATH
}

const fn policy<F: ServerFn>(requirement: Requirement, kind: Kind) -> Policy {
    Policy {
        path: path_of::<F>(),
        requirement,
        kind,
    }
}

const fn read<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Read)
}

const fn write<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Write)
}

const fn exit<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Exit)
}

const fn own_name_only<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::OwnNameOnly)
}

use Permission as P;
use Requirement::{Operator, Permission as Needs, Public, SignedIn};

pub const POLICIES: &[Policy] = &[
    own_name_only::<auth::Login>(Public),
    // Public: signing out with a dead or half-dead session must still end what is left of it.
    exit::<auth::Logout>(Public),
    exit::<impersonation::ExitImpersonation>(SignedIn),
    own_name_only::<account::ChangePassword>(SignedIn),
    own_name_only::<impersonation::StartImpersonation>(Operator(P::UsersImpersonate)),
    read::<admin::AdminUsers>(Operator(P::OrgsViewAll)),
    read::<admin::AdminOrgs>(Operator(P::OrgsViewAll)),
    read::<audit_log::AuditList>(SignedIn),
    read::<org::OrgSettings>(SignedIn),
    write::<org::SetConsent>(Needs(P::OrgSettings)),
    read::<auth::CurrentUser>(SignedIn),
    read::<teams::GetMyAccess>(SignedIn),
    read::<vehicles::ListVehicles>(Needs(P::VehiclesView)),
    read::<vehicles::GetVehicle>(Needs(P::VehiclesView)),
    write::<vehicles::CreateVehicle>(Needs(P::VehiclesCreate)),
    write::<vehicles::EditVehicle>(Needs(P::VehiclesEdit)),
    write::<vehicles::RetireVehicle>(Needs(P::VehiclesRetire)),
    write::<work_orders::CreateWorkOrder>(Needs(P::WorkOrdersCreate)),
    write::<inspections::SubmitInspection>(Needs(P::InspectionsSubmit)),
    read::<dashboard::GetDashboard>(SignedIn),
    read::<work_orders::ListWorkOrders>(Needs(P::WorkOrdersView)),
    read::<work_orders::GetWorkOrder>(Needs(P::WorkOrdersView)),
    write::<work_orders::SetWorkOrderStatus>(Needs(P::WorkOrdersUpdate)),
    write::<work_orders::CompleteWorkOrder>(Needs(P::WorkOrdersComplete)),
    write::<work_orders::AssignWorkOrder>(Needs(P::WorkOrdersAssign)),
    read::<teams::PermissionMatrix>(Needs(P::TeamsView)),
    read::<teams::TeamMembers>(Needs(P::TeamsView)),
    write::<teams::AddMember>(Needs(P::MembersManage)),
    write::<teams::RemoveMember>(Needs(P::MembersManage)),
    write::<teams::GrantPermission>(Needs(P::PermissionsGrant)),
    write::<teams::RevokePermission>(Needs(P::PermissionsGrant)),
];

/// The declared policy of a server function, by path (the door, before arguments are parsed).
pub fn lookup(path: &str) -> Option<&'static Policy> {
    POLICIES.iter().find(|p| p.path == path)
}

/// The declared policy of the server function `F`.
pub fn of<F: ServerFn>() -> Option<&'static Policy> {
    lookup(path_of::<F>())
}

/// Who is calling, as far as admission cares: the request's identity before any argument is
/// parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No usable session (missing, invalid, expired, revoked, or an impersonation that ended).
    Anonymous,
    /// Signed in, acting in their own name.
    Own,
    /// Operator staff viewing the app as a customer user, in this mode.
    Impersonating(domain::impersonation::Mode),
}

/// Why a call was refused at the door, before its arguments were looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The function needs a session and the request has none (401).
    NotSignedIn,
    /// A change in read-only impersonation (403).
    ReadOnly,
    /// Credentials, sessions and impersonation are never handled in someone else's name (403).
    NotInSomeoneElsesName,
}

/// The admission rule every server function passes before its arguments are parsed, public
/// ones included: a session when the declared requirement needs one, and what may be done in
/// someone else's name (reads always, writes only in `act` mode, exits always, never
/// credentials, sessions or impersonation itself). The permission on the resource is checked
/// later, by the guard, once the resource's owning team is known.
pub fn admit(policy: &Policy, caller: Caller) -> Result<(), Refusal> {
    use domain::impersonation::Mode;
    if caller == Caller::Anonymous {
        return match policy.requirement {
            Requirement::Public => Ok(()),
            _ => Err(Refusal::NotSignedIn),
        };
    }
    match (policy.kind, caller) {
        (_, Caller::Own) | (Kind::Read | Kind::Exit, _) => Ok(()),
        (Kind::Write, Caller::Impersonating(Mode::Act)) => Ok(()),
        (Kind::Write, _) => Err(Refusal::ReadOnly),
        (Kind::OwnNameOnly, _) => Err(Refusal::NotInSomeoneElsesName),
    }
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

    const CALLERS: [Caller; 4] = [
        Caller::Anonymous,
        Caller::Own,
        Caller::Impersonating(domain::impersonation::Mode::View),
        Caller::Impersonating(domain::impersonation::Mode::Act),
    ];

    /// The admission rule against its definition, for every declared policy and every caller.
    #[test]
    fn admission_follows_the_declaration_for_every_function_and_caller() {
        use domain::impersonation::Mode;
        for policy in POLICIES {
            for caller in CALLERS {
                let expected = match (caller, policy.requirement, policy.kind) {
                    (Caller::Anonymous, Requirement::Public, _) => Ok(()),
                    (Caller::Anonymous, _, _) => Err(Refusal::NotSignedIn),
                    (Caller::Own, _, _) => Ok(()),
                    (Caller::Impersonating(_), _, Kind::OwnNameOnly) => {
                        Err(Refusal::NotInSomeoneElsesName)
                    }
                    (Caller::Impersonating(Mode::View), _, Kind::Write) => Err(Refusal::ReadOnly),
                    (Caller::Impersonating(_), _, _) => Ok(()),
                };
                assert_eq!(
                    admit(policy, caller),
                    expected,
                    "{} as {caller:?}",
                    policy.path
                );
            }
        }
    }

    #[test]
    fn signing_in_is_never_done_in_someone_elses_name() {
        let login = of::<auth::Login>().expect("declared");
        assert_eq!(admit(login, Caller::Anonymous), Ok(()));
        for mode in [
            domain::impersonation::Mode::View,
            domain::impersonation::Mode::Act,
        ] {
            assert_eq!(
                admit(login, Caller::Impersonating(mode)),
                Err(Refusal::NotInSomeoneElsesName)
            );
        }
    }

    #[test]
    fn unknown_paths_have_no_policy() {
        assert!(lookup("/api/drop_everything").is_none());
        assert_eq!(
            lookup("/api/login").map(|p| p.requirement),
            Some(Requirement::Public)
        );
        assert_eq!(of::<auth::Login>().map(|p| p.path), Some("/api/login"));
    }
}
