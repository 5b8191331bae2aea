//! A password someone chooses (accepting an invitation, a reset, a change): parsed once, the
//! same way in the browser and on the server, so no `NewPassword` exists that breaks the rule.

use std::fmt;

/// The fewest characters a chosen password has.
pub const MIN_CHARS: usize = 12;
/// The most (a limit on what argon2 is asked to hash).
pub const MAX_CHARS: usize = 128;

/// A chosen password that follows the rule: 12 to 128 characters, typed the same twice.
/// Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

/// What is wrong with a chosen password; each message says what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NewPasswordError {
    #[error("Use at least 12 characters.")]
    TooShort,
    #[error("Use at most 128 characters.")]
    TooLong,
    /// The confirmation differs (reported on the confirmation field).
    #[error("The two passwords differ.")]
    Differ,
}

impl NewPassword {
    pub fn parse(password: &str, confirm: &str) -> Result<NewPassword, NewPasswordError> {
        let chars = password.chars().count();
        if chars < MIN_CHARS {
            return Err(NewPasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(NewPasswordError::TooLong);
        }
        if password != confirm {
            return Err(NewPasswordError::Differ);
        }
        Ok(NewPassword(password.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_to_128_characters_typed_twice() {
        let ok = "correct horse";
        assert!(NewPassword::parse(ok, ok).is_ok());
        assert_eq!(
            NewPassword::parse("short", "short"),
            Err(NewPasswordError::TooShort)
        );
        // Characters, not bytes: twelve accented letters are enough.
        let accented = "é".repeat(12);
        assert!(NewPassword::parse(&accented, &accented).is_ok());
        let long = "x".repeat(129);
        assert_eq!(
            NewPassword::parse(&long, &long),
            Err(NewPasswordError::TooLong)
        );
        assert_eq!(
            NewPassword::parse(ok, "correct horsE"),
            Err(NewPasswordError::Differ)
        );
        assert_eq!(
            format!("{:?}", NewPassword::parse(ok, ok)),
            "Ok(NewPassword(…))"
        );
    }
}
