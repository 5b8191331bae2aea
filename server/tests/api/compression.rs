//! What a browser is sent: pages and server-function answers compressed when it asks for it
//! (brotli, else gzip), holding exactly what the uncompressed answer holds; never compressed
//! for a client that did not ask, nor when the answer is too small to gain from it. The
//! router's property, not the database's: SQLite only.

use crate::support::{Backend, Call, Caller, TestApp};
use app::api::teams::PermissionMatrix;
use app::api::vehicles::ListVehicles;
use reqwest::{Response, header};
use std::io::Read;

/// What Chromium sends with every request.
const CHROMIUM: &str = "gzip, deflate, br, zstd";

#[tokio::test]
async fn pages_and_answers_come_compressed_to_a_browser_and_hold_the_same() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let maria = app.sign_in("maria@acme.test").await;
    let list = Call::of(&ListVehicles { after: None });
    let matrix = Call::of(&PermissionMatrix {});

    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
    let send = async |call: &Call, accept: Option<&str>| {
        let mut req = app.request(&maria, call);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT_ENCODING, a);
        }
        req.send().await.expect("request")
    };
    let plain = read(send(&list, None).await, None).await;
    let rows = json(&plain)["rows"].as_array().expect("rows").clone();
    assert!(!rows.is_empty(), "{plain}");
    let plain_matrix = read(send(&matrix, None).await, None).await;
    assert!(
        plain_matrix.len() > usize::from(server::assets::COMPRESS_FROM),
        "the matrix is large enough to be compressed: {} bytes",
        plain_matrix.len()
    );

    for (accept, encoding) in [(CHROMIUM, "br"), ("br", "br"), ("gzip", "gzip")] {
        let answer = read(send(&matrix, Some(accept)).await, Some(encoding)).await;
        assert_eq!(
            json(&answer),
            json(&plain_matrix),
            "{accept}: the same answer, compressed"
        );
        // The twin: the three-row list fits in a TCP segment as it is, and is sent as it is.
        assert!(plain.len() < usize::from(server::assets::COMPRESS_FROM));
        let small = send(&list, Some(accept)).await;
        assert!(
            !small.headers().contains_key(header::CONTENT_ENCODING),
            "{accept}: a small answer is not compressed"
        );
        assert_eq!(json(&small.text().await.expect("body")), json(&plain));
        // A page is streamed (its nonce and where its deferred parts land vary from one
        // rendering to the next): the whole of it, with every row of the list.
        let html = read(page(&app, &maria, Some(accept)).await, Some(encoding)).await;
        assert!(html.starts_with("<!DOCTYPE html>"), "{accept}: {html}");
        assert!(html.contains("</html>") && html.contains("Maria Santos"));
        for row in &rows {
            for field in ["name", "vin"] {
                let value = row[field].as_str().expect("a string");
                assert!(
                    html.contains(value),
                    "{accept}: {value} missing from the page"
                );
            }
        }
    }
}

/// The twin: a client that does not ask (or asks for `identity` only) gets the bytes as they
/// are, and every answer that a browser would have been sent compressed says it varies with
/// what was asked.
#[tokio::test]
async fn nothing_is_compressed_for_a_client_that_did_not_ask() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let maria = app.sign_in("maria@acme.test").await;
    for accept in [None, Some("identity")] {
        let res = page(&app, &maria, accept).await;
        assert!(varies(&res), "{accept:?}: the page");
        let html = read(res, None).await;
        assert!(html.starts_with("<!DOCTYPE html>"), "{accept:?}: {html}");
        let mut req = app.request(&maria, &Call::of(&PermissionMatrix {}));
        if let Some(a) = accept {
            req = req.header(header::ACCEPT_ENCODING, a);
        }
        let res = req.send().await.expect("request");
        assert!(varies(&res), "{accept:?}: the matrix");
        let answer = read(res, None).await;
        assert!(answer.starts_with('{'), "{accept:?}: {answer}");
    }
}

/// Whether the answer says it depends on `Accept-Encoding` (caches must keep one per encoding).
fn varies(res: &Response) -> bool {
    res.headers().get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .unwrap()
            .to_lowercase()
            .contains("accept-encoding")
    })
}

async fn page(app: &TestApp, who: impl Caller, accept: Option<&str>) -> Response {
    let mut req = app.client.get(app.url("/vehicles"));
    if let Some(c) = who.cookies() {
        req = req.header(header::COOKIE, c);
    }
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    req.send().await.expect("request")
}

/// The body of a 200 answer, decoded from the `encoding` it must declare (`None`: must be
/// sent as is); a compressed one must say it varies.
async fn read(res: Response, encoding: Option<&str>) -> String {
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let declared = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(declared.as_deref(), encoding, "Content-Encoding");
    assert!(
        encoding.is_none() || varies(&res),
        "caches must know a compressed answer depends on Accept-Encoding"
    );
    let bytes = res.bytes().await.expect("body");
    let mut text = String::new();
    match encoding {
        None => text = String::from_utf8(bytes.to_vec()).expect("UTF-8"),
        Some("br") => {
            brotli::Decompressor::new(&bytes[..], 4096)
                .read_to_string(&mut text)
                .expect("brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("gzip");
        }
        Some(other) => panic!("unexpected encoding {other}"),
    }
    text
}
