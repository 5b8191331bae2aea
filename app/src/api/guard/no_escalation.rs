//! The write side of the no-escalation rule (server only): every server function whose change
//! can widen anyone's permissions opens its transaction here, with its pure rule from
//! `domain::authz` (`can_grant`, `can_add_member`, … all through `authz::may_confer`).

use super::Guard;
use crate::error::AppError;
use backend::audit::{AuditedTxn, Outcome, Resource};
use domain::authz::{GrantRefusal, MoveRefusal, Permission, PersonRefusal, UserAccess};

/// A rule's refusal of a change: what goes on the audit record and what the caller is told.
pub trait ChangeRefusal: std::fmt::Display {
    /// The permission at stake, when a permission is what is missing.
    fn permission(&self) -> Option<Permission>;
    fn into_error(self) -> AppError;
}

impl ChangeRefusal for GrantRefusal {
    fn permission(&self) -> Option<Permission> {
        Some(GrantRefusal::permission(self))
    }
    fn into_error(self) -> AppError {
        AppError::Forbidden {
            message: self.to_string(),
            denial: self.denial().cloned(),
        }
    }
}

impl ChangeRefusal for MoveRefusal {
    fn permission(&self) -> Option<Permission> {
        match self {
            MoveRefusal::Rights(r) => Some(r.permission()),
            MoveRefusal::Root | MoveRefusal::IntoOwnSubtree => None,
        }
    }
    fn into_error(self) -> AppError {
        match self {
            MoveRefusal::Rights(r) => r.into_error(),
            // Not a matter of rights: a move the tree cannot take.
            other => AppError::invalid("parent", other.to_string()),
        }
    }
}

impl ChangeRefusal for PersonRefusal {
    fn permission(&self) -> Option<Permission> {
        self.denial().map(|d| d.permission)
    }
    fn into_error(self) -> AppError {
        AppError::Forbidden {
            message: self.to_string(),
            denial: self.denial().cloned(),
        }
    }
}

impl Guard {
    /// Opens the transaction of a change that may confer permissions, once `rule` allows it twice:
    /// against the caller's access as cached for this request (cheap; a refusal is audited before
    /// any lock is taken), then inside the transaction against the directory as it is now. The
    /// transaction is a serial write's, as every directory write is (independent writes never
    /// touch teams, memberships or grants), so no grant, membership or tree change can slip
    /// between that second check and the write. Returns the
    /// transaction and the fresh access the write should read from.
    pub async fn begin_checked<R: ChangeRefusal>(
        &self,
        resource: Resource,
        rule: impl Fn(&UserAccess) -> Result<(), R>,
    ) -> Result<(AuditedTxn, UserAccess), AppError> {
        if let Err(r) = rule(&self.access) {
            return Err(refuse_grant(self, resource, r).await);
        }
        let txn = self.begin_write().await?;
        let p = &self.principal;
        let fresh = backend::access::load_access(&*txn, p.organisation_id, p.user_id).await?;
        if let Err(r) = rule(&fresh) {
            // Nothing was written: end the transaction (and its turn) before recording the
            // denial, which on SQLite needs the one writer's turn.
            txn.commit_unaudited().await?;
            return Err(refuse_grant(self, resource, r).await);
        }
        Ok((txn, fresh))
    }
}

/// Audits a refused change as a denial (the permission at stake, or why) and answers with the
/// refusal's explanation.
pub async fn refuse_grant<R: ChangeRefusal>(g: &Guard, resource: Resource, r: R) -> AppError {
    let details = match r.permission() {
        Some(p) => backend::audit::Details::permission(p),
        None => backend::audit::Details::why(r.to_string()),
    };
    g.audit(resource, Outcome::Denied, details).await;
    r.into_error()
}
