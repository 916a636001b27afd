//! The dashboard bundle at `/infra/`: embedded in the binary (see `build.rs`), or read from a
//! directory given with `--dist` for visual work.
//!
//! Embedded files are served precompressed (brotli or gzip by `Accept-Encoding`); trunk's hashed
//! files are cached for a year as immutable, `index.html` is revalidated by its ETag on every
//! visit, so a repeat visit costs one small request. Any other path is the app's (`index.html`).

use std::path::PathBuf;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub mod csp;

/// Where the page comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bundle {
    /// The bundle built into this binary (possibly none).
    Embedded,
    /// A directory built by trunk, read on every request.
    Dir(PathBuf),
}

impl Bundle {
    /// `--dist DIR` when given, else the embedded bundle.
    pub fn from_option(dist: Option<PathBuf>) -> Self {
        dist.map_or(Self::Embedded, Self::Dir)
    }

    /// Its `index.html`, if there is one.
    pub fn index(&self) -> Option<Vec<u8>> {
        match self {
            Self::Embedded => find("index.html").map(|a| a.raw.to_vec()),
            Self::Dir(dir) => std::fs::read(dir.join("index.html")).ok(),
        }
    }

    /// Where it is, for logs and messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded if EMBEDDED.is_empty() => "embedded (none: built without dist/)".into(),
            Self::Embedded => format!("embedded ({} files)", EMBEDDED.len()),
            Self::Dir(dir) => dir.display().to_string(),
        }
    }

    /// The routes under `/infra`.
    pub fn router(&self) -> Router {
        if self.index().is_none() {
            let message = missing_message(self);
            return Router::new().fallback(move || async move {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    message,
                )
            });
        }
        match self {
            Self::Embedded => Router::new()
                .route("/", get(embedded))
                .route("/{*path}", get(embedded)),
            // Visual work: always revalidate, and use `.br`/`.gz` files when trunk's output has them.
            Self::Dir(dir) => Router::new()
                .fallback_service(
                    ServeDir::new(dir)
                        .precompressed_br()
                        .precompressed_gzip()
                        .fallback(ServeFile::new(dir.join("index.html"))),
                )
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                )),
        }
    }
}

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Relative to the bundle's root (`index.html`, `style-<hash>.css`).
    pub path: &'static str,
    /// As trunk wrote it.
    pub raw: &'static [u8],
    /// Gzip, when it is smaller.
    pub gzip: Option<&'static [u8]>,
    /// Brotli, when it is smaller.
    pub brotli: Option<&'static [u8]>,
    /// A quoted hash of `raw`.
    pub etag: &'static str,
}

/// The files built into this binary.
pub static EMBEDDED: &[Asset] = include!(concat!(env!("OUT_DIR"), "/embedded_bundle.rs"));

fn find(path: &str) -> Option<&'static Asset> {
    EMBEDDED.iter().find(|a| a.path == path)
}

async fn embedded(request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    // Unknown paths are the app's routes; the page decides what to show.
    let asset = find(path)
        .or_else(|| find("index.html"))
        .expect("router() checked there is an index");
    serve(asset, request.headers())
}

/// The response for `asset`: 304 when the client has it, else the smallest form it accepts.
pub fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let cache = if is_hashed(asset.path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if client_has(request, asset.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(asset.path)),
    );
    let accepted = Accepted::parse(request);
    let body = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepted.brotli => Some(("br", br)),
        (_, Some(gz)) if accepted.gzip => Some(("gzip", gz)),
        _ => None,
    };
    let body = match body {
        Some((encoding, bytes)) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            bytes
        }
        None => asset.raw,
    };
    (headers, body).into_response()
}

/// Whether `If-None-Match` names `etag` (or `*`).
fn client_has(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The encodings a request accepts (`q=0` refuses one; `*` accepts all).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// `br`.
    pub brotli: bool,
    /// `gzip`.
    pub gzip: bool,
}

impl Accepted {
    /// From the request's `Accept-Encoding` headers.
    pub fn parse(request: &HeaderMap) -> Self {
        let mut accepted = Self::default();
        let values = request.get_all(header::ACCEPT_ENCODING);
        for item in values.iter().filter_map(|v| v.to_str().ok()) {
            for part in item.split(',') {
                let mut pieces = part.split(';');
                let name = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
                let refused = pieces.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                let yes = !refused;
                match name.as_str() {
                    "br" => accepted.brotli = yes,
                    "gzip" | "x-gzip" => accepted.gzip = yes,
                    "*" => {
                        accepted.brotli |= yes;
                        accepted.gzip |= yes;
                    }
                    _ => {}
                }
            }
        }
        accepted
    }
}

/// trunk names what it hashes `<name>-<hash>[_bg].<ext>`: such a file never changes. The hash
/// is a 64-bit number in hex without leading zeros, so one name in sixteen has 15 digits (or
/// fewer); 8 to 16 digits are taken as a hash.
fn is_hashed(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn missing_message(bundle: &Bundle) -> String {
    let what = match bundle {
        Bundle::Embedded => "this binary was built without it (no dist/ at build time)".into(),
        Bundle::Dir(dir) => format!("no index.html in {}", dir.display()),
    };
    format!(
        "pulseboard: the dashboard bundle is missing: {what}.\n\
         Build it at the repository root with:\n\n    scripts/build-dashboard.sh\n\n\
         (trunk build --release --offline), then rebuild the server to embed it, or point the \
         server at a built bundle with --dist DIR (PULSEBOARD_DIST).\n\
         The API is up meanwhile: /api/agent-office/nodes\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const ASSET: Asset = Asset {
        path: "app-0123456789abcdef_bg.wasm",
        raw: b"raw bytes",
        gzip: Some(b"gz"),
        brotli: Some(b"br"),
        etag: "\"abc\"",
    };

    #[test]
    fn the_encoding_follows_accept_encoding() {
        let chosen = |pairs: &[(&'static str, &'static str)]| {
            let response = serve(&ASSET, &headers(pairs));
            response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            chosen(&[("accept-encoding", "gzip, deflate, br")]).as_deref(),
            Some("br")
        );
        assert_eq!(
            chosen(&[("accept-encoding", "gzip")]).as_deref(),
            Some("gzip")
        );
        assert_eq!(
            chosen(&[("accept-encoding", "br;q=0, gzip")]).as_deref(),
            Some("gzip")
        );
        assert_eq!(chosen(&[("accept-encoding", "*")]).as_deref(), Some("br"));
        assert_eq!(chosen(&[("accept-encoding", "identity")]), None);
        assert_eq!(chosen(&[]), None);
    }

    #[test]
    fn a_known_etag_is_not_sent_again() {
        let response = serve(&ASSET, &headers(&[("if-none-match", "W/\"x\", \"abc\"")]));
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let response = serve(&ASSET, &headers(&[("if-none-match", "\"other\"")]));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::ETAG], "\"abc\"");
    }

    #[test]
    fn only_hashed_files_are_immutable() {
        assert!(is_hashed("pulseboard-frontend-b7aafafc20bd59af_bg.wasm"));
        assert!(is_hashed("pulseboard-frontend-b7aafafc20bd59af.js"));
        assert!(
            is_hashed("pulseboard-frontend-9fe8656ca9fb2d8.js"),
            "a leading zero left out"
        );
        assert!(is_hashed("style-d4bce1aca8b56813.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("style-d4bce1.css"));
        assert!(!is_hashed("logo-zzzzzzzzzzzzzzzz.png"));
        let index = Asset {
            path: "index.html",
            ..ASSET
        };
        let response = serve(&index, &HeaderMap::new());
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        let response = serve(&ASSET, &HeaderMap::new());
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
}
