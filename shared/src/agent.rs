//! What pulseboard asks of a host agent (`pulseboard agent --host H`), and what the agent says
//! back: the way to restart a worker whose process is gone and whose supervisor gave up.
//!
//! - Requests travel on a per-host stream, [`requests_key`], read through the consumer group
//!   [`GROUP`]: a restarted agent finds what it was handed and did not finish, so nothing is lost.
//! - A request names a worker and an action, never a program: the agent looks the worker up in
//!   its own allow-list and runs the exact argv configured there, without a shell.
//! - Before running anything the agent records the request id in [`started_key`]; a request it
//!   finds there after a restart is reported as interrupted, not run again.
//! - Each outcome goes to [`RESULTS_KEY`] (a capped stream the server reads back for the audit
//!   trail and the guard's memory).
//! - The agent beats at [`beat_key`] every [`crate::heartbeat::HEARTBEAT_INTERVAL_S`] seconds
//!   with a [`Beat`] (kind `agent`) expiring after the heartbeat TTL: while the key exists the
//!   host can act.

use serde::{Deserialize, Serialize};

/// The consumer group every agent of a host reads its stream through.
pub const GROUP: &str = "agents";

/// The stream of outcomes, every host's (capped at about [`RESULTS_MAX`] entries).
pub const RESULTS_KEY: &str = "pulseboard:agent:results";

/// How many outcomes [`RESULTS_KEY`] keeps.
pub const RESULTS_MAX: usize = 10_000;

/// How much of a failed command's stderr an outcome keeps (its end).
pub const STDERR_TAIL_BYTES: usize = 2048;

/// The stream a host's agent reads its requests from.
pub fn requests_key(host: &str) -> String {
    format!("pulseboard:agent:{host}:requests")
}

/// The set of request ids a host's agent has started (so it never runs one twice).
pub fn started_key(host: &str) -> String {
    format!("pulseboard:agent:{host}:started")
}

/// Where a host's agent beats.
pub fn beat_key(host: &str) -> String {
    format!("pulseboard:agent:{host}:heartbeat")
}

/// What an agent may be asked to do for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgentAction {
    /// The supervisor's restart (`systemctl restart x`, `launchctl kickstart -k ...`).
    Restart,
    /// Clear the supervisor's give-up state, then restart (`systemctl reset-failed x`, then the
    /// restart argv).
    ResetAndRestart,
}

impl AgentAction {
    /// A stable spelling (logs, the agent's config).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::ResetAndRestart => "reset_and_restart",
        }
    }
}

/// One request, as the field `request` of a stream entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Unique id, shared with the guard's memory and the audit trail.
    pub id: String,
    /// The worker, as the agent's allow-list names it.
    pub worker: String,
    /// What to do.
    pub action: AgentAction,
    /// Who asked: an admin token's name, or `auto` (the guard).
    pub by: String,
    /// When, UTC ISO 8601.
    pub at: String,
}

/// Why an entry of a host's request stream is not a request.
#[derive(Debug)]
pub enum RequestError {
    /// Not JSON of a request (garbage, a field too many such as an argv).
    NotARequest(serde_json::Error),
    /// Its id is empty or longer than 64 characters.
    BadId,
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotARequest(e) => write!(f, "not a request: {e}"),
            Self::BadId => f.write_str("a request's id must be 1 to 64 characters"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotARequest(e) => Some(e),
            Self::BadId => None,
        }
    }
}

impl Request {
    /// Reads one request; anything else (garbage, a field too many such as an argv) is refused.
    pub fn parse(text: &str) -> Result<Self, RequestError> {
        let r: Self = serde_json::from_str(text).map_err(RequestError::NotARequest)?;
        if r.id.is_empty() || r.id.len() > 64 {
            return Err(RequestError::BadId);
        }
        Ok(r)
    }

    /// The request as the stream stores it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a request serialises")
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Every configured command exited 0.
    Done,
    /// A command exited non-zero, could not start, or ran out of time.
    Failed,
    /// The worker is not in the agent's allow-list (or the request was unreadable).
    Refused,
    /// The agent stopped while running it; it was not run again.
    Interrupted,
}

/// One outcome, as the field `result` of an entry of [`RESULTS_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentResult {
    /// The request's id.
    pub id: String,
    /// The host whose agent answered.
    pub host: String,
    /// The worker, as the request named it.
    pub worker: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The last command's exit code, when it ran to an exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// How long the commands took, in milliseconds.
    pub duration_ms: u64,
    /// The end of the failing command's stderr (at most [`STDERR_TAIL_BYTES`]), or why it was
    /// refused.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// When it ended, UTC ISO 8601.
    pub at: String,
}

impl AgentResult {
    /// The outcome as the stream stores it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a result serialises")
    }
}

/// What an agent writes at [`beat_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Beat {
    /// `agent@<host>`.
    pub name: String,
    /// Always `agent`.
    pub kind: String,
    /// The host.
    pub host: String,
    /// The workers its allow-list names.
    pub workers: Vec<String>,
    /// When the beat was written, UTC ISO 8601.
    pub ts: String,
    /// Its process id.
    pub pid: u32,
    /// Its version.
    pub version: String,
}

/// The last `max` bytes of `bytes` as text, cut at a character boundary.
pub fn tail(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_carry_no_program() {
        let r = Request {
            id: "r-1".into(),
            worker: "render-1".into(),
            action: AgentAction::ResetAndRestart,
            by: "auto".into(),
            at: "2026-12-01T00:00:00Z".into(),
        };
        assert_eq!(Request::parse(&r.to_json()).unwrap(), r.clone());
        assert!(r.to_json().contains(r#""action":"reset_and_restart""#));
        for bad in [
            "",
            r#"{"id":"x","worker":"w","action":"rm","by":"a","at":"t"}"#,
            r#"{"id":"x","worker":"w","action":"restart","by":"a","at":"t","argv":["sh","-c","x"]}"#,
            r#"{"id":"","worker":"w","action":"restart","by":"a","at":"t"}"#,
        ] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(requests_key("gpu-1"), "pulseboard:agent:gpu-1:requests");
    }

    #[test]
    fn tail_keeps_the_end_at_a_character_boundary() {
        assert_eq!(tail(b"abcdef", 3), "def");
        assert_eq!(tail(b"ab", 3), "ab");
        assert_eq!(tail("가나다".as_bytes(), 4), "다");
    }
}
