//! The one application error, shared by every server function and understood by the UI.
//!
//! It travels as JSON in the body of a failed server-function call; the server maps it to an
//! HTTP status in one place (`AppError::status`). Messages are written for the person in front of
//! the screen: never a database message, a stack trace or an internal identifier.

use serde::{Deserialize, Serialize};

pub use domain::error::{AuthFailure, FieldError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("{}", unauthenticated_message(*.reason))]
    Unauthenticated { reason: AuthFailure },
    /// Refused; `denial` explains a missing permission (the UI shows the same text).
    #[error("{message}")]
    Forbidden {
        message: String,
        denial: Option<domain::authz::Denial>,
    },
    /// A change refused because the operator is viewing in read-only mode.
    #[error("This is a read-only impersonation: changes are not allowed.")]
    ReadOnlyImpersonation,
    #[error("{what} was not found.")]
    NotFound { what: String },
    #[error("{message}")]
    Conflict { message: String },
    /// A mailed link that no longer opens anything (used, expired, replaced, withdrawn).
    #[error("{message}")]
    Gone { message: String },
    #[error("Please correct the highlighted fields.")]
    Invalid { fields: Vec<FieldError> },
    #[error("Too many attempts. Try again in {} seconds.", .retry_after_secs)]
    Throttled { retry_after_secs: u64 },
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    #[error("The request could not be understood: {message}")]
    BadRequest { message: String },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

fn unauthenticated_message(reason: AuthFailure) -> &'static str {
    match reason {
        AuthFailure::Missing => "Please sign in.",
        AuthFailure::Invalid => "Your session is not valid. Please sign in again.",
        AuthFailure::Expired => "Your session has expired. Please sign in again.",
        AuthFailure::Revoked => "You have been signed out. Please sign in again.",
        AuthFailure::BadCredentials => "The e-mail or password is incorrect.",
        AuthFailure::Deactivated => {
            "This account has been deactivated. Ask your organisation's fleet manager to reactivate it."
        }
        AuthFailure::Suspended => {
            "Your organisation's access to Fleetgate is suspended. Contact Fleetgate support."
        }
        AuthFailure::ImpersonationEnded => {
            "The impersonation has ended. You are back in your own session."
        }
    }
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated { .. } => 401,
            AppError::Forbidden { .. } | AppError::ReadOnlyImpersonation => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::Gone { .. } => 410,
            AppError::Invalid { .. } => 422,
            AppError::Throttled { .. } => 429,
            AppError::Unavailable => 503,
            AppError::BadRequest { .. } => 400,
            AppError::Internal => 500,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            fields: vec![FieldError {
                field: field.to_owned(),
                message: message.into(),
            }],
        }
    }

    /// The message for one form field, if this is a validation error naming it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Invalid { fields } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.as_str()),
            _ => None,
        }
    }
}

impl server_fn_error::FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    /// Errors raised by the server-function machinery itself (a malformed body, a failed fetch).
    fn from_server_fn_error(value: server_fn_error::ServerFnErrorErr) -> Self {
        use server_fn_error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::Deserialization(m) | E::MissingArg(m) => {
                AppError::BadRequest { message: m }
            }
            E::Request(_) | E::Response(_) => AppError::Unavailable,
            _ => AppError::Internal,
        }
    }
}

impl From<domain::error::Invalid> for AppError {
    fn from(e: domain::error::Invalid) -> Self {
        AppError::Invalid { fields: e.fields }
    }
}

/// A stored value no variant has: corrupt data, logged, and a failure of the request (never
/// silently read as a default).
#[cfg(feature = "ssr")]
impl From<domain::keyed::Corrupt> for AppError {
    fn from(e: domain::keyed::Corrupt) -> Self {
        tracing::error!(error = %e, "corrupt value in the database");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<backend::repo::RepoError> for AppError {
    fn from(e: backend::repo::RepoError) -> Self {
        use backend::repo::RepoError as R;
        match e {
            R::NotFound(what) => AppError::NotFound { what: what.into() },
            R::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::repo::versioned::VersionError> for AppError {
    fn from(e: backend::repo::versioned::VersionError) -> Self {
        use backend::repo::versioned::VersionError as V;
        match e {
            V::Stale { what } => AppError::Conflict {
                message: format!(
                    "Someone else changed this {what} since you opened it. Reload it to see the \
                     latest version, then try again."
                ),
            },
            V::Duplicate { field, message } => AppError::invalid(field, message),
            V::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::link_token::LinkError> for AppError {
    fn from(e: backend::link_token::LinkError) -> Self {
        AppError::Gone {
            message: e.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::invitation::InvitationError> for AppError {
    fn from(e: backend::invitation::InvitationError) -> Self {
        use backend::invitation::InvitationError as I;
        match e {
            I::HasAccount | I::AlreadyInvited => AppError::invalid("email", e.to_string()),
            I::Suspended => AppError::Unauthenticated {
                reason: AuthFailure::Suspended,
            },
            I::Link(l) => l.into(),
            I::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::onboarding::OnboardingError> for AppError {
    fn from(e: backend::onboarding::OnboardingError) -> Self {
        use backend::onboarding::OnboardingError as O;
        match e {
            O::NameTaken => AppError::invalid("name", e.to_string()),
            O::Invitation(i) => match i {
                // The manager's address is the form's `manager_email`.
                backend::invitation::InvitationError::HasAccount
                | backend::invitation::InvitationError::AlreadyInvited => {
                    AppError::invalid("manager_email", i.to_string())
                }
                other => other.into(),
            },
            O::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::throttle::ThrottleError> for AppError {
    fn from(e: backend::throttle::ThrottleError) -> Self {
        use backend::throttle::ThrottleError as T;
        match e {
            T::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            T::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::impersonation::store::StartRefusal> for AppError {
    fn from(r: backend::impersonation::store::StartRefusal) -> Self {
        use backend::impersonation::store::StartRefusal as R;
        match r {
            R::Rule(rule) => AppError::Forbidden {
                message: rule.to_string(),
                denial: None,
            },
            R::NoSuchUser => AppError::NotFound {
                what: "User".into(),
            },
            R::SessionEnded => AppError::Unauthenticated {
                reason: AuthFailure::Revoked,
            },
        }
    }
}

/// The server_fn items this module builds on, re-exported by Leptos.
mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    /// A lost database is "unavailable" (503); a duplicate that slipped past a write's own
    /// check (two requests racing for one unique value) is a conflict (409), never a 500 — a
    /// write that knows which field the unique index is about says so with
    /// [`DuplicateField::or_duplicate`]; anything else is logged here and shown as a generic
    /// failure, never with the database's own message.
    fn from(e: sea_orm::DbErr) -> Self {
        if database_unreachable(&e) {
            tracing::warn!(error = %e, "database unreachable");
            AppError::Unavailable
        } else if sqlstate_class(&e).as_deref() == Some("22") {
            // A data exception (a value too long for its column, out of range): the request
            // carried something no form allows. A form's own check says which field; this is
            // the backstop that keeps it from being a 500.
            tracing::warn!(error = %e, "the database refused a value");
            AppError::BadRequest {
                message: "a value is too long or out of range.".into(),
            }
        } else if backend::repo::is_duplicate(&e) {
            tracing::warn!(error = %e, "unique constraint refused a write");
            AppError::Conflict {
                message: "That already exists. Reload the page to see it.".into(),
            }
        } else {
            tracing::error!(error = %e, "database error");
            AppError::Internal
        }
    }
}

/// For a write whose unique index belongs to one form field (a vehicle's VIN): a duplicate
/// becomes that field's message (422). The index is the only check: nothing reads for the
/// value before writing it.
#[cfg(feature = "ssr")]
pub trait DuplicateField<T> {
    fn or_duplicate(self, field: &str, message: &str) -> Result<T, AppError>;
}

#[cfg(feature = "ssr")]
impl<T> DuplicateField<T> for Result<T, sea_orm::DbErr> {
    fn or_duplicate(self, field: &str, message: &str) -> Result<T, AppError> {
        self.map_err(|e| {
            if backend::repo::is_duplicate(&e) {
                tracing::info!(field, "unique constraint refused a duplicate");
                AppError::invalid(field, message)
            } else {
                AppError::from(e)
            }
        })
    }
}

/// The SQLSTATE class (its first two characters) of a database error, when it has one.
#[cfg(feature = "ssr")]
fn sqlstate_class(e: &sea_orm::DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    match e {
        sea_orm::DbErr::Exec(RuntimeErr::SqlxError(x))
        | sea_orm::DbErr::Query(RuntimeErr::SqlxError(x)) => match x.as_ref() {
            // A SQLSTATE has five characters (PostgreSQL); SQLite's numeric codes are not one.
            Sqlx::Database(db) => db
                .code()
                .filter(|c| c.len() == 5)
                .map(|c| c.chars().take(2).collect()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the database, not the request, is at fault: it is down, restarting or failing over,
/// or cut the connection mid-query. Retrying later can succeed, so this is 503, never 500.
#[cfg(feature = "ssr")]
fn database_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x)) => {
            match x.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P (the server is shutting
                // down, crashed or cannot accept connections yet).
                Sqlx::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status() {
        let cases = [
            (
                AppError::Unauthenticated {
                    reason: AuthFailure::Revoked,
                },
                401,
            ),
            (
                AppError::Forbidden {
                    message: "no".into(),
                    denial: None,
                },
                403,
            ),
            (
                AppError::NotFound {
                    what: "Vehicle".into(),
                },
                404,
            ),
            (
                AppError::Conflict {
                    message: "changed".into(),
                },
                409,
            ),
            (AppError::invalid("vin", "bad"), 422),
            (
                AppError::Throttled {
                    retry_after_secs: 30,
                },
                429,
            ),
            (AppError::Unavailable, 503),
            (AppError::Internal, 500),
        ];
        for (e, status) in cases {
            assert_eq!(e.status(), status, "{e:?}");
        }
    }

    #[test]
    fn json_form_is_tagged_by_code() {
        let e = AppError::Throttled {
            retry_after_secs: 30,
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"code":"throttled","retry_after_secs":30}"#);
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
        assert_eq!(e.to_string(), "Too many attempts. Try again in 30 seconds.");
    }

    #[test]
    fn field_messages_are_found_by_field() {
        let e = AppError::invalid("email", "Enter an e-mail address.");
        assert_eq!(e.field_message("email"), Some("Enter an e-mail address."));
        assert_eq!(e.field_message("password"), None);
    }
}
