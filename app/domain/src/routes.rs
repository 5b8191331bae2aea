//! Paths of the app and the one rule for where a sign-in may return to: pure, so the pages,
//! the server's redirects and the fuzzer (`fuzz/fuzz_targets/validators.rs`) share them.

pub const LOGIN: &str = "/login";
/// Where a signed-in user lands by default.
pub const HOME: &str = "/vehicles";
/// Where operator staff land: the admin console (they hold no fleet permission).
pub const ADMIN_HOME: &str = "/admin/users";

/// "Forgot password?": asks for the address a reset link goes to.
pub const FORGOT_PASSWORD: &str = "/forgot-password";

/// Pages for people without a session: signing in, a forgotten password, and the pages mailed
/// links open (`domain::links`).
pub fn is_public_page(path: &str) -> bool {
    path == LOGIN
        || path == FORGOT_PASSWORD
        || path.starts_with(crate::links::INVITATION)
        || path.starts_with(crate::links::PASSWORD_RESET)
}

/// The landing page of a user, by whether they are operator staff.
pub const fn home_of(operator: bool) -> &'static str {
    if operator { ADMIN_HOME } else { HOME }
}

/// A path on this site to return to after sign-in; anything else (another origin, a
/// protocol-relative `//host`, odd characters) falls back to [`HOME`], so the login page
/// cannot be turned into an open redirect.
pub fn safe_return_path(next: Option<&str>) -> String {
    safe_return_path_or(next, HOME)
}

/// [`safe_return_path`] with another fallback (the user's own landing page).
pub fn safe_return_path_or(next: Option<&str>, home: &str) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.len() <= 512
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
                && !p.starts_with(LOGIN) =>
        {
            p.to_owned()
        }
        _ => home.to_owned(),
    }
}

/// `/login?next=<path>`, the path percent-encoded.
pub fn login_with_next(path_and_query: &str) -> String {
    let mut out = String::from(LOGIN);
    if safe_return_path(Some(path_and_query)) != HOME || path_and_query == HOME {
        out.push_str("?next=");
        out.push_str(&percent_encode(path_and_query));
    }
    out
}

/// `path?k=v&…` with every value percent-encoded.
pub fn with_query<'a>(path: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from(path);
    for (i, (k, v)) in params.into_iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&percent_encode(k));
        out.push('=');
        out.push_str(&percent_encode(v));
    }
    out
}

/// Everything but unreserved characters (and `/`) as `%XX`, byte by byte.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a navigation link to `section` names the page at `path`: the section itself, or,
/// unless `exact`, a page under it (`/vehicles/3` is under `/vehicles`, `/vehicles-old` is not).
pub fn is_in_section(path: &str, section: &str, exact: bool) -> bool {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    path == section
        || (!exact
            && path
                .strip_prefix(section)
                .is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query("/vehicles", [("after", "12:Van B&1"), ("team", "5")]),
            "/vehicles?after=12%3AVan%20B%261&team=5"
        );
        assert_eq!(with_query("/vehicles", []), "/vehicles");
    }
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_return_path(Some("/vehicles?page=2")),
            "/vehicles?page=2"
        );
        for bad in [
            None,
            Some(""),
            Some("https://evil.test/"),
            Some("//evil.test"),
            Some("/\\evil.test"),
            Some("vehicles"),
            Some("/a b"),
            Some("/login"),
        ] {
            assert_eq!(safe_return_path(bad), HOME, "{bad:?}");
        }
    }

    #[test]
    fn a_section_holds_its_pages_and_nothing_that_only_starts_like_it() {
        assert!(is_in_section("/vehicles", "/vehicles", false));
        assert!(is_in_section("/vehicles/", "/vehicles", false));
        assert!(is_in_section("/vehicles/3", "/vehicles", false));
        assert!(!is_in_section("/vehicles-old", "/vehicles", false));
        assert!(!is_in_section("/work-orders", "/vehicles", false));
        assert!(!is_in_section("/vehicles/3", "/vehicles", true));
        // The dashboard's `/` is exact: every path starts with it.
        assert!(is_in_section("/", "/", true));
        assert!(!is_in_section("/vehicles", "/", true));
    }

    #[test]
    fn login_link_encodes_the_return_path() {
        assert_eq!(login_with_next("/vehicles"), "/login?next=/vehicles");
        assert_eq!(
            login_with_next("/work-orders?status=open&x=1"),
            "/login?next=/work-orders%3Fstatus%3Dopen%26x%3D1"
        );
        assert_eq!(login_with_next("//evil.test"), "/login");
    }
}
