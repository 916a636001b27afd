//! The headers every answer carries: a Content-Security-Policy the page runs under, no MIME
//! sniffing, no referrer, no framing.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// Adds the security headers to `response`; `policy` is the CSP (see [`crate::bundle::csp`]).
/// Use with `axum::middleware::map_response_with_state`.
pub async fn add(State(policy): State<HeaderValue>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // For browsers that predate CSP's frame-ancestors.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
