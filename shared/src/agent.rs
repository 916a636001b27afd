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
//! - Requests and results are signed with a key only the server and the agents hold
//!   (`sign`, `key`; feature `sign`): Redis, which every worker can write, carries the
//!   signature, never the key. The agent refuses anything unsigned, wrongly signed, signed for
//!   another host, outside [`REQUEST_WINDOW_S`] or seen before; the server ignores results that
//!   are not signed. Every refusal has its typed reason ([`Refusal`]).

#[cfg(feature = "sign")]
pub mod key;
mod refusal;
#[cfg(feature = "sign")]
pub mod sign;

use serde::{Deserialize, Serialize};

pub use refusal::{Refusal, RefusalKind};

/// The consumer group every agent of a host reads its stream through.
pub const GROUP: &str = "agents";

/// The stream of outcomes, every host's (capped at about [`RESULTS_MAX`] entries).
pub const RESULTS_KEY: &str = "pulseboard:agent:results";

/// How many outcomes [`RESULTS_KEY`] keeps.
pub const RESULTS_MAX: usize = 10_000;

/// How much of a failed command's stderr an outcome keeps (its end).
pub const STDERR_TAIL_BYTES: usize = 2048;

/// The largest field an entry of either stream may carry: a larger one is refused (a request)
/// or skipped (a result) without being parsed. A request is about 300 bytes, a result at most
/// [`STDERR_TAIL_BYTES`] more.
pub const MAX_ENTRY_BYTES: usize = 4096;

/// How long a signed request may be taken after its time (`at`), in seconds; the agent
/// remembers the ids it handled for as long.
pub const REQUEST_WINDOW_S: u64 = 300;

/// How far ahead of the agent's clock a request's time may be, in seconds (clocks differ).
pub const CLOCK_SKEW_S: u64 = 60;

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
    /// The host whose agent it is for (signed: another host's agent refuses it). Empty in a
    /// request from before signatures, which is refused as unsigned.
    #[serde(default)]
    pub host: String,
    /// The worker, as the agent's allow-list names it.
    pub worker: String,
    /// What to do.
    pub action: AgentAction,
    /// Who asked: an admin token's name, or `auto` (the guard).
    pub by: String,
    /// When it was signed, UTC RFC 3339.
    pub at: String,
    /// HMAC-SHA256 over every other field, hex (see `sign`); empty: unsigned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
}

impl Request {
    /// Reads one request; anything else (garbage, a field too many such as an argv, an id
    /// that is empty or longer than 64 characters) is refused, as [`Refusal::NotARequest`] or
    /// [`Refusal::BadId`].
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let r: Self =
            serde_json::from_str(text).map_err(|e| Refusal::NotARequest(e.to_string()))?;
        if r.id.is_empty() || r.id.len() > 64 {
            return Err(Refusal::BadId);
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

impl Outcome {
    /// The wire spelling (the same as the serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Refused => "refused",
            Self::Interrupted => "interrupted",
        }
    }
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
    /// Why it was refused, as a code (with [`Outcome::Refused`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusalKind>,
    /// When it ended, UTC ISO 8601.
    pub at: String,
    /// HMAC-SHA256 over every other field, hex (see `sign`); the server ignores a result
    /// without a good one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
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
            host: "gpu-1".into(),
            worker: "render-1".into(),
            action: AgentAction::ResetAndRestart,
            by: "auto".into(),
            at: "2026-12-01T00:00:00Z".into(),
            sig: "00ff".into(),
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
        // A request from before signatures still reads (to be refused as unsigned).
        let old = Request::parse(r#"{"id":"x","worker":"w","action":"restart","by":"a","at":"t"}"#)
            .unwrap();
        assert!(old.host.is_empty() && old.sig.is_empty());
        for o in [
            Outcome::Done,
            Outcome::Failed,
            Outcome::Refused,
            Outcome::Interrupted,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap().as_str(), Some(o.as_str()));
        }
    }

    #[test]
    fn tail_keeps_the_end_at_a_character_boundary() {
        assert_eq!(tail(b"abcdef", 3), "def");
        assert_eq!(tail(b"ab", 3), "ab");
        assert_eq!(tail("가나다".as_bytes(), 4), "다");
    }
}
