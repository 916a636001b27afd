//! Contract 1: the heartbeat a worker writes with `SET worker:<name>:heartbeat <json> EX 45`.
//!
//! Workers are other people's programs (Python today), so reading is lenient: every field that
//! can be read is kept, and whatever is wrong is described in [`HeartbeatRead::error`] instead of
//! failing the whole value.

mod declared;
mod name;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use declared::{is_consumer_id, CurrentJob, Declared, Phase, MAX_CONSUMERS};
pub use name::{check_name, BadName, MAX_NAME_BYTES};

/// How often a worker beats (seconds), as contract 1 promises.
pub const HEARTBEAT_INTERVAL_S: u64 = 15;

/// How long a heartbeat key lives (seconds): three intervals, so one lost beat is not a death.
pub const HEARTBEAT_TTL_S: u64 = 3 * HEARTBEAT_INTERVAL_S;

/// The Redis key a worker's heartbeat lives under.
pub fn heartbeat_key(name: &str) -> String {
    format!("worker:{name}:heartbeat")
}

/// The worker name inside a heartbeat key, if `key` is one (the name itself is not checked:
/// see [`check_name`]).
pub fn name_from_heartbeat_key(key: &str) -> Option<&str> {
    key.strip_prefix("worker:")?
        .strip_suffix(":heartbeat")
        .filter(|name| !name.is_empty())
}

/// A well-formed heartbeat, exactly as the seed's workers write it (field order included), plus
/// what pulseboard's own workers declare about their lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Worker name, the `<name>` of the key.
    pub name: String,
    /// `render`, `watcher` or `trader`.
    pub kind: String,
    /// Kind-specific state: `idle|busy|paused`, `trading|free`, `market_open|market_closed`.
    pub state: String,
    /// When the beat was written, UTC ISO 8601 ending in `Z`.
    pub ts: String,
    /// When the last job finished, or null.
    pub last_job_at: Option<String>,
    /// Jobs finished since the worker started.
    pub jobs_done: u64,
    /// Jobs failed since the worker started.
    pub jobs_failed: u64,
    /// The watcher's mode (watcher only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The optional lifecycle fields (none in the seed's beats).
    #[serde(flatten)]
    pub declared: Declared,
}

impl Heartbeat {
    /// The JSON a worker writes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a heartbeat always serialises")
    }
}

/// What could be read from the bytes under a heartbeat key: every readable field, plus a
/// description of everything that was wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatRead {
    /// `name`, if present and a string.
    pub name: Option<String>,
    /// `kind`, if present and a string.
    pub kind: Option<String>,
    /// `state`, if present and a string.
    pub state: Option<String>,
    /// `ts`, if present and a string (not yet checked to be a time).
    pub ts: Option<String>,
    /// `last_job_at`, if a string.
    pub last_job_at: Option<String>,
    /// `jobs_done`, if a non-negative integer.
    pub jobs_done: Option<u64>,
    /// `jobs_failed`, if a non-negative integer.
    pub jobs_failed: Option<u64>,
    /// `mode`, if a string.
    pub mode: Option<String>,
    /// The lifecycle fields that could be read.
    pub declared: Declared,
    /// What was wrong, `None` when the value followed contract 1.
    pub error: Option<String>,
}

/// Longest text of a field kept from a heartbeat; longer values are cut (and reported).
pub const MAX_FIELD_CHARS: usize = 200;

impl HeartbeatRead {
    /// Reads the raw bytes stored under a heartbeat key. Never panics, whatever the input.
    pub fn parse(raw: &[u8]) -> Self {
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text,
            Err(e) => return Self::failed(format!("heartbeat is not UTF-8 ({e})")),
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => return Self::failed(format!("heartbeat is not valid JSON ({e})")),
        };
        let Value::Object(obj) = value else {
            return Self::failed(format!(
                "heartbeat is JSON {} instead of an object",
                type_name(&value)
            ));
        };
        let mut problems = Vec::new();
        let mut read = Self {
            name: text_field(&obj, "name", true, &mut problems),
            kind: text_field(&obj, "kind", true, &mut problems),
            state: text_field(&obj, "state", true, &mut problems),
            ts: text_field(&obj, "ts", true, &mut problems),
            last_job_at: text_field(&obj, "last_job_at", false, &mut problems),
            jobs_done: count_field(&obj, "jobs_done", &mut problems),
            jobs_failed: count_field(&obj, "jobs_failed", &mut problems),
            mode: text_field(&obj, "mode", false, &mut problems),
            declared: Declared::read(&obj, &mut problems),
            error: None,
        };
        if !problems.is_empty() {
            read.error = Some(format!("heartbeat: {}", problems.join("; ")));
        }
        read
    }

    fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field; `required` fields report their absence, optional ones accept null.
fn text_field(
    obj: &Map<String, Value>,
    key: &str,
    required: bool,
    problems: &mut Vec<String>,
) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) => {
            if s.chars().count() > MAX_FIELD_CHARS {
                problems.push(format!("{key} is longer than {MAX_FIELD_CHARS} characters"));
                Some(s.chars().take(MAX_FIELD_CHARS).collect())
            } else {
                Some(s.clone())
            }
        }
        None | Some(Value::Null) if !required => None,
        None => {
            problems.push(format!("{key} is missing"));
            None
        }
        Some(other) => {
            problems.push(format!(
                "{key} should be a string, not {}",
                type_name(other)
            ));
            None
        }
    }
}

fn count_field(obj: &Map<String, Value>, key: &str, problems: &mut Vec<String>) -> Option<u64> {
    match obj.get(key) {
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        None => {
            problems.push(format!("{key} is missing"));
            None
        }
        Some(other) => {
            problems.push(format!(
                "{key} should be a non-negative integer, not {}",
                match other {
                    Value::Number(n) => n.to_string(),
                    other => type_name(other).to_owned(),
                }
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte for byte what the seed's Python `build_payload` writes (`json.dumps`).
    const PYTHON_BEAT: &[u8] = br#"{"name": "image-render", "kind": "render", "state": "idle", "ts": "2026-06-29T00:00:00Z", "last_job_at": null, "jobs_done": 0, "jobs_failed": 0}"#;

    #[test]
    fn reads_what_python_workers_write() {
        let read = HeartbeatRead::parse(PYTHON_BEAT);
        assert_eq!(read.error, None);
        assert_eq!(read.name.as_deref(), Some("image-render"));
        assert_eq!(read.state.as_deref(), Some("idle"));
        assert_eq!(read.jobs_done, Some(0));
        assert_eq!(read.last_job_at, None);
    }

    #[test]
    fn written_heartbeat_reads_back_whole() {
        let beat = Heartbeat {
            name: "task-watcher".into(),
            kind: "watcher".into(),
            state: "trading".into(),
            ts: "2026-06-29T00:00:00Z".into(),
            last_job_at: Some("2026-06-28T23:59:00Z".into()),
            jobs_done: 7,
            jobs_failed: 1,
            mode: Some("trading".into()),
            ..Heartbeat::default()
        };
        let read = HeartbeatRead::parse(beat.to_json().as_bytes());
        assert_eq!(read.error, None);
        assert_eq!(read.mode.as_deref(), Some("trading"));
        assert_eq!(read.jobs_failed, Some(1));
        assert_eq!(read.last_job_at.as_deref(), Some("2026-06-28T23:59:00Z"));
    }

    #[test]
    fn garbage_is_described_not_fatal() {
        for (raw, needle) in [
            (&b"\xff\xfe\x00garbage"[..], "not UTF-8"),
            (b"{not json", "not valid JSON"),
            (b"[1,2,3]", "an array"),
            (b"", "not valid JSON"),
        ] {
            let read = HeartbeatRead::parse(raw);
            let error = read.error.expect("an error is reported");
            assert!(
                error.contains(needle),
                "{error:?} should mention {needle:?}"
            );
            assert_eq!(read.state, None);
        }
    }

    #[test]
    fn wrong_types_keep_the_rest() {
        let read = HeartbeatRead::parse(
            br#"{"name":"x","kind":"render","state":5,"ts":"2026-06-29T00:00:00Z","jobs_done":"many","jobs_failed":-1}"#,
        );
        let error = read.error.unwrap();
        assert!(error.contains("state should be a string"), "{error}");
        assert!(
            error.contains("jobs_done should be a non-negative integer"),
            "{error}"
        );
        assert!(
            error.contains("jobs_failed should be a non-negative integer, not -1"),
            "{error}"
        );
        assert_eq!(read.name.as_deref(), Some("x"));
        assert_eq!(read.ts.as_deref(), Some("2026-06-29T00:00:00Z"));
    }

    #[test]
    fn huge_fields_are_cut() {
        let raw = format!(r#"{{"name":"{}"}}"#, "n".repeat(100_000));
        let read = HeartbeatRead::parse(raw.as_bytes());
        assert_eq!(read.name.unwrap().len(), MAX_FIELD_CHARS);
        assert!(read.error.unwrap().contains("longer than"));
    }

    #[test]
    fn heartbeat_keys() {
        assert_eq!(heartbeat_key("ai_trade"), "worker:ai_trade:heartbeat");
        assert_eq!(
            name_from_heartbeat_key("worker:ai_trade:heartbeat"),
            Some("ai_trade")
        );
        assert_eq!(name_from_heartbeat_key("worker::heartbeat"), None);
        assert_eq!(name_from_heartbeat_key("queue:paused"), None);
    }
}
