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

/// An impersonation of the addressee, as they are told of it once it ended.
pub struct Viewing<'a> {
    pub actor: String,
    pub mode: &'a str,
    pub reason: &'a str,
    pub ticket: Option<&'a str>,
    pub started: chrono::DateTime<chrono::Utc>,
    pub ended: chrono::DateTime<chrono::Utc>,
}

/// Telling someone that operator staff viewed the app as them (never switched off).
pub fn viewed_as(to: Email, v: &Viewing<'_>) -> Mail {
    let minutes = (v.ended - v.started).num_minutes().max(0);
    Mail {
        to,
        subject: "Fleetgate support viewed the app as you".into(),
        body: format!(
            "{actor} of Fleetgate support viewed the app as you.\n\n\
             Started: {started} UTC\n\
             Ended: {ended} UTC ({minutes} min)\n\
             Mode: {mode}\n\
             Reason: {reason}\n\
             Ticket: {ticket}\n\n\
             Every page they saw is on your organisation's audit log. Your account page lists\n\
             every time support viewed as you.\n",
            actor = v.actor,
            started = v.started.format("%Y-%m-%d %H:%M"),
            ended = v.ended.format("%Y-%m-%d %H:%M"),
            mode = v.mode,
            reason = v.reason,
            ticket = v.ticket.unwrap_or("none"),
        ),
    }
}

/// Operator staff ask for support access to `person` (sent to them and to the organisation's
/// `org.settings` holders); the answer is given in the app.
pub fn support_request(
    to: Email,
    asked_by: &str,
    person: &str,
    reason: &str,
    ticket: Option<&str>,
    link: &str,
) -> Mail {
    Mail {
        to,
        subject: format!("Fleetgate support asks for access to {person}'s view"),
        body: format!(
            "{asked_by} of Fleetgate support asks to view the app as {person}.\n\n\
             Reason: {reason}\n\
             Ticket: {ticket}\n\n\
             Approve (for a time you choose) or decline on your account page:\n\n\
             {link}\n\n\
             Nothing changes until you answer.\n",
            ticket = ticket.unwrap_or("none"),
        ),
    }
}
