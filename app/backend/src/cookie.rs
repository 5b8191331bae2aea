//! The session and view-as cookies: names, attributes, and reading them from a request.

use std::time::Duration;

/// Which cookie: the user's own session, or the view-as overlay of an impersonation (which is
/// only honoured together with the actor's own session cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieKind {
    Session,
    ViewAs,
}

/// The cookies' names and attributes.
#[derive(Clone, Copy, Debug)]
pub struct CookieConfig {
    /// Served over HTTPS: adds `Secure` and the `__Host-` prefix.
    pub secure: bool,
}

impl CookieConfig {
    pub fn name_of(self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Session, true) => "__Host-fleetgate_session",
            (CookieKind::Session, false) => "fleetgate_session",
            (CookieKind::ViewAs, true) => "__Host-fleetgate_view_as",
            (CookieKind::ViewAs, false) => "fleetgate_view_as",
        }
    }

    pub fn name(self) -> &'static str {
        self.name_of(CookieKind::Session)
    }

    fn attributes(self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// `Set-Cookie` value carrying a session token for `max_age`.
    pub fn set(self, token: &str, max_age: Duration) -> String {
        self.set_kind(CookieKind::Session, token, max_age)
    }

    pub fn set_kind(self, kind: CookieKind, token: &str, max_age: Duration) -> String {
        format!(
            "{}={token}; Max-Age={}{}",
            self.name_of(kind),
            max_age.as_secs(),
            self.attributes()
        )
    }

    /// `Set-Cookie` value that deletes the session cookie.
    pub fn clear(self) -> String {
        self.clear_kind(CookieKind::Session)
    }

    pub fn clear_kind(self, kind: CookieKind) -> String {
        format!("{}=; Max-Age=0{}", self.name_of(kind), self.attributes())
    }

    /// The session token from a request's `Cookie` headers, if any.
    pub fn read(self, headers: &http::HeaderMap) -> Option<String> {
        self.read_kind(CookieKind::Session, headers)
    }

    pub fn read_kind(self, kind: CookieKind, headers: &http::HeaderMap) -> Option<String> {
        let name = self.name_of(kind);
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes() {
        let plain = CookieConfig { secure: false };
        let v = plain.set("tok", Duration::from_secs(60));
        assert_eq!(
            v,
            "fleetgate_session=tok; Max-Age=60; Path=/; HttpOnly; SameSite=Strict"
        );
        let secure = CookieConfig { secure: true };
        let v = secure.set("tok", Duration::from_secs(60));
        assert!(v.starts_with("__Host-fleetgate_session=tok;") && v.ends_with("; Secure"));
        assert!(secure.clear().contains("Max-Age=0"));
    }

    #[test]
    fn view_as_cookie_has_its_own_name() {
        let c = CookieConfig { secure: false };
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "fleetgate_session=a; fleetgate_view_as=b".parse().unwrap(),
        );
        assert_eq!(c.read(&h).as_deref(), Some("a"));
        assert_eq!(c.read_kind(CookieKind::ViewAs, &h).as_deref(), Some("b"));
        assert!(
            CookieConfig { secure: true }
                .name_of(CookieKind::ViewAs)
                .starts_with("__Host-")
        );
    }

    #[test]
    fn cookie_is_found_among_others() {
        let c = CookieConfig { secure: false };
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "a=1; fleetgate_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(c.read(&h).as_deref(), Some("tok"));
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "fleetgate_sessionX=tok".parse().unwrap(),
        );
        assert_eq!(c.read(&h), None);
    }
}
