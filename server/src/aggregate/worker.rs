//! One worker's record from its reading: the seed's fields from its heartbeat and lists, what it
//! declared about itself, and its lifecycle judged by the shared rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pulseboard_shared::heartbeat::{heartbeat_key, Declared, HEARTBEAT_TTL_S};
use pulseboard_shared::lifecycle::{judge as judge_lifecycle, Lifecycle, Observed, Phase};
use pulseboard_shared::parts::{combine, PartStatus};
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
    let (lifecycle, beat, beat_at) = if w.parts.is_empty() {
        let found = read_beat(w, &w.name, &r.heartbeat, now, memory, &mut problems);
        let beat_at = memory.written(&w.name);
        let age = beat_at.map(|b| age_s(b, now));
        let observed = observe(found.key_exists, age, found.written, found.declared());
        (judge_lifecycle(&observed, &w.rules), found.read, beat_at)
    } else {
        if matches!(r.heartbeat, HeartbeatValue::Present { .. }) {
            problems.push(format!(
                "beats as one process under {}, but is configured with parts: run each part \
                 with --part",
                heartbeat_key(&w.name)
            ));
        }
        judge_parts(w, r, now, memory, &mut problems, &mut status)
    };
    if w.kind.is_none() {
        if let Some(read) = &beat {
            status.kind = read
                .kind
                .as_deref()
                .map_or(WorkerKind::Unknown, WorkerKind::parse);
        }
    }
    status.last_beat_age_s = beat_at.map(|b| age_s(b, now));
    status.alive = lifecycle.state.running();
    status.lifecycle = Some(lifecycle);
    let declared = beat.as_ref().map(|b| &b.declared);
    status.declared = declared.filter(|d| **d != Declared::default()).cloned();
    let mut watcher_mode = None;
    if let Some(read) = beat.filter(|_| status.alive) {
        status.state.clone_from(&read.state);
        status.jobs_done = read.jobs_done.unwrap_or(0);
        status.jobs_failed = read.jobs_failed.unwrap_or(0);
        status.last_job_at.clone_from(&read.last_job_at);
        watcher_mode.clone_from(&read.mode);
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

/// One beat as read from its key.
struct Found {
    /// Whether the key counts as existing (a beat without expiry counts for one TTL).
    key_exists: bool,
    /// When the beat was written (its `ts`).
    written: Option<DateTime<Utc>>,
    /// The beat, when the key held one.
    read: Option<Arc<HeartbeatRead>>,
}

impl Found {
    fn declared(&self) -> Option<&Declared> {
        self.read.as_ref().map(|b| &b.declared)
    }
}

/// Reads one beat of `w` (its heartbeat, or one part's), remembered in `memory` under `key`;
/// what is wrong with it goes to `problems`.
fn read_beat(
    w: &Watched,
    key: &str,
    value: &HeartbeatValue,
    now: DateTime<Utc>,
    memory: &mut BeatMemory,
    problems: &mut Vec<String>,
) -> Found {
    let mut found = Found {
        key_exists: false,
        written: None,
        read: None,
    };
    match value {
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
                Arc::default()
            } else {
                memory.read(key, bytes)
            };
            if let Some(e) = read.error.clone() {
                problems.push(e);
            }
            found.written = read.ts.as_deref().and_then(|ts| {
                let parsed = parse_ts(ts);
                if parsed.is_none() {
                    problems.push(format!("heartbeat: ts {ts:?} is not a UTC ISO 8601 time"));
                }
                parsed
            });
            if let Some(ts) = found.written {
                memory.wrote(key, ts);
            }
            // A final beat (a clean stop, an exit code) is meant to stay; any other beat written
            // without an expiry counts for one TTL after its `ts`.
            let final_beat =
                read.declared.phase == Some(Phase::Stopped) || read.declared.exit_code.is_some();
            found.key_exists = if *expires || final_beat {
                true
            } else {
                problems.push("heartbeat key has no expiry (written without EX)".into());
                found
                    .written
                    .is_some_and(|ts| age_s(ts, now) <= HEARTBEAT_TTL_S)
            };
            if let Some(name) = read.name.as_deref().filter(|n| *n != w.name) {
                problems.push(format!("heartbeat names another worker ({name:?})"));
            }
            found.read = Some(read);
        }
    }
    found
}

/// A worker of several processes: each part judged alone into `status.parts`, the worker as
/// its worst part. Its beat is its first part seen, counting every part's jobs and declaring
/// every part's consumers; its beat time is its stalest part's (a dead part's last beat).
fn judge_parts(
    w: &Watched,
    r: &WorkerReading,
    now: DateTime<Utc>,
    memory: &mut BeatMemory,
    problems: &mut Vec<String>,
    status: &mut WorkerStatus,
) -> (Lifecycle, Option<Arc<HeartbeatRead>>, Option<DateTime<Utc>>) {
    let mut beat: Option<Arc<HeartbeatRead>> = None;
    let mut consumers: Vec<String> = Vec::new();
    let (mut done, mut failed) = (0, 0);
    let mut stalest: Option<DateTime<Utc>> = None;
    let mut running_for_s: Option<u64> = None;
    for (part, value) in w.parts.iter().zip(&r.parts) {
        let key = BeatMemory::part_key(&w.name, part);
        let mut part_problems = Vec::new();
        let found = read_beat(w, &key, value, now, memory, &mut part_problems);
        problems.extend(
            part_problems
                .into_iter()
                .map(|p| format!("part {part}: {p}")),
        );
        let beat_at = memory.written(&key);
        let age = beat_at.map(|b| age_s(b, now));
        let observed = observe(found.key_exists, age, found.written, found.declared());
        running_for_s = running_for_s.max(observed.running_for_s);
        stalest = match (stalest, beat_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        status.parts.push(PartStatus {
            name: part.clone(),
            lifecycle: judge_lifecycle(&observed, &w.rules),
        });
        if let Some(read) = found.read {
            done += read.jobs_done.unwrap_or(0);
            failed += read.jobs_failed.unwrap_or(0);
            consumers.extend(read.declared.consumers.iter().flatten().cloned());
            if beat.is_none() {
                beat = Some(read);
            }
        }
    }
    if let Some(b) = &mut beat {
        let b = Arc::make_mut(b);
        (b.jobs_done, b.jobs_failed) = (Some(done), Some(failed));
        b.declared.consumers = (!consumers.is_empty()).then_some(consumers);
    }
    let lifecycle = combine(&mut status.parts, running_for_s, &w.rules, w.part_down);
    (lifecycle, beat, stalest)
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
