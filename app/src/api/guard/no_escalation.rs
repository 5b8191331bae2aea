//! The write side of the no-escalation rule (server only): every server function whose change
//! can widen anyone's permissions opens its transaction here, with its pure rule from
//! `domain::authz` (`can_grant`, `can_add_member`, … all through `authz::may_confer`).

use super::Guard;
use crate::error::AppError;
use backend::audit::{AuditedTxn, Outcome, Resource};
use domain::authz::{GrantRefusal, UserAccess};

impl Guard {
    /// Opens the transaction of a change that may confer permissions, once `rule` allows it twice:
    /// against the caller's access as cached for this request (cheap; a refusal is audited before
    /// any lock is taken), then inside the transaction against the directory as it is now. The
    /// transaction holds the audit chain's lock, which every directory write takes, so no grant,
    /// membership or tree change can slip between that second check and the write. Returns the
    /// transaction and the fresh access the write should read from.
    pub async fn begin_checked(
        &self,
        resource: Resource,
        rule: impl Fn(&UserAccess) -> Result<(), GrantRefusal>,
    ) -> Result<(AuditedTxn, UserAccess), AppError> {
        if let Err(r) = rule(&self.access) {
            return Err(refuse_grant(self, resource, r).await);
        }
        let txn = self.begin_write().await?;
        let p = &self.principal;
        let fresh = backend::access::load_access(&*txn, p.organisation_id, p.user_id).await?;
        if let Err(r) = rule(&fresh) {
            // Nothing was written: ending the transaction releases the chain's lock, which
            // recording the denial needs.
            txn.commit_unaudited().await?;
            return Err(refuse_grant(self, resource, r).await);
        }
        Ok((txn, fresh))
    }
}

/// Audits a refused change as a denial (the permission at stake) and answers 403 with the
/// refusal's explanation.
pub async fn refuse_grant(g: &Guard, resource: Resource, r: GrantRefusal) -> AppError {
    g.audit(
        resource,
        Outcome::Denied,
        backend::audit::Details::permission(r.permission()),
    )
    .await;
    AppError::Forbidden {
        message: r.to_string(),
        denial: r.denial().cloned(),
    }
}
