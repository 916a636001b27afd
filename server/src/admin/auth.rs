//! Who asks: the admin token's name, or the refusal.

use axum::http::{header, HeaderMap};

use super::Refused;
use crate::config::admin::AdminTokens;

/// The name of the token in `headers`' `Authorization: Bearer`, or why the request is refused.
/// `what` (the request's path, as routed) goes to the log of a refusal.
pub fn authorize(tokens: &AdminTokens, headers: &HeaderMap, what: &str) -> Result<String, Refused> {
    if !tokens.enabled() {
        return Err(Refused::ActionsOff);
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented.and_then(|t| tokens.name_of(t.trim())) {
        Some(by) => Ok(by.to_owned()),
        None => {
            tracing::warn!(request = %what.escape_debug(), "admin request refused: no or a wrong token");
            Err(Refused::BadToken)
        }
    }
}
