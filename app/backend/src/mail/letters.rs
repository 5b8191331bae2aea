//! The text of each message the app sends. Plain ASCII where we write it, the link alone on
//! its line, so every mail reader shows it whole.

use super::Mail;
use domain::people::Email;

/// The invitation of `name` to join an organisation.
pub fn invitation(to: Email, name: &str, organisation: &str, link: &str) -> Mail {
    Mail {
        to,
        subject: format!("You are invited to {organisation} on Fleetgate"),
        body: format!(
            "Hello {name},\n\n\
             You have been invited to join {organisation} on Fleetgate.\n\
             Choose your password here (the link works once, for 7 days):\n\n\
             {link}\n\n\
             If you did not expect this, ignore this message.\n",
        ),
    }
}

/// A password reset link.
pub fn password_reset(to: Email, link: &str) -> Mail {
    Mail {
        to,
        subject: "Reset your Fleetgate password".into(),
        body: format!(
            "Someone (we hope you) asked to reset your Fleetgate password.\n\
             Choose a new one here (the link works once, for 30 minutes):\n\n\
             {link}\n\n\
             If it was not you, ignore this message: your password stays as it is.\n",
        ),
    }
}
