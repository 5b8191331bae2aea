//! Support access the customer controls, its pure rules: how long a grant lasts, which mode it
//! may give under the organisation's consent, and what a grant's note may hold. Who may open a
//! grant for whom is decided by the guard (`org.settings`, or oneself); whether a grant lets
//! someone be viewed as is [`crate::impersonation::eligibility`].

use crate::authz::{TeamId, TeamTree};
use crate::impersonation::{Consent, Mode};
use serde::{Deserialize, Serialize};

pub const NOTE_MAX: usize = 500;

crate::keyed! {
    /// How long a support access grant stays open.
    #[derive(Serialize, Deserialize, Default)]
    pub enum GrantLength {
        #[default]
        Hour = ("1h", "1 hour"),
        Day = ("1d", "1 day"),
        Week = ("7d", "7 days"),
    }
}

impl GrantLength {
    pub const fn hours(self) -> i64 {
        match self {
            GrantLength::Hour => 1,
            GrantLength::Day => 24,
            GrantLength::Week => 24 * 7,
        }
    }
}

/// Why a grant cannot be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GrantRefusal {
    #[error("Your organisation never allows support access, so a grant would not open it.")]
    ConsentNever,
    #[error("Your organisation allows read-only support access only.")]
    ReadOnlyOnly,
}

/// The mode a grant asking for `asked` gives under `consent`: never more than the consent
/// allows, and nothing at all under `never`.
pub fn grant_mode(consent: Consent, asked: Mode) -> Result<Mode, GrantRefusal> {
    match (consent.grant_ceiling(), asked) {
        (None, _) => Err(GrantRefusal::ConsentNever),
        (Some(Mode::View), Mode::Act) => Err(GrantRefusal::ReadOnlyOnly),
        (Some(_), m) => Ok(m),
    }
}

/// The strongest of the live grants covering someone: `Act` over `View`.
pub fn strongest(modes: impl IntoIterator<Item = Mode>) -> Option<Mode> {
    modes.into_iter().max_by_key(|m| matches!(m, Mode::Act))
}

/// Whether someone who is a direct member of `memberships` is protected by a protection of one
/// of `protected_teams`: a protected team protects its members and its sub-teams' members.
pub fn protected_by_team(
    tree: &TeamTree,
    memberships: &[TeamId],
    protected_teams: &[TeamId],
) -> bool {
    memberships
        .iter()
        .any(|m| protected_teams.iter().any(|p| tree.is_within(*m, *p)))
}

/// An optional note, up to 500 characters once trimmed, on one line; empty means none.
pub fn note(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    crate::impersonation::one_line(s, "note")?;
    if s.chars().count() > NOTE_MAX {
        return Err(format!("Keep the note under {NOTE_MAX} characters."));
    }
    Ok(Some(s.to_owned()).filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_never_gives_more_than_the_consent() {
        for consent in Consent::ALL {
            for asked in Mode::ALL {
                let got = grant_mode(consent, asked);
                match consent {
                    Consent::Never => assert_eq!(got, Err(GrantRefusal::ConsentNever)),
                    Consent::ReadOnly if asked == Mode::Act => {
                        assert_eq!(got, Err(GrantRefusal::ReadOnlyOnly))
                    }
                    _ => assert_eq!(got, Ok(asked)),
                }
                // Whatever it gives, the consent then lets support use it.
                if let Ok(m) = got {
                    assert_eq!(consent.allows(m, Some(m)), Ok(()));
                }
            }
        }
    }

    #[test]
    fn act_is_the_stronger_grant() {
        assert_eq!(strongest([]), None);
        assert_eq!(strongest([Mode::View]), Some(Mode::View));
        assert_eq!(
            strongest([Mode::View, Mode::Act, Mode::View]),
            Some(Mode::Act)
        );
    }

    #[test]
    fn a_protected_team_protects_its_members_and_everyone_below_it() {
        // 1 Acme › 2 Northeast › 3 Boston; 1 › 4 West › 5 Denver.
        let tree = TeamTree::new([
            (1, None, "Acme Logistics".to_owned()),
            (2, Some(1), "Northeast Region".to_owned()),
            (3, Some(2), "Boston Depot".to_owned()),
            (4, Some(1), "West Region".to_owned()),
            (5, Some(4), "Denver Depot".to_owned()),
        ])
        .expect("a tree");
        assert!(protected_by_team(&tree, &[3], &[2]));
        assert!(protected_by_team(&tree, &[2], &[2]));
        assert!(!protected_by_team(&tree, &[5], &[2]));
        assert!(!protected_by_team(&tree, &[1], &[2]), "not upwards");
        assert!(protected_by_team(&tree, &[5, 3], &[3]));
        assert!(!protected_by_team(&tree, &[], &[1]));
        assert!(!protected_by_team(&tree, &[3], &[]));
    }

    #[test]
    fn lengths_and_notes() {
        assert_eq!(GrantLength::default(), GrantLength::Hour);
        assert_eq!(GrantLength::Week.hours(), 168);
        assert_eq!(GrantLength::from_key("1d"), Some(GrantLength::Day));
        assert_eq!(note("  "), Ok(None));
        assert_eq!(note(" SUP-1 "), Ok(Some("SUP-1".into())));
        assert!(note("a\nb").is_err());
        assert!(
            note("looks fine \u{202E}enif skool").is_err(),
            "no bidi override"
        );
        assert!(note(&"x".repeat(501)).is_err());
    }
}
