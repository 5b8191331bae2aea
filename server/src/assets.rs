//! The built assets under `/pkg/`: served with their precompressed `.br` or `.gz` twin when the
//! browser takes it (a release build writes them), and cached by browsers for a year when
//! their names carry their content's hash (`hash-files`): a new build has new names, so a
//! cached file is never stale. Without hashes (a debug build serving fixed names) browsers
//! revalidate every time.

use http::{HeaderValue, Response, header};
use std::path::PathBuf;
use tower::Layer;
use tower_http::compression::{DefaultPredicate, Predicate};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const FOR_GOOD: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
/// Brotli quality 1 and gzip level 1 for what is compressed on every request: a page shrinks
/// to about a third either way, at a fraction of the default levels' cost.
const DYNAMIC_LEVEL: tower_http::CompressionLevel = tower_http::CompressionLevel::Precise(1);

/// The smallest answer compressed, in bytes: below it, an answer with its headers fits in one
/// TCP segment (1,460 bytes of payload on Ethernet) either way.
pub const COMPRESS_FROM: u16 = 1024;

/// The `/pkg` service: files from `dir`, precompressed twins preferred, cache headers set.
pub fn service(
    dir: PathBuf,
) -> impl tower::Service<
    http::Request<axum::body::Body>,
    Response = Response<tower_http::services::fs::ServeFileSystemResponseBody>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let policy = HeaderValue::from_static(if app::assets::hashed() {
        FOR_GOOD
    } else {
        REVALIDATE
    });
    // Only a file found may be kept; an error answer (404) is not.
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, move |res: &Response<_>| {
        res.status().is_success().then(|| policy.clone())
    })
    .layer(files)
}

/// Pages and server-function answers compressed for browsers that take them, outside every
/// middleware that reads a body (the error status reads the server function's JSON). The
/// built assets are not compressed again on every request: a release build sends their
/// precompressed twins, and a debug build's are for development.
///
/// At level 1 ([`DYNAMIC_LEVEL`]), the lowest at which both codecs compress, not tower-http's
/// defaults: every browser asks for brotli, and at its default quality 4 the encoder sets up
/// large hash tables for every answer, whatever its size — a browser could be sent about a third
/// of the pages it was without compression (docs/BENCHMARKS.md, "What a browser is sent").
///
/// An answer of known size below [`COMPRESS_FROM`] goes as it is: it fits in one TCP segment
/// compressed or not, so compressing it saves the browser nothing and costs the server a
/// codec's setup (a 610-byte vehicle list was sent as 341 bytes, at 14 % of the reads' rate).
/// Pages are streamed, of no known size, and always compressed.
pub fn compression() -> tower_http::compression::CompressionLayer<impl Predicate> {
    use tower_http::compression::predicate::{NotForContentType, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .quality(DYNAMIC_LEVEL)
        .compress_when(
            DefaultPredicate::new()
                .and(SizeAbove::new(COMPRESS_FROM))
                .and(NotForContentType::const_new("application/wasm"))
                .and(NotForContentType::const_new("text/javascript"))
                .and(NotForContentType::const_new("application/javascript"))
                .and(NotForContentType::const_new("text/css")),
        )
}
