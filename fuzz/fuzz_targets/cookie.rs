//! Arbitrary `Cookie` headers (one per input line): finding the session and view-as cookies
//! never panics, and what is found is exactly one `name=value` pair of one header.
#![no_main]

use backend::cookie::{CookieConfig, CookieKind};
use http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(COOKIE, value);
        }
    }
    for secure in [false, true] {
        let config = CookieConfig { secure };
        for kind in [CookieKind::Session, CookieKind::ViewAs] {
            let Some(value) = config.read_kind(kind, &headers) else {
                continue;
            };
            assert!(!value.contains(';'));
            let pair = format!("{}={value}", config.name_of(kind));
            let found = headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(';').any(|p| p.trim() == pair));
            assert!(found, "{pair:?} is not a pair of {headers:?}");
        }
    }
});
