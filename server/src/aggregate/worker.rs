//! One worker's record from its reading: the seed's fields from its heartbeat and lists, what it
//! declared about itself, and its lifecycle judged by the shared rules.

use chrono::{DateTime, Utc};
use pulseboard_shared::heartbeat::{Declared, HEARTBEAT_TTL_S};
use pulseboard_shared::lifecycle::{judge as judge_lifecycle, Observed, Phase};
use pulseboard_shared::{HeartbeatRead, WorkerKind, WorkerStatus};

use super::time::{age_s, parse_ts};
use super::{BeatMemory, Watched};
use crate::reader::{CountError, HeartbeatValue, WorkerReading, MAX_HEARTBEAT_BYTES};

/// A judged worker.
pub(super) struct Judged {
    pub status: WorkerStatus,
    /// When it last beat, as far as known (the `ts` behind `last_beat_age_s`).
    pub beat_at: Option<DateTime<Utc>>,
    /// The mode its beat gave (watchers: why the queues are paused).
    pub watcher_mode: Option<String>,
}

/// Judges `w` from `r` at `now`, remembering its beat in `memory` for when its key is gone.
pub(super) fn judge(
    w: &Watched,
    r: &WorkerReading,
    now: DateTime<Utc>,
    memory: &mut BeatMemory,
) -> Judged {
    let mut problems = Vec::new();
    let mut status = WorkerStatus {
        queue_depth: take(&r.queue_depth, "queue", &mut problems),
        dead_letter: take(&r.dead_letter, "dead-letter list", &mut problems),
        processing: take(&r.processing, "in-flight lists", &mut problems),
        host: w.host.clone(),
        registered: w.kind.is_some(),
        ..WorkerStatus::new(w.name.clone(), w.kind.unwrap_or(WorkerKind::Unknown))
    };
    let mut key_exists = false;
    let mut written = None;
    let mut beat = None;
    match &r.heartbeat {
        HeartbeatValue::Missing => {}
        HeartbeatValue::Error(e) => problems.push(format!("heartbeat: {e}")),
        HeartbeatValue::Present {
            bytes,
            truncated,
            expires,
        } => {
            // Over the bound: garbage, never parsed (the reader did not even keep it).
            let read = if *truncated {
                problems.push(format!(
                    "heartbeat is larger than {} KiB: not read",
                    MAX_HEARTBEAT_BYTES / 1024
                ));
                HeartbeatRead::default()
            } else {
                memory.read(&w.name, bytes)
            };
            if let Some(e) = read.error.clone() {
                problems.push(e);
            }
            written = read.ts.as_deref().and_then(|ts| {
                let parsed = parse_ts(ts);
                if parsed.is_none() {
                    problems.push(format!("heartbeat: ts {ts:?} is not a UTC ISO 8601 time"));
                }
                parsed
            });
            if let Some(ts) = written {
                memory.wrote(&w.name, ts);
            }
            // A final beat (a clean stop, an exit code) is meant to stay; any other beat written
            // without an expiry counts for one TTL after its `ts`.
            let final_beat =
                read.declared.phase == Some(Phase::Stopped) || read.declared.exit_code.is_some();
            key_exists = if *expires || final_beat {
                true
            } else {
                problems.push("heartbeat key has no expiry (written without EX)".into());
                written.is_some_and(|ts| age_s(ts, now) <= HEARTBEAT_TTL_S)
            };
            if w.kind.is_none() {
                status.kind = read
                    .kind
                    .as_deref()
                    .map_or(WorkerKind::Unknown, WorkerKind::parse);
            }
            if let Some(name) = read.name.as_deref().filter(|n| *n != w.name) {
                problems.push(format!("heartbeat names another worker ({name:?})"));
            }
            beat = Some(read);
        }
    }
    let beat_at = memory.written(&w.name);
    status.last_beat_age_s = beat_at.map(|b| age_s(b, now));
    let declared = beat.as_ref().map(|b| &b.declared);
    let lifecycle = judge_lifecycle(
        &observe(key_exists, status.last_beat_age_s, written, declared),
        &w.rules,
    );
    status.alive = lifecycle.state.running();
    status.lifecycle = Some(lifecycle);
    status.declared = declared.filter(|d| **d != Declared::default()).cloned();
    let mut watcher_mode = None;
    if let Some(read) = beat.filter(|_| status.alive) {
        status.state = read.state;
        status.jobs_done = read.jobs_done.unwrap_or(0);
        status.jobs_failed = read.jobs_failed.unwrap_or(0);
        status.last_job_at = read.last_job_at;
        watcher_mode = read.mode;
    }
    if !problems.is_empty() {
        status.error = Some(problems.join("; "));
    }
    Judged {
        status,
        beat_at,
        watcher_mode,
    }
}

/// What the lifecycle judgement needs. Durations the worker declares (since it started, since
/// its job started) are measured on its own clock up to its beat, plus the beat's age on ours.
pub fn observe<'a>(
    key_exists: bool,
    beat_age_s: Option<u64>,
    written: Option<DateTime<Utc>>,
    declared: Option<&'a Declared>,
) -> Observed<'a> {
    let Some(d) = declared else {
        return Observed {
            key_exists,
            beat_age_s,
            ..Observed::default()
        };
    };
    let since = |at: &str| {
        let at = parse_ts(at)?;
        let worker_side = (written? - at).num_seconds().max(0) as u64;
        Some(worker_side + beat_age_s.unwrap_or(0))
    };
    Observed {
        key_exists,
        beat_age_s,
        interval_s: d.interval_s,
        phase: d.phase,
        reason: d.reason.as_deref(),
        checks: d.checks.as_ref(),
        running_for_s: d.started_at.as_deref().and_then(since),
        job: d
            .current_job
            .as_ref()
            .and_then(|j| Some((j.id.as_str(), since(&j.started_at)?))),
        exit_code: d.exit_code,
    }
}

fn take(value: &Result<u64, CountError>, what: &str, problems: &mut Vec<String>) -> u64 {
    value.as_ref().copied().unwrap_or_else(|e| {
        problems.push(format!("{what}: {e}"));
        0
    })
}
