//! Every input validator on arbitrary text: never a panic, and whatever is accepted is in range
//! and accepted again unchanged (the browser and the server run the same parsers, so a value the
//! server stored must validate when the form comes back).
#![no_main]

use domain::fleet::Priority;
use domain::impersonation::{self, MAX_MINUTES, REASON_MAX, REASON_MIN};
use domain::people::Email;
use domain::routes::{HOME, LOGIN, login_with_next, safe_return_path};
use domain::validate::{self, MAX_YEAR, MIN_YEAR};
use libfuzzer_sys::fuzz_target;

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn text(s: &str) {
    if let Ok(t) = validate::required(s, "a name", 40) {
        assert!(!t.is_empty() && t == t.trim() && t.chars().count() <= 40);
        assert_eq!(validate::required(&t, "a name", 40), Ok(t.clone()));
    }
    if let Ok(t) = validate::optional(s, 40) {
        assert!(t == t.trim() && t.chars().count() <= 40);
        assert_eq!(validate::optional(&t, 40), Ok(t.clone()));
    }
    if let Ok(r) = impersonation::reason(s) {
        assert!((REASON_MIN..=REASON_MAX).contains(&r.chars().count()));
        assert_eq!(impersonation::reason(&r), Ok(r.clone()));
    }
}

fn fleet(s: &str) {
    if let Ok(v) = validate::vin(s) {
        let v = v.to_string();
        assert_eq!(v.len(), 17);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert!(!v.contains(['I', 'O', 'Q']));
        assert_eq!(validate::vin(&v).map(String::from), Ok(v.clone()));
    }
    if let Ok(y) = validate::year(s) {
        assert!((MIN_YEAR..=MAX_YEAR).contains(&y));
    }
    if let Ok(m) = validate::odometer(s) {
        assert_eq!(validate::odometer(&m.to_string()), Ok(m));
    }
    if let Ok(p) = validate::priority(s) {
        assert_eq!(Priority::from_key(p.key()), Some(p));
    }
    if let Ok(Some(date)) = validate::date(s) {
        let (y, m, d) = date.ymd();
        let again = format!("{y:04}-{m:02}-{d:02}");
        assert_eq!(validate::date(&again), Ok(Some(date)));
    }
    if let Ok(m) = impersonation::minutes(s) {
        assert!((1..=MAX_MINUTES).contains(&m));
    }
}

fn identity_and_paths(s: &str) {
    if let Ok(e) = Email::parse(s) {
        assert!(e.as_str().len() <= Email::MAX_LEN && e.as_str().contains('@'));
        assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
    }
    let back = safe_return_path(Some(s));
    if back != HOME {
        assert_eq!(back, s);
        assert!(back.starts_with('/') && !back.starts_with("//") && !back.contains('\\'));
        assert!(back.bytes().all(|b| b.is_ascii_graphic()));
    }
    let login = login_with_next(s);
    assert!(login.starts_with(LOGIN) && login.bytes().all(|b| b.is_ascii_graphic()));
    if let Some(next) = login
        .strip_prefix(LOGIN)
        .and_then(|q| q.strip_prefix("?next="))
    {
        // The `next` parameter decodes to exactly the path, which is safe to return to.
        assert_eq!(percent_decode(next).as_deref(), Some(s));
        assert!(s == HOME || safe_return_path(Some(s)) == s);
    }
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    text(&s);
    fleet(&s);
    identity_and_paths(&s);
});
