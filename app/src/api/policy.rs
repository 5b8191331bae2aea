//! What a server function needs before it looks at any data, declared beside the function by
//! its type (`impl Declared for EditVehicle`), and the admission rule that reads it.
//!
//! The guard is entered with the function's type, so a function without a declaration does not
//! compile; the door (`api::door`) looks the same declarations up by path for every request.

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

/// A server function's declared policy, implemented beside the function.
pub trait Declared: ServerFn {
    const POLICY: Policy;
}

/// A server function's path, read from its type (the `#[server]` macro's `endpoint`), never
/// typed out a second time.
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

pub const fn read<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Read)
}

pub const fn write<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Write)
}

pub const fn exit<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::Exit)
}

pub const fn own_name_only<F: ServerFn>(requirement: Requirement) -> Policy {
    policy::<F>(requirement, Kind::OwnNameOnly)
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
