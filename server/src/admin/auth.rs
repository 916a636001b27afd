//! Who asks: the admin token's name, or the refusal. An address that keeps presenting wrong
//! tokens is throttled ([`super::throttle`]) before its token is looked at.

use std::time::Instant;

use axum::http::{header, HeaderMap};

use super::{Admin, Refused};
use crate::client_ip::ClientIp;

/// The name of the token in `headers`' `Authorization: Bearer`, or why the request is refused
/// (a read-only server refuses everyone). `what` (the request's path, as routed) goes to the log
/// of a refusal, escaped.
pub fn authorize(
    admin: &Admin,
    client: ClientIp,
    headers: &HeaderMap,
    what: &str,
) -> Result<String, Refused> {
    if admin.read_only {
        return Err(Refused::ReadOnly);
    }
    identify(admin, client, headers, what)
}

/// The name of the token in `headers`, or why it is refused, for requests that only read (a
/// read-only server answers them too).
pub fn identify(
    admin: &Admin,
    client: ClientIp,
    headers: &HeaderMap,
    what: &str,
) -> Result<String, Refused> {
    if !admin.tokens.enabled() {
        return Err(Refused::ActionsOff);
    }
    let now = Instant::now();
    if let Err(wait) = admin.throttle.check(client.0, now) {
        return Err(Refused::TooManyFailures {
            retry_after_s: wait.as_secs().max(1),
        });
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented.and_then(|t| admin.tokens.name_of(t.trim())) {
        Some(by) => Ok(by.to_owned()),
        None => {
            admin.throttle.failed(client.0, now);
            tracing::warn!(
                client = %client.0,
                request = %what.escape_debug(),
                "admin request refused: no or a wrong token"
            );
            Err(Refused::BadToken)
        }
    }
}
