//! Tokens carrying a *valid signature* over fuzzer-chosen header and payload JSON — what an
//! attacker who could sign would try: other algorithms in the header, missing or odd claims,
//! arrays for `aud`, huge numbers. Only an HS256 header with every claim valid may verify.
//!
//! Input: `<header JSON>\n<payload JSON>`.
#![no_main]

use backend::token::TokenKeys;
use backend::token::{AUDIENCE, ISSUER};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const KEY: &[u8] = b"fuzzing-key-0123456789abcdef0123456789";

fn sign(header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(KEY) else {
        panic!("HMAC takes a key of any length");
    };
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let (header, payload) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(keys) = TokenKeys::from_secret(KEY) else {
        panic!("the fuzzing key is long enough");
    };
    let token = sign(header, payload);
    let now = chrono::Utc::now().timestamp();
    let accepted = keys.verify(&token);
    if let Ok(claims) = &accepted {
        let header: serde_json::Value =
            serde_json::from_slice(header).unwrap_or(serde_json::Value::Null);
        assert_eq!(header["alg"], "HS256", "accepted with header {header}");
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert!(claims.exp > now && claims.nbf <= now, "{claims:?}");
    }
    // Ignoring the expiry must never accept more than the expiry.
    if let Ok(claims) = keys.verify_ignoring_expiry(&token) {
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert!(claims.nbf <= now);
        if claims.exp > now {
            assert!(accepted.is_ok(), "valid but refused: {claims:?}");
        }
    }
});
