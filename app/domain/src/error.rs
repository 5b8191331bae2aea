//! The parts of an error that the core decides: which field is wrong and why, and why a request
//! carries no usable session. The server and the UI wrap them in the one application error.

use serde::{Deserialize, Serialize};

/// A field-level validation message (`field` is the form field's name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why a request carries no usable session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthFailure {
    /// No session cookie at all.
    Missing,
    /// A cookie that is not a valid token (bad signature, garbage, wrong issuer …).
    Invalid,
    /// The token or its session has expired.
    Expired,
    /// The session was signed out or revoked.
    Revoked,
    /// E-mail and password did not match an active account.
    BadCredentials,
    /// The impersonation ended (exit elsewhere, expiry, or a rule no longer holds).
    ImpersonationEnded,
    /// The account was deactivated (told only after the right password, or to its session).
    Deactivated,
    /// The account's organisation is suspended.
    Suspended,
}

/// Input refused, with a message per field (the application answers it 422).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Please correct the highlighted fields.")]
pub struct Invalid {
    pub fields: Vec<FieldError>,
}

impl Invalid {
    /// One field's message.
    pub fn field(field: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            fields: vec![FieldError {
                field: field.to_owned(),
                message: message.into(),
            }],
        }
    }
}
