//! Who a request is: the authenticated identity, and the impersonation behind it if any.

use chrono::{DateTime, Utc};
use domain::error::AuthFailure;
use domain::impersonation::Mode;
use domain::people::Role;

/// The authenticated identity of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub session_id: String,
    pub user_id: i32,
    pub organisation_id: i32,
    pub organisation: String,
    /// The vendor's own organisation (operator staff).
    pub operator: bool,
    /// The organisation's authz version when this request was authenticated.
    pub authz_version: i32,
    pub role: Role,
    pub full_name: String,
    pub email: String,
    /// Set while an operator views the app as this user.
    pub impersonation: Option<Box<ActiveImpersonation>>,
    /// Whether this person has support access notices to be shown: ones they have not
    /// dismissed, on their own session (never while someone views the app as them). Read with
    /// the session, so the notice area costs no query on the pages of everyone who has none.
    pub pending_support_notices: bool,
}

/// The live impersonation behind a principal: who is really acting, how and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveImpersonation {
    /// The impersonation session's id (the view-as token's `sid`).
    pub id: String,
    pub actor: Principal,
    pub mode: Mode,
    pub reason: String,
    pub ticket: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// What the authentication middleware found for a request, kept in its extensions.
#[derive(Clone, Debug)]
pub struct Authentication {
    /// The effective identity: the user's own, or the subject of a live impersonation.
    pub result: Result<Principal, AuthFailure>,
    /// The live session the session cookie names, whatever became of a view-as overlay on top
    /// of it: a broken overlay must never cost a request the identity it needs to end its own
    /// session (sign-out revokes this one).
    pub own_session: Option<String>,
    /// The request carried a view-as cookie that is no longer usable: the response clears it.
    pub clear_view_as: bool,
}
