//! HMAC-SHA256 over agent requests and results, with the key only the server and the agents
//! hold ([`AgentKeys`]): Redis carries the signature, never the key.
//!
//! - **What is signed**: every field but the signature, in a fixed order, each one prefixed by
//!   its length (so no two different messages encode alike), after a label that differs between
//!   requests and results (a result's signature never passes for a request's). A request's
//!   fields include the host it is for, so a request signed for host A is refused by host B.
//! - **How**: `sig` is the lowercase hex of HMAC-SHA256(key, canonical bytes), made with the
//!   first key; checked against every key given (two during a rotation), in constant time.
//! - **When**: a request carries its time (`at`); the agent refuses one signed more than
//!   [`REQUEST_WINDOW_S`] ago or more than [`CLOCK_SKEW_S`] ahead, and remembers the ids it
//!   handled for that long (a copy of a signed request is refused as replayed).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::key::{decode_hex, AgentKeys};
use super::{AgentResult, Refusal, RefusalKind, Request, CLOCK_SKEW_S, REQUEST_WINDOW_S};

type HmacSha256 = Hmac<Sha256>;

/// The label before a request's fields.
const REQUEST_LABEL: &str = "pulseboard agent request v1";
/// The label before a result's fields.
const RESULT_LABEL: &str = "pulseboard agent result v1";

/// Why a signature does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// There is none.
    Missing,
    /// It is not one any of the keys makes over these fields.
    Wrong,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "not signed",
            Self::Wrong => "signed with another key, or altered",
        })
    }
}

impl std::error::Error for SignatureError {}

/// The bytes a request's signature covers: host, id, worker, action, by, at.
pub fn request_bytes(r: &Request) -> Vec<u8> {
    canonical(
        REQUEST_LABEL,
        &[&r.host, &r.id, &r.worker, r.action.as_str(), &r.by, &r.at],
    )
}

/// The bytes a result's signature covers: id, host, worker, outcome, exit code (`none` without
/// one), duration, detail, refusal code (empty without one), at.
pub fn result_bytes(r: &AgentResult) -> Vec<u8> {
    let exit_code = r
        .exit_code
        .map_or_else(|| "none".to_owned(), |c| c.to_string());
    let duration = r.duration_ms.to_string();
    let refused = r.refused.map_or("", RefusalKind::as_str);
    canonical(
        RESULT_LABEL,
        &[
            &r.id,
            &r.host,
            &r.worker,
            r.outcome.as_str(),
            &exit_code,
            &duration,
            &r.detail,
            refused,
            &r.at,
        ],
    )
}

/// `label`, then each field, each as its length (8 bytes, big-endian) and its bytes.
fn canonical(label: &str, fields: &[&str]) -> Vec<u8> {
    let size = fields.iter().map(|f| f.len() + 8).sum::<usize>() + label.len() + 8;
    let mut out = Vec::with_capacity(size);
    for field in std::iter::once(label).chain(fields.iter().copied()) {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

fn mac(key: &[u8], bytes: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(bytes);
    mac
}

/// The signature of `bytes` with the signing key, as hex.
fn tag(keys: &AgentKeys, bytes: &[u8]) -> String {
    mac(keys.signing(), bytes)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `sig` is the signature of `bytes` under any of `keys` (each compared in constant
/// time, every key tried whatever matched).
fn check(keys: &AgentKeys, bytes: &[u8], sig: &str) -> Result<(), SignatureError> {
    if sig.is_empty() {
        return Err(SignatureError::Missing);
    }
    let raw = decode_hex(sig).ok_or(SignatureError::Wrong)?;
    let mut good = false;
    for key in keys.all() {
        good |= mac(key, bytes).verify_slice(&raw).is_ok();
    }
    if good {
        Ok(())
    } else {
        Err(SignatureError::Wrong)
    }
}

/// Signs `request` (its `sig`), with the host it is for already in it.
pub fn sign_request(keys: &AgentKeys, request: &mut Request) {
    request.sig = tag(keys, &request_bytes(request));
}

/// Signs `result` (its `sig`).
pub fn sign_result(keys: &AgentKeys, result: &mut AgentResult) {
    result.sig = tag(keys, &result_bytes(result));
}

/// Whether `result` was signed by a holder of `keys` as it reads now.
pub fn verify_result(keys: &AgentKeys, result: &AgentResult) -> Result<(), SignatureError> {
    check(keys, &result_bytes(result), &result.sig)
}

/// Whether the agent of `host` may take `request` at `now_ms` (unix milliseconds), as far as
/// the request itself says: signed by a holder of `keys`, for `host`, within the window.
/// Whether its id was seen before is the agent's memory, not the request's.
pub fn verify_request(
    keys: &AgentKeys,
    host: &str,
    request: &Request,
    now_ms: i64,
) -> Result<(), Refusal> {
    check(keys, &request_bytes(request), &request.sig).map_err(|e| match e {
        SignatureError::Missing => Refusal::Unsigned,
        SignatureError::Wrong => Refusal::BadSignature,
    })?;
    if request.host != host {
        return Err(Refusal::WrongHost(request.host.clone()));
    }
    let at_ms = time_ms(&request.at).ok_or(Refusal::BadTime)?;
    within_window(at_ms, now_ms)
}

/// `at` (RFC 3339) in unix milliseconds.
pub fn time_ms(at: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Whether a request of `at_ms` may still be taken at `now_ms`: signed at most
/// [`REQUEST_WINDOW_S`] ago and at most [`CLOCK_SKEW_S`] ahead.
pub fn within_window(at_ms: i64, now_ms: i64) -> Result<(), Refusal> {
    let age_ms = now_ms.saturating_sub(at_ms);
    if age_ms > REQUEST_WINDOW_S as i64 * 1000 {
        return Err(Refusal::Stale {
            age_s: (age_ms / 1000) as u64,
        });
    }
    if -age_ms > CLOCK_SKEW_S as i64 * 1000 {
        return Err(Refusal::Future {
            ahead_s: (-age_ms / 1000) as u64,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentAction, Outcome};

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const OLD: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
    const OTHER: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    /// 2026-12-01T00:00:00Z in unix milliseconds.
    const AT_MS: i64 = 1_796_083_200_000;

    fn keys(text: &str) -> AgentKeys {
        AgentKeys::parse(text).unwrap()
    }

    fn request() -> Request {
        Request {
            id: "r-1".into(),
            host: "gpu-1".into(),
            worker: "render-1".into(),
            action: AgentAction::ResetAndRestart,
            by: "auto".into(),
            at: "2026-12-01T00:00:00.000Z".into(),
            sig: String::new(),
        }
    }

    fn result() -> AgentResult {
        AgentResult {
            id: "r-1".into(),
            host: "gpu-1".into(),
            worker: "render-1".into(),
            outcome: Outcome::Done,
            exit_code: Some(0),
            duration_ms: 12,
            detail: String::new(),
            refused: None,
            at: "2026-12-01T00:00:01Z".into(),
            sig: String::new(),
        }
    }

    #[test]
    fn the_canonical_bytes_tell_every_field_apart() {
        let r = request();
        // Moving a character from one field to the next changes the bytes.
        let shifted = Request {
            id: "r-1r".into(),
            worker: "ender-1".into(),
            ..r.clone()
        };
        assert_ne!(request_bytes(&r), request_bytes(&shifted));
        assert!(request_bytes(&r).starts_with(&(REQUEST_LABEL.len() as u64).to_be_bytes()));
        assert_ne!(result_bytes(&result()), request_bytes(&r));
        let sig_only = Request {
            sig: "ff".into(),
            ..r.clone()
        };
        assert_eq!(
            request_bytes(&r),
            request_bytes(&sig_only),
            "sig is not signed"
        );
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let k = keys(KEY);
        let mut r = request();
        sign_request(&k, &mut r);
        assert_eq!(r.sig.len(), 64);
        assert_eq!(verify_request(&k, "gpu-1", &r, AT_MS + 1000), Ok(()));
        let changes: Vec<fn(&mut Request)> = vec![
            |r| r.id.push('x'),
            |r| r.host = "gpu-2".into(),
            |r| r.worker = "render-2".into(),
            |r| r.action = AgentAction::Restart,
            |r| r.by = "ops".into(),
            |r| r.at = "2026-12-01T00:00:01.000Z".into(),
            |r| r.sig.replace_range(0..2, "00"),
            |r| r.sig.push('0'),
            |r| r.sig = r.sig.to_uppercase().replace('A', "G"),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut altered = r.clone();
            change(&mut altered);
            assert_eq!(
                verify_request(&k, "gpu-1", &altered, AT_MS),
                Err(Refusal::BadSignature),
                "change {i}"
            );
        }
        let unsigned = request();
        assert_eq!(
            verify_request(&k, "gpu-1", &unsigned, AT_MS),
            Err(Refusal::Unsigned)
        );
        assert_eq!(
            verify_request(&keys(OTHER), "gpu-1", &r, AT_MS),
            Err(Refusal::BadSignature),
            "another key"
        );
    }

    #[test]
    fn a_request_signed_for_one_host_is_refused_by_another() {
        let k = keys(KEY);
        let mut r = request();
        sign_request(&k, &mut r);
        assert_eq!(
            verify_request(&k, "gpu-2", &r, AT_MS),
            Err(Refusal::WrongHost("gpu-1".into()))
        );
    }

    #[test]
    fn the_window_refuses_old_and_far_future_requests() {
        let k = keys(KEY);
        let mut r = request();
        sign_request(&k, &mut r);
        let window = REQUEST_WINDOW_S as i64 * 1000;
        let skew = CLOCK_SKEW_S as i64 * 1000;
        assert_eq!(verify_request(&k, "gpu-1", &r, AT_MS + window), Ok(()));
        assert_eq!(
            verify_request(&k, "gpu-1", &r, AT_MS + window + 1000),
            Err(Refusal::Stale {
                age_s: REQUEST_WINDOW_S + 1
            })
        );
        assert_eq!(verify_request(&k, "gpu-1", &r, AT_MS - skew), Ok(()));
        assert_eq!(
            verify_request(&k, "gpu-1", &r, AT_MS - skew - 5000),
            Err(Refusal::Future {
                ahead_s: CLOCK_SKEW_S + 5
            })
        );
        let mut bad_time = Request {
            at: "yesterday".into(),
            ..request()
        };
        sign_request(&k, &mut bad_time);
        assert_eq!(
            verify_request(&k, "gpu-1", &bad_time, AT_MS),
            Err(Refusal::BadTime)
        );
        assert_eq!(time_ms("2026-12-01T00:00:00Z"), Some(AT_MS));
        assert_eq!(time_ms("2026-12-01T09:00:00+09:00"), Some(AT_MS));
    }

    #[test]
    fn during_a_rotation_either_key_verifies_and_the_first_signs() {
        let old = keys(OLD);
        let rotating = keys(&format!("{KEY},{OLD}"));
        let new = keys(KEY);
        let mut by_old = request();
        sign_request(&old, &mut by_old);
        assert_eq!(verify_request(&rotating, "gpu-1", &by_old, AT_MS), Ok(()));
        let mut by_rotating = request();
        sign_request(&rotating, &mut by_rotating);
        assert_eq!(verify_request(&new, "gpu-1", &by_rotating, AT_MS), Ok(()));
        assert_eq!(
            verify_request(&old, "gpu-1", &by_rotating, AT_MS),
            Err(Refusal::BadSignature),
            "signed with the new key"
        );
    }

    #[test]
    fn results_are_signed_over_every_field() {
        let k = keys(KEY);
        let mut r = result();
        sign_result(&k, &mut r);
        assert_eq!(verify_result(&k, &r), Ok(()));
        let changes: Vec<fn(&mut AgentResult)> = vec![
            |r| r.id.push('x'),
            |r| r.host = "gpu-2".into(),
            |r| r.worker = "w".into(),
            |r| r.outcome = Outcome::Failed,
            |r| r.exit_code = None,
            |r| r.duration_ms += 1,
            |r| r.detail = "x".into(),
            |r| r.refused = Some(RefusalKind::ChurnLimit),
            |r| r.at = "2026-12-01T00:00:02Z".into(),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut altered = r.clone();
            change(&mut altered);
            assert_eq!(
                verify_result(&k, &altered),
                Err(SignatureError::Wrong),
                "change {i}"
            );
        }
        assert_eq!(verify_result(&k, &result()), Err(SignatureError::Missing));
        assert_eq!(verify_result(&keys(OTHER), &r), Err(SignatureError::Wrong));
        // A request's signature never passes for a result's, whatever the fields.
        let mut req = request();
        sign_request(&k, &mut req);
        let mut forged = result();
        forged.sig = req.sig;
        assert_eq!(verify_result(&k, &forged), Err(SignatureError::Wrong));
    }
}
