//! The one guard every server function goes through (server only): the declared policy, the
//! principal from the session, the cached effective permissions, the check, and the audit of a
//! denial.
//!
//! A server function enters with its own type (`Guard::enter::<EditVehicle>()`), which names its
//! policy; its permissions are private, so every decision — an enforced check or which controls
//! a page shows enabled — is asked of the guard.

mod no_escalation;

pub use no_escalation::{ChangeRefusal, refuse_grant};

use super::policy::{self, Caller, Declared, Policy, Refusal, Requirement};
use crate::error::{AppError, AuthFailure};
pub use backend::audit::Resource;
use backend::audit::{self, Outcome};
use backend::group_commit::Write;
use backend::principal::{Authentication, Principal};
use backend::state::AppState;
use domain::authz::{
    Decision, GrantRefusal, Permission, PermissionSet, TeamId, TeamTree, UserAccess,
};
use std::sync::Arc;

pub struct Guard {
    principal: Principal,
    state: AppState,
    access: Arc<UserAccess>,
    policy: Policy,
}

/// The answer to a call of a server function without a declared policy (deny by default).
pub(crate) fn not_available(path: &str) -> AppError {
    tracing::error!(path, "server function without a declared policy refused");
    AppError::Forbidden {
        message: "This action is not available.".into(),
        denial: None,
    }
}

/// The door of every server function, run by the server's middleware on each `/api/` request
/// *before* its arguments are parsed (through `api::door`, which finds the declaration by path),
/// public functions included, and again when the function enters the guard: a session when the
/// declaration needs one (401, before anything is parsed or echoed), and what may be done in
/// someone else's name. A refusal of a signed-in caller is audited.
pub async fn admit(
    state: &AppState,
    policy: &Policy,
    auth: Option<&Authentication>,
) -> Result<(), AppError> {
    let principal = auth.and_then(|a| a.result.as_ref().ok());
    let caller = match principal {
        None => Caller::Anonymous,
        Some(p) => match &p.impersonation {
            None => Caller::Own,
            Some(imp) => Caller::Impersonating(imp.mode),
        },
    };
    let Err(refusal) = policy::admit(policy, caller) else {
        return Ok(());
    };
    let err = match refusal {
        Refusal::NotSignedIn => AppError::Unauthenticated {
            reason: match auth.map(|a| &a.result) {
                Some(Err(reason)) => *reason,
                _ => AuthFailure::Missing,
            },
        },
        Refusal::ReadOnly => AppError::ReadOnlyImpersonation,
        Refusal::NotInSomeoneElsesName => AppError::Forbidden {
            message: "This cannot be done while viewing as someone else.".into(),
            denial: None,
        },
    };
    if let Some(p) = principal {
        let details = audit::Details::why(err.to_string());
        record(
            state,
            entry_of(p, policy, Resource::Unspecified, Outcome::Denied, details),
        )
        .await;
    }
    Err(err)
}

/// The door of a public server function (no session needed), for its body: the same
/// admission as the middleware's (own-name-only ones are refused while viewing as someone),
/// then the application's state. There is no guard: nobody is signed in to decide about.
pub async fn enter_public<F: Declared>() -> Result<AppState, AppError> {
    let policy = F::POLICY;
    super::ctx::with_request_path(|path| entered_as(path, policy.path))??;
    let state = super::ctx::state()?;
    let auth = super::ctx::authentication().ok();
    admit(&state, &policy, auth.as_ref()).await?;
    Ok(state)
}

/// The audit record of a public function's write (accepting an invitation, a password reset):
/// `user` is who it was about and, when they did it themselves, `actor` too.
pub fn public_entry<F: Declared>(
    organisation: Option<i32>,
    actor: Option<i32>,
    user: i32,
    resource: Resource,
    details: audit::Details,
) -> audit::Entry {
    audit::Entry {
        organisation_id: organisation,
        actor_user_id: actor,
        subject_user_id: Some(user),
        impersonation_id: None,
        action: F::POLICY.path.trim_start_matches("/api/").to_owned(),
        resource: Some(resource.to_string()),
        outcome: Outcome::Success,
        details,
    }
}

/// The outcome of entering a server function: admitted, or refused at the door (no live policy
/// rule allows it). A refusal is not audited yet: [`Refused::audit`] records it the usual way,
/// a caller that knows more about the attempt (whom it was aimed at) records it itself.
pub enum Admission {
    Admitted(Guard),
    Refused(Refused),
}

/// A refusal at the door, with what is needed to record it; it cannot be turned into a guard.
#[must_use = "a refusal must be audited and returned"]
pub struct Refused {
    guard: Guard,
    pub error: AppError,
    pub details: audit::Details,
}

impl Refused {
    pub fn state(&self) -> &AppState {
        &self.guard.state
    }

    pub fn principal(&self) -> &Principal {
        &self.guard.principal
    }

    /// Records the refusal as the guard does for every server function, and returns its error.
    pub async fn audit(self) -> AppError {
        self.guard
            .audit(Resource::Unspecified, Outcome::Denied, self.details)
            .await;
        self.error
    }
}

/// The request a server function runs for must be a call of that very function: a body that
/// entered with another function's type would be checked against the wrong policy. (Pages
/// rendered on the server call server functions in-process, under the page's own path.)
fn entered_as(request_path: &str, function_path: &'static str) -> Result<(), AppError> {
    if request_path.starts_with("/api/") && request_path != function_path {
        tracing::error!(
            request_path,
            function_path,
            "a server function entered the guard with another function's policy"
        );
        return Err(AppError::Internal);
    }
    Ok(())
}

impl Guard {
    /// Enters the server function `F`: refuses it when it has no declared policy (deny by
    /// default) and when there is no live session.
    pub async fn enter<F: Declared>() -> Result<Guard, AppError> {
        match Self::admit::<F>().await? {
            Admission::Admitted(g) => Ok(g),
            Admission::Refused(r) => Err(r.audit().await),
        }
    }

    /// Like [`Guard::enter`], but a refusal by the operator requirement is handed back
    /// unaudited, for a caller that records the attempt with its subject. The door
    /// ([`admit`]: missing policy, missing session, what may be done in someone else's name)
    /// refuses and audits as in `enter`.
    pub async fn admit<F: Declared>() -> Result<Admission, AppError> {
        let policy = F::POLICY;
        super::ctx::with_request_path(|path| entered_as(path, policy.path))??;
        let state = super::ctx::state()?;
        let auth = super::ctx::authentication()?;
        admit(&state, &policy, Some(&auth)).await?;
        let principal = super::ctx::principal()?;
        let access = state.access.for_principal(&state.db, &principal).await?;
        let guard = Guard {
            principal,
            state,
            access,
            policy,
        };
        let refusal = match policy.requirement {
            Requirement::Operator(p) => guard.operator_refusal(p),
            _ => None,
        };
        if refusal.is_none() {
            guard.trail().await;
        }
        Ok(match refusal {
            None => Admission::Admitted(guard),
            Some((error, details)) => Admission::Refused(Refused {
                guard,
                error,
                details,
            }),
        })
    }

    /// What support looked at: during an impersonation, every read is recorded under it, with
    /// the path it was made for (a page rendered on the server reads under the page's own path;
    /// the browser's reads under the function's), so the impersonation's trail shows what was
    /// seen. A person's reads of their own data are not recorded.
    async fn trail(&self) {
        self.trail_of(Resource::Unspecified).await;
    }

    /// A read of `resource` during an impersonation, on its trail (a read's check that passed
    /// names the record it let through: which vehicle, which work order).
    async fn trail_of(&self, resource: Resource) {
        if self.principal.impersonation.is_none() || self.policy.kind != policy::Kind::Read {
            return;
        }
        let path = super::ctx::with_request_path(str::to_owned).unwrap_or_default();
        self.audit(
            resource,
            Outcome::Success,
            audit::Details::new().with(audit::Field::Path, path),
        )
        .await;
    }

    /// Refuses an operator-wide permission the caller does not hold on any operator team.
    fn operator_refusal(&self, permission: Permission) -> Option<(AppError, audit::Details)> {
        if self.principal.operator && self.access.effective.anywhere(permission) {
            return None;
        }
        let e = AppError::Forbidden {
            message: format!(
                "You need “{}” ({}), which only operator staff can hold.",
                permission.label(),
                permission.key()
            ),
            denial: None,
        };
        Some((e, audit::Details::permission(permission)))
    }

    /// An operator-wide permission: held on any team of the operator organisation.
    pub async fn require_operator(&self, permission: Permission) -> Result<(), AppError> {
        match self.operator_refusal(permission) {
            None => Ok(()),
            Some((e, details)) => {
                self.audit(Resource::Unspecified, Outcome::Denied, details)
                    .await;
                Err(e)
            }
        }
    }

    /// Checks the declared permission on `scope`, the owning team of the resource at hand.
    /// A denial is audited and answered 403 with its explanation.
    pub async fn authorize(&self, scope: TeamId, resource: Resource) -> Result<(), AppError> {
        let Requirement::Permission(permission) = self.policy.requirement else {
            return Ok(());
        };
        self.require(permission, scope, resource).await
    }

    /// Checks a permission beyond the declared one (e.g. granting P also needs P itself).
    pub async fn require(
        &self,
        permission: Permission,
        scope: TeamId,
        resource: Resource,
    ) -> Result<(), AppError> {
        match self.access.check(permission, scope) {
            Decision::Allow => {
                self.trail_of(resource).await;
                Ok(())
            }
            Decision::Deny(denial) => {
                self.audit(
                    resource,
                    Outcome::Denied,
                    audit::Details::permission(permission),
                )
                .await;
                Err(AppError::Forbidden {
                    message: denial.describe(),
                    denial: Some(denial),
                })
            }
        }
    }

    /// For list endpoints: the teams where the caller holds the declared permission. Holding it
    /// nowhere is a 403 that names the organisation's root team as the scope.
    pub async fn visible_teams(&self) -> Result<Vec<TeamId>, AppError> {
        let Requirement::Permission(p) = self.policy.requirement else {
            return Ok(Vec::new());
        };
        let teams: Vec<TeamId> = self.access.effective.teams_with(p).collect();
        if teams.is_empty() {
            let root = self.access.policy.tree.root();
            self.require(p, root, Resource::List).await?;
        }
        Ok(teams)
    }

    /// What a list of the visible teams' records is limited to, given `teams` (among the ones
    /// [`Guard::visible_teams`] named): those teams, or `None` when they are every team of the
    /// caller's organisation. A list's query is limited to the organisation already, and naming
    /// a thousand teams in it cost PostgreSQL more to plan than the list's rows cost to read
    /// (docs/BENCHMARKS.md, sixth stop). Nothing more is shown that way: every team of the tree
    /// is among them, the root too, and scope flows down from the root to a team created since
    /// the tree was read.
    pub fn team_filter(&self, teams: &[TeamId]) -> Option<Vec<TeamId>> {
        (!self.tree().is_covered_by(teams)).then(|| teams.to_vec())
    }

    /// The running server's state (database, tokens …).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Who is calling (the effective user while impersonating).
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The caller's organisation's teams: structure, not a decision.
    pub fn tree(&self) -> &TeamTree {
        &self.access.policy.tree
    }

    /// The caller's organisation's policy (tree and grants) exactly as this guard decides from
    /// it, for the troubleshooter, whose answers must never disagree with enforcement. Data,
    /// not a decision: every decision about the caller is still asked of the guard.
    pub fn org_policy(&self) -> Arc<domain::authz::OrgPolicy> {
        Arc::clone(&self.access.policy)
    }

    /// What `team` itself grants (shown on the permission matrix; not a decision).
    pub fn granted_on(&self, team: TeamId) -> PermissionSet {
        self.access.policy.grants.on(team)
    }

    /// The decision on `permission` at `scope`, with its explanation, for a control the page
    /// shows enabled or greyed out. Not audited: nothing was attempted.
    pub fn decide(&self, permission: Permission, scope: TeamId) -> Decision {
        self.access.check(permission, scope)
    }

    /// Whether `permission` is held at `scope` (for filtering what a page lists).
    pub fn allows(&self, permission: Permission, scope: TeamId) -> bool {
        self.access.effective.allows(permission, scope)
    }

    /// Whether `permission` is held on any team.
    pub fn holds_anywhere(&self, permission: Permission) -> bool {
        self.access.effective.anywhere(permission)
    }

    /// The teams where the caller holds `permission` (what a page may count or list).
    pub fn teams_with(&self, permission: Permission) -> Vec<TeamId> {
        self.access.effective.teams_with(permission).collect()
    }

    /// The teams the caller is a direct member of.
    pub fn memberships(&self) -> &[TeamId] {
        &self.access.memberships
    }

    /// Everything the caller holds on `team`.
    pub fn held_on(&self, team: TeamId) -> PermissionSet {
        self.access.effective.on(team)
    }

    /// The teams whose grants give the caller `permission` on `team` (the "via" of My access).
    pub fn sources(&self, permission: Permission, team: TeamId) -> Vec<domain::authz::TeamRef> {
        self.access.sources(permission, team)
    }

    /// Whether the caller may grant `permission` on `team` (the no-escalation rule), for the
    /// matrix's controls.
    pub fn may_grant(&self, permission: Permission, team: TeamId) -> Result<(), GrantRefusal> {
        domain::authz::can_grant(&self.access, self.principal.operator, permission, team)
    }

    /// Whether the caller may use `permission` on the person `target`, a member of
    /// `target_teams` (needed on every one of them), for a page's controls.
    pub fn may_manage_person(
        &self,
        permission: Permission,
        target: i32,
        target_teams: &[TeamId],
    ) -> Result<(), domain::authz::PersonRefusal> {
        domain::authz::can_manage_person(
            &self.access,
            self.principal.user_id,
            permission,
            target,
            target_teams,
        )
    }

    /// Enforces [`Guard::may_manage_person`]: a refusal is audited and answered 403.
    pub async fn require_person(
        &self,
        permission: Permission,
        target: i32,
        target_teams: &[TeamId],
        resource: Resource,
    ) -> Result<(), AppError> {
        match self.may_manage_person(permission, target, target_teams) {
            Ok(()) => Ok(()),
            Err(r) => Err(refuse_grant(self, resource, r).await),
        }
    }

    /// Whether the caller may invite people into `team` (the no-escalation rule).
    pub fn may_invite(&self, team: TeamId) -> Result<(), GrantRefusal> {
        domain::authz::can_invite(&self.access, self.principal.operator, team)
    }

    /// Whether the caller may rename or delete `team`.
    pub fn may_manage_team(&self, team: TeamId) -> Result<(), GrantRefusal> {
        domain::authz::can_manage_team(&self.access, team)
    }

    /// Whether the caller may move `team` under `parent`.
    pub fn may_move(&self, team: TeamId, parent: TeamId) -> bool {
        domain::authz::can_move(&self.access, self.principal.operator, team, parent).is_ok()
    }

    /// Whether the caller may add members to `team` (the no-escalation rule).
    pub fn may_add_member(&self, team: TeamId) -> Result<(), GrantRefusal> {
        domain::authz::can_add_member(&self.access, self.principal.operator, team)
    }

    fn entry(&self, resource: Resource, outcome: Outcome, details: audit::Details) -> audit::Entry {
        entry_of(&self.principal, &self.policy, resource, outcome, details)
    }

    /// Records an event about this request that changes nothing else (a denial); a failure to
    /// audit is logged, never hidden.
    pub async fn audit(&self, resource: Resource, outcome: Outcome, details: audit::Details) {
        record(&self.state, self.entry(resource, outcome, details)).await;
    }

    /// Opens the transaction of a write; finish it with [`Guard::commit_write`], which appends
    /// the audit row inside it. No check or denial may be audited while it is open.
    pub async fn begin_write(&self) -> Result<audit::AuditedTxn, AppError> {
        Ok(audit::begin(&self.state.db).await?)
    }

    /// A write whose every invariant the database holds (a unique constraint, a foreign key, a
    /// compare-and-set on a version; [`audit::Isolation::Independent`]), committed with its audit
    /// row in a group with other requests' (`backend::group_commit`). Answers once that group
    /// committed. `work` may run more than once — after another write of its group failed — so
    /// it rebuilds its change from what it captured, and does nothing but its statements.
    pub async fn write_independent<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: Write<Result<Written<T>, AppError>>,
    {
        let principal = Arc::new(self.principal.clone());
        let policy = self.policy;
        self.state
            .writes
            .write(move |txn| {
                let done = work(txn);
                let principal = principal.clone();
                Box::pin(async move {
                    let w = done.await?;
                    let entry =
                        entry_of(&principal, &policy, w.resource, Outcome::Success, w.details);
                    Ok((w.value, vec![entry]))
                })
            })
            .await
    }

    /// Commits a write together with its audit row.
    pub async fn commit_write(
        &self,
        txn: audit::AuditedTxn,
        resource: Resource,
        details: audit::Details,
    ) -> Result<(), AppError> {
        Ok(txn
            .commit_with(self.entry(resource, Outcome::Success, details))
            .await?)
    }
}

/// What an independent write did ([`Guard::write_independent`]): its answer, the record it
/// changed and what its audit row says about the change.
pub struct Written<T> {
    pub value: T,
    pub resource: Resource,
    pub details: audit::Details,
}

impl<T> Written<T> {
    pub fn new(value: T, resource: Resource) -> Written<T> {
        Written {
            value,
            resource,
            details: audit::Details::new(),
        }
    }

    pub fn with(self, details: audit::Details) -> Written<T> {
        Written { details, ..self }
    }
}

/// The audit record of a request by `principal` (both identities while impersonating).
fn entry_of(
    principal: &Principal,
    policy: &Policy,
    resource: Resource,
    outcome: Outcome,
    details: audit::Details,
) -> audit::Entry {
    let (actor, impersonation_id) = match &principal.impersonation {
        Some(imp) => (imp.actor.user_id, Some(imp.id.clone())),
        None => (principal.user_id, None),
    };
    audit::Entry {
        organisation_id: Some(principal.organisation_id),
        actor_user_id: Some(actor),
        subject_user_id: Some(principal.user_id),
        impersonation_id,
        action: policy.path.trim_start_matches("/api/").to_owned(),
        resource: Some(resource.to_string()),
        outcome,
        details,
    }
}

/// Appends an event that changes nothing else (a denial); a failure to audit is logged, never
/// hidden, and never turns the answer into a 500.
async fn record(state: &AppState, entry: audit::Entry) {
    if let Err(e) = audit::record(&state.db, entry).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vehicles::{EditVehicle, RetireVehicle};
    use leptos::server_fn::ServerFn;

    fn path<F: ServerFn>() -> &'static str {
        policy::path_of::<F>()
    }

    #[test]
    fn a_function_entering_with_another_functions_type_is_refused() {
        let edit = path::<EditVehicle>();
        assert_eq!(entered_as(edit, edit), Ok(()));
        assert_eq!(
            entered_as(path::<RetireVehicle>(), edit),
            Err(AppError::Internal)
        );
    }

    #[test]
    fn a_page_rendered_on_the_server_calls_functions_under_its_own_path() {
        assert_eq!(entered_as("/vehicles/3", path::<EditVehicle>()), Ok(()));
    }
}
