//! Contract 1, extended: what a worker may declare about its own lifecycle. Every field is
//! optional and additive, so the seed's Python module (which writes none) is judged as before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{text_field, type_name};

/// What a worker says about itself in contract 1's optional `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Phase {
    /// Loading: not taking work yet.
    Starting,
    /// Taking work.
    Ready,
    /// Alive but its own checks fail (`reason`, `checks` say which).
    Unhealthy,
    /// Finishing its jobs before it stops; takes no new ones.
    Draining,
    /// The last beat of a clean stop.
    Stopped,
}

impl Phase {
    /// The phase spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "starting" => Self::Starting,
            "ready" => Self::Ready,
            "unhealthy" => Self::Unhealthy,
            "draining" => Self::Draining,
            "stopped" => Self::Stopped,
            _ => return None,
        })
    }
}

/// The job a worker is busy with (contract 1's optional `current_job`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentJob {
    /// The job's id, as the worker names it.
    pub id: String,
    /// When the worker started it, UTC ISO 8601.
    pub started_at: String,
}

/// A worker's own word on its lifecycle, beside the seed's fields of its heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Declared {
    /// The beat period it promises, in seconds (contract 1: 15 when unsaid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u64>,
    /// Where it is in its life: starting, ready, unhealthy, draining, stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Why it is unhealthy or draining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its own dependency checks: name -> ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<BTreeMap<String, bool>>,
    /// When its process started, UTC ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Its process id on its host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its version, as it names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The program it runs: an absolute path with symlinks resolved on its host (`pulseboard
    /// run` fills it with the wrapped program's, the SDK with its own), compared with `[runtime]`
    /// or with the rest of its kind to catch drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// A digest of its configuration, as it computes it (compared like `version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// The job it is busy with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_job: Option<CurrentJob>,
    /// In a final beat: how its process exited (0: cleanly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The consumer ids this process runs (the last segment of each of its in-flight lists,
    /// `processing:<queue>:<consumer>`): lists of other consumers of its queue are leftovers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers: Option<Vec<String>>,
}

/// At most this many checks are kept from one beat.
const MAX_CHECKS: usize = 32;

impl Declared {
    /// Reads the fields leniently from a heartbeat object: what is malformed is left out and
    /// described in `problems`.
    pub(super) fn read(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Self {
        let text = |key: &str, problems: &mut Vec<String>| text_field(obj, key, false, problems);
        let phase = text("phase", problems).and_then(|p| {
            let parsed = Phase::parse(&p);
            if parsed.is_none() {
                problems.push(format!(
                    "phase {p:?} is not one of starting, ready, unhealthy, draining, stopped"
                ));
            }
            parsed
        });
        Self {
            interval_s: integer(obj, "interval_s", problems)
                .and_then(|n| u64::try_from(n).ok().filter(|n| *n > 0)),
            phase,
            reason: text("reason", problems),
            checks: checks(obj, problems),
            started_at: text("started_at", problems),
            pid: integer(obj, "pid", problems).and_then(|n| u32::try_from(n).ok()),
            version: text("version", problems),
            executable: text("executable", problems),
            config_hash: text("config_hash", problems),
            current_job: current_job(obj, problems),
            exit_code: integer(obj, "exit_code", problems).and_then(|n| i32::try_from(n).ok()),
            consumers: consumers(obj, problems),
        }
    }
}

/// At most this many consumer ids are kept from one beat.
pub const MAX_CONSUMERS: usize = 16;

/// `consumers`: an array of ids, each 1 to 128 characters without spaces, control characters
/// or `:` (the key separator); a bad one is left out and described.
fn consumers(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Option<Vec<String>> {
    let items = match obj.get("consumers") {
        None | Some(Value::Null) => return None,
        Some(Value::Array(items)) => items,
        Some(other) => {
            problems.push(format!(
                "consumers should be an array of ids, not {}",
                type_name(other)
            ));
            return None;
        }
    };
    let mut ids = Vec::new();
    for item in items.iter().take(MAX_CONSUMERS) {
        match item.as_str() {
            Some(id) if is_consumer_id(id) => ids.push(id.to_owned()),
            Some(id) => problems.push(format!(
                "consumers: {:?} is not an id (1 to 128 characters, no spaces or ':')",
                id.chars().take(40).collect::<String>()
            )),
            None => problems.push(format!(
                "consumers should hold strings, not {}",
                type_name(item)
            )),
        }
    }
    if items.len() > MAX_CONSUMERS {
        problems.push(format!(
            "more than {MAX_CONSUMERS} consumers; the rest were dropped"
        ));
    }
    Some(ids)
}

/// Whether `id` can name a consumer (and end an in-flight list's key).
pub fn is_consumer_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && !id
            .chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
}

/// An optional integer field (negative allowed: exit codes).
fn integer(obj: &Map<String, Value>, key: &str, problems: &mut Vec<String>) -> Option<i64> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            problems.push(format!(
                "{key} should be an integer, not {}",
                type_name(other)
            ));
            None
        }
    }
}

fn checks(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Option<BTreeMap<String, bool>> {
    match obj.get("checks") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let mut checks = BTreeMap::new();
            for (name, ok) in map.iter().take(MAX_CHECKS) {
                match ok {
                    Value::Bool(ok) => {
                        let name = name.chars().take(super::MAX_FIELD_CHARS).collect();
                        checks.insert(name, *ok);
                    }
                    other => problems.push(format!(
                        "checks.{name} should be true or false, not {}",
                        type_name(other)
                    )),
                }
            }
            if map.len() > MAX_CHECKS {
                problems.push(format!(
                    "more than {MAX_CHECKS} checks; the rest were dropped"
                ));
            }
            Some(checks)
        }
        Some(other) => {
            problems.push(format!(
                "checks should be an object, not {}",
                type_name(other)
            ));
            None
        }
    }
}

fn current_job(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Option<CurrentJob> {
    match obj.get("current_job") {
        None | Some(Value::Null) => None,
        Some(Value::Object(job)) => {
            let mut inner = Vec::new();
            let id = text_field(job, "id", true, &mut inner);
            let started_at = text_field(job, "started_at", true, &mut inner);
            problems.extend(inner.into_iter().map(|p| format!("current_job.{p}")));
            Some(CurrentJob {
                id: id?,
                started_at: started_at?,
            })
        }
        Some(other) => {
            problems.push(format!(
                "current_job should be an object, not {}",
                type_name(other)
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::heartbeat::{Heartbeat, HeartbeatRead};

    use super::*;

    #[test]
    fn every_declared_field_reads_back() {
        let beat = Heartbeat {
            name: "gpu-1".into(),
            kind: "render".into(),
            state: "busy".into(),
            ts: "2026-06-29T00:00:10Z".into(),
            declared: Declared {
                interval_s: Some(5),
                phase: Some(Phase::Unhealthy),
                reason: Some("cuda lost".into()),
                checks: Some([("gpu".to_owned(), false)].into()),
                started_at: Some("2026-06-29T00:00:00Z".into()),
                pid: Some(4242),
                version: Some("1.4.2".into()),
                executable: Some("/opt/render/bin/render".into()),
                config_hash: Some("sha256:9f2c".into()),
                current_job: Some(CurrentJob {
                    id: "job-9".into(),
                    started_at: "2026-06-29T00:00:05Z".into(),
                }),
                exit_code: None,
                consumers: Some(vec!["gpu-1-a".into(), "7f3c".into()]),
            },
            ..Heartbeat::default()
        };
        let read = HeartbeatRead::parse(beat.to_json().as_bytes());
        assert_eq!(read.error, None);
        assert_eq!(read.declared, beat.declared);
    }

    #[test]
    fn a_consumer_id_pulseboard_cannot_read_is_left_out_and_said() {
        let json = r#"{"name":"w","kind":"render","state":"idle","ts":"2026-06-29T00:00:00Z",
            "consumers":["c1","has space","a:b",7]}"#;
        let read = HeartbeatRead::parse(json.as_bytes());
        assert_eq!(read.declared.consumers, Some(vec!["c1".to_owned()]));
        let problems = read.error.unwrap();
        assert!(
            problems.contains("has space") && problems.contains("a:b"),
            "{problems}"
        );
    }

    #[test]
    fn the_seed_beat_declares_nothing_and_writes_no_new_field() {
        let beat = Heartbeat {
            name: "a".into(),
            ..Heartbeat::default()
        };
        let json = beat.to_json();
        for field in [
            "interval_s",
            "phase",
            "checks",
            "current_job",
            "exit_code",
            "pid",
        ] {
            assert!(!json.contains(field), "{json}");
        }
        assert_eq!(
            HeartbeatRead::parse(json.as_bytes()).declared,
            Declared::default()
        );
    }

    #[test]
    fn malformed_declarations_are_described_and_dropped() {
        let read = HeartbeatRead::parse(
            br#"{"name":"x","kind":"render","state":"idle","ts":"2026-06-29T00:00:00Z","jobs_done":0,"jobs_failed":0,
                "phase":"sleeping","interval_s":"fast","checks":{"db":"yes","gpu":true},
                "current_job":{"id":7},"exit_code":-9,"pid":-1}"#,
        );
        let error = read.error.unwrap();
        for needle in [
            "phase \"sleeping\"",
            "interval_s should be an integer",
            "checks.db should be true or false",
            "current_job.id should be a string",
            "current_job.started_at is missing",
        ] {
            assert!(error.contains(needle), "{error} should mention {needle}");
        }
        let d = read.declared;
        assert_eq!(
            (d.phase, d.interval_s, d.current_job, d.pid),
            (None, None, None, None)
        );
        assert_eq!(d.checks, Some([("gpu".to_owned(), true)].into()));
        assert_eq!(d.exit_code, Some(-9));
        assert_eq!(
            read.state.as_deref(),
            Some("idle"),
            "the seed's fields are kept"
        );
    }
}
