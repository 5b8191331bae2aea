//! The one guard every server function goes through (server only): the declared policy, the
//! principal from the session, the cached effective permissions, the check, and the audit of a
//! denial.

use super::policy::{self, Caller, Policy, Refusal, Requirement};
use crate::error::{AppError, AuthFailure};
use backend::audit::{self, Outcome};
use backend::principal::{Authentication, Principal};
use backend::state::AppState;
use domain::authz::{Decision, Permission, TeamId, UserAccess};
use std::sync::Arc;

pub struct Guard {
    pub principal: Principal,
    pub state: AppState,
    pub access: Arc<UserAccess>,
    policy: &'static Policy,
}

/// The answer to a call of a server function without a declared policy (deny by default).
fn not_available(path: &str) -> AppError {
    tracing::error!(path, "server function without a declared policy refused");
    AppError::Forbidden {
        message: "This action is not available.".into(),
        denial: None,
    }
}

/// The door of every server function, run by the server's middleware on each `/api/` request
/// *before* its arguments are parsed, public functions included: the declared policy (none →
/// refused), a session when it needs one (401, before anything is parsed or echoed), and what
/// may be done in someone else's name. A refusal of a signed-in caller is audited.
pub async fn admit(
    state: &AppState,
    path: &str,
    auth: Option<&Authentication>,
) -> Result<&'static Policy, AppError> {
    let policy = policy::lookup(path).ok_or_else(|| not_available(path))?;
    let principal = auth.and_then(|a| a.result.as_ref().ok());
    let caller = match principal {
        None => Caller::Anonymous,
        Some(p) => match &p.impersonation {
            None => Caller::Own,
            Some(imp) => Caller::Impersonating(imp.mode),
        },
    };
    let Err(refusal) = policy::admit(policy, caller) else {
        return Ok(policy);
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
        record(state, entry_of(p, policy, "-", Outcome::Denied, details)).await;
    }
    Err(err)
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
        self.guard.audit("-", Outcome::Denied, self.details).await;
        self.error
    }
}

impl Guard {
    /// Enters the server function at `path`: refuses it when it has no declared policy (deny by
    /// default) and when there is no live session.
    pub async fn enter(path: &str) -> Result<Guard, AppError> {
        match Self::admit(path).await? {
            Admission::Admitted(g) => Ok(g),
            Admission::Refused(r) => Err(r.audit().await),
        }
    }

    /// Like [`Guard::enter`], but a refusal by the operator requirement is handed back
    /// unaudited, for a caller that records the attempt with its subject. The door
    /// ([`admit`]: missing policy, missing session, what may be done in someone else's name)
    /// refuses and audits as in `enter`.
    pub async fn admit(path: &str) -> Result<Admission, AppError> {
        let state = super::ctx::state()?;
        let auth = super::ctx::authentication()?;
        let policy = admit(&state, path, Some(&auth)).await?;
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
        Ok(match refusal {
            None => Admission::Admitted(guard),
            Some((error, details)) => Admission::Refused(Refused {
                guard,
                error,
                details,
            }),
        })
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
                self.audit("-", Outcome::Denied, details).await;
                Err(e)
            }
        }
    }

    /// Checks the declared permission on `scope`, the owning team of the resource at hand.
    /// A denial is audited and answered 403 with its explanation.
    pub async fn authorize(&self, scope: TeamId, resource: &str) -> Result<(), AppError> {
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
        resource: &str,
    ) -> Result<(), AppError> {
        match self.access.check(permission, scope) {
            Decision::Allow => Ok(()),
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
            self.require(p, root, "list").await?;
        }
        Ok(teams)
    }

    fn entry(&self, resource: &str, outcome: Outcome, details: audit::Details) -> audit::Entry {
        entry_of(&self.principal, self.policy, resource, outcome, details)
    }

    /// Records an event about this request that changes nothing else (a denial); a failure to
    /// audit is logged, never hidden.
    pub async fn audit(&self, resource: &str, outcome: Outcome, details: audit::Details) {
        record(&self.state, self.entry(resource, outcome, details)).await;
    }

    /// Opens the transaction of a write; finish it with [`Guard::commit_write`], which appends
    /// the audit row inside it. No check or denial may be audited while it is open.
    pub async fn begin_write(&self) -> Result<audit::AuditedTxn, AppError> {
        Ok(audit::begin(&self.state.db).await?)
    }

    /// Commits a write together with its audit row.
    pub async fn commit_write(
        &self,
        txn: audit::AuditedTxn,
        resource: &str,
        details: audit::Details,
    ) -> Result<(), AppError> {
        Ok(txn
            .commit_with(self.entry(resource, Outcome::Success, details))
            .await?)
    }
}

/// The audit record of a request by `principal` (both identities while impersonating).
fn entry_of(
    principal: &Principal,
    policy: &Policy,
    resource: &str,
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
        resource: Some(resource.to_owned()),
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
