//! The paths of links sent by mail, whose last segment is a secret: named once here for the
//! server that builds them, the router that serves them and the log that must not keep them.

/// `/invite/<secret>`: accepting an invitation.
pub const INVITATION: &str = "/invite/";
/// `/reset-password/<secret>`: choosing a new password.
pub const PASSWORD_RESET: &str = "/reset-password/";

/// `path` as it may be logged: the secret of a mailed link replaced by `…`.
pub fn loggable(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in [INVITATION, PASSWORD_RESET] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return format!("{prefix}…").into();
        }
    }
    path.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_log() {
        assert_eq!(loggable("/invite/abcDEF_123"), "/invite/…");
        assert_eq!(loggable("/reset-password/xyz"), "/reset-password/…");
        assert_eq!(loggable("/vehicles/3"), "/vehicles/3");
        assert_eq!(loggable("/invite/"), "/invite/");
    }
}
