//! Impersonation rules ("view as"), pure and shared: the server enforces them on every request,
//! the admin console shows the same reasons on disabled **View as** buttons.

use crate::authz::Permission;
use crate::people::{OrgKind, Role};
use serde::{Deserialize, Serialize};

pub const DEFAULT_MINUTES: u32 = 30;
pub const MAX_MINUTES: u32 = 60;
pub const REASON_MIN: usize = 10;
pub const REASON_MAX: usize = 500;
pub const TICKET_MAX: usize = 100;

crate::keyed! {
    /// `view` (read-only, the default) or `act` (writes allowed; needs `users.impersonate_act`).
    #[derive(Serialize, Deserialize)]
    pub enum Mode {
        View = ("view", "Read-only"),
        Act = ("act", "Act as user"),
    }
}

impl Mode {
    /// The operator permissions an impersonation in this mode needs, held on any operator team.
    pub const fn needs(self) -> &'static [Permission] {
        match self {
            Mode::View => &[Permission::UsersImpersonate],
            Mode::Act => &[
                Permission::UsersImpersonate,
                Permission::UsersImpersonateAct,
            ],
        }
    }
}

crate::keyed! {
    /// A customer organisation's consent, owned by its fleet managers.
    #[derive(Serialize, Deserialize)]
    pub enum Consent {
        Allowed = ("allowed", "Allowed"),
        ReadOnly = ("read_only", "Read-only only"),
        WithGrant = ("with_grant", "Only with a grant"),
        Never = ("never", "Never"),
    }
}

impl Consent {
    /// Whether this consent lets operator staff view as one of the organisation's people in
    /// `mode`, given the strongest live support access grant covering that person (`grant`).
    pub fn allows(self, mode: Mode, grant: Option<Mode>) -> Result<(), Refusal> {
        match (self, mode, grant) {
            (Consent::Never, _, _) => Err(Refusal::OrganisationSaysNever),
            (Consent::ReadOnly, Mode::Act, _) => Err(Refusal::OrganisationSaysReadOnly),
            (Consent::WithGrant, _, None) => Err(Refusal::NoGrant),
            (Consent::WithGrant, Mode::Act, Some(Mode::View)) => Err(Refusal::GrantReadOnly),
            _ => Ok(()),
        }
    }

    /// The strongest mode a support access grant may give under this consent, if any: a grant
    /// never opens more than the organisation allows.
    pub const fn grant_ceiling(self) -> Option<Mode> {
        match self {
            Consent::Allowed | Consent::WithGrant => Some(Mode::Act),
            Consent::ReadOnly => Some(Mode::View),
            Consent::Never => None,
        }
    }
}

/// What the rules need to know about the person to be viewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub user_id: i32,
    pub role: Role,
    pub active: bool,
    pub org_kind: OrgKind,
    pub consent: Consent,
    /// Their organisation is suspended: nobody of it uses the app, support included.
    pub suspended: bool,
    /// The organisation that marked them (or a team above them) protected: never viewed as.
    pub protected_by: Option<String>,
    /// The strongest live support access grant covering them (`Act` over `View`), if any.
    pub grant: Option<Mode>,
}

/// Why someone cannot be viewed as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("Admins can never be viewed as.")]
    Admin,
    #[error("Support staff can never be viewed as.")]
    Support,
    #[error("Operator staff can never be viewed as.")]
    Operator,
    #[error("You cannot view as yourself.")]
    Yourself,
    #[error("This user is deactivated.")]
    Deactivated,
    #[error("This organisation is suspended.")]
    Suspended,
    #[error("This organisation does not allow impersonation.")]
    OrganisationSaysNever,
    #[error("This organisation allows read-only impersonation only.")]
    OrganisationSaysReadOnly,
    #[error("No support access grant: ask the customer.")]
    NoGrant,
    #[error("The support access grant allows read-only viewing only.")]
    GrantReadOnly,
    #[error("Protected by {by}.")]
    Protected { by: String },
    #[error("You are already viewing as someone; impersonation cannot be nested.")]
    Nested,
    #[error("Acting as a user needs users.impersonate_act.")]
    CannotAct,
}

/// Whether `actor` may view as `target` in `mode` (permissions are checked by the caller).
pub fn eligibility(actor_user_id: i32, target: &Target, mode: Mode) -> Result<(), Refusal> {
    match target.role {
        Role::Admin => return Err(Refusal::Admin),
        Role::Support => return Err(Refusal::Support),
        _ => {}
    }
    if target.org_kind == OrgKind::Operator {
        return Err(Refusal::Operator);
    }
    if target.user_id == actor_user_id {
        return Err(Refusal::Yourself);
    }
    if !target.active {
        return Err(Refusal::Deactivated);
    }
    if target.suspended {
        return Err(Refusal::Suspended);
    }
    // Whatever the consent and the grants say: protection is the customer's last word.
    if let Some(by) = &target.protected_by {
        return Err(Refusal::Protected { by: by.clone() });
    }
    target.consent.allows(mode, target.grant)
}

/// Text typed on one line: no control characters (CR, LF, tab, ESC, NUL, any Cc), no Unicode
/// line or paragraph separator, and no invisible format character that reorders or hides text
/// (bidi overrides and isolates, marks, zero-width ones). Any of them could make the text read
/// like another field or another record.
fn is_invisible_layout(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' // line and paragraph separators (Zl, Zp)
            | '\u{00AD}' | '\u{061C}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}' // zero-width characters, LTR/RTL marks
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

pub(crate) fn one_line(s: &str, what: &str) -> Result<(), String> {
    if s.chars().any(|c| c.is_control() || is_invisible_layout(c)) {
        Err(format!(
            "The {what} must be one line of plain text (no line breaks or control characters)."
        ))
    } else {
        Ok(())
    }
}

/// The reason, 10 to 500 characters once trimmed, on one line.
pub fn reason(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    one_line(s, "reason")?;
    let n = s.chars().count();
    if n < REASON_MIN {
        Err(format!(
            "Give a reason of at least {REASON_MIN} characters."
        ))
    } else if n > REASON_MAX {
        Err(format!("Keep the reason under {REASON_MAX} characters."))
    } else {
        Ok(s.to_owned())
    }
}

/// The optional ticket reference, up to 100 characters once trimmed, on one line; empty means
/// none.
pub fn ticket(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    one_line(s, "ticket")?;
    if s.chars().count() > TICKET_MAX {
        return Err(format!("Use at most {TICKET_MAX} characters."));
    }
    Ok(Some(s.to_owned()).filter(|t| !t.is_empty()))
}

/// Minutes, 1 to 60; empty means the default 30.
pub fn minutes(raw: &str) -> Result<u32, String> {
    if raw.trim().is_empty() {
        return Ok(DEFAULT_MINUTES);
    }
    match raw.trim().parse::<u32>() {
        Ok(m) if (1..=MAX_MINUTES).contains(&m) => Ok(m),
        _ => Err(format!("Choose between 1 and {MAX_MINUTES} minutes.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(role: Role) -> Target {
        Target {
            user_id: 7,
            role,
            active: true,
            org_kind: OrgKind::Customer,
            consent: Consent::Allowed,
            suspended: false,
            protected_by: None,
            grant: None,
        }
    }

    #[test]
    fn only_active_customer_users_other_than_oneself() {
        assert_eq!(
            eligibility(1, &target(Role::Technician), Mode::View),
            Ok(())
        );
        assert_eq!(
            eligibility(1, &target(Role::FleetManager), Mode::Act),
            Ok(())
        );
        assert_eq!(
            eligibility(1, &target(Role::Admin), Mode::View),
            Err(Refusal::Admin)
        );
        assert_eq!(
            eligibility(1, &target(Role::Support), Mode::View),
            Err(Refusal::Support)
        );
        let op = Target {
            org_kind: OrgKind::Operator,
            ..target(Role::Technician)
        };
        assert_eq!(eligibility(1, &op, Mode::View), Err(Refusal::Operator));
        assert_eq!(
            eligibility(7, &target(Role::Technician), Mode::View),
            Err(Refusal::Yourself)
        );
        let off = Target {
            active: false,
            ..target(Role::Technician)
        };
        assert_eq!(eligibility(1, &off, Mode::View), Err(Refusal::Deactivated));
        let suspended = Target {
            suspended: true,
            ..target(Role::Technician)
        };
        assert_eq!(
            eligibility(1, &suspended, Mode::View),
            Err(Refusal::Suspended)
        );
    }

    #[test]
    fn the_customer_decides() {
        let never = Target {
            consent: Consent::Never,
            ..target(Role::Technician)
        };
        assert_eq!(
            eligibility(1, &never, Mode::View),
            Err(Refusal::OrganisationSaysNever)
        );
        let ro = Target {
            consent: Consent::ReadOnly,
            ..target(Role::Technician)
        };
        assert_eq!(eligibility(1, &ro, Mode::View), Ok(()));
        assert_eq!(
            eligibility(1, &ro, Mode::Act),
            Err(Refusal::OrganisationSaysReadOnly)
        );
    }

    #[test]
    fn only_with_a_grant_needs_a_live_grant_of_the_mode_asked() {
        let gated = |grant| Target {
            consent: Consent::WithGrant,
            grant,
            ..target(Role::Technician)
        };
        assert_eq!(
            eligibility(1, &gated(None), Mode::View),
            Err(Refusal::NoGrant)
        );
        assert_eq!(eligibility(1, &gated(Some(Mode::View)), Mode::View), Ok(()));
        assert_eq!(
            eligibility(1, &gated(Some(Mode::View)), Mode::Act),
            Err(Refusal::GrantReadOnly)
        );
        assert_eq!(eligibility(1, &gated(Some(Mode::Act)), Mode::Act), Ok(()));
        // A grant opens nothing the consent closes.
        let never = Target {
            consent: Consent::Never,
            ..gated(Some(Mode::Act))
        };
        assert_eq!(
            eligibility(1, &never, Mode::View),
            Err(Refusal::OrganisationSaysNever)
        );
        let ro = Target {
            consent: Consent::ReadOnly,
            ..gated(Some(Mode::Act))
        };
        assert_eq!(
            eligibility(1, &ro, Mode::Act),
            Err(Refusal::OrganisationSaysReadOnly)
        );
        assert_eq!(Consent::Never.grant_ceiling(), None);
        assert_eq!(Consent::ReadOnly.grant_ceiling(), Some(Mode::View));
        assert_eq!(Consent::WithGrant.grant_ceiling(), Some(Mode::Act));
    }

    #[test]
    fn protection_beats_every_consent_and_grant() {
        for consent in Consent::ALL {
            for grant in [None, Some(Mode::View), Some(Mode::Act)] {
                let t = Target {
                    consent,
                    grant,
                    protected_by: Some("Acme Logistics".into()),
                    ..target(Role::Technician)
                };
                let r = eligibility(1, &t, Mode::View);
                assert_eq!(
                    r,
                    Err(Refusal::Protected {
                        by: "Acme Logistics".into()
                    })
                );
                assert_eq!(r.unwrap_err().to_string(), "Protected by Acme Logistics.");
            }
        }
    }

    #[test]
    fn reason_and_ticket_are_one_line_of_plain_text() {
        for bad in [
            "Routine check\r\nticket=SUP-9999",
            "Routine check\nticket=SUP-9999",
            "Routine check\u{1b}[2J cleared",
            "Routine check\0 with a NUL",
            "Routine\tcheck with a tab",
            "Routine check\u{85}next line",
            "Routine check\u{2028}ticket=SUP-9999",
            "Routine check\u{2029}ticket=SUP-9999",
            "Routine check \u{202E}9999-PUS=tekcit",
            "Routine check \u{2066}hidden\u{2069}",
            "Routine\u{200B}check",
        ] {
            assert!(reason(bad).unwrap_err().contains("one line"), "{bad:?}");
            assert!(ticket(bad).unwrap_err().contains("one line"), "{bad:?}");
        }
        // Surrounding whitespace (a pasted trailing newline) is trimmed, not refused.
        assert_eq!(reason("Routine check\n").unwrap(), "Routine check");
        assert_eq!(ticket(" SUP-42\n"), Ok(Some("SUP-42".into())));
        assert_eq!(ticket("  "), Ok(None));
        assert!(ticket(&"x".repeat(101)).is_err());
        assert_eq!(ticket(&"x".repeat(100)), Ok(Some("x".repeat(100))));
    }

    #[test]
    fn reason_and_duration_bounds() {
        assert!(reason("too short").is_err());
        assert_eq!(
            reason("  Ticket 4711: cannot complete  ").unwrap(),
            "Ticket 4711: cannot complete"
        );
        assert!(reason(&"x".repeat(501)).is_err());
        assert_eq!(minutes(""), Ok(30));
        assert_eq!(minutes("60"), Ok(60));
        assert!(minutes("61").is_err() && minutes("0").is_err() && minutes("x").is_err());
        for m in [Mode::View, Mode::Act] {
            assert_eq!(Mode::from_key(m.key()), Some(m));
        }
        for c in Consent::ALL {
            assert_eq!(Consent::from_key(c.key()), Some(c));
        }
    }
}
