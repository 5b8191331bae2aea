//! Any string presented as a session or view-as token: never a panic, and nothing verifies
//! unless it is a well-formed HS256 token signed with the key whose claims are all valid.
#![no_main]

use backend::token::TokenKeys;
use backend::token::{AUDIENCE, ISSUER};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzzing-key-0123456789abcdef0123456789";

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(keys) = TokenKeys::from_secret(KEY) else {
        panic!("the fuzzing key is long enough");
    };
    let now = chrono::Utc::now().timestamp();
    if let Ok(claims) = keys.verify(token) {
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert!(claims.exp > now && claims.nbf <= now, "{claims:?}");
    }
    if let Ok(claims) = keys.verify_ignoring_expiry(token) {
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert!(claims.nbf <= now, "{claims:?}");
    }
});
