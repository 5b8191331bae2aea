//! Who people are: the kind of organisation they belong to, their role, their e-mail address.

use serde::{Deserialize, Serialize};
use std::fmt;

crate::keyed! {
    /// A user's single role. It decides impersonation eligibility and the default permission template
    /// of new teams; it is never consulted for a fleet action.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum Role {
        Admin = ("admin", "Admin"),
        Support = ("support", "Support"),
        FleetManager = ("fleet_manager", "Fleet Manager"),
        Technician = ("technician", "Technician"),
    }
}

impl Role {
    /// Operator roles belong to the vendor's organisation only.
    pub const fn is_operator(self) -> bool {
        matches!(self, Role::Admin | Role::Support)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

crate::keyed! {
    /// The kind of an organisation: the one vendor (operator) or a customer tenant.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum OrgKind {
        Operator = ("operator", "Operator"),
        Customer = ("customer", "Customer"),
    }
}

/// An e-mail address, trimmed and lower-cased, so that lookups and the unique index are
/// case-insensitive on every database.
///
/// Deserialising parses too (`try_from`), so no `Email` exists that `parse` would refuse.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(raw: String) -> Result<Email, EmailError> {
        Email::parse(&raw)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an e-mail address.")]
    Empty,
    #[error("An e-mail address has at most 254 characters.")]
    TooLong,
    #[error("Enter an e-mail address like name@example.com.")]
    Malformed,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        // Normalised before it is measured: lowercasing can lengthen a string (`Ⱥ` is two
        // bytes, `ⱥ` three), and what is stored and compared is the lowercase form.
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(EmailError::Malformed);
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::VehicleStatus;

    #[test]
    fn email_is_normalised() {
        let e = Email::parse("  Maria@ACME.test ").unwrap();
        assert_eq!(e.as_str(), "maria@acme.test");
    }

    #[test]
    fn bad_emails_are_refused_with_a_reason() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "maria",
            "maria@",
            "@acme.test",
            "a@b@c.test",
            "a b@c.test",
            "a@test",
            "a@.test",
            "a@test.",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        let long = format!("{}@acme.test", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    /// Found by the `validators` fuzz target: an address within the limit as typed, over it once
    /// lowercased (the stored form).
    #[test]
    fn the_limit_holds_for_the_lowercase_form_that_is_stored() {
        // `Ⱥ` (U+023A, 2 bytes) lowercases to `ⱥ` (U+2C65, 3 bytes).
        let fits = format!("{}@acme.test", "Ⱥ".repeat(81));
        assert_eq!(fits.len(), 172);
        assert!(Email::parse(&fits).is_ok());
        let grows = format!("{}@acme.test", "Ⱥ".repeat(122));
        assert!(grows.len() <= Email::MAX_LEN);
        assert_eq!(Email::parse(&grows), Err(EmailError::TooLong));
        let exact = format!("{}@acme.test", "ⱥ".repeat(81));
        assert_eq!(Email::parse(&exact).map(|e| e.as_str().len()), Ok(253));
    }

    #[test]
    fn role_and_status_keys_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_key(r.key()), Some(r));
        }
        assert_eq!(Role::from_key("superuser"), None);
        assert!(Role::Admin.is_operator() && Role::Support.is_operator());
        assert!(!Role::FleetManager.is_operator() && !Role::Technician.is_operator());
        for s in [
            VehicleStatus::Active,
            VehicleStatus::InShop,
            VehicleStatus::Retired,
        ] {
            assert_eq!(VehicleStatus::from_key(s.key()), Some(s));
        }
        assert_eq!(OrgKind::from_key("operator"), Some(OrgKind::Operator));
    }
}
